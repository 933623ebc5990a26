"""Deploy speed: sandbox bootstrap + deploy of params/sample.yaml, median of 3 (goal: under 20 s).

Each run starts a fresh sandbox (``dualalb-kit sandbox`` in its own process, not timed) and
times, side by side:

* the CDK CLI alone (baseline): ``cdk bootstrap`` then ``cdk deploy --app <assembly>``;
* ``dualalb_kit.deploy.deploy(synthesis)``: the same two CLI runs plus the kit's sandbox check,
  bootstrap detection, progress parsing and outputs;
* ``deploy(spec)``: the above plus the in-process synthesis (jsii warmed up beforehand).

Run: ``.venv/bin/python benchmarks/bench_deploy.py``
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
GOAL_SECONDS = 20.0


@contextmanager
def fresh_sandbox() -> Iterator[str]:
    """A new sandbox process on a free port; yields its URL and stops it afterwards."""
    from dualalb_kit.sandbox.server import free_port, sandbox_answers

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dualalb_kit.cli", "sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while not sandbox_answers(url):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"sandbox on port {port} did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def cli_alone(assembly: Path, url: str) -> dict[str, float]:
    """Baseline: the CDK CLI's bootstrap and deploy, run directly (the sample's image assets
    recorded in the sandbox's ECR in between, untimed, as the CLI cannot build them here)."""
    from dualalb_kit.runtime import cdk_cli, node_environment
    from dualalb_kit.sandbox.assets import register_image_assets
    from dualalb_kit.sandbox.server import SANDBOX_ACCOUNT, sandbox_environment
    from dualalb_kit.target import as_target

    environment = {**node_environment(), **sandbox_environment(url)}
    phases = {}
    for phase, args in (
        ("bootstrap", ["bootstrap", f"aws://{SANDBOX_ACCOUNT}/us-east-1"]),
        ("deploy", ["deploy", "--app", str(assembly), "--require-approval", "never"]),
    ):
        if phase == "deploy":
            ecr = as_target(endpoint_url=url, region="us-east-1").client("ecr")
            register_image_assets(assembly, ecr, account=SANDBOX_ACCOUNT, region="us-east-1")
        started = time.perf_counter()
        subprocess.run([*cdk_cli(), *args, "--no-notices"], env=environment, check=True, capture_output=True)
        phases[phase] = time.perf_counter() - started
    phases["total"] = phases["bootstrap"] + phases["deploy"]
    return phases


def timed_total(run: Callable[[str], object], url: str) -> dict[str, float]:
    started = time.perf_counter()
    run(url)
    return {"total": time.perf_counter() - started}


def main() -> int:
    from dualalb_kit.deploy import deploy
    from dualalb_kit.spec import load_spec
    from dualalb_kit.synth import synth
    from dualalb_kit.target import as_target

    spec = load_spec(ROOT / "params" / "sample.yaml")
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)  # deploy(spec) synthesizes into ./cdk.out
        synthesis = synth(spec, Path(scratch) / "assembly", nag=False)  # also warms jsii up
        contenders: dict[str, Callable[[str], dict[str, float]]] = {
            "CDK CLI alone (baseline)": lambda url: cli_alone(synthesis.assembly_dir, url),
            "deploy(synthesis)": lambda url: timed_total(
                lambda u: deploy(synthesis, progress=False, target=as_target("sandbox", endpoint_url=u)), url
            ),
            "deploy(spec), synth included": lambda url: timed_total(
                lambda u: deploy(spec, progress=False, target=as_target("sandbox", endpoint_url=u)), url
            ),
        }
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
        for _ in range(RUNS):
            for name, contender in contenders.items():
                with fresh_sandbox() as url:
                    samples[name].append(contender(url))

    resources = len(synthesis.template["Resources"])
    print(f"Sandbox bootstrap + deploy of params/sample.yaml ({resources} resources), fresh sandbox per run,")
    print(f"median of {RUNS} (seconds); goal: total under {GOAL_SECONDS:.0f} s")
    print(f"{'run':<32} {'bootstrap':>10} {'deploy':>8} {'total':>8} {'vs baseline':>12}")
    baseline = statistics.median(s["total"] for s in samples["CDK CLI alone (baseline)"])
    for name, runs in samples.items():
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        bootstrap = f"{median['bootstrap']:.2f}" if "bootstrap" in median else "-"
        deploy_only = f"{median['deploy']:.2f}" if "deploy" in median else "-"
        print(
            f"{name:<32} {bootstrap:>10} {deploy_only:>8} {median['total']:>8.2f} "
            f"{median['total'] / baseline:>11.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
