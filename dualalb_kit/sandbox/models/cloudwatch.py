"""CloudWatch alarms (moto has no CloudFormation model for them): put through moto's backend, so
``describe_alarms`` reports the template's metric or metric math, threshold and periods.

(Dashboards are moto's own model.)
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Self

from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel

from ._base import BackendHandle, Properties


def _dimensions(items: list[dict[str, str]] | None) -> list[Dimension]:
    return [Dimension(name=item["Name"], value=item["Value"]) for item in items or []]


def _query(item: dict[str, Any]) -> MetricDataQuery:
    """One entry of an alarm's ``Metrics`` (metric math) as moto's query."""
    stat = item.get("MetricStat")
    metric_stat = None
    if stat:
        metric = stat["Metric"]
        metric_stat = MetricStat(
            metric=Metric(metric["MetricName"], metric["Namespace"], _dimensions(metric.get("Dimensions"))),
            period=stat.get("Period"),
            stat=stat.get("Stat"),
            unit=stat.get("Unit"),
        )
    return MetricDataQuery(
        query_id=item["Id"],
        label=item.get("Label"),
        period=item.get("Period"),
        return_data=item.get("ReturnData"),
        expression=item.get("Expression"),
        metric_stat=metric_stat,
    )


class Alarm(BackendHandle, CloudFormationModel):
    """``AWS::CloudWatch::Alarm``; the physical id is the alarm's name."""

    cfn_type = "AWS::CloudWatch::Alarm"
    name_property = "AlarmName"
    cfn_attributes = {"Arn": attrgetter("resource.alarm_arn")}
    backends = cloudwatch_backends
    id_attribute = "resource.name"

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=properties.get("AlarmName", resource_name),
            namespace=properties.get("Namespace"),
            metric_name=properties.get("MetricName"),
            comparison_operator=properties["ComparisonOperator"],
            evaluation_periods=int(properties["EvaluationPeriods"]),
            period=properties.get("Period"),
            threshold=properties.get("Threshold"),
            statistic=properties.get("Statistic"),
            description=properties.get("AlarmDescription"),
            dimensions=properties.get("Dimensions", []),
            alarm_actions=properties.get("AlarmActions", []),
            metric_data_queries=[_query(item) for item in properties.get("Metrics", [])] or None,
            datapoints_to_alarm=properties.get("DatapointsToAlarm"),
            extended_statistic=properties.get("ExtendedStatistic"),
            ok_actions=properties.get("OKActions", []),
            insufficient_data_actions=properties.get("InsufficientDataActions", []),
            unit=properties.get("Unit"),
            actions_enabled=properties.get("ActionsEnabled", True),
            treat_missing_data=properties.get("TreatMissingData"),
        )
        return cls(alarm, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.delete_alarms([self.resource.name])
