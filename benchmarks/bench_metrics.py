"""load_metrics' fetch and frame build: 3 services x 2 ALBs, 14 days at 1 minute, in the sandbox.

Run: ``.venv/bin/python benchmarks/bench_metrics.py [--days 14] [--repeats 5]``

The sandbox (moto's server in this process, with the kit's CloudWatch gap-fills) is seeded with
synthetic one-minute data for a stack of three services, each behind both ALBs; the data goes
straight into the sandbox's CloudWatch backend (publishing 1.1 M datapoints through PutMetricData
takes minutes and is not what is measured). Then, through the wire:

* ``GetMetricData calls``: what ``fetch`` makes (counted with botocore's ``before-call`` event),
  next to the minimum the limits allow and to one GetMetricStatistics call per metric and day
  (computed: that API returns at most 1,440 datapoints and one metric a call);
* ``fetch``: wall time of those calls (median of 3);
* ``build_frame``: the tidy frame from the fetched arrays (median of ``--repeats``), against a
  naive row-by-row build (a dict per row, then ``pd.DataFrame``) of the same frame.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import boto3
import numpy as np
import pandas as pd
from moto.cloudwatch.models import cloudwatch_backends

from dualalb_kit.discovery import EcsService, LoadBalancer, StackResources, TargetGroup
from dualalb_kit.metrics import (
    MetricQuery,
    build_frame,
    fetch,
    metric_queries,
    metrics_client,
    minimum_calls,
    time_index,
)
from dualalb_kit.sandbox import Sandbox
from dualalb_kit.sandbox.cloudwatch import MAX_ITEMS_PER_PUT
from dualalb_kit.sandbox.server import SANDBOX_ACCOUNT
from dualalb_kit.target import as_target
from dualalb_kit.traffic import LoadProfile, simulate

SERVICES = ("order", "customer", "product")
ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012"


def stack_resources() -> StackResources:
    """Three services, each with a target group on both ALBs, two tasks each, Container Insights on."""
    balancers = {
        side: LoadBalancer(side, f"{ARN}:loadbalancer/app/bench-{side}/{n}")
        for n, side in enumerate(("external", "internal"))
    }
    groups = tuple(
        TargetGroup(service, side, f"{ARN}:targetgroup/bench-{service}-{side}/1", balancers[side])
        for service in SERVICES
        for side in balancers
    )
    services = tuple(
        EcsService(
            service, "bench", service, f"arn:aws:ecs:us-east-1:123456789012:service/bench/{service}", 2, True
        )
        for service in SERVICES
    )
    return StackResources("bench", tuple(balancers.values()), groups, services)


def seed_sandbox(resources: StackResources, index: pd.DatetimeIndex, region: str) -> int:
    """Put the simulated metrics into the sandbox's CloudWatch backend; returns the datapoint count."""
    backend = cloudwatch_backends[SANDBOX_ACCOUNT][region]
    datapoints = 0
    for series in simulate(resources, LoadProfile(seed=1), index):
        items = list(series.items(index))
        for first in range(0, len(items), MAX_ITEMS_PER_PUT):
            backend.put_metric_data(series.namespace, items[first : first + MAX_ITEMS_PER_PUT])
        datapoints += len(items)
    return datapoints


def naive_frame(
    queries: list[MetricQuery], fetched: list[tuple[np.ndarray, np.ndarray]], index: pd.DatetimeIndex
) -> pd.DataFrame:
    """The same frame, one dict per row (the baseline)."""
    rows = []
    for query, (positions, values) in zip(queries, fetched, strict=True):
        found = dict(zip(positions.tolist(), values.tolist(), strict=True))
        for position, moment in enumerate(index):
            rows.append(
                {
                    "timestamp": moment,
                    "service": query.service,
                    "alb": query.alb,
                    "metric": query.metric,
                    "stat": query.stat,
                    "value": found.get(position, np.nan),
                }
            )
    return pd.DataFrame(rows)


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    resources = stack_resources()
    queries = metric_queries(resources)
    index = time_index("2025-01-06", pd.Timestamp("2025-01-06") + pd.Timedelta(days=args.days), 60)
    with Sandbox() as sandbox:
        datapoints = seed_sandbox(resources, index, sandbox.region)
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=sandbox.region
        )
        calls = []
        session.events.register("before-call.cloudwatch.GetMetricData", lambda **_: calls.append(1))
        client = metrics_client(as_target(endpoint_url=sandbox.endpoint_url, session=session))
        fetched = fetch(queries, index, 60, client)
        fetch_calls = len(calls)
        fetch_seconds = median_seconds(lambda: fetch(queries, index, 60, client), 3)

    frame = build_frame(queries, fetched, index)
    naive = naive_frame(queries, fetched, index)
    assert np.array_equal(frame["value"].to_numpy(), naive["value"].to_numpy(), equal_nan=True)
    build_seconds = median_seconds(lambda: build_frame(queries, fetched, index), args.repeats)
    naive_seconds = median_seconds(lambda: naive_frame(queries, fetched, index), args.repeats)

    metrics_per_day = len({(q.namespace, q.metric, q.dimensions) for q in queries})
    print(
        f"{len(SERVICES)} services x 2 ALBs, {args.days} days at 1 minute: {len(queries)} queries "
        f"({metrics_per_day} metrics), {len(index):,} minutes, {datapoints:,} datapoints seeded, "
        f"{len(frame):,} frame rows"
    )
    table = [
        ("GetMetricData calls (fetch)", f"{fetch_calls}"),
        (
            "minimum the limits allow (500 queries, 100,800 datapoints a call)",
            f"{minimum_calls(len(queries), len(index))}",
        ),
        ("GetMetricStatistics, one call per metric and day (computed)", f"{metrics_per_day * args.days}"),
        ("fetch wall time, median of 3", f"{fetch_seconds:.2f} s"),
        (f"build_frame, median of {args.repeats}", f"{build_seconds * 1000:.0f} ms"),
        (f"naive row-by-row build, median of {args.repeats}", f"{naive_seconds * 1000:.0f} ms"),
        ("build_frame speed-up over naive", f"{naive_seconds / build_seconds:.0f}x"),
    ]
    width = max(len(name) for name, _ in table)
    for name, value in table:
        print(f"  {name:<{width}}  {value:>10}")


if __name__ == "__main__":
    main()
