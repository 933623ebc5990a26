"""A deployed stack's ALB and ECS metrics from CloudWatch, as one tidy DataFrame.

:func:`load_metrics` finds the stack's load balancers, target groups and services from the stack
(:mod:`dualalb_kit.discovery`), asks CloudWatch for every metric below with ``GetMetricData`` only,
in the fewest calls the API's limits allow (:func:`plan_batches`), and returns one row per metric,
statistic and period on a complete time index: a period CloudWatch has no datapoint for is NaN.

Metrics and the statistic each one is read with (``service`` is the task name; ``alb`` is
``external``/``internal`` for ALB metrics and None for ECS metrics):

====================================  ==========================  ==========================
metric                                statistic                   dimensions (per)
====================================  ==========================  ==========================
AWS/ApplicationELB RequestCount       Sum                         LoadBalancer, TargetGroup
RequestCountPerTarget                 Sum (AWS: the per-target    LoadBalancer, TargetGroup
                                      average; Sum is the only
                                      valid statistic)
TargetResponseTime                    Average, p50, p90, p99      LoadBalancer, TargetGroup
HTTPCode_Target_2XX/4XX/5XX_Count     Sum                         LoadBalancer, TargetGroup
HealthyHostCount                      Minimum (worst minute)      LoadBalancer, TargetGroup
UnHealthyHostCount                    Maximum (worst minute)      LoadBalancer, TargetGroup
HTTPCode_ELB_5XX_Count                Sum                         LoadBalancer (service None)
ActiveConnectionCount                 Sum                         LoadBalancer (service None)
AWS/ECS CPUUtilization                Average                     ClusterName, ServiceName
AWS/ECS MemoryUtilization             Average                     ClusterName, ServiceName
ECS/ContainerInsights RunningTaskCount  Average (clusters with    ClusterName, ServiceName
                                      Container Insights on)
====================================  ==========================  ==========================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from botocore.config import Config
from botocore.parsers import ResponseParserFactory
from botocore.utils import parse_timestamp

from .discovery import StackResources, discover
from .errors import MetricDataError, NoDataError, ValidationError
from .tags import SYNTHETIC_TAG
from .target import Target, as_target

MAX_QUERIES_PER_CALL = 500
"""GetMetricData's limit on MetricDataQueries per call."""
MAX_DATAPOINTS_PER_CALL = 100_800
"""GetMetricData's limit on datapoints returned per call (its default ``MaxDatapoints``)."""
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
"""botocore's adaptive retries: client-side rate limiting plus backoff on throttling."""

FRAME_COLUMNS = ("timestamp", "service", "alb", "metric", "stat", "value")

ALB = "AWS/ApplicationELB"
ECS = "AWS/ECS"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"

TARGET_GROUP_METRICS = (
    ("RequestCount", "Sum"),
    ("RequestCountPerTarget", "Sum"),
    ("TargetResponseTime", "Average"),
    ("TargetResponseTime", "p50"),
    ("TargetResponseTime", "p90"),
    ("TargetResponseTime", "p99"),
    ("HTTPCode_Target_2XX_Count", "Sum"),
    ("HTTPCode_Target_4XX_Count", "Sum"),
    ("HTTPCode_Target_5XX_Count", "Sum"),
    ("HealthyHostCount", "Minimum"),
    ("UnHealthyHostCount", "Maximum"),
)
LOAD_BALANCER_METRICS = (("HTTPCode_ELB_5XX_Count", "Sum"), ("ActiveConnectionCount", "Sum"))
ECS_METRICS = (("CPUUtilization", "Average"), ("MemoryUtilization", "Average"))
CONTAINER_INSIGHTS_METRICS = (("RunningTaskCount", "Average"),)


@dataclass(frozen=True)
class MetricQuery:
    """One metric and statistic of one resource, with the frame labels its rows get."""

    namespace: str
    metric: str
    stat: str
    dimensions: tuple[tuple[str, str], ...]
    service: str | None
    alb: str | None

    def request(self, query_id: str, period: int) -> dict:
        """This query as a GetMetricData ``MetricDataQuery``."""
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions],
                },
                "Period": period,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


