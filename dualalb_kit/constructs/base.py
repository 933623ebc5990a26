"""``BaseFargateService``: what the dual-ALB and the dual-NLB Fargate services share.

The base builds the VPC and subnets, the cluster, one Fargate service per task with its
capacity strategy and target tracking (CPU, memory, scheduled), the Spot termination handler,
the alarms, the private zone with its aliases and the outputs. A variant creates its load
balancers, attaches each task to them (listener and target group) and adds what only its load
balancer type has (request-count scaling, HTTP redirects).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Unpack

from aws_cdk import Annotations, CfnOutput, Tags
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from constructs import Construct

from .. import validation
from ..errors import ValidationError
from ..tags import SERVICE_TAG
from ..validation import SIDES
from .deployment import DeploymentOptions, roll_back_on_alarms, service_props, shifts_traffic
from .findings import acknowledge
from .monitoring import AlarmThresholds, MonitoredService, ServiceMonitoring
from .network import resolve_subnets, resolve_vpc
from .props import (
    LOCAL_LABEL,
    Certificate,
    FargateTaskProps,
    LoadBalancerAccessibility,
    Route53Options,
    ServiceScalingPolicy,
)
from .service_options import FargateServiceOptions, service_options
from .spot_termination import SpotTerminationHandler


@dataclass(frozen=True)
class _Listener:
    """One task's listener on one side, before it exists."""

    side: str
    task_index: int
    access: LoadBalancerAccessibility
    shifts_traffic: bool = False
    """Whether ECS shifts the task's traffic with a listener rule (blue/green, linear, canary)."""

    @property
    def key(self) -> tuple[str, int]:
        """The load balancer listener it is on: side and port."""
        return self.side, self.access.port

    @property
    def conditional(self) -> bool:
        """Whether it has a listener rule of its own (forward conditions) rather than the default."""
        return bool(self.access.forward_conditions)


