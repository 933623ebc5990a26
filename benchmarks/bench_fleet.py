"""Fleet what-if on Dask: simulate_grid for 2,000 services x 30 days at 1 minute on 2 local workers.

Run: ``.venv/bin/python benchmarks/bench_fleet.py [--services 2000] [--days 30] [--chunk 50]
[--workers 2] [--single 100]``

About 86 M service-minutes (345 M tidy metric rows, some 6.5 GB as a frame): more than one
process should hold, so each worker generates its own partition of ``--chunk`` services (the
synthetic load of ``bench_simulator.py`` as a ``load_metrics``-shaped frame with categorical
labels, seeded per partition), replays it at every grid point and returns only the summary rows
(:func:`dualalb_kit.fleet.map_partitions`). Printed: the load average at start and end, wall
clock, service-minutes per second, and each worker process's CPU time and peak resident memory.
Next to it, in a process of its own, a single-process ``simulate_grid`` of ``--single`` services
(a size that fits) with its time and peak memory, and that time scaled to the whole fleet.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_simulator import synthetic_frame, synthetic_load  # noqa: E402

from dualalb_kit.scaling import simulate_grid  # noqa: E402

SCALING = {"max_capacity": 40, "request_per_target": 1000, "target_cpu_utilization": 50}
REQUEST_TARGETS = [800, 1200]
MAX_CAPACITIES = [20, 40]


def simulate_partition(first_and_count: tuple[int, int], days: int) -> pd.DataFrame:
    """Generate services ``first .. first+count-1`` and return their grid summary rows."""
    first, count = first_and_count
    names = [f"svc{first + index:05d}" for index in range(count)]
    metrics = synthetic_frame(synthetic_load(count, days, seed=first), names)
    return simulate_grid(metrics, SCALING, REQUEST_TARGETS, MAX_CAPACITIES)


def peak_rss_mib() -> float:
    """This process's peak resident memory, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """This process's CPU time so far (user and system), seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fleet(services: int, days: int, chunk: int, workers: int) -> None:
    from distributed import Client

    from dualalb_kit.cluster import local_cluster
    from dualalb_kit.fleet import map_partitions

    partitions = [(first, min(chunk, services - first)) for first in range(0, services, chunk)]
    with (
        local_cluster(workers) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter()
        frames = map_partitions(client, partitions, simulate_partition, days)
        elapsed = time.perf_counter() - started
        peaks = client.run(peak_rss_mib)
        cpu = client.run(cpu_seconds)
    grid = pd.concat(frames, ignore_index=True)
    service_minutes = services * days * 1440
    print(f"fleet: {services} services x {days} days = {service_minutes / 1e6:.1f} M service-minutes")
    print(f"  grid {len(REQUEST_TARGETS)} x {len(MAX_CAPACITIES)}, {len(partitions)} partitions of {chunk}")
    print(f"  {workers} workers: {elapsed:.1f} s, {service_minutes / elapsed:,.0f} service-minutes/s")
    print(f"  summary rows gathered: {len(grid)} (services x grid points: {services * 4})")
    for address, peak in sorted(peaks.items()):
        print(f"  worker {address}: peak memory {peak:.0f} MiB, CPU {cpu[address]:.1f} s")
    total = sum(cpu.values())
    print(f"  workers' CPU in all: {total:.1f} s ({service_minutes / total:,.0f} service-minutes per CPU s)")


def single(services: int, days: int) -> None:
    """The whole job in this one process; prints JSON (wall and CPU seconds, peak MiB)."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    simulate_partition((0, services), days)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "peak_mib": peak_rss_mib()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--chunk", type=int, default=50, help="services per partition (default 50)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--single", type=int, default=100, help="services in the single-process run")
    parser.add_argument("--single-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single_only:
        single(args.single, args.days)
        return
    print(f"load average at start: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")
    command = [
        sys.executable,
        __file__,
        "--single-only",
        "--single",
        str(args.single),
        "--days",
        str(args.days),
    ]
    alone = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    print(f"single process: {args.single} services x {args.days} days: {alone['seconds']:.1f} s ", end="")
    print(f"(CPU {alone['cpu_seconds']:.1f} s), ", end="")
    print(f"peak memory {alone['peak_mib']:.0f} MiB; scaled to {args.services} services: ", end="")
    print(f"{alone['seconds'] * args.services / args.single:.0f} s")
    fleet(args.services, args.days, args.chunk, args.workers)
    print(f"load average at end: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