@dataclass(frozen=True)
class Batch:
    """One GetMetricData request: queries ``queries`` (indices) over periods ``periods`` (indices)."""

    queries: range
    periods: range


def metric_queries(resources: StackResources) -> list[MetricQuery]:
    """Every query :func:`load_metrics` makes for ``resources``, in frame order."""
    queries = []
    for group in resources.target_groups:
        dimensions = (("LoadBalancer", group.load_balancer.dimension), ("TargetGroup", group.dimension))
        queries += [
            MetricQuery(ALB, m, s, dimensions, group.service, group.alb) for m, s in TARGET_GROUP_METRICS
        ]
    for balancer in resources.load_balancers:
        dimensions = (("LoadBalancer", balancer.dimension),)
        queries += [MetricQuery(ALB, m, s, dimensions, None, balancer.alb) for m, s in LOAD_BALANCER_METRICS]
    for service in resources.services:
        dimensions = (("ClusterName", service.cluster_name), ("ServiceName", service.service_name))
        queries += [MetricQuery(ECS, m, s, dimensions, service.service, None) for m, s in ECS_METRICS]
        if service.container_insights:
            queries += [
                MetricQuery(CONTAINER_INSIGHTS, m, s, dimensions, service.service, None)
                for m, s in CONTAINER_INSIGHTS_METRICS
            ]
    return queries


def minimum_calls(
    query_count: int,
    periods: int,
    *,
    max_queries: int = MAX_QUERIES_PER_CALL,
    max_datapoints: int = MAX_DATAPOINTS_PER_CALL,
) -> int:
    """The fewest GetMetricData calls the limits allow for ``query_count`` series of ``periods`` each."""
    if not query_count or not periods:
        return 0
    return max(math.ceil(query_count / max_queries), math.ceil(query_count * periods / max_datapoints))