class BaseFargateService(Construct):
    """Fargate services behind an internet-facing and/or an internal load balancer: the parts
    :class:`DualAlbFargateService` and :class:`DualNlbFargateService` share. Not used directly.

    :meth:`_check` validates the props before anything reaches jsii (a variant adds its load
    balancer's rules in :meth:`_check_load_balancer`, and extends it for options of its own); a
    variant implements :meth:`_create_load_balancers`, :meth:`_attach` and :meth:`_endpoint`; it may
    override :meth:`_scale_on_load_balancer` and :meth:`_complete_load_balancers`. ``kind``
    (``Alb``/``Nlb``) names the alias records' construct ids.

    Keyword arguments: :class:`FargateServiceOptions`.

    Attributes: ``vpc``, ``cluster``, ``services`` (in task order), ``load_balancers``
    (``{side: load balancer}``, sides without a listener left out), ``zone`` (``None`` without
    aliases), ``target_groups`` (``{(task name, side): target group}``),
    ``spot_termination_handler`` (``None`` unless created), ``monitoring`` (``None`` without
    ``alarms``).
    """

    kind = "Alb"

    def __init__(self, scope: Construct, id: str, **options: Unpack[FargateServiceOptions]) -> None:
        self._options = service_options(type(self).__name__, options)
        tasks = self._options["tasks"]
        self._check(scope, self._options)
        check_local_commands(tasks)
        if self._options["cluster"] is not None and self._options["cluster_props"] is not None:
            raise ValidationError("cluster_props", "cannot be combined with an existing cluster")
        super().__init__(scope, id)
        names = [_container(props).container_name for props in tasks]
        for props in tasks:
            if props.local is not None:
                _container(props).add_docker_label(LOCAL_LABEL, props.local.label())
        subnets, public_ip = self._network()
        listeners = _listeners(tasks, self._options["deployment"])
        self.load_balancers: dict[str, elbv2.BaseLoadBalancer] = {}
        self._create_load_balancers(listeners, names)
        self.services: list[ecs.FargateService] = []
        self.target_groups: dict[tuple[str, str], elbv2.TargetGroupBase] = {}
        self.alternate_target_groups: dict[tuple[str, str], elbv2.TargetGroupBase] = {}
        for index, props in enumerate(tasks):
            self._add_service(
                names[index], props, subnets, public_ip, [lst for lst in listeners if lst.task_index == index]
            )
        self._complete_load_balancers(listeners)
        self.spot_termination_handler = self._add_spot_termination_handler(names)
        self.monitoring = self._add_monitoring(names)
        self._roll_back_on_alarms(names)
        route53_ops = self._options["route53_ops"]
        self.zone = self._zone(route53_ops) if route53_ops.enable_load_balancer_alias else None
        self._outputs(listeners, route53_ops)

    # -- what a variant provides ----------------------------------------------------------------

    def _check(self, scope: Construct, options: FargateServiceOptions) -> None:
        """Raise ValidationError on props the variant cannot build, before jsii sees them: task
        names, the load balancer's own rules (:meth:`_check_load_balancer`), the rules the spec
        shares, the alias names. A variant with options of its own extends it; ``scope`` is where
        the construct goes."""
        tasks = options["tasks"]
        task_names(tasks)
        rules = service_rules(tasks, deployment=options["deployment"], alarms=bool(options["alarms"]))
        self._check_load_balancer(tasks, rules)
        validation.check_services(rules)
        check_route53(options["route53_ops"])

    def _check_load_balancer(
        self, tasks: Sequence[FargateTaskProps], rules: list[validation.ServiceRules]
    ) -> None:
        """Raise ValidationError on what the variant's load balancer cannot do; nothing by default."""

    def _create_load_balancers(self, listeners: list[_Listener], names: list[str]) -> None:
        """Create the load balancers the listeners need into ``self.load_balancers``."""
        raise NotImplementedError

    def _attach(
        self, name: str, props: FargateTaskProps, service: ecs.FargateService, listener: _Listener
    ) -> elbv2.TargetGroupBase:
        """Put ``service`` behind ``listener``; the target group, recorded in ``self.target_groups``."""
        raise NotImplementedError

    def _endpoint(self, access: LoadBalancerAccessibility) -> tuple[str, int | None]:
        """The URL scheme of the side whose first listener is ``access``, and the port to show
        (``None`` where the scheme implies it)."""
        raise NotImplementedError

    def _scale_on_load_balancer(
        self,
        scaling: ecs.ScalableTaskCount,
        policy: ServiceScalingPolicy,
        target_groups: list[elbv2.TargetGroupBase],
    ) -> None:
        """Target tracking on a load balancer metric; none by default."""

    def _complete_load_balancers(self, listeners: list[_Listener]) -> None:
        """Anything the load balancers need once every task is attached; nothing by default."""

    def _security_group(self, side: str) -> ec2.SecurityGroup:
        """The security group of ``side``'s load balancer: no egress but what is granted later;
        on the internet-facing one cdk-nag's EC23 is acknowledged (it admits its listener ports)."""
        label = self.kind.upper()
        security_group = ec2.SecurityGroup(
            self,
            f"{side.title()}{self.kind}SecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description=f"{side} {label} of {self.node.path}",
        )
        if side == "external":
            acknowledge(
                security_group,
                "AwsSolutions-EC23",
                f"the public {label} serves the internet on its listener ports only",
            )
        return security_group

    # -- services -------------------------------------------------------------------------------

    def _network(self) -> tuple[ec2.SubnetSelection, bool]:
        """The VPC and the cluster (``self.vpc``, ``self.cluster``); the tasks' subnets and whether
        they get public IPs."""
        cluster, cluster_props = self._options["cluster"], struct_values(self._options["cluster_props"])
        self.vpc = resolve_vpc(
            self, self._options["vpc"] or (cluster.vpc if cluster else cluster_props.get("vpc"))
        )
        subnets, public_ip = resolve_subnets(self.vpc, self._options["vpc_subnets"])
        self.cluster = cluster or ecs.Cluster(
            self,
            "Cluster",
            **{
                "vpc": self.vpc,
                "enable_fargate_capacity_providers": True,
                "container_insights_v2": ecs.ContainerInsights.ENABLED,
                **cluster_props,
            },
        )
        return subnets, public_ip

    def _add_service(
        self,
        name: str,
        props: FargateTaskProps,
        subnets: ec2.SubnetSelection,
        public_ip: bool,
        listeners: list[_Listener],
    ) -> None:
        """Task ``name``'s service, behind its ``listeners``, scaled."""
        service = self._service(name, props, subnets, public_ip)
        self.services.append(service)
        groups = [self._attach(name, props, service, lst) for lst in listeners]
        groups += [g for (owner, _), g in self.alternate_target_groups.items() if owner == name]
        self._autoscale(service, props, groups)

    def _add_spot_termination_handler(self, names: list[str]) -> SpotTerminationHandler | None:
        """The handler, unless ``spot_termination_handler`` is ``False`` or no task is on Spot
        (a warning when it was asked for)."""
        asked = self._options["spot_termination_handler"]
        if asked is False:
            return None
        handler = self._spot_termination_handler(self._options["tasks"], names, self._options["spot"])
        if asked and handler is None:
            Annotations.of(self).add_warning_v2(
                "dualalb-kit:spotTerminationHandlerUnused",
                "spot_termination_handler: no task runs on FARGATE_SPOT, so no handler is created",
            )
        return handler

    def _add_monitoring(self, names: list[str]) -> ServiceMonitoring | None:
        """The alarms and the dashboard with ``alarms``; ``None`` without."""
        alarms = self._options["alarms"]
        if not alarms:
            return None
        return ServiceMonitoring(
            self,
            "Monitoring",
            services={
                name: MonitoredService(service, self._monitored_target_groups(name))
                for name, service in zip(names, self.services, strict=True)
            },
            thresholds=alarms if isinstance(alarms, AlarmThresholds) else None,
        )

    def _roll_back_on_alarms(self, names: list[str]) -> None:
        """Each service whose deployment options roll back on its alarms gets them."""
        alarms = bool(self._options["alarms"])
        for props, name, service in zip(self._options["tasks"], names, self.services, strict=True):
            options = props.deployment or self._options["deployment"]
            if options is not None and options.rules().rolls_back_on_alarms(alarms):
                assert self.monitoring is not None  # the shared rules require alarms for rollback
                roll_back_on_alarms(
                    service, [alarm for (owner, _), alarm in self.monitoring.alarms.items() if owner == name]
                )

    def _monitored_target_groups(self, name: str) -> dict[str, elbv2.TargetGroupBase]:
        """Task ``name``'s target groups by side; an alternate one as ``<side>-alternate``."""
        return {
            **{side: group for (owner, side), group in self.target_groups.items() if owner == name},
            **{
                f"{side}-alternate": group
                for (owner, side), group in self.alternate_target_groups.items()
                if owner == name
            },
        }

    def _spot_termination_handler(
        self, tasks: Sequence[FargateTaskProps], names: list[str], spot: bool
    ) -> SpotTerminationHandler | None:
        """The handler for the services that run on FARGATE_SPOT; ``None`` if none does."""
        on_spot = [
            index
            for index, props in enumerate(tasks)
            if any(
                s.capacity_provider == "FARGATE_SPOT" and (s.weight or s.base)
                for s in capacity_strategy(props, spot)
            )
        ]
        if not on_spot:
            return None
        spot_names = {names[index] for index in on_spot}
        return SpotTerminationHandler(
            self,
            "SpotTerminationHandler",
            cluster=self.cluster,
            services=[self.services[index] for index in on_spot],
            target_groups=[
                group
                for (name, _), group in (*self.target_groups.items(), *self.alternate_target_groups.items())
                if name in spot_names
            ],
        )

    def _service(
        self, name: str, props: FargateTaskProps, subnets: ec2.SubnetSelection, public_ip: bool
    ) -> ecs.FargateService:
        enable_execute_command = self._options["enable_execute_command"]
        strategy = capacity_strategy(props, self._options["spot"])
        service = ecs.FargateService(
            self,
            f"{name}Service",
            cluster=self.cluster,
            task_definition=props.task,
            desired_count=props.desired_count,
            service_name=props.service_name,
            capacity_provider_strategies=strategy,
            enable_execute_command=enable_execute_command,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True)
            if self._options["circuit_breaker"]
            else None,
            min_healthy_percent=props.min_healthy_percent,
            max_healthy_percent=props.max_healthy_percent,
            health_check_grace_period=props.health_check_grace_period,
            vpc_subnets=subnets,
            assign_public_ip=public_ip,
            **service_props(props.deployment or self._options["deployment"]),
        )
        Tags.of(service).add(SERVICE_TAG, name)
        exec_policy = props.task.task_role.node.try_find_child("DefaultPolicy")
        if enable_execute_command and exec_policy is not None:
            acknowledge(
                exec_policy,
                "AwsSolutions-IAM5[Resource::*]",
                "ECS Exec's ssmmessages actions take no resource-level permissions",
            )
        return service

    def _autoscale(
        self, service: ecs.FargateService, props: FargateTaskProps, groups: list[elbv2.TargetGroupBase]
    ) -> None:
        """Target tracking on CPU, on the load balancer's metric and on memory; scheduled actions."""
        policy = props.scaling_policy or ServiceScalingPolicy()
        scaling = service.auto_scale_task_count(
            min_capacity=policy.min_capacity, max_capacity=policy.max_capacity
        )
        scaling.scale_on_cpu_utilization(
            "CpuScaling", target_utilization_percent=policy.target_cpu_utilization
        )
        self._scale_on_load_balancer(scaling, policy, groups)
        if policy.target_memory_utilization is not None:
            scaling.scale_on_memory_utilization(
                "MemoryScaling", target_utilization_percent=policy.target_memory_utilization
            )
        for index, action in enumerate(policy.scheduled):
            scaling.scale_on_schedule(
                f"Scheduled{index}",
                schedule=appscaling.Schedule.expression(f"cron({' '.join(action.cron.split())})"),
                min_capacity=action.min_capacity,
                max_capacity=action.max_capacity,
            )

    # -- names and outputs ----------------------------------------------------------------------

    def _zone(self, ops: Route53Options) -> route53.PrivateHostedZone:
        zone = route53.PrivateHostedZone(self, "HostedZone", zone_name=ops.zone_name, vpc=self.vpc)
        for side, record in (
            ("external", ops.external_alb_record_name),
            ("internal", ops.internal_alb_record_name),
        ):
            balancer = self.load_balancers.get(side)
            if balancer is not None:
                route53.ARecord(
                    self,
                    f"{side.title()}{self.kind}Alias",
                    zone=zone,
                    record_name=record,
                    target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(balancer)),
                )
        return zone

    def _outputs(self, listeners: list[_Listener], ops: Route53Options) -> None:
        for side, record in (
            ("external", ops.external_alb_record_name),
            ("internal", ops.internal_alb_record_name),
        ):
            balancer = self.load_balancers.get(side)
            if balancer is None:
                continue
            scheme, shown_port = self._endpoint(next(lst.access for lst in listeners if lst.side == side))
            port = "" if shown_port is None else f":{shown_port}"
            self._output(f"{side.title()}Endpoint", f"{scheme}://{balancer.load_balancer_dns_name}{port}")
            if self.zone is not None:
                self._output(f"{side.title()}EndpointPrivate", f"{scheme}://{record}.{ops.zone_name}{port}")

    def _output(self, name: str, value: str) -> None:
        output = CfnOutput(self, name, value=value)
        output.override_logical_id(name)


