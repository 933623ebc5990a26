"""SYNTHETIC traffic for the sandbox: publish what an ALB and ECS would, for a seeded load profile.

:func:`generate_traffic` computes, minute by minute, the requests a :class:`LoadProfile` sends to
each service of a deployed stack and publishes the CloudWatch metrics AWS would publish for it,
under the same namespaces, metric names and dimension values (taken from the stack's resources).
So :func:`dualalb_kit.metrics.load_metrics` and the scaling notebook have something to read
offline. The data is made up: the summary says so, and the stack's target groups and services get
the tag ``dualalb:synthetic-traffic=<start>/<end>``, which ``load_metrics`` reads to set
``frame.attrs["synthetic"]``. It refuses to publish to anything but a local sandbox unless asked.

The model, per minute and service. It is the ground truth the capacity tests check
:func:`dualalb_kit.capacity.fit_capacity` against (:meth:`LoadProfile.capacity_at` solves it for an
SLO). u = requests per second per task / ``task_capacity_rps``, where requests are the service's
requests on all its ALBs and tasks its desired count:

- requests ~ Poisson(base_rate x weight x diurnal x weekly x spikes x lognormal noise x 60),
  split between the external and internal ALB by ``internal_share`` when the service has both;
- 5xx ~ Binomial(requests, ``server_error_rate`` + 0.2 x max(0, u - 1)), 4xx ~ Binomial(rest,
  ``client_error_rate``), 2xx the rest; ELB 5xx ~ Binomial(ALB requests, ``elb_error_rate``);
- response time lognormal with median ``latency_seconds`` / max(0.1, 1 - 0.8 u) (a queueing
  curve) and log-spread ``latency_spread``, so p99 = median x exp(2.326 ``latency_spread``);
  published as the distribution's quantiles at fixed probabilities (``Values``/``Counts``, counts
  in proportion), placed so that CloudWatch's p50, p90 and p99 are the model's exactly;
- healthy hosts = the service's desired count, unhealthy 0; CPU 3 + 90 u % plus N(0, 1) noise,
  memory 25 + 30 min(u, 1.5) % (each capped at 100); ``RunningTaskCount`` = desired count where
  Container Insights is on;
- like AWS, count metrics (requests, status codes, connections) are published only when non-zero.
"""

from __future__ import annotations

import json
import math
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from botocore.config import Config

from .discovery import StackResources, discover
from .errors import ValidationError
from .metrics import (
    ALB,
    CONTAINER_INSIGHTS,
    ECS,
    MetricQuery,
    build_frame,
    metric_queries,
    requests_per_service,
    time_index,
)
from .tags import SYNTHETIC_TAG
from .target import Target, as_target
from .target import is_sandbox_endpoint as is_sandbox_endpoint  # where it was first documented

PERIOD = 60
MAX_ITEMS_PER_PUT = 1000
"""PutMetricData's limit on MetricData items per call."""
MAX_BYTES_PER_PUT = 1_000_000
"""PutMetricData's request size limit (1 MB), estimated generously per item."""
IF_PUBLISHED = ("refuse", "keep", "add")
NON_SANDBOX_RULE = "synthetic metrics go to a real account only with allow_non_sandbox=True"
"""What a target whose endpoint is not on this machine is told."""
"""What :func:`generate_traffic` does with minutes that already hold synthetic traffic."""
PUT_CONCURRENCY = 4
"""PutMetricData calls :func:`generate_traffic` keeps in flight at once."""
LATENCY_PROBABILITIES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0)
"""Upper ends of the response-time slices published per minute (PutMetricData allows 150 values)."""
MAX_DISTRIBUTION_VALUES = len(LATENCY_PROBABILITIES)
CPU_AT_NO_LOAD, CPU_PER_LOAD = 3.0, 90.0
"""The generator's CPU model: percent = 3 + 90 u."""
LATENCY_SLOWDOWN = 0.8
"""The generator's queueing curve: median = latency_seconds / max(0.1, 1 - 0.8 u)."""
ERRORS_PAST_CAPACITY = 0.2
"""The generator's 5xx model: rate = server_error_rate + 0.2 max(0, u - 1)."""

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Spike:
    """A burst: the rate times ``factor`` for ``minutes`` from ``at`` (UTC)."""

    at: datetime | str
    minutes: int = 30
    factor: float = 3.0


