"""Batch speed on Dask: notebook 01 run for N params files with 1 and with 2 local workers.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--runs 20] [--repeats 3] [--workers 1 2]``

The params files are the five of the issue's measurement (``PARAMS``) repeated, each copy under
its own name, until there are ``--runs`` of them. Each configuration (a worker count, with cold
kernels, each run starting its own, and with warm ones, ``run_batch(warm_kernels=True)``: the next
run's kernel starts while the current run finishes) runs ``run_batch`` with a fresh LocalCluster
of that many worker processes (start-up included, as a user sees it) ``--repeats`` times, the
configurations alternating; the table shows the median wall clock, the CPU seconds a run cost and
the speed-up over the first configuration (one worker, cold: the baseline, measured in the same
run). The load average at start and end is printed, since the machine may be shared, and
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
KERNELS = {False: "cold", True: "warm"}
"""How a configuration starts its kernels: each run its own (cold), or the next while the current
run finishes (warm, ``run_batch(warm_kernels=True)``)."""
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
    configurations = [(workers, warm) for workers in args.workers for warm in (False, True)]
    times: dict[tuple[int, bool], list[float]] = {configuration: [] for configuration in configurations}
    cpu: dict[tuple[int, bool], list[float]] = {configuration: [] for configuration in configurations}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
        params = params_copies(args.runs, Path(folder))
        for repeat in range(args.repeats):  # alternating, so a change in the machine's load hits all
            for workers, warm in configurations:
                started, cpu_before = time.perf_counter(), psutil.cpu_times()
                summary = run_batch(
                    params,
                    NOTEBOOK,
                    workers,
                    f"{folder}/out-{workers}-{warm}-{repeat}",
                    parameters={"nag": False},
                    progress=False,
                    warm_kernels=warm,
                )
                elapsed = time.perf_counter() - started
                busy = busy_seconds(cpu_before, psutil.cpu_times())
                times[workers, warm].append(elapsed)
                cpu[workers, warm].append(busy / args.runs)
                failed = summary[summary["status"] != "passed"]
                if not failed.empty:
                    raise SystemExit(f"runs failed:\n{failed[['params', 'result']].to_string(index=False)}")
                print(
                    f"  {workers} worker(s), {KERNELS[warm]} kernels, batch {repeat + 1}: {elapsed:.1f} s on "
                    f"{summary['worker'].nunique()} worker(s), {busy / elapsed:.2f} of {psutil.cpu_count()} "
                    f"cores busy on average, {busy / args.runs:.1f} CPU s a run"
                )
    baseline = statistics.median(times[configurations[0]])
    print(f"\nnotebook 01 x {args.runs} runs, median of {args.repeats}")
    print(f"speed-up: over {args.workers[0]} worker(s) with cold kernels")
    print(f"{'workers':>8} {'kernels':>8} {'median s':>9} {'s/run':>6} {'CPU s/run':>10} {'speed-up':>9}")
    for workers, warm in configurations:
        median = statistics.median(times[workers, warm])
        print(
            f"{workers:>8} {KERNELS[warm]:>8} {median:>9.1f} {median / args.runs:>6.1f} "
            f"{statistics.median(cpu[workers, warm]):>10.1f} {baseline / median:>8.2f}x"
        )
    print(f"load average at end: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
