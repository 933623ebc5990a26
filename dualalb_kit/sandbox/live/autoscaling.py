"""Target tracking that happens: the live sandbox evaluates each Application Auto Scaling
target-tracking policy on ECS services the way AWS documents it, and changes desired counts.

Per policy, every minute, on the metric it tracks (the measured minutes the sandbox publishes):

- scale out when the last :data:`SCALE_OUT_DATAPOINTS` (3) one-minute datapoints are all above the
  target value: new capacity = ceil(current x metric / target), at least current + 1;
- scale in when the last ``scale_in_datapoints`` (15, AWS's; a sandbox setting lets tests use
  fewer) are all below 90 % of the target, unless the policy disables scale-in: new capacity =
  ceil(current x metric / target), at most current - 1;
- within the scalable target's min and max, after the policy's cooldown since the last activity
  in that direction (a scale-out cooldown does not hold back a scale-in, nor the reverse);
- with several policies on one service: out to the largest capacity any asks for; in only when
  all ask to, to the largest of theirs (a policy whose metric has no recent datapoints never asks).

Each change is recorded as a scaling activity with an AWS-like cause and applied with
``UpdateService``; the data plane then starts or stops tasks.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SCALE_OUT_DATAPOINTS = 3
SCALE_IN_DATAPOINTS = 15
SCALE_IN_RATIO = 0.9
SCALE_IN_ENV = "DUALALB_SANDBOX_SCALE_IN_DATAPOINTS"
"""Sandbox setting: datapoints below 90 % of the target before a scale-in (default AWS's 15)."""


def scale_in_datapoints() -> int:
    """AWS's 15, unless ``$DUALALB_SANDBOX_SCALE_IN_DATAPOINTS`` asks for fewer (tests)."""
    return int(os.environ.get(SCALE_IN_ENV) or SCALE_IN_DATAPOINTS)


@dataclass(frozen=True)
class Policy:
    """One target-tracking policy of an ECS service's desired count."""

    name: str
    resource_id: str
    """``service/<cluster>/<service>``."""
    target_value: float
    metric: str
    """``ECSServiceAverageCPUUtilization``, ``...MemoryUtilization`` or ``ALBRequestCountPerTarget``."""
    resource_label: str
    scale_out_cooldown_s: int
    scale_in_cooldown_s: int
    disable_scale_in: bool
    min_capacity: int
    max_capacity: int


@dataclass
class Activity:
    """A scaling activity, as ``DescribeScalingActivities`` words it."""

    resource_id: str
    time: datetime
    description: str
    cause: str
    old_capacity: int
    new_capacity: int


@dataclass
class _Memory:
    last_out: float = -math.inf
    last_in: float = -math.inf
    activities: list[Activity] = field(default_factory=list)


def read_policies(autoscaling: Any) -> list[Policy]:
    """Every target-tracking policy on an ECS service's DesiredCount, with its target's bounds."""
    targets = {
        target["ResourceId"]: target
        for page in autoscaling.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="ecs")
        for target in page["ScalableTargets"]
    }
    policies = []
    for page in autoscaling.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="ecs"):
        for policy in page["ScalingPolicies"]:
            config = policy.get("TargetTrackingScalingPolicyConfiguration")
            target = targets.get(policy["ResourceId"])
            if policy.get("PolicyType") != "TargetTrackingScaling" or not config or target is None:
                continue
            predefined = config.get("PredefinedMetricSpecification", {})
            policies.append(
                Policy(
                    name=policy["PolicyName"],
                    resource_id=policy["ResourceId"],
                    target_value=float(config["TargetValue"]),
                    metric=predefined.get("PredefinedMetricType", ""),
                    resource_label=predefined.get("ResourceLabel", ""),
                    scale_out_cooldown_s=int(config.get("ScaleOutCooldown", 300)),
                    scale_in_cooldown_s=int(config.get("ScaleInCooldown", 300)),
                    disable_scale_in=bool(config.get("DisableScaleIn", False)),
                    min_capacity=int(target["MinCapacity"]),
                    max_capacity=int(target["MaxCapacity"]),
                )
            )
    return policies


def decide(
    policy: Policy, current: int, datapoints: Sequence[float], *, scale_in_after: int
) -> tuple[int, str]:
    """The capacity ``policy`` asks for given the newest-last one-minute ``datapoints`` of its
    metric, and why ("" when it asks for no change; cooldowns are the caller's)."""
    metric = datapoints[-1] if datapoints else math.nan
    if len(datapoints) >= SCALE_OUT_DATAPOINTS and all(
        value > policy.target_value for value in datapoints[-SCALE_OUT_DATAPOINTS:]
    ):
        wanted = max(current + 1, math.ceil(current * metric / policy.target_value))
        wanted = min(wanted, policy.max_capacity)
        if wanted > current:
            return wanted, (
                f"monitor alarm TargetTracking-{policy.resource_id}-AlarmHigh in state ALARM "
                f"triggered policy {policy.name}: {policy.metric} {metric:g} > {policy.target_value:g} for "
                f"{SCALE_OUT_DATAPOINTS} datapoints"
            )
    low = SCALE_IN_RATIO * policy.target_value
    if (
        not policy.disable_scale_in
        and len(datapoints) >= scale_in_after
        and all(value < low for value in datapoints[-scale_in_after:])
    ):
        wanted = min(current - 1, math.ceil(current * metric / policy.target_value))
        wanted = max(wanted, policy.min_capacity)
        if wanted < current:
            return wanted, (
                f"monitor alarm TargetTracking-{policy.resource_id}-AlarmLow in state ALARM "
                f"triggered policy {policy.name}: {policy.metric} {metric:g} < {low:g} "
                f"for {scale_in_after} datapoints"
            )
    return current, ""