def _listeners(tasks: Sequence[FargateTaskProps], deployment: DeploymentOptions | None) -> list[_Listener]:
    """Every task's listeners, in task then side order; ``deployment`` is the construct's default."""
    return [
        _Listener(side, index, access, shifts_traffic(props.deployment or deployment))
        for index, props in enumerate(tasks)
        for side, access in ((s, getattr(props, s)) for s in SIDES)
        if access is not None
    ]


def listener_certificate(cert: Certificate) -> elbv2.IListenerCertificate:
    """An ACM certificate or a listener certificate, as a listener takes it."""
    if hasattr(cert, "metric_days_to_expiry"):  # an ACM certificate rather than a listener certificate
        return elbv2.ListenerCertificate.from_certificate_manager(cert)  # type: ignore[arg-type]
    return cert  # type: ignore[return-value]


def capacity_strategy(props: FargateTaskProps, spot: bool) -> list[ecs.CapacityProviderStrategy]:
    """The task's own strategy, else 100% FARGATE_SPOT with ``spot``, else 100% FARGATE."""
    return list(props.capacity_provider_strategy or []) or [
        ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT" if spot else "FARGATE", weight=1)
    ]


def struct_values(struct: object | None) -> dict[str, object]:
    """The fields a jsii struct (``ecs.ClusterProps``, ``elbv2.HealthCheck``) sets, by keyword name."""
    if struct is None:
        return {}
    names = inspect.signature(type(struct)).parameters
    return {name: value for name in names if (value := getattr(struct, name)) is not None}


