"""Measured ALB and ECS metrics of the live sandbox, per minute, in AWS's shapes.

The data plane feeds what happened: every request HAProxy logged (:class:`Request`), and every
few seconds the target groups' healthy and unhealthy counts and each service's tasks (CPU and
memory of their processes, running and desired counts). :meth:`LiveMetrics.complete_minutes`
turns each finished minute into PutMetricData items with CloudWatch's namespaces, metric names,
dimensions and units, the same the loader (:mod:`dualalb_kit.metrics`) reads on AWS:

- ``AWS/ApplicationELB`` per (LoadBalancer, TargetGroup): ``RequestCount``, ``RequestCountPerTarget``
  (requests / the minute's average healthy targets), ``HTTPCode_Target_2XX/4XX/5XX_Count``,
  ``TargetResponseTime`` (seconds, every request's value, so any percentile can be read),
  ``HealthyHostCount`` and ``UnHealthyHostCount`` (one value per sample); per LoadBalancer:
  ``HTTPCode_ELB_5XX_Count`` (HAProxy's own 502/503/504). Counts are published only for minutes
  with requests, as AWS does.
- ``AWS/ECS`` per (ClusterName, ServiceName): ``CPUUtilization`` and ``MemoryUtilization``, in
  percent of the task definition's CPU and memory, averaged over the service's running tasks
  (one value per sample).
- ``ECS/ContainerInsights`` per (ClusterName, ServiceName): ``RunningTaskCount`` and
  ``DesiredTaskCount`` (one value per sample).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ALB = "AWS/ApplicationELB"
ECS = "AWS/ECS"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
SETTLE = timedelta(seconds=5)
"""How long after a minute ends its log lines may still arrive; it is published after that."""
MAX_VALUES = 150
"""PutMetricData's limit on distinct values in one item."""


@dataclass(frozen=True)
class Request:
    """One request as the load balancer saw it. ``response_s`` is the target's response time in
    seconds (None when no target answered); ``from_balancer`` marks HAProxy's own error answers."""

    time: datetime
    load_balancer_arn: str
    target_group_arn: str | None
    status: int
    response_s: float | None
    from_balancer: bool


def _minute(time: datetime) -> datetime:
    return time.astimezone(UTC).replace(second=0, microsecond=0)


def _balancer_dimension(arn: str) -> str:
    return arn.split(":loadbalancer/", 1)[1]


def _group_dimension(arn: str) -> str:
    return "targetgroup/" + arn.split(":targetgroup/", 1)[1]


