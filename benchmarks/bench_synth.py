"""Synthesis and CLI speed, side by side with baselines measured in the same run.

Prints, each a median of ``--runs`` (default 5) with the commands alternating run by run:

1. cold ``dualalb-kit synth params/sample.yaml`` (a new process each run) with cdk-nag and
   cfn-lint (the default), with cdk-nag only (``--no-lint``) and with neither, against the same
   stack written on aws-cdk-lib in JavaScript (``benchmarks/js``), on the same Node 24;
2. ``dualalb-kit --help`` against ``python -c pass``;
3. ``--files`` (default 10) copies of params/sample.yaml in one ``dualalb-kit synth`` call
   against the same files in as many separate calls (default flags, so cdk-nag and cfn-lint);
4. where one cold synthesis goes, in one fresh process: imports, jsii round trips while building
   the constructs (counted), ``app.synth()`` in Node with and without cdk-nag; and the warm
   re-synth in one Python process.

    .venv/bin/python benchmarks/bench_synth.py [--runs 5] [--files 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "benchmarks" / "js"
SAMPLE = ROOT / "params" / "sample.yaml"
BIN = Path(sys.executable).parent
CLI = str(BIN / "dualalb-kit")

PHASES = """
import json, sys, time
started = time.perf_counter()
import dualalb_kit
from dualalb_kit.spec import load_spec
from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks
from dualalb_kit.build import build_stack
imported = time.perf_counter()
from jsii._kernel.providers.process import _NodeProcess
calls = {"n": 0}
send = _NodeProcess.send
def counted_send(self, *args, **kwargs):
    calls["n"] += 1  # one request to jsii's Node process and its answer
    return send(self, *args, **kwargs)
_NodeProcess.send = counted_send
spec = load_spec(sys.argv[1])
phases = {"imports (kit, pydantic, aws-cdk-lib, cdk-nag)": imported - started}
for nag in (False, True):
    calls["n"] = 0
    began = time.perf_counter()
    app = App(outdir=f"{sys.argv[2]}/{nag}")
    build_stack(spec, app=app)
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    built = time.perf_counter()
    try:
        app.synth()
    except RuntimeError:
        pass  # a finding fails the synthesis; the time is what counts here
    done = time.perf_counter()
    label = "first (starts jsii's Node)" if not nag else "second"
    phases[f"building the constructs, {label}: {calls['n']} jsii round trips"] = built - began
    phases["app.synth() in Node, " + ("with cdk-nag" if nag else "without cdk-nag")] = done - built
print(json.dumps(phases))
"""


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def alternating(commands: dict[str, Callable[[int], list[str]]], runs: int) -> dict[str, float]:
    """Median seconds of each command, run ``runs`` times in turn (a, b, c, a, b, c, ...)."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(runs):
        for name, command_for_run in commands.items():
            samples[name].append(timed(command_for_run(run)))
    return {name: statistics.median(values) for name, values in samples.items()}


def table(title: str, rows: dict[str, float], baseline: str) -> None:
    print(f"\n{title}")
    print(f"{'':<52} {'seconds':>8} {'vs ' + baseline[:20]:>24}")
    for name, seconds in rows.items():
        print(f"{name:<52} {seconds:>8.2f} {seconds / rows[baseline]:>23.2f}x")


def params_copies(directory: Path, count: int) -> list[Path]:
    """``count`` copies of params/sample.yaml, each with its own stack name."""
    text = SAMPLE.read_text()
    paths = []
    for number in range(count):
        path = directory / f"sample-{number:02d}.yaml"
        path.write_text(
            text.replace("stack_name: dualalb-sample", f"stack_name: dualalb-sample-{number:02d}")
        )
        paths.append(path)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command, alternating (default 5)")
    parser.add_argument(
        "--files", type=int, default=10, help="params files for the many-files case (default 10)"
    )
    options = parser.parse_args()

    from dualalb_kit.runtime import node_executable, npm

    if not (BASELINE / "node_modules" / "aws-cdk-lib").exists():
        npm(["ci", "--prefix", str(BASELINE), "--no-audit", "--no-fund", "--loglevel=error"])
    node = str(node_executable())
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    print(
        f"bench_synth: median of {options.runs}, alternating; Node {node_version}; {os.cpu_count()} CPUs; "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)

        def kit(*flags: str) -> Callable[[int], list[str]]:
            return lambda run: [CLI, "synth", str(SAMPLE), "-o", str(scratch / f"kit{flags}{run}"), *flags]

        cold = alternating(
            {
                "aws-cdk-lib in JavaScript (baseline)": lambda run: [
                    node,
                    str(BASELINE / "sample_stack.js"),
                    str(scratch / f"js{run}"),
                ],
                "dualalb-kit synth (cdk-nag and cfn-lint, default)": kit(),
                "dualalb-kit synth --no-lint (cdk-nag)": kit("--no-lint"),
                "dualalb-kit synth --no-nag --no-lint": kit("--no-nag", "--no-lint"),
            },
            options.runs,
        )
        table("1. Cold synth of params/sample.yaml", cold, "aws-cdk-lib in JavaScript (baseline)")

        startup = alternating(
            {
                "python -c pass (baseline)": lambda run: [sys.executable, "-c", "pass"],
                "dualalb-kit --help": lambda run: [CLI, "--help"],
            },
            options.runs,
        )
        table("2. Start-up", startup, "python -c pass (baseline)")

        copies = params_copies(scratch, options.files)
        many_runs = max(1, options.runs // 2)

        def separate_calls(run: int) -> list[str]:
            script = "; ".join(
                f"{CLI} synth {path} -o {scratch / f'sep{run}' / path.stem} >/dev/null" for path in copies
            )
            return ["sh", "-ec", script]

        many = alternating(
            {
                "one cold synth (baseline)": kit(),
                f"{options.files} files in one `dualalb-kit synth` call": lambda run: [
                    CLI,
                    "synth",
                    *map(str, copies),
                    "-o",
                    str(scratch / f"one-call{run}"),
                ],
                f"{options.files} files in {options.files} separate calls": separate_calls,
            },
            many_runs,
        )
        table(f"3. Many params files (median of {many_runs})", many, "one cold synth (baseline)")

        phases = json.loads(
            subprocess.run(
                [sys.executable, "-c", PHASES, str(SAMPLE), str(scratch / "phases")],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        print("\n4. Where one cold synthesis goes (one fresh process, default flags' cdk-nag)")
        for name, seconds in phases.items():
            print(f"{name:<72} {seconds:>8.2f}")

        from dualalb_kit.spec import load_spec
        from dualalb_kit.synth import synth

        spec = load_spec(SAMPLE)
        for nag in (True, False):
            synth(spec, scratch / "warm", nag=nag)
            samples = []
            for _ in range(options.runs):
                started = time.perf_counter()
                synth(spec, scratch / "warm", nag=nag)
                samples.append(time.perf_counter() - started)
            label = "with cdk-nag" if nag else "without cdk-nag"
            print(f"{'warm re-synth in one Python process, ' + label:<72} {statistics.median(samples):>8.3f}")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
