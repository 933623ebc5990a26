"""generate_traffic: a week of params/sample.yaml's SYNTHETIC metrics into a sandbox, old and new path.

Run: ``.venv/bin/python benchmarks/bench_traffic.py [--days 7] [--repeats 3]``

As in ``make demo``, the sandbox runs in its own process (this script, ``--serve``) and the
generator in this one. ``params/sample.yaml`` is deployed into each sandbox through the CDK CLI,
then ``generate_traffic`` publishes ``--days`` of one-minute metrics (3 services, 4 target
groups, 2 ALBs: about 404,000 datapoints a week) through PutMetricData, ``--repeats`` times:

* **new**: the kit as it is (bodies encoded by ``json.dumps``, ``PUT_CONCURRENCY`` calls in
  flight, no gzip on loopback; the sandbox reads the JSON body with ``json.loads``);
* **baseline**, in the same run: the path before it, one call at a time through botocore's
  serializer with its default gzip, into a sandbox that parses PutMetricData with moto's
  model-driven parser.

Prints the median wall time, datapoints a second, CPU seconds of the generator and of the
sandbox process, and the load average (the machine is shared: read the times with it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import pandas as pd
import psutil
from botocore.config import Config

from dualalb_kit import traffic
from dualalb_kit.deploy import deploy
from dualalb_kit.sandbox import Sandbox
from dualalb_kit.sandbox.server import free_port
from dualalb_kit.spec import load_spec
from dualalb_kit.target import Target

STACK = "bench-traffic"
START = pd.Timestamp("2025-01-06", tz="UTC")  # a Monday


def serve(port: int, moto_parser: bool) -> None:
    """The sandbox process: serve on ``port`` until stdin closes."""
    from moto.cloudwatch.responses import CloudWatchResponse

    with Sandbox(port):
        if moto_parser:
            del CloudWatchResponse.parse_parameters  # back to moto's BaseResponse.parse_parameters
        print("ready", flush=True)
        sys.stdin.read()


def baseline_publish(
    cloudwatch: Any, series: list[traffic.PublishedSeries], index: pd.DatetimeIndex
) -> tuple[int, int]:
    """The publish loop before this change: botocore's serializer and gzip, one call at a time."""
    cloudwatch = Target("sandbox", endpoint_url=cloudwatch.meta.endpoint_url).client(
        "cloudwatch", config=Config(parameter_validation=False)
    )
    calls = datapoints = 0
    for namespace in dict.fromkeys(s.namespace for s in series):
        items = (item for s in series if s.namespace == namespace for item in s.items(index))
        for batch in traffic.put_batches(items):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
            calls += 1
            datapoints += len(batch)
    return calls, datapoints


def measure(label: str, moto_parser: bool, days: int, repeats: int) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), *(["--moto-parser"] if moto_parser else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        target = Target("sandbox", endpoint_url=f"http://localhost:{port}")
        spec = load_spec("params/sample.yaml").model_copy(update={"stack_name": STACK})
        deploy(spec, target=target, progress=False)
        sandbox_process = psutil.Process(server.pid)
        runs = []
        for _ in range(repeats):
            load_before = os.getloadavg()[0]
            server_cpu = sum(sandbox_process.cpu_times()[:2])
            client_cpu = time.process_time()
            began = time.perf_counter()
            summary = traffic.generate_traffic(
                STACK,
                traffic.LoadProfile(seed=7),
                START,
                START + pd.Timedelta(days=days),
                target=target,
                if_published="add",
            )
            runs.append(
                {
                    "seconds": time.perf_counter() - began,
                    "client_cpu": time.process_time() - client_cpu,
                    "server_cpu": sum(sandbox_process.cpu_times()[:2]) - server_cpu,
                    "load": (load_before + os.getloadavg()[0]) / 2,
                    "datapoints": summary.datapoints,
                    "calls": summary.put_calls,
                }
            )
            print(f"  {label}: {runs[-1]['seconds']:.1f} s (load {runs[-1]['load']:.1f})", flush=True)
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    return {"label": label, **median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--moto-parser", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.moto_parser)
        return

    new = measure("new", False, args.days, args.repeats)
    publish = traffic.publish
    traffic.publish = baseline_publish
    try:
        baseline = measure("baseline", True, args.days, args.repeats)
    finally:
        traffic.publish = publish

    print(
        f"params/sample.yaml, {args.days} days at 1 minute: {new['datapoints']:,.0f} datapoints, "
        f"medians of {args.repeats} ({os.cpu_count()} CPUs)"
    )
    header = ("wall", 9), ("datapoints/s", 14), ("calls", 7), ("generator CPU", 15), ("sandbox CPU", 13)
    print(f"  {'':<10}" + "".join(f"{name:>{width}}" for name, width in header) + f"{'load':>6}")
    for row in (new, baseline):
        print(
            f"  {row['label']:<10}{row['seconds']:>7.1f} s{row['datapoints'] / row['seconds']:>14,.0f}"
            f"{row['calls']:>7.0f}{row['client_cpu']:>13.1f} s{row['server_cpu']:>11.1f} s{row['load']:>6.1f}"
        )
    print(f"  speed-up: {baseline['seconds'] / new['seconds']:.1f}x")


if __name__ == "__main__":
    main()
