"""Synthesis speed: `dualalb-kit synth params/sample.yaml` against the same stack on aws-cdk-lib in JS.

Both run on the kit's Node 24. Cold = a new process each run; median of 5 each. Then the warm
re-synth inside one Python process (median of 5 after a first synth). Prints a table.

    .venv/bin/python benchmarks/bench_synth.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "benchmarks" / "js"
RUNS = 5


def timed(command: list[str], **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - started


def median_of(command_for_run) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        return statistics.median(timed(command_for_run(Path(scratch) / f"run{i}")) for i in range(RUNS))


def main() -> int:
    from dualalb_kit.runtime import node_environment, node_executable, npm

    if not (BASELINE / "node_modules" / "aws-cdk-lib").exists():
        npm(["ci", "--prefix", str(BASELINE), "--no-audit", "--no-fund", "--loglevel=error"])
    cli = str(Path(sys.executable).parent / "dualalb-kit")
    sample = str(ROOT / "params" / "sample.yaml")
    rows = {
        "dualalb-kit synth (with cdk-nag)": median_of(lambda out: [cli, "synth", sample, "-o", str(out)]),
        "dualalb-kit synth --no-nag": median_of(
            lambda out: [cli, "synth", sample, "-o", str(out), "--no-nag"]
        ),
        "aws-cdk-lib in JavaScript (baseline)": median_of(
            lambda out: [str(node_executable()), str(BASELINE / "sample_stack.js"), str(out)]
        ),
    }
    env_check = subprocess.run(
        [str(node_executable()), "--version"], capture_output=True, text=True, env=node_environment()
    )

    from dualalb_kit import load_spec, synth

    spec = load_spec(sample)
    warm = {}
    with tempfile.TemporaryDirectory() as scratch:
        for nag in (True, False):
            synth(spec, Path(scratch) / "warm", nag=nag)
            samples = []
            for _ in range(RUNS):
                started = time.perf_counter()
                synth(spec, Path(scratch) / "warm", nag=nag)
                samples.append(time.perf_counter() - started)
            warm[nag] = statistics.median(samples)

    baseline = rows["aws-cdk-lib in JavaScript (baseline)"]
    print(f"Cold synth of params/sample.yaml, median of {RUNS}, Node {env_check.stdout.strip()}")
    print(f"{'run':<40} {'seconds':>8} {'vs baseline':>12}")
    for name, seconds in rows.items():
        print(f"{name:<40} {seconds:>8.2f} {seconds / baseline:>11.2f}x")
    print(f"\nWarm re-synth in one Python process, median of {RUNS}")
    print(f"{'with cdk-nag':<40} {warm[True]:>8.3f}")
    print(f"{'without cdk-nag':<40} {warm[False]:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
