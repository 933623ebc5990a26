"""Batch speed on Dask: notebook 01 run for N params files with 1 and with 2 local workers.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--runs 20] [--repeats 3] [--workers 1 2]``

The params files are the five of the issue's measurement (``PARAMS``) repeated, each copy under
its own name, until there are ``--runs`` of them. Each configuration runs ``run_batch`` with a
fresh LocalCluster of that many worker processes (start-up included, as a user sees it)
``--repeats`` times; the table shows the median wall clock, the speed-up over the first
configuration (the baseline, measured in the same run) and the parallel efficiency (speed-up /
workers). The load average at start and end is printed, since the machine may be shared, and
per batch how many of the machine's cores were busy on average (all processes: kernels, jsii's
Node, the workers) and the CPU seconds each run cost, which show whether one worker already
uses the second core and whether runs cost more CPU side by side. Before the batches, the
machine's own speed-up is measured the same way: identical pure-Python CPU work in 1 and in N
processes at once (no I/O, no shared state), the most any batch can gain from N workers here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psutil

from dualalb_kit.batch import NOTEBOOKS_DIR, ensure_kernel, run_batch
from dualalb_kit.examples import PARAMS_DIR

NOTEBOOK = NOTEBOOKS_DIR / "01_design_and_synth.ipynb"
PARAMS = ("sample", "mixed-spot", "public-one-per-az", "internal-only", "wordpress")


def params_copies(runs: int, folder: Path) -> list[Path]:
    """``runs`` params files: ``PARAMS`` in turn, copied as ``<stem>-<n>.yaml``."""
    shipped = [PARAMS_DIR / f"{name}.yaml" for name in PARAMS]
    copies = []
    for index in range(runs):
        source = shipped[index % len(shipped)]
        copy = folder / f"{source.stem}-{index}.yaml"
        shutil.copyfile(source, copy)
        copies.append(copy)
    return copies


def busy_seconds(before: Any, after: Any) -> float:
    """CPU seconds the machine spent not idle between two ``psutil.cpu_times()``, all cores."""
    idle = (after.idle + after.iowait) - (before.idle + before.iowait)
    return sum(after) - sum(before) - idle


def spin(iterations: int) -> int:
    """Pure-Python CPU work: a sum of squares."""
    total = 0
    for value in range(iterations):
        total += value * value
    return total


def machine_speedup(processes: int, tasks: int = 4, iterations: int = 20_000_000) -> float:
    """Throughput of ``processes`` processes doing ``tasks`` equal :func:`spin` tasks, over one
    process doing the same: what this machine's cores give in parallel (1.0 means no gain)."""

    def seconds(workers: int) -> float:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(spin, [1_000] * workers))  # the processes start before the clock does
            started = time.perf_counter()
            list(pool.map(spin, [iterations] * tasks))
            return time.perf_counter() - started

    return seconds(1) / seconds(processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="notebook runs per batch (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="batches per configuration (default 3)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="configurations (default 1 2)")
    args = parser.parse_args()
    ensure_kernel()
    print(f"load average at start: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")
    for workers in args.workers[1:]:
        gain = machine_speedup(workers)
        print(f"machine: pure-Python CPU work in {workers} processes at once: {gain:.2f}x one process")
    medians = {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
        params = params_copies(args.runs, Path(folder))
        for workers in args.workers:
            times = []
            for repeat in range(args.repeats):
                started, cpu_before = time.perf_counter(), psutil.cpu_times()
                summary = run_batch(
                    params,
                    NOTEBOOK,
                    workers,
                    f"{folder}/out-{workers}-{repeat}",
                    parameters={"nag": False},
                    progress=False,
                )
                times.append(time.perf_counter() - started)
                busy = busy_seconds(cpu_before, psutil.cpu_times())
                failed = summary[summary["status"] != "passed"]
                if not failed.empty:
                    raise SystemExit(f"runs failed:\n{failed[['params', 'result']].to_string(index=False)}")
                used = summary["worker"].nunique()
                print(
                    f"  {workers} worker(s), batch {repeat + 1}: {times[-1]:.1f} s on {used} worker(s), "
                    f"{busy / times[-1]:.2f} of {psutil.cpu_count()} cores busy on average, "
                    f"{busy / args.runs:.1f} CPU s a run"
                )
            medians[workers] = statistics.median(times)
    baseline_workers = args.workers[0]
    baseline = medians[baseline_workers]
    print(f"\nnotebook 01 x {args.runs} runs, median of {args.repeats}")
    print(f"{'workers':>8} {'median s':>9} {'s/run':>6} {'speed-up':>9} {'efficiency':>11}")
    for workers, median in medians.items():
        speedup = baseline / median
        efficiency = speedup / (workers / baseline_workers)
        print(f"{workers:>8} {median:>9.1f} {median / args.runs:>6.1f} {speedup:>8.2f}x {efficiency:>10.0%}")
    print(f"load average at end: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
