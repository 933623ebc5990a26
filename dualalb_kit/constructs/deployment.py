"""How ECS replaces a service's tasks: rolling (the default), blue/green, linear or canary.

Rolling leaves the service as it was. The other three are ECS's built-in traffic-shifting
strategies: per listener the service gets a second (alternate) target group, a production
listener rule forwarding to both groups (weights 100/0; ECS moves the weights during a
deployment) and one IAM role per construct that ECS assumes to modify the rules. With the
stack's alarms, ECS rolls such a deployment back when one of the service's alarms fires during
the deployment or its bake time; without them the circuit breaker alone rolls back tasks that
fail to start or to pass health checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import Duration, Names, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from ..errors import ValidationError
from ..tags import SERVICE_TAG
from ..validation import DeploymentRules
from .findings import acknowledge

DeploymentStrategyName = Literal["rolling", "blue_green", "linear", "canary"]

CATCH_ALL_PRIORITY = 50000
"""The production rule of a service that is its listener's default: ALB's last priority."""
ECS_LOAD_BALANCER_POLICY = "AmazonECSInfrastructureRolePolicyForLoadBalancers"
"""The AWS managed policy that lets ECS shift traffic between a service's target groups."""


@dataclass(frozen=True, kw_only=True)
class DeploymentOptions:
    """How ECS deploys a new revision of a service (ECS's built-in deployment strategies).

    :param strategy: ``rolling``: tasks are replaced in place within ``min_healthy_percent`` and
        ``max_healthy_percent`` (today's templates). ``blue_green``: the new revision starts beside
        the old one behind a second target group and takes all traffic at once. ``linear``: traffic
        moves in equal steps. ``canary``: ``canary_percent`` of the traffic first, the rest after
        ``canary_bake_time``. Default ``rolling``.
    :param bake_time: how long both revisions keep running after the last traffic shift before the
        old one stops (whole minutes, 0-24 h). Default: ECS's, 15 min for blue_green, linear and
        canary; none for rolling.
    :param linear_step_percent: traffic moved per step, a multiple of 0.1 in 3-100 percent.
        Default 10 (linear only).
    :param linear_step_bake_time: wait after each step (whole minutes, 0-24 h). Default 6 min
        (linear only).
    :param canary_percent: traffic the new revision gets first, a multiple of 0.1 in 0.1-100
        percent. Default 5 (canary only).
    :param canary_bake_time: how long the canary runs before the rest moves (whole minutes,
        0-24 h). Default 10 min (canary only).
    :param rollback_on_alarms: roll a deployment back when one of the service's alarms (the
        construct's ``alarms``) fires during it or its bake time. Default: on for blue_green,
        linear and canary when the construct has alarms, off for rolling; ``True`` needs alarms.

    CloudFormation rejects a linear or canary deployment whose bake times add up beyond 33 h.
    """

    strategy: DeploymentStrategyName = "rolling"
    bake_time: Duration | None = None
    linear_step_percent: float | None = None
    linear_step_bake_time: Duration | None = None
    canary_percent: float | None = None
    canary_bake_time: Duration | None = None
    rollback_on_alarms: bool | None = None

    def rules(self) -> DeploymentRules:
        """The options as the plain values the shared rules check (times in minutes)."""
        return DeploymentRules(
            **{
                name: _minutes(getattr(self, option)) if option != name else getattr(self, name)
                for name, option in RULE_OPTIONS.items()
            },
            time_suffix="",
        )

    @classmethod
    def from_rules(cls, rules: DeploymentRules) -> DeploymentOptions:
        """The options of plain values (times in minutes), as the spec gives them."""
        return cls(
            **{
                option: _duration(getattr(rules, name)) if option != name else getattr(rules, name)
                for name, option in RULE_OPTIONS.items()
            }
        )


RULE_OPTIONS = {
    field.name: field.name.removesuffix("_minutes")
    for field in dataclasses.fields(DeploymentRules)
    if field.name != "time_suffix"
}
"""Each value of :class:`DeploymentRules` -> the :class:`DeploymentOptions` field that holds it
(``bake_time_minutes`` -> ``bake_time``: minutes there, a ``Duration`` here)."""


def _minutes(duration: Duration | None) -> float | None:
    return None if duration is None else duration.to_seconds() / 60


def _duration(minutes: float | None) -> Duration | None:
    return None if minutes is None else Duration.minutes(minutes)


def shifts_traffic(options: DeploymentOptions | None) -> bool:
    """Whether ECS shifts traffic between two target groups for ``options`` (not rolling)."""
    return options is not None and options.rules().shifts_traffic