class LiveMetrics:
    """Accumulates one minute at a time; see the module doc. Not thread-safe: one feeder."""

    def __init__(self) -> None:
        self._counts: dict[tuple, Counter] = defaultdict(Counter)
        """(minute, namespace, metric, dimensions) -> count to add."""
        self._values: dict[tuple, Counter] = defaultdict(Counter)
        """(minute, namespace, metric, dimensions, unit) -> value -> how many times."""
        self._group_balancer: dict[str, str] = {}

    def add_requests(self, requests: list[Request]) -> None:
        for request in requests:
            minute = _minute(request.time)
            balancer = ("LoadBalancer", _balancer_dimension(request.load_balancer_arn))
            if request.from_balancer:
                if request.status >= 500:
                    self._counts[(minute, ALB, "HTTPCode_ELB_5XX_Count", (balancer,))]["Count"] += 1
                if request.target_group_arn is None:
                    continue
            if request.target_group_arn is None:
                continue
            self._group_balancer[request.target_group_arn] = request.load_balancer_arn
            dimensions = (balancer, ("TargetGroup", _group_dimension(request.target_group_arn)))
            self._counts[(minute, ALB, "RequestCount", dimensions)]["Count"] += 1
            if not request.from_balancer:
                self._counts[(minute, ALB, f"HTTPCode_Target_{request.status // 100}XX_Count", dimensions)][
                    "Count"
                ] += 1
                if request.response_s is not None:
                    key = (minute, ALB, "TargetResponseTime", dimensions, "Seconds")
                    self._values[key][round(request.response_s, 4)] += 1

    def sample_target_group(
        self, time: datetime, load_balancer_arn: str, target_group_arn: str, healthy: int, unhealthy: int
    ) -> None:
        """The target group's healthy and unhealthy targets now (behind ``load_balancer_arn``)."""
        minute = _minute(time)
        self._group_balancer[target_group_arn] = load_balancer_arn
        dimensions = (
            ("LoadBalancer", _balancer_dimension(load_balancer_arn)),
            ("TargetGroup", _group_dimension(target_group_arn)),
        )
        self._values[(minute, ALB, "HealthyHostCount", dimensions, "Count")][healthy] += 1
        self._values[(minute, ALB, "UnHealthyHostCount", dimensions, "Count")][unhealthy] += 1

    def sample_service(
        self,
        time: datetime,
        cluster: str,
        service: str,
        *,
        cpu_percent: float | None,
        memory_percent: float | None,
        running: int,
        desired: int,
    ) -> None:
        """A service's tasks now: CPU and memory in percent of the task definition's (averaged over
        its running tasks; None when none runs), its running and desired counts."""
        minute = _minute(time)
        dimensions = (("ClusterName", cluster), ("ServiceName", service))
        if cpu_percent is not None:
            self._values[(minute, ECS, "CPUUtilization", dimensions, "Percent")][round(cpu_percent, 1)] += 1
        if memory_percent is not None:
            self._values[(minute, ECS, "MemoryUtilization", dimensions, "Percent")][
                round(memory_percent, 1)
            ] += 1
        self._values[(minute, CONTAINER_INSIGHTS, "RunningTaskCount", dimensions, "Count")][running] += 1
        self._values[(minute, CONTAINER_INSIGHTS, "DesiredTaskCount", dimensions, "Count")][desired] += 1

    def complete_minutes(self, now: datetime) -> dict[str, list[dict]]:
        """PutMetricData items (by namespace) of every minute that ended at least :data:`SETTLE`
        before ``now``; those minutes are then forgotten."""
        done = _minute(now - SETTLE) - timedelta(minutes=1)
        items: dict[str, list[dict]] = defaultdict(list)
        healthy = {
            (key[0], key[3]): sum(value * count for value, count in values.items()) / sum(values.values())
            for key, values in self._values.items()
            if key[2] == "HealthyHostCount"
        }
        for key in sorted((k for k in self._counts if k[0] <= done), key=str):
            minute, namespace, metric, dimensions = key
            count = self._counts.pop(key)["Count"]
            items[namespace].append(_item(minute, metric, dimensions, "Count", value=count))
            if metric == "RequestCount" and healthy.get((minute, dimensions)):
                per_target = count / healthy[(minute, dimensions)]
                items[namespace].append(
                    _item(minute, "RequestCountPerTarget", dimensions, "Count", value=per_target)
                )
        for key in sorted((k for k in self._values if k[0] <= done), key=str):
            minute, namespace, metric, dimensions, unit = key
            values = self._values.pop(key)
            ranked = values.most_common()
            for start in range(0, len(ranked), MAX_VALUES):
                chunk = ranked[start : start + MAX_VALUES]
                items[namespace].append(
                    _item(
                        minute,
                        metric,
                        dimensions,
                        unit,
                        values=[v for v, _ in chunk],
                        counts=[c for _, c in chunk],
                    )
                )
        return dict(items)


def _item(
    minute: datetime,
    metric: str,
    dimensions: tuple[tuple[str, str], ...],
    unit: str,
    *,
    value: float | None = None,
    values: list[float] | None = None,
    counts: list[int] | None = None,
) -> dict:
    item = {
        "MetricName": metric,
        "Dimensions": [{"Name": name, "Value": dimension} for name, dimension in dimensions],
        "Timestamp": minute,
        "Unit": unit,
    }
    if values is None:
        return {**item, "Value": float(value)}
    return {**item, "Values": [float(v) for v in values], "Counts": [float(c) for c in counts]}
