"""How fast a target problem is reported: `dualalb-kit deploy params/sample.yaml --target aws`
without credentials (exit 2, one line, nothing synthesized), goal under 3 s.

Baseline in the same run: `dualalb-kit --version` (the CLI's own start-up, no AWS and no spec).
Cold processes, median of 5 each, in an environment with no AWS credentials, no profile and no
instance metadata. Also prints the process's CPU time (user + sys), which a loaded machine does
not inflate the way it inflates wall time.

Run: ``.venv/bin/python benchmarks/bench_preflight.py``
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
GOAL_SECONDS = 3.0


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, child CPU seconds and the finished process."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return wall, cpu, done


def main() -> int:
    cli = str(Path(sys.executable).parent / "dualalb-kit")
    with tempfile.TemporaryDirectory() as home:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AWS_", "CDK_DEFAULT_")) and name != "DUALALB_SANDBOX_URL"
        }
        env.update(
            HOME=home,
            AWS_CONFIG_FILE=f"{home}/none",
            AWS_SHARED_CREDENTIALS_FILE=f"{home}/none",
            AWS_EC2_METADATA_DISABLED="true",
        )
        runs = {
            "deploy --target aws, no credentials": [cli, "deploy", "params/sample.yaml", "--target", "aws"],
            "baseline: dualalb-kit --version": [cli, "--version"],
        }
        print(f"{'command':<40} {'median wall s':>14} {'median cpu s':>13}")
        for name, command in runs.items():
            results = [timed(command, env) for _ in range(RUNS)]
            wall = statistics.median(r[0] for r in results)
            cpu = statistics.median(r[1] for r in results)
            print(f"{name:<40} {wall:>14.2f} {cpu:>13.2f}")
            if command[1] == "deploy":
                last = results[-1][2]
                lines = last.stderr.splitlines()
                print(f"  exit {last.returncode}, {len(lines)} line(s): {lines[0] if lines else ''}")
                verdict = "met" if wall < GOAL_SECONDS else "not met"
                print(f"  goal under {GOAL_SECONDS:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