def service_props(options: DeploymentOptions | None) -> dict[str, Any]:
    """``FargateService`` keywords for ``options``: none for rolling without a bake time (the
    template stays as it was); every value explicit for the other strategies."""
    if options is None:
        return {}
    rules = options.rules()
    props: dict[str, Any] = {}
    if options.bake_time is not None or rules.shifts_traffic:
        props["bake_time"] = Duration.minutes(rules.value("bake_time_minutes"))
    if not rules.shifts_traffic:
        return props
    props["deployment_strategy"] = ecs.DeploymentStrategy[options.strategy.upper()]
    if options.strategy == "linear":
        props["linear_configuration"] = ecs.TrafficShiftConfig(
            step_percent=rules.value("linear_step_percent"),
            step_bake_time=Duration.minutes(rules.value("linear_step_bake_time_minutes")),
        )
    if options.strategy == "canary":
        props["canary_configuration"] = ecs.TrafficShiftConfig(
            step_percent=rules.value("canary_percent"),
            step_bake_time=Duration.minutes(rules.value("canary_bake_time_minutes")),
        )
    return props


@dataclass(frozen=True)
class TrafficShiftTargets:
    """One service's target groups on one listener: ``production`` (blue at first), ``alternate``
    (green at first) and the listener ``rule`` ECS moves traffic with."""

    production: elbv2.ApplicationTargetGroup
    alternate: elbv2.ApplicationTargetGroup
    rule: elbv2.ApplicationListenerRule


class TrafficShifting:
    """The alternate target groups, production rules and the one role ECS assumes, for the
    services of one construct whose strategy shifts traffic."""

    def __init__(self, scope: Construct) -> None:
        self._scope = scope
        self._role: iam.Role | None = None

    @property
    def role(self) -> iam.Role:
        """ECS's role to modify the listener rules (made on first use)."""
        if self._role is None:
            self._role = iam.Role(
                self._scope,
                "DeploymentRole",
                assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"),
                managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(ECS_LOAD_BALANCER_POLICY)],
                description="ECS shifts traffic between the target groups of blue/green, linear and "
                "canary deployments",
            )
            acknowledge(
                self._role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{ECS_LOAD_BALANCER_POLICY}]",
                "the AWS managed policy ECS documents for blue/green traffic shifting; "
                "it follows new ELB actions as ECS needs them",
            )
        return self._role

    def listen(
        self,
        *,
        name: str,
        side: str,
        listener: elbv2.ApplicationListener,
        vpc: ec2.IVpc,
        service: ecs.FargateService,
        container: ecs.ContainerDefinition,
        group_props: dict[str, Any],
        conditions: Sequence[elbv2.ListenerCondition] | None,
        priority: int | None,
    ) -> TrafficShiftTargets:
        """``service`` on ``listener`` through a production rule with its ``conditions`` at
        ``priority``, or, as the listener's default (no conditions), matching every path at
        :data:`CATCH_ALL_PRIORITY`; ``group_props`` are both target groups' settings."""
        groups = [
            elbv2.ApplicationTargetGroup(
                listener, f"{name}{kind}Group", vpc=vpc, target_type=elbv2.TargetType.IP, **group_props
            )
            for kind in ("Target", "AlternateTarget")
        ]
        for group in groups:
            Tags.of(group).add(SERVICE_TAG, name)
        production, alternate = groups
        rule = elbv2.ApplicationListenerRule(
            listener,
            f"{name}ProductionRule",
            listener=listener,
            priority=priority or CATCH_ALL_PRIORITY,
            conditions=list(conditions or [elbv2.ListenerCondition.path_patterns(["*"])]),
            action=elbv2.ListenerAction.weighted_forward(
                [
                    elbv2.WeightedTargetGroup(target_group=production, weight=100),
                    elbv2.WeightedTargetGroup(target_group=alternate, weight=0),
                ]
            ),
        )
        production.add_target(
            service.load_balancer_target(
                container_name=container.container_name,
                container_port=container.container_port,
                alternate_target=ecs.AlternateTarget(
                    f"{side.title()}AlternateTarget",
                    alternate_target_group=alternate,
                    production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(rule),
                    role=self.role,
                ),
            )
        )
        return TrafficShiftTargets(production, alternate, rule)


def check_catch_all_priority(field: str, priorities: dict[str, int]) -> None:
    """A listener whose default service shifts traffic keeps :data:`CATCH_ALL_PRIORITY` for it."""
    for owner, priority in priorities.items():
        if priority == CATCH_ALL_PRIORITY:
            raise ValidationError(
                field,
                f"task {owner!r}'s listener rule priority is {CATCH_ALL_PRIORITY}, which the listener's "
                "traffic-shifting default task needs; rename one of the two containers",
            )


def roll_back_on_alarms(service: ecs.FargateService, alarms: Sequence[cloudwatch.Alarm]) -> list[str]:
    """ECS rolls ``service``'s deployments back when one of ``alarms`` fires; their names.

    The alarms watch the service's own metrics, so they get names of their own (from their
    construct paths): the service cannot refer to them by ``Ref`` without a dependency cycle.
    """
    names = []
    for alarm in alarms:
        alarm_name = Names.unique_resource_name(alarm, max_length=255, separator="-")
        alarm.node.default_child.alarm_name = alarm_name  # type: ignore[union-attr]
        names.append(alarm_name)
    service.enable_deployment_alarms(names, behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM)
    return names