def _container(props: FargateTaskProps) -> ecs.ContainerDefinition:
    container = props.task.default_container
    assert container is not None  # task_names checked it
    return container


def task_names(tasks: Sequence[FargateTaskProps]) -> list[str]:
    """Each task's name (its default container's), checking that it has one with a port mapping."""
    names: list[str] = []
    for index, props in enumerate(tasks):
        field = f"tasks[{index}]"
        container = props.task.default_container
        if container is None:
            raise ValidationError(f"{field}.task", "has no container; add one before building the service")
        if not container.port_mappings:
            raise ValidationError(f"{field}.task", f"container {container.container_name!r} maps no port")
        if container.container_name in names:
            raise ValidationError(
                f"{field}.task", f"container name {container.container_name!r} is used by another task"
            )
        names.append(container.container_name)
    return names


def plain_conditions(conditions: Sequence[elbv2.ListenerCondition] | None) -> list[validation.Condition]:
    """Listener conditions as the plain ``(field, values)`` pairs the shared rules check."""
    plain: list[validation.Condition] = []
    for condition in conditions or ():
        raw = condition.render_raw_condition()
        config = next((value for key, value in raw.items() if key.endswith("Config")), {})
        plain.append((raw.get("field", "?"), tuple(str(v) for v in config.get("values", []))))
    return plain