class Autoscaler:
    """Evaluates every target-tracking policy once per call of :meth:`evaluate` (once a minute).

    :param series: ``(policy, minutes) -> the policy metric's newest-last one-minute values``.
    :param set_desired: ``(resource_id, capacity) -> None`` (UpdateService).
    :param report: called with each activity's description.
    """

    def __init__(
        self,
        series: Callable[[Policy, int], list[float]],
        set_desired: Callable[[str, int], None],
        report: Callable[[str], None],
    ) -> None:
        self.series = series
        self.set_desired = set_desired
        self.report = report
        self._memory: dict[str, _Memory] = {}

    def record(self, activity: Activity) -> None:
        """Keep ``activity`` (target tracking's own, and the scheduled actions')."""
        self._memory.setdefault(activity.resource_id, _Memory()).activities.append(activity)

    def activities(self, resource_id: str | None = None) -> list[Activity]:
        """Every activity so far (for ``resource_id`` only, if given), newest first (of two at the
        same time, the one recorded last)."""
        found = [
            a for rid, memory in self._memory.items() if resource_id in (None, rid) for a in memory.activities
        ]
        return sorted(reversed(found), key=lambda a: a.time, reverse=True)

    def evaluate(self, policies: list[Policy], desired: dict[str, int], now: float) -> None:
        """Apply what the policies ask for; ``desired`` maps resource id -> current desired count.

        With several policies on one service, as AWS does: it scales out to the largest capacity
        any policy asks for, and scales in only when every policy asks to, to the largest of theirs.
        """
        scale_in_after = scale_in_datapoints()
        by_resource: dict[str, list[Policy]] = {}
        for policy in policies:
            by_resource.setdefault(policy.resource_id, []).append(policy)
        for resource_id, mine in by_resource.items():
            current = desired.get(resource_id)
            if current is None:
                continue
            minutes = max(scale_in_after, SCALE_OUT_DATAPOINTS)
            asks = [
                (
                    *decide(policy, current, self.series(policy, minutes), scale_in_after=scale_in_after),
                    policy,
                )
                for policy in mine
            ]
            memory = self._memory.setdefault(resource_id, _Memory())
            out = [ask for ask in asks if ask[0] > current]
            if out:
                wanted, cause, policy = max(out, key=lambda ask: ask[0])
                if now - memory.last_out < policy.scale_out_cooldown_s:
                    continue
                memory.last_out = now
            elif asks and all(ask[0] < current for ask in asks):
                wanted, cause, policy = max(asks, key=lambda ask: ask[0])
                if now - memory.last_in < policy.scale_in_cooldown_s:
                    continue
                memory.last_in = now
            else:
                continue
            self.set_desired(resource_id, wanted)
            desired[resource_id] = wanted
            verb = "increasing" if wanted > current else "decreasing"
            activity = Activity(
                resource_id,
                datetime.now(UTC),
                f"Setting desired count to {wanted}.",
                f"At {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} a {cause}, "
                f"{verb} the capacity from {current} to {wanted}.",
                current,
                wanted,
            )
            self.record(activity)
            self.report(f"{resource_id}: {activity.cause}")


def policy_series(cloudwatch: Any, policy: Policy, minutes: int, now: datetime) -> list[float]:
    """The last ``minutes`` complete one-minute datapoints of ``policy``'s metric in CloudWatch,
    oldest first; a minute with no datapoint ends the run (AWS does not read missing data as low)."""
    from datetime import timedelta

    _, cluster, service = policy.resource_id.split("/", 2)
    if policy.metric == "ALBRequestCountPerTarget":
        balancer, _, group = policy.resource_label.partition("/targetgroup/")
        namespace, name, stat = "AWS/ApplicationELB", "RequestCountPerTarget", "Sum"
        dimensions = [
            {"Name": "LoadBalancer", "Value": balancer},
            {"Name": "TargetGroup", "Value": f"targetgroup/{group}"},
        ]
    else:
        namespace, stat = "AWS/ECS", "Average"
        name = "MemoryUtilization" if "Memory" in policy.metric else "CPUUtilization"
        dimensions = [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": service}]
    end = now.replace(second=0, microsecond=0)
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions},
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=end - timedelta(minutes=minutes),
        EndTime=end,
    )["MetricDataResults"][0]
    by_minute = dict(zip(answer["Timestamps"], answer["Values"], strict=True))
    values = []
    for step in range(minutes, 0, -1):
        minute = end - timedelta(minutes=step)
        values.append(by_minute.get(minute.replace(tzinfo=UTC), math.nan))
    run = []
    for value in reversed(values):
        if math.isnan(value):
            break
        run.append(value)
    return run[::-1]