@dataclass(frozen=True)
class LoadProfile:
    """A synthetic load: rates, their daily and weekly shape, spikes, noise and the seed.

    ``base_rate`` is requests per second for a service of weight 1 at the weekday daily mean
    (default 20). The diurnal curve is 1 + ``diurnal_amplitude`` x cos(2 pi (hour - ``peak_hour``)/24)
    (defaults 0.5 and 14:00 UTC); Saturdays and Sundays are scaled by ``weekend_factor`` (0.6);
    ``noise`` is the per-minute lognormal spread (0.1). ``service_weights`` scales services by
    task name (default 1 each). The remaining fields shape the responses (see the module doc).
    The same profile and seed always give the same data.
    """

    base_rate: float = 20.0
    diurnal_amplitude: float = 0.5
    peak_hour: float = 14.0
    weekend_factor: float = 0.6
    spikes: tuple[Spike, ...] = ()
    noise: float = 0.1
    seed: int = 0
    service_weights: Mapping[str, float] = field(default_factory=dict)
    internal_share: float = 0.3
    client_error_rate: float = 0.02
    server_error_rate: float = 0.0002
    elb_error_rate: float = 0.0002
    latency_seconds: float = 0.05
    latency_spread: float = 0.4
    task_capacity_rps: float = 50.0

    def __post_init__(self) -> None:
        for name in (
            "base_rate",
            "weekend_factor",
            "noise",
            "latency_seconds",
            "latency_spread",
            "task_capacity_rps",
        ):
            if getattr(self, name) < 0 or (
                name in ("latency_seconds", "task_capacity_rps") and not getattr(self, name)
            ):
                raise ValidationError(f"profile.{name}", f"{getattr(self, name)} must be positive")
        for name in (
            "diurnal_amplitude",
            "internal_share",
            "client_error_rate",
            "server_error_rate",
            "elb_error_rate",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValidationError(f"profile.{name}", f"{getattr(self, name)} is not between 0 and 1")
        for service, weight in self.service_weights.items():
            if weight < 0:
                raise ValidationError(f"profile.service_weights.{service}", f"{weight} is negative")

    def rate(self, index: pd.DatetimeIndex, service: str) -> np.ndarray:
        """Mean requests per second for ``service`` at each time of ``index`` (no noise)."""
        hours = index.hour + index.minute / 60
        shape = 1 + self.diurnal_amplitude * np.cos(2 * np.pi * (hours - self.peak_hour) / 24)
        shape = np.where(index.day_of_week >= 5, shape * self.weekend_factor, shape)
        for spike in self.spikes:
            at = pd.Timestamp(spike.at)
            at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
            inside = (index >= at) & (index < at + pd.Timedelta(minutes=spike.minutes))
            shape = np.where(inside, shape * spike.factor, shape)
        return self.base_rate * self.service_weights.get(service, 1.0) * np.asarray(shape, dtype=float)

    def capacity_at(self, slo: Any) -> tuple[float, str]:
        """The model's true capacity under ``slo`` (a :class:`dualalb_kit.capacity.SLO`).

        Returns (requests per minute per task at which the first SLO limit is reached, which one:
        ``latency``, ``cpu`` or ``errors``), solved from the model in the module docstring.
        """
        p99_at_median = math.exp(NormalDist().inv_cdf(0.99) * self.latency_spread)
        slowest = self.latency_seconds * p99_at_median / 0.1  # the curve's floor: 10 x the median
        latency = (
            (1 - self.latency_seconds * p99_at_median / (slo.p99_ms / 1000)) / LATENCY_SLOWDOWN
            if slo.p99_ms / 1000 < slowest
            else math.inf
        )
        load = {
            "latency": max(latency, 0.0),
            "cpu": max((slo.max_cpu - CPU_AT_NO_LOAD) / CPU_PER_LOAD, 0.0),
            "errors": max(
                1 + (slo.max_5xx_per_1k / 1000 - self.server_error_rate) / ERRORS_PAST_CAPACITY, 0.0
            ),
        }
        if self.server_error_rate * 1000 > slo.max_5xx_per_1k:
            load["errors"] = 0.0  # the SLO is broken at any load
        limit = min(load, key=load.__getitem__)
        return load[limit] * self.task_capacity_rps * PERIOD, limit


@dataclass
class PublishedSeries:
    """One metric as published: a value per minute (NaN: not published) or a distribution."""

    namespace: str
    metric: str
    dimensions: Dimensions
    unit: str
    values: np.ndarray
    distribution: tuple[np.ndarray, np.ndarray] | None = None
    """(values, counts), each minutes x ``MAX_DISTRIBUTION_VALUES``; counts 0 are not published."""

    def statistic(self, stat: str) -> np.ndarray:
        """What CloudWatch reports for ``stat`` per minute (NaN where nothing was published)."""
        if self.distribution is None:
            return self.values
        values, counts = self.distribution
        total = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = (values * counts).sum(axis=1)
            answer = {"Sum": weighted, "Average": weighted / total, "SampleCount": total}.get(stat)
        if answer is None:
            percent = float(stat[1:]) / 100
            rank = np.maximum(1, np.ceil(percent * total - 1e-9))
            position = np.minimum((counts.cumsum(axis=1) < rank[:, None]).sum(axis=1), values.shape[1] - 1)
            answer = values[np.arange(len(values)), position]
        return np.where(total > 0, answer, np.nan)

    def items(self, index: pd.DatetimeIndex, only: np.ndarray | None = None) -> Iterator[dict[str, Any]]:
        """PutMetricData items for every published minute (``Timestamp`` in epoch seconds), or for
        those where the boolean mask ``only`` is true."""
        common = {
            "MetricName": self.metric,
            "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions],
            "Unit": self.unit,
        }
        minutes = np.flatnonzero(~np.isnan(self.values) & (True if only is None else only))
        stamps = index[minutes].as_unit("s").asi8.tolist()
        if self.distribution is None:
            for stamp, value in zip(stamps, self.values[minutes].tolist(), strict=True):
                yield {**common, "Timestamp": stamp, "Value": value}
            return
        values, counts = self.distribution
        for stamp, row_values, row_counts in zip(stamps, values[minutes], counts[minutes], strict=True):
            keep = row_counts > 0
            yield {
                **common,
                "Timestamp": stamp,
                "Values": row_values[keep].tolist(),
                "Counts": row_counts[keep].tolist(),
            }


@dataclass
class TrafficSummary:
    """What :func:`generate_traffic` published. SYNTHETIC: generated data, not measured traffic."""

    stack_name: str
    start: pd.Timestamp
    end: pd.Timestamp
    profile: LoadProfile
    series: int
    datapoints: int
    put_calls: int
    requests: dict[str, int]
    published: pd.DataFrame
    """The data this call published in ``load_metrics``' shape (NaN where nothing was published);
    ``requests`` are its totals. Kept minutes (``if_published="keep"``) are in neither."""
    kept_minutes: int = 0
    """Minutes of the window that already held synthetic traffic and were left as they were."""
    synthetic: bool = True

    def __str__(self) -> str:
        return (
            f"SYNTHETIC traffic for {self.stack_name}, "
            f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC: "
            f"{sum(self.requests.values()):,} requests, {self.datapoints:,} datapoints in {self.series} "
            f"series, {self.put_calls} PutMetricData calls (seed {self.profile.seed})"
            + (
                f"; {self.kept_minutes:,} minutes already held synthetic traffic and were kept as they were"
                if self.kept_minutes
                else ""
            )
        )


def simulate(
    resources: StackResources, profile: LoadProfile, index: pd.DatetimeIndex
) -> list[PublishedSeries]:
    """Every metric the stack's ALBs and services would publish under ``profile`` (SYNTHETIC)."""
    desired = {service.service: max(service.desired_count, 1) for service in resources.services}
    groups_by_service: dict[str, list] = {}
    for group in resources.target_groups:
        groups_by_service.setdefault(group.service, []).append(group)
    alb_requests = {balancer: np.zeros(len(index)) for balancer in resources.load_balancers}
    series: list[PublishedSeries] = []
    for service in resources.service_names:
        random = np.random.default_rng([profile.seed, zlib.crc32(service.encode())])
        tasks = desired.get(service, 1)
        mean = profile.rate(index, service) * random.lognormal(
            -(profile.noise**2) / 2, profile.noise, len(index)
        )
        requests = random.poisson(mean * PERIOD).astype(float)
        load = requests / PERIOD / (tasks * profile.task_capacity_rps)
        groups = groups_by_service.get(service, [])
        remaining = requests
        for group, share in zip(groups, side_shares(groups, profile), strict=True):
            counts = (
                remaining if share >= 1 else random.binomial(remaining.astype(np.int64), share).astype(float)
            )
            remaining = remaining - counts
            alb_requests[group.load_balancer] += counts
            series += target_group_series(group, counts, load, tasks, profile, random)
        for ecs_service in (s for s in resources.services if s.service == service):
            series += ecs_series(ecs_service, load, tasks, random)
    for balancer, requests in alb_requests.items():
        random = np.random.default_rng([profile.seed, zlib.crc32(balancer.arn.encode())])
        dimensions = (("LoadBalancer", balancer.dimension),)
        errors = random.binomial(requests.astype(np.int64), profile.elb_error_rate).astype(float)
        series += [
            PublishedSeries(ALB, "HTTPCode_ELB_5XX_Count", dimensions, "Count", nonzero(errors)),
            PublishedSeries(
                ALB, "ActiveConnectionCount", dimensions, "Count", nonzero(np.ceil(requests * 0.4))
            ),
        ]
    return series


def side_shares(groups: list, profile: LoadProfile) -> list[float]:
    """Binomial shares that split a service's requests over its target groups in order.

    The internal ALB takes ``internal_share`` when both exist; the last group takes the rest (1.0).
    """
    if len(groups) < 2:
        return [1.0] * len(groups)
    return [
        1 - profile.internal_share if g.alb == "external" else profile.internal_share for g in groups[:-1]
    ] + [1.0]


def nonzero(counts: np.ndarray) -> np.ndarray:
    """Counts as AWS publishes them: only non-zero minutes (others NaN)."""
    return np.where(counts > 0, counts, np.nan)


def target_group_series(
    group,
    requests: np.ndarray,
    load: np.ndarray,
    tasks: int,
    profile: LoadProfile,
    random: np.random.Generator,
) -> list[PublishedSeries]:
    dimensions = (("LoadBalancer", group.load_balancer.dimension), ("TargetGroup", group.dimension))
    whole = requests.astype(np.int64)
    server_errors = random.binomial(
        whole, np.clip(profile.server_error_rate + 0.2 * np.maximum(0, load - 1), 0, 0.5)
    )
    client_errors = random.binomial(whole - server_errors, profile.client_error_rate)
    successes = whole - server_errors - client_errors
    hosts = np.full(len(requests), float(tasks))

    def published(metric: str, values: np.ndarray, unit: str = "Count") -> PublishedSeries:
        return PublishedSeries(ALB, metric, dimensions, unit, values)

    return [
        published("RequestCount", nonzero(requests)),
        published("RequestCountPerTarget", nonzero(requests) / tasks, "None"),
        response_times(dimensions, whole, load, profile),
        published("HTTPCode_Target_2XX_Count", nonzero(successes.astype(float))),
        published("HTTPCode_Target_4XX_Count", nonzero(client_errors.astype(float))),
        published("HTTPCode_Target_5XX_Count", nonzero(server_errors.astype(float))),
        published("HealthyHostCount", hosts),
        published("UnHealthyHostCount", hosts * 0),
    ]


LATENCY_Z = np.array(
    [NormalDist().inv_cdf(p) for p in LATENCY_PROBABILITIES[:-1]] + [NormalDist().inv_cdf(0.9995)]
)
"""Standard-normal quantile published for each slice: its upper end (the last, open one: 99.95 %)."""


def response_times(
    dimensions: Dimensions, requests: np.ndarray, load: np.ndarray, profile: LoadProfile
) -> PublishedSeries:
    """TargetResponseTime per minute (seconds) as the model's quantiles with request counts.

    Slice i holds the requests between probabilities ``LATENCY_PROBABILITIES[i-1]`` and ``[i]`` and
    is published at its upper quantile, with cumulative counts ceil(requests x probability): the
    nearest-rank p50, p90 and p99 CloudWatch computes are then exactly the lognormal's.
    """
    cumulative = np.ceil(requests[:, None] * np.array(LATENCY_PROBABILITIES)[None, :] - 1e-9)
    counts = np.diff(cumulative, axis=1, prepend=0.0)
    median = profile.latency_seconds / np.maximum(0.1, 1 - LATENCY_SLOWDOWN * load)
    values = np.round(median[:, None] * np.exp(profile.latency_spread * LATENCY_Z)[None, :], 6)
    average = np.where(requests > 0, (values * counts).sum(axis=1) / np.maximum(requests, 1), np.nan)
    return PublishedSeries(ALB, "TargetResponseTime", dimensions, "Seconds", average, (values, counts))


def ecs_series(service, load: np.ndarray, tasks: int, random: np.random.Generator) -> list[PublishedSeries]:
    dimensions = (("ClusterName", service.cluster_name), ("ServiceName", service.service_name))
    jitter = random.normal(0, 1.0, len(load))
    cpu = np.clip(CPU_AT_NO_LOAD + CPU_PER_LOAD * load + jitter, 0, 100).round(3)
    memory = np.clip(25 + 30 * np.minimum(load, 1.5) + jitter / 2, 0, 100).round(3)
    series = [
        PublishedSeries(ECS, "CPUUtilization", dimensions, "Percent", cpu),
        PublishedSeries(ECS, "MemoryUtilization", dimensions, "Percent", memory),
    ]
    if service.container_insights:
        series.append(
            PublishedSeries(
                CONTAINER_INSIGHTS, "RunningTaskCount", dimensions, "Count", np.full(len(load), float(tasks))
            )
        )
    return series


def put_batches(items: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Items grouped within PutMetricData's limits (1000 items, about 1 MB)."""
    batch: list[dict[str, Any]] = []
    size = 0
    for item in items:
        item_size = 200 + sum(len(d["Name"]) + len(d["Value"]) + 32 for d in item["Dimensions"])
        item_size += 40 * len(item.get("Values", ()))
        if batch and (len(batch) == MAX_ITEMS_PER_PUT or size + item_size > MAX_BYTES_PER_PUT):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        yield batch


def json_put_metric_data(cloudwatch: Any) -> Callable[[str, list[dict[str, Any]]], None]:
    """``put(namespace, items)``: PutMetricData on ``cloudwatch`` with the body written by ``json.dumps``.

    In AWS's JSON protocol (botocore's choice for CloudWatch) the body is the input as JSON, with
    timestamps in epoch seconds as :meth:`PublishedSeries.items` gives them; botocore's generic
    serializer, walking every member of every item, took about 80 % of the publisher's time.
    botocore still signs, compresses, sends, retries and reads the answer: it is called with an
    empty ``MetricData`` and a ``before-call`` handler puts the encoded body in place before signing.
    Finite float values only (NaN and infinities are not valid metric values).
    """
    if cloudwatch.meta.service_model.resolved_protocol != "json":
        return lambda namespace, items: cloudwatch.put_metric_data(Namespace=namespace, MetricData=items)
    encoded = threading.local()

    def use_encoded_body(params: dict[str, Any], **_: Any) -> None:
        params["body"] = encoded.body

    cloudwatch.meta.events.register("before-call.cloudwatch.PutMetricData", use_encoded_body)

    def put(namespace: str, items: list[dict[str, Any]]) -> None:
        encoded.body = json.dumps({"Namespace": namespace, "MetricData": items}, allow_nan=False).encode()
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[])

    return put


def publish(
    cloudwatch: Any, series: list[PublishedSeries], index: pd.DatetimeIndex, only: np.ndarray | None = None
) -> tuple[int, int]:
    """Every item of ``series`` (in the minutes where the mask ``only`` is true, default all) through
    ``cloudwatch``'s PutMetricData, in :func:`put_batches`.

    ``PUT_CONCURRENCY`` calls are in flight at once (one call's encoding overlaps the others'
    round trips), with at most as many batches again built ahead of them.
    Returns (PutMetricData calls, datapoints).
    """
    put_metric_data = json_put_metric_data(cloudwatch)

    def put(namespace: str, batch: list[dict[str, Any]]) -> int:
        put_metric_data(namespace, batch)
        return len(batch)

    calls = (
        (namespace, batch)
        for namespace in dict.fromkeys(s.namespace for s in series)
        for batch in put_batches(
            item for s in series if s.namespace == namespace for item in s.items(index, only)
        )
    )
    sizes: list[int] = []
    with ThreadPoolExecutor(PUT_CONCURRENCY) as pool:
        in_flight: deque[Future[int]] = deque()
        for namespace, batch in calls:
            if len(in_flight) == 2 * PUT_CONCURRENCY:
                sizes.append(in_flight.popleft().result())
            in_flight.append(pool.submit(put, namespace, batch))
        sizes += [call.result() for call in in_flight]
    return len(sizes), sum(sizes)


def published_frame(
    resources: StackResources, series: list[PublishedSeries], index: pd.DatetimeIndex
) -> pd.DataFrame:
    """``series`` as ``load_metrics`` will read them back: same queries, statistics and shape."""
    by_metric = {(s.namespace, s.metric, s.dimensions): s for s in series}
    queries: list[MetricQuery] = metric_queries(resources)
    everywhere = np.arange(len(index))
    fetched = []
    for query in queries:
        found = by_metric.get((query.namespace, query.metric, query.dimensions))
        fetched.append((everywhere, found.statistic(query.stat)) if found else (everywhere[:0], np.empty(0)))
    frame = build_frame(queries, fetched, index)
    frame.attrs["synthetic"] = True
    return frame


def mark_synthetic(resources: StackResources, window: str, *, target: Target) -> None:
    """Tag the stack's target groups and services ``dualalb:synthetic-traffic=<window>``."""
    elbv2 = target.client("elbv2")
    ecs = target.client("ecs")
    for group in resources.target_groups:
        elbv2.add_tags(ResourceArns=[group.arn], Tags=[{"Key": SYNTHETIC_TAG, "Value": window}])
    for service in resources.services:
        ecs.tag_resource(resourceArn=service.arn, tags=[{"key": SYNTHETIC_TAG, "value": window}])


def generate_traffic(
    stack_name: str,
    profile: LoadProfile,
    start: datetime | str,
    end: datetime | str,
    *,
    target: Target | None = None,
    allow_non_sandbox: bool = False,
    if_published: str = "refuse",
) -> TrafficSummary:
    """Publish SYNTHETIC one-minute ALB and ECS metrics for ``stack_name`` from ``start`` to ``end``.

    Metric names, namespaces and dimension values are those AWS uses for the stack's deployed
    resources; the values come from ``profile`` (seeded: the same profile gives the same data).
    ``target`` is the sandbox (:func:`dualalb_kit.target.as_target`). Refuses a target whose
    endpoint is not on this machine (:meth:`~dualalb_kit.target.Target.require_on_this_machine`),
    unless ``allow_non_sandbox=True``: synthetic data never lands in a real account by accident.
    Tags the stack's target groups and services ``dualalb:synthetic-traffic=<start>/<end>``
    (widened to cover earlier runs) so ``load_metrics`` marks frames as synthetic.

    CloudWatch adds what is published into a minute to what it holds and cannot delete data, so
    publishing a window twice would double its requests. ``if_published`` says what to do with
    the minutes an earlier run already published (the tag's window): ``"refuse"`` (default)
    raises ``ValidationError("if_published", ...)`` before publishing anything; ``"keep"`` leaves
    them as they are and publishes only the others (a rerun publishes nothing and the window
    holds the same data); ``"add"`` publishes on top.
    """
    if if_published not in IF_PUBLISHED:
        raise ValidationError("if_published", f"{if_published!r} is not one of {', '.join(IF_PUBLISHED)}")
    where = as_target(target)
    if not allow_non_sandbox:
        where.require_on_this_machine(NON_SANDBOX_RULE)
    index = time_index(start, end, PERIOD)
    resources = discover(stack_name, target=where)
    resources.require_albs("synthetic traffic")
    earlier = published_before(resources, index)
    if earlier.any() and if_published == "refuse":
        raise _published_already(stack_name, index[earlier])
    fresh = None if if_published == "add" else ~earlier
    series = simulate(resources, profile, index)
    # A loopback sandbox gains nothing from gzip; a real endpoint keeps botocore's compression.
    config = Config(parameter_validation=False, disable_request_compression=where.on_this_machine)
    calls, datapoints = publish(where.client("cloudwatch", config=config), series, index, fresh)
    window_end = index[-1] + pd.Timedelta(seconds=PERIOD)
    mark_synthetic(resources, widened_window(resources, index[0], window_end), target=where)
    published = published_frame(resources, series, index)
    if fresh is not None:
        published = published.loc[published["timestamp"].isin(index[fresh])].reset_index(drop=True)
    return TrafficSummary(
        stack_name=stack_name,
        start=index[0],
        end=window_end,
        profile=profile,
        series=len(series),
        datapoints=datapoints,
        put_calls=calls,
        requests={service: int(total) for service, total in requests_per_service(published).items()},
        published=published,
        kept_minutes=0 if fresh is None else int((~fresh).sum()),
    )


def _published_already(stack_name: str, minutes: pd.DatetimeIndex) -> ValidationError:
    """The error for ``if_published="refuse"`` when ``minutes`` already hold synthetic traffic."""
    first, last = minutes[0], minutes[-1] + pd.Timedelta(seconds=PERIOD)
    return ValidationError(
        "if_published",
        f"{stack_name} already holds synthetic traffic from {first:%Y-%m-%d %H:%M} to "
        f"{last:%Y-%m-%d %H:%M} UTC and publishing again would add to it (twice the requests); "
        "choose 'keep' to keep it and publish only the other minutes, or 'add' to publish on top",
    )


def published_before(resources: StackResources, index: pd.DatetimeIndex) -> np.ndarray:
    """Which minutes of ``index`` lie in a window the stack's synthetic-traffic tag names."""
    earlier = np.zeros(len(index), dtype=bool)
    for window in resources.tag_values(SYNTHETIC_TAG):
        first, last = (pd.Timestamp(part) for part in window.split("/"))
        earlier |= (index >= first) & (index < last)
    return earlier


def widened_window(resources: StackResources, first: pd.Timestamp, last: pd.Timestamp) -> str:
    """``<start>/<end>`` covering this run and any earlier synthetic window on the stack."""
    for window in resources.tag_values(SYNTHETIC_TAG):
        earlier_first, earlier_last = (pd.Timestamp(part) for part in window.split("/"))
        first, last = min(first, earlier_first), max(last, earlier_last)
    return f"{first.isoformat()}/{last.isoformat()}"