def service_rules(
    tasks: Sequence[FargateTaskProps], *, deployment: DeploymentOptions | None = None, alarms: bool = False
) -> list[validation.ServiceRules]:
    """Each task's values for the rules the spec and the constructs share (``validation``);
    ``deployment`` is the construct's default strategy, ``alarms`` whether it has alarms."""
    return [
        validation.ServiceRules(
            field=f"tasks[{index}]",
            listener_ports={
                side: access.port for side in SIDES if (access := getattr(props, side)) is not None
            },
            desired_count=props.desired_count,
            scaling=props.scaling_policy or ServiceScalingPolicy(),
            strategy_field=f"tasks[{index}].capacity_provider_strategy",
            min_healthy_percent=props.min_healthy_percent,
            max_healthy_percent=props.max_healthy_percent,
            forward_conditions={
                side: plain_conditions(access.forward_conditions)
                for side in SIDES
                if (access := getattr(props, side)) is not None
            },
            https_sides=frozenset(
                side for side in SIDES if (access := getattr(props, side)) is not None and access.cert
            ),
            strategy=None
            if props.capacity_provider_strategy is None
            else [
                (s.capacity_provider, s.base or 0, s.weight or 0) for s in props.capacity_provider_strategy
            ],
            deployment=(props.deployment or deployment or DeploymentOptions()).rules(),
            deployment_field=f"tasks[{index}].deployment" if props.deployment else "deployment",
            alarms=alarms,
        )
        for index, props in enumerate(tasks)
    ]


def check_local_commands(tasks: Sequence[FargateTaskProps]) -> None:
    """Each task's ``local`` command as the spec checks it (not whether its ``cwd`` exists: a
    construct does no I/O)."""
    for index, props in enumerate(tasks):
        if props.local is not None:
            validation.check_local_command(f"tasks[{index}].local.command", props.local.command)
            if props.local.cwd is not None:
                validation.check_local_cwd(f"tasks[{index}].local.cwd", props.local.cwd)


def check_route53(route53_ops: Route53Options) -> None:
    """The private zone's name and the two alias record names."""
    validation.check_dns_name("route53_ops.zone_name", route53_ops.zone_name)
    validation.check_dns_name(
        "route53_ops.external_alb_record_name", route53_ops.external_alb_record_name, single_label=True
    )
    validation.check_dns_name(
        "route53_ops.internal_alb_record_name", route53_ops.internal_alb_record_name, single_label=True
    )
