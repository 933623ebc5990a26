"""``ServiceMonitoring``: CloudWatch alarms per service and one dashboard for all of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """When a service's alarms fire: every threshold must be crossed in ``evaluation_periods``
    consecutive one-minute periods.

    :param five_xx_percent: target 5xx responses, percent of requests. Default 5.
    :param p99_latency_seconds: target response time, 99th percentile, seconds. Default 2.
    :param unhealthy_hosts: unhealthy targets in a target group (at least). Default 1.
    :param cpu_percent: average CPU of the service. Default 90.
    :param evaluation_periods: one-minute periods in a row. Default 3.
    """

    five_xx_percent: float = 5
    p99_latency_seconds: float = 2
    unhealthy_hosts: int = 1
    cpu_percent: float = 90
    evaluation_periods: int = 3


@dataclass(frozen=True)
class MonitoredService:
    """A service and its target groups by load balancer side (``external``/``internal``): ALB
    target groups, or NLB target groups (which have no 5xx or latency metric)."""

    service: ecs.FargateService
    target_groups: Mapping[str, elbv2.ApplicationTargetGroup | elbv2.NetworkTargetGroup]


PERIOD = Duration.minutes(1)


class ServiceMonitoring(Construct):
    """Per service: a 5xx-rate, a p99-latency and an unhealthy-hosts alarm on each of its target
    groups and a CPU alarm; one dashboard with the alarms' states and each service's requests,
    5xx responses, p99 latency and CPU/memory. The alarms have no actions: add yours
    (``alarm.add_alarm_action``) or use them for deployment rollback.

    :param services: by service name.
    :param thresholds: default :class:`AlarmThresholds()`.

    Attributes: ``alarms`` (``{(service, alarm): Alarm}``, alarm ``cpu`` or
    ``<side>-5xx-rate`` / ``<side>-p99-latency`` / ``<side>-unhealthy-hosts``), ``dashboard``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        services: Mapping[str, MonitoredService],
        thresholds: AlarmThresholds | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.thresholds = thresholds or AlarmThresholds()
        self.alarms: dict[tuple[str, str], cloudwatch.Alarm] = {}
        rows: list[Sequence[cloudwatch.IWidget]] = []
        for name, monitored in services.items():
            self._alarm(
                name,
                "cpu",
                monitored.service.metric_cpu_utilization(period=PERIOD),
                self.thresholds.cpu_percent,
                "average CPU percent",
            )
            for side, group in monitored.target_groups.items():
                if isinstance(group, elbv2.NetworkTargetGroup):
                    self._unhealthy_hosts_alarm(name, side, group.metrics.un_healthy_host_count)
                else:
                    self._target_group_alarms(name, side, group)
            rows.append(self._widgets(name, monitored))
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            widgets=[
                [cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24)],
                *rows,
            ],
        )

    def _target_group_alarms(self, name: str, side: str, group: elbv2.ApplicationTargetGroup) -> None:
        requests = group.metrics.request_count(period=PERIOD, statistic="Sum")
        errors = group.metrics.http_code_target(
            elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=PERIOD, statistic="Sum"
        )
        five_xx_rate = cloudwatch.MathExpression(
            expression="100 * errors / requests",
            using_metrics={"errors": errors, "requests": requests},
            label="5xx percent",
            period=PERIOD,
        )
        self._alarm(
            name, f"{side}-5xx-rate", five_xx_rate, self.thresholds.five_xx_percent, "target 5xx percent"
        )
        self._alarm(
            name,
            f"{side}-p99-latency",
            group.metrics.target_response_time(period=PERIOD, statistic="p99"),
            self.thresholds.p99_latency_seconds,
            "p99 target response time, seconds",
        )
        self._unhealthy_hosts_alarm(name, side, group.metrics.unhealthy_host_count)

    def _unhealthy_hosts_alarm(
        self, name: str, side: str, unhealthy_host_count: Callable[..., cloudwatch.Metric]
    ) -> None:
        """``unhealthy_host_count`` is the target group's metric method (ALB and NLB spell it apart)."""
        self._alarm(
            name,
            f"{side}-unhealthy-hosts",
            unhealthy_host_count(period=PERIOD, statistic="Maximum"),
            self.thresholds.unhealthy_hosts,
            "unhealthy targets",
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )

    def _alarm(
        self,
        name: str,
        kind: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        what: str,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) -> None:
        periods = self.thresholds.evaluation_periods
        construct_id = "".join(part.title() for part in f"{name}-{kind}".split("-"))
        self.alarms[(name, kind)] = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{name} {kind}: {what} beyond {threshold:g} for {periods} minutes",
        )

    @staticmethod
    def _widgets(name: str, monitored: MonitoredService) -> list[cloudwatch.IWidget]:
        groups = monitored.target_groups.items()
        resources = cloudwatch.GraphWidget(
            title=f"{name}: CPU and memory (%)",
            left=[
                monitored.service.metric_cpu_utilization(period=PERIOD),
                monitored.service.metric_memory_utilization(period=PERIOD),
            ],
            width=8,
        )
        if any(isinstance(g, elbv2.NetworkTargetGroup) for _, g in groups):
            return [
                cloudwatch.GraphWidget(
                    title=f"{name}: healthy and unhealthy targets",
                    left=[
                        g.metrics.healthy_host_count(period=PERIOD, label=f"{side} healthy")
                        for side, g in groups
                    ],
                    right=[
                        g.metrics.un_healthy_host_count(period=PERIOD, label=f"{side} unhealthy")
                        for side, g in groups
                    ],
                    width=16,
                ),
                resources,
            ]
        return [
            cloudwatch.GraphWidget(
                title=f"{name}: requests and 5xx",
                left=[g.metrics.request_count(period=PERIOD, label=f"{side} requests") for side, g in groups],
                right=[
                    g.metrics.http_code_target(
                        elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=PERIOD, label=f"{side} 5xx"
                    )
                    for side, g in groups
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"{name}: p99 latency (s)",
                left=[
                    g.metrics.target_response_time(period=PERIOD, statistic="p99", label=side)
                    for side, g in groups
                ],
                width=8,
            ),
            resources,
        ]