def plan_batches(
    query_count: int,
    periods: int,
    *,
    max_queries: int = MAX_QUERIES_PER_CALL,
    max_datapoints: int = MAX_DATAPOINTS_PER_CALL,
) -> list[Batch]:
    """Split ``query_count`` series x ``periods`` into calls within both limits, as few as possible.

    Every call asks ``q`` queries over a window of ``max_datapoints // q`` periods (the last group
    of queries, if smaller, gets longer windows); ``q`` is chosen for the fewest calls. This meets
    :func:`minimum_calls` whenever whole-query groups tile the limits (e.g. 79 queries x 20,160
    minutes: 16 calls of 5 queries x 14 days, the last with 4).
    """

    def windows(group: int) -> int:
        return math.ceil(periods / min(periods, max_datapoints // group))

    def calls(group: int) -> int:
        full, rest = divmod(query_count, group)
        return full * windows(group) + (windows(rest) if rest else 0)

    if not query_count or not periods:
        return []
    group = min(range(1, min(max_queries, query_count, max_datapoints) + 1), key=lambda q: (calls(q), -q))
    plan = []
    for first in range(0, query_count, group):
        members = range(first, min(first + group, query_count))
        width = min(periods, max_datapoints // len(members))
        plan += [Batch(members, range(p, min(p + width, periods))) for p in range(0, periods, width)]
    return plan


def time_index(start: datetime | str, end: datetime | str, period: int) -> pd.DatetimeIndex:
    """Period start times (UTC) from ``start`` (floored to the period) up to ``end`` (exclusive)."""
    if period not in (1, 5, 10, 30) and (period <= 0 or period % 60):
        raise ValidationError(
            "period", f"{period} is not a CloudWatch period (1, 5, 10, 30 or a multiple of 60)"
        )
    first, last = (utc_timestamp(t, name) for t, name in ((start, "start"), (end, "end")))
    if last <= first:
        raise ValidationError("end", f"{last} is not after start {first}")
    first = first.floor(f"{period}s")
    return pd.date_range(first, last, freq=f"{period}s", inclusive="left", name="timestamp")


def time_window(
    start: datetime | str | None = None, end: datetime | str | None = None, *, hours: float = 24
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The analysed window ``(start, end)`` in UTC (naive times are UTC).

    ``end`` defaults to the last full hour (now, floored to the hour); ``start`` to ``hours``
    (default 24) before ``end``.
    """
    last = utc_timestamp(end, "end") if end else pd.Timestamp.now(tz="UTC").floor("h")
    first = utc_timestamp(start, "start") if start else last - pd.Timedelta(hours=hours)
    return first, last


def utc_timestamp(moment: datetime | str, field: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(moment)
    except (TypeError, ValueError) as error:
        raise ValidationError(field, f"{moment!r} is not a time") from error
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def epoch_seconds(value: float | str | datetime) -> float:
    """A wire timestamp (epoch number or ISO string) or a datetime as seconds since the epoch."""
    if isinstance(value, int | float):
        return float(value)
    return (value if isinstance(value, datetime) else parse_timestamp(value)).timestamp()


def metrics_client(target: Target | None = None):
    """A CloudWatch client on ``target`` (:func:`dualalb_kit.target.as_target`) with adaptive retries
    whose timestamps parse to epoch seconds.

    botocore turns each timestamp into a datetime in the local zone, which dominates the time
    spent on a large GetMetricData answer; this client's parser yields floats instead. If
    botocore's internals move, the client keeps its default parser (``fetch`` takes both).
    """
    client = as_target(target).client("cloudwatch", config=RETRY_CONFIG)
    endpoint = getattr(client, "_endpoint", None)
    if endpoint is not None and hasattr(endpoint, "_response_parser_factory"):
        factory = ResponseParserFactory()
        factory.set_parser_defaults(timestamp_parser=epoch_seconds)
        endpoint._response_parser_factory = factory
    return client


def fetch(
    queries: Sequence[MetricQuery],
    index: pd.DatetimeIndex,
    period: int,
    cloudwatch,
    *,
    page_size: int = MAX_DATAPOINTS_PER_CALL,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """GetMetricData for ``queries`` over ``index``, batched by :func:`plan_batches`, pages followed.

    ``page_size`` is the ``MaxDatapoints`` asked per call (default the API's 100,800; smaller
    only makes CloudWatch page). Returns per query (period positions in ``index``, values):
    only the datapoints CloudWatch has.
    """
    origin = index[0].timestamp()
    found: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in queries]
    for batch in plan_batches(len(queries), len(index)):
        request = {
            "MetricDataQueries": [queries[i].request(f"m{i}", period) for i in batch.queries],
            "StartTime": index[batch.periods[0]].to_pydatetime(),
            "EndTime": (index[batch.periods[-1]] + pd.Timedelta(seconds=period)).to_pydatetime(),
            "ScanBy": "TimestampAscending",
            "MaxDatapoints": page_size,
        }
        while True:
            response = cloudwatch.get_metric_data(**request)
            for result in response["MetricDataResults"]:
                query = int(result["Id"][1:])
                if result.get("StatusCode") not in ("Complete", "PartialData"):
                    raise MetricDataError(
                        f"GetMetricData answered {result.get('StatusCode')} for {queries[query]}: "
                        f"{result.get('Messages')}"
                    )
                seconds = np.fromiter(
                    map(epoch_seconds, result["Timestamps"]), float, len(result["Timestamps"])
                )
                positions = np.rint((seconds - origin) / period).astype(np.int64)
                found[query].append((positions, np.asarray(result["Values"], dtype=float)))
            if not response.get("NextToken"):
                break
            request["NextToken"] = response["NextToken"]
    return [
        (np.concatenate([p for p, _ in parts]), np.concatenate([v for _, v in parts]))
        if parts
        else (np.empty(0, np.int64), np.empty(0))
        for parts in found
    ]


def build_frame(
    queries: Sequence[MetricQuery], fetched: Sequence[tuple[np.ndarray, np.ndarray]], index: pd.DatetimeIndex
) -> pd.DataFrame:
    """The tidy frame: every query x every period of ``index``; periods without a datapoint are NaN.

    ``service`` and ``alb`` are object columns (None where they do not apply); ``metric`` and
    ``stat`` are categoricals; ``value`` is float64.
    """
    periods = len(index)
    values = np.full((len(queries), periods), np.nan)
    for row, (positions, found) in enumerate(fetched):
        inside = (positions >= 0) & (positions < periods)
        values[row, positions[inside]] = found[inside]

    def labels(attribute: str) -> pd.Series:
        names = np.array([getattr(q, attribute) for q in queries], dtype=object)
        return pd.Series(np.repeat(names, periods), dtype=object)

    def categorical(attribute: str) -> pd.Categorical:
        names = [getattr(q, attribute) for q in queries]
        categories = list(dict.fromkeys(names))
        codes = np.array([categories.index(n) for n in names], dtype=np.int32)
        return pd.Categorical.from_codes(np.repeat(codes, periods), categories=categories)

    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(
                np.tile(index.tz_convert(None).to_numpy(), len(queries))
            ).tz_localize("UTC"),
            "service": labels("service"),
            "alb": labels("alb"),
            "metric": categorical("metric"),
            "stat": categorical("stat"),
            "value": values.ravel(),
        }
    )


def requests_per_service(metrics: pd.DataFrame) -> pd.Series:
    """Total ``RequestCount`` per service (both ALBs) in a tidy metrics frame: a Series of whole
    numbers (int64) named ``requests``, indexed by service; services without a request datapoint
    are left out."""
    requests = metrics[metrics["metric"] == "RequestCount"]
    totals = requests.groupby("service", observed=True)["value"].sum()
    return totals.round().astype("int64").rename("requests")


def synthetic_window_overlaps(resources: StackResources, index: pd.DatetimeIndex, period: int) -> bool:
    """Whether the traffic generator's tag says synthetic data covers part of ``index``."""
    end = index[-1] + pd.Timedelta(seconds=period)
    for window in resources.tag_values(SYNTHETIC_TAG):
        first, last = (pd.Timestamp(part) for part in window.split("/"))
        if first < end and last > index[0]:
            return True
    return False


def load_metrics(
    stack_name: str,
    start: datetime | str,
    end: datetime | str,
    period: int = 60,
    *,
    target: Target | None = None,
) -> pd.DataFrame:
    """The stack's ALB and ECS metrics from ``start`` to ``end`` (UTC; naive times are UTC), tidy.

    Columns: ``timestamp`` (period start, UTC), ``service`` (task name), ``alb`` (``external``,
    ``internal``, or None for ECS metrics), ``metric``, ``stat``, ``value``; one row per
    metric, statistic and period (``period`` seconds, default 60), NaN where CloudWatch has no
    datapoint. The module docstring lists the metrics and statistics. A stack behind NLBs
    (``load_balancer: nlb``) is a ``ValidationError("stack_name", ...)``: the analysis rests on
    ALB request counts, which NLBs do not publish.

    ``target`` is where the stack is (default: AWS with boto3's default session and region,
    :func:`dualalb_kit.target.as_target`); a target made with a ``session`` makes every call
    through it, so callers can count them.
    ``frame.attrs``: ``stack_name``, ``period``, and ``synthetic`` (True when the sandbox's
    traffic generator published data in this window: label plots accordingly).
    """
    index = time_index(start, end, period)
    where = as_target(target)
    resources = discover(stack_name, target=where)
    resources.require_albs("the metrics and scaling analysis")
    queries = metric_queries(resources)
    frame = build_frame(queries, fetch(queries, index, period, metrics_client(where)), index)
    frame.attrs.update(
        stack_name=stack_name, period=period, synthetic=synthetic_window_overlaps(resources, index, period)
    )
    return frame


def require_datapoints(frame: pd.DataFrame, stack_name: str, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """A :class:`NoDataError` when the metrics hold no datapoint (nothing to show or fit)."""
    if "value" not in frame or not frame["value"].notna().any():
        raise NoDataError(
            f"no datapoints for {stack_name} from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC; "
            "send traffic (or widen --start/--hours) and try again"
        )
