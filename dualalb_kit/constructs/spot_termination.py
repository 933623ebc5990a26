"""``SpotTerminationHandler``: drain interrupted Fargate Spot tasks from their ALBs at once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..handlers import spot_termination

HANDLERS_DIR = Path(spot_termination.__file__).parent


class SpotTerminationHandler(Construct):
    """An EventBridge rule on the cluster's "ECS Task State Change" events with
    ``stopCode: SpotInterruption``, invoking a function that deregisters the task's IPs from
    each target group of its service (``dualalb_kit.handlers.spot_termination``).

    :param cluster: the cluster whose tasks are watched.
    :param services: the services the function may describe.
    :param target_groups: the target groups it may deregister targets from.
    :param log_retention_days: the function's log retention, in days. Default 30.

    Attributes: ``function``, ``rule``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: ecs.ICluster,
        services: Sequence[ecs.FargateService],
        target_groups: Sequence[elbv2.ApplicationTargetGroup],
        log_retention_days: int = 30,
    ) -> None:
        super().__init__(scope, id)
        log_group = logs.LogGroup(self, "Logs", removal_policy=RemovalPolicy.DESTROY)
        log_group.node.default_child.retention_in_days = log_retention_days  # type: ignore[union-attr]
        # A role of its own: the default one carries a managed policy with logs on every group.
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeServices"], resources=[service.service_arn for service in services]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["elasticloadbalancing:DeregisterTargets"],
                resources=[group.target_group_arn for group in target_groups],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="spot_termination.handler",
            code=lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=["__pycache__", "*.pyc"]),
            role=role,
            log_group=log_group,
            timeout=Duration.seconds(30),
            description="Deregisters interrupted Fargate Spot tasks from their target groups",
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description="Fargate Spot interruptions of the cluster's tasks",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Task State Change"],
                detail={
                    "clusterArn": [cluster.cluster_arn],
                    "stopCode": [spot_termination.SPOT_INTERRUPTION],
                },
            ),
            targets=[targets.LambdaFunction(self.function)],
        )
