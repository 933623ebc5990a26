"""``DualAlbFargateService``: Fargate services behind an internet-facing and an internal ALB."""

from __future__ import annotations

import inspect
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack, Tags, Token
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import validation
from ..errors import ValidationError
from ..tags import ALB_TAG, SERVICE_TAG
from ..validation import SIDES
from .findings import acknowledge
from .monitoring import AlarmThresholds, MonitoredService, ServiceMonitoring
from .network import resolve_subnets, resolve_vpc, vpc_cidr
from .props import (
    Certificate,
    FargateTaskProps,
    LoadBalancerAccessibility,
    Route53Options,
    ServiceScalingPolicy,
)
from .spot_termination import SpotTerminationHandler

RULE_PRIORITY_MAX = 50000
"""ALB's highest listener-rule priority."""


@dataclass(frozen=True)
class _Listener:
    """One task's listener on one side, before it exists."""

    side: str
    task_index: int
    access: LoadBalancerAccessibility

    @property
    def key(self) -> tuple[str, int]:
        """The ALB listener it is on: side and port."""
        return self.side, self.access.port

    @property
    def conditional(self) -> bool:
        """Whether it has a listener rule of its own (forward conditions) rather than the default."""
        return bool(self.access.forward_conditions)


class DualAlbFargateService(Construct):
    """One or many Fargate services behind an internet-facing ALB, an internal ALB, or both.

    :param tasks: the services, in order (at least one).
    :param vpc: the VPC. Default: context ``use_default_vpc=1`` / env ``CDK_USE_DEFAULT_VPC=1``
        (the default VPC), context ``use_vpc_id``, else a new VPC (3 AZs at most, one NAT gateway).
    :param vpc_subnets: where the tasks run. Default: private subnets with egress.
    :param spot: 100% FARGATE_SPOT for tasks without their own strategy. Default ``False`` (FARGATE).
    :param enable_execute_command: ECS Exec on every service. Default ``False``.
    :param circuit_breaker: deployment circuit breaker with rollback. Default ``True``.
    :param route53_ops: the private zone and alias names. Default :class:`Route53Options()`.
    :param cluster: an existing ECS cluster (with the FARGATE and FARGATE_SPOT capacity providers).
        Default: a new cluster with both providers and Container Insights.
    :param cluster_props: properties of the new cluster, over those defaults; not with ``cluster``.
    :param external_alb_idle_timeout: the internet-facing ALB's idle timeout (1-4000 s).
        Default: ALB's, 60 s.
    :param internal_alb_idle_timeout: the internal ALB's idle timeout (1-4000 s). Default 60 s.
    :param spot_termination_handler: when some task runs on FARGATE_SPOT, an EventBridge rule
        and a function that deregister an interrupted Spot task from its target groups at once
        (:class:`SpotTerminationHandler`). Default ``False`` (the original's default is on; off
        here so existing stacks keep their templates).
    :param alarms: CloudWatch alarms per service (5xx rate, p99 latency and unhealthy hosts per
        target group, CPU) and one dashboard (:class:`ServiceMonitoring`); ``True`` for the default
        :class:`AlarmThresholds`, or thresholds of your own. Default ``False``.
    :param access_logs: ALB access logs into a new bucket (SSE-S3, as ELB requires; public access
        blocked, TLS only, objects expire after ``access_log_retention_days``). Default ``False``.
    :param access_log_retention_days: days the bucket keeps a log object. Default 90.

    Attributes: ``vpc``, ``cluster``, ``services`` (in task order), ``external_alb`` and
    ``internal_alb`` (``None`` where not created), ``zone`` (``None`` without aliases),
    ``target_groups`` (``{(task name, side): target group}``), ``spot_termination_handler``
    (``None`` unless created), ``monitoring`` (``None`` without ``alarms``),
    ``access_log_bucket`` (``None`` without ``access_logs``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        tasks: Sequence[FargateTaskProps],
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        spot: bool = False,
        enable_execute_command: bool = False,
        circuit_breaker: bool = True,
        route53_ops: Route53Options | None = None,
        cluster: ecs.ICluster | None = None,
        cluster_props: ecs.ClusterProps | None = None,
        external_alb_idle_timeout: Duration | None = None,
        internal_alb_idle_timeout: Duration | None = None,
        spot_termination_handler: bool = False,
        alarms: bool | AlarmThresholds = False,
        access_logs: bool = False,
        access_log_retention_days: int = 90,
    ) -> None:
        route53_ops = route53_ops or Route53Options()
        names = _validate(tasks, route53_ops)
        idle_timeouts = {"external": external_alb_idle_timeout, "internal": internal_alb_idle_timeout}
        for side, timeout in idle_timeouts.items():
            if timeout is not None:
                validation.check_idle_timeout(f"{side}_alb_idle_timeout", timeout.to_seconds())
        if cluster is not None and cluster_props is not None:
            raise ValidationError("cluster_props", "cannot be combined with an existing cluster")
        if access_log_retention_days < 1:
            raise ValidationError(
                "access_log_retention_days", f"{access_log_retention_days} must be at least 1"
            )
        if access_logs and Token.is_unresolved(Stack.of(scope).region):
            raise ValidationError(
                "access_logs",
                "needs the stack's region (Stack(env=Environment(region=...))): "
                "ELB delivers the logs from an account of that region",
            )
        super().__init__(scope, id)

        given_cluster_props = _struct_values(cluster_props)
        self.vpc = resolve_vpc(self, vpc or (cluster.vpc if cluster else given_cluster_props.get("vpc")))
        subnets, public_ip = resolve_subnets(self.vpc, vpc_subnets)
        self.cluster = cluster or ecs.Cluster(
            self,
            "Cluster",
            **{
                "vpc": self.vpc,
                "enable_fargate_capacity_providers": True,
                "container_insights_v2": ecs.ContainerInsights.ENABLED,
                **given_cluster_props,
            },
        )
        listeners = [
            _Listener(side, index, access)
            for index, props in enumerate(tasks)
            for side, access in ((s, getattr(props, s)) for s in SIDES)
            if access is not None
        ]
        self.access_log_bucket = self._access_log_bucket(access_log_retention_days) if access_logs else None
        self.external_alb = (
            self._alb("external", external_alb_idle_timeout)
            if any(lst.side == "external" for lst in listeners)
            else None
        )
        self.internal_alb = (
            self._alb("internal", internal_alb_idle_timeout)
            if any(lst.side == "internal" for lst in listeners)
            else None
        )

        self.services: list[ecs.FargateService] = []
        self.target_groups: dict[tuple[str, str], elbv2.ApplicationTargetGroup] = {}
        self._alb_listeners: dict[tuple[str, int], elbv2.ApplicationListener] = {}
        priorities = {
            (side, port): _rule_priorities(
                [names[lst.task_index] for lst in listeners if lst.key == (side, port) and lst.conditional]
            )
            for side, port in {lst.key for lst in listeners}
        }
        for index, props in enumerate(tasks):
            service = self._service(
                names[index], props, subnets, public_ip, spot, enable_execute_command, circuit_breaker
            )
            self.services.append(service)
            own = [lst for lst in listeners if lst.task_index == index]
            groups = [
                self._listen(names[index], props, service, lst, priorities[lst.key].get(names[index]))
                for lst in own
            ]
            self._autoscale(service, props.scaling_policy or ServiceScalingPolicy(), groups)

        self._answer_unmatched_requests(listeners)
        self.spot_termination_handler = (
            self._spot_termination_handler(tasks, names, spot) if spot_termination_handler else None
        )
        self.monitoring = (
            ServiceMonitoring(
                self,
                "Monitoring",
                services={
                    name: MonitoredService(
                        service,
                        {side: group for (owner, side), group in self.target_groups.items() if owner == name},
                    )
                    for name, service in zip(names, self.services, strict=True)
                },
                thresholds=alarms if isinstance(alarms, AlarmThresholds) else None,
            )
            if alarms
            else None
        )
        self._redirect_http_to_https(listeners)
        self.zone = self._zone(route53_ops) if route53_ops.enable_load_balancer_alias else None
        self._outputs(listeners, route53_ops)

    # -- load balancers -------------------------------------------------------------------------

    def _access_log_bucket(self, retention_days: int) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(retention_days))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "this bucket holds the ALBs' access logs; logging its own access would need yet another bucket",
        )
        return bucket

    def _alb(self, side: str, idle_timeout: Duration | None) -> elbv2.ApplicationLoadBalancer:
        internet_facing = side == "external"
        security_group = ec2.SecurityGroup(
            self,
            f"{side.title()}AlbSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description=f"{side} ALB of {self.node.path}",
        )
        alb = elbv2.ApplicationLoadBalancer(
            self,
            f"{side.title()}Alb",
            vpc=self.vpc,
            internet_facing=internet_facing,
            security_group=security_group,
            drop_invalid_header_fields=True,
            idle_timeout=idle_timeout,
        )
        if self.access_log_bucket is not None:
            alb.log_access_logs(self.access_log_bucket, prefix=side)
        else:
            acknowledge(
                alb,
                "AwsSolutions-ELB2",
                "access logs need a regional log bucket; opt-in for this pattern (access_logs=True)",
            )
        if internet_facing:
            acknowledge(
                security_group,
                "AwsSolutions-EC23",
                "the public ALB serves the internet on its listener ports only",
            )
        return alb

    def _alb_listener(
        self, listener: _Listener, certificates: list[elbv2.IListenerCertificate], name: str
    ) -> elbv2.ApplicationListener:
        """The listener of ``listener``'s side and port: made by its first task; a later task on
        the same port adds its certificates (served by SNI)."""
        if listener.key in self._alb_listeners:
            alb_listener = self._alb_listeners[listener.key]
            if certificates:
                alb_listener.add_certificates(f"{name}Certificates", certificates)
            return alb_listener
        alb = self.external_alb if listener.side == "external" else self.internal_alb
        assert alb is not None
        port = listener.access.port
        alb_listener = alb.add_listener(
            f"Listener{port}",
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTPS if certificates else elbv2.ApplicationProtocol.HTTP,
            certificates=certificates or None,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS if certificates else None,
            open=listener.side == "external",
        )
        if listener.side == "internal":
            cidr = vpc_cidr(self.vpc)
            alb.connections.allow_from(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), "from inside the VPC")
            if Token.is_unresolved(cidr):
                acknowledge(
                    alb,
                    "AwsSolutions::AwsSolutions-EC23",
                    "ingress is the VPC CIDR, known only at deploy time",
                )
        self._alb_listeners[listener.key] = alb_listener
        return alb_listener

    def _listen(
        self,
        name: str,
        props: FargateTaskProps,
        service: ecs.FargateService,
        listener: _Listener,
        priority: int | None,
    ) -> elbv2.ApplicationTargetGroup:
        access = listener.access
        certificates = [_listener_certificate(c) for c in access.certificates]
        alb_listener = self._alb_listener(listener, certificates, name)
        container = props.task.default_container
        assert container is not None
        target_group = alb_listener.add_targets(
            f"{name}Target",
            port=container.container_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            protocol_version=props.protocol_version,
            targets=[
                service.load_balancer_target(
                    container_name=container.container_name, container_port=container.container_port
                )
            ],
            health_check=props.health_check,
            deregistration_delay=Duration.seconds(30),
            conditions=list(access.forward_conditions) if listener.conditional else None,
            priority=priority,
        )
        Tags.of(target_group).add(SERVICE_TAG, name)
        Tags.of(target_group).add(ALB_TAG, listener.side)
        self.target_groups[(name, listener.side)] = target_group
        return target_group

    def _answer_unmatched_requests(self, listeners: list[_Listener]) -> None:
        """A 404 on each listener where every task has forward conditions (no default task)."""
        for key, alb_listener in self._alb_listeners.items():
            if all(lst.conditional for lst in listeners if lst.key == key):
                alb_listener.add_action(
                    "NoRuleMatches",
                    action=elbv2.ListenerAction.fixed_response(
                        404, content_type="text/plain", message_body="no service matches this request"
                    ),
                )

    def _redirect_http_to_https(self, listeners: list[_Listener]) -> None:
        external = [lst.access for lst in listeners if lst.side == "external"]
        https_443 = any(a.port == 443 and a.certificates for a in external)
        if self.external_alb is not None and https_443 and all(a.port != 80 for a in external):
            self.external_alb.add_redirect(source_port=80, target_port=443)

    # -- services -------------------------------------------------------------------------------

    def _spot_termination_handler(
        self, tasks: Sequence[FargateTaskProps], names: list[str], spot: bool
    ) -> SpotTerminationHandler | None:
        """The handler for the services that run on FARGATE_SPOT; ``None`` if none does."""
        on_spot = [
            index
            for index, props in enumerate(tasks)
            if any(
                s.capacity_provider == "FARGATE_SPOT" and (s.weight or s.base)
                for s in _capacity_strategy(props, spot)
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
            target_groups=[group for (name, _), group in self.target_groups.items() if name in spot_names],
        )

    def _service(
        self,
        name: str,
        props: FargateTaskProps,
        subnets: ec2.SubnetSelection,
        public_ip: bool,
        spot: bool,
        enable_execute_command: bool,
        circuit_breaker: bool,
    ) -> ecs.FargateService:
        strategy = _capacity_strategy(props, spot)
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
            if circuit_breaker
            else None,
            min_healthy_percent=props.min_healthy_percent,
            max_healthy_percent=props.max_healthy_percent,
            health_check_grace_period=props.health_check_grace_period,
            vpc_subnets=subnets,
            assign_public_ip=public_ip,
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
        self,
        service: ecs.FargateService,
        policy: ServiceScalingPolicy,
        target_groups: list[elbv2.ApplicationTargetGroup],
    ) -> None:
        scaling = service.auto_scale_task_count(
            min_capacity=policy.min_capacity, max_capacity=policy.max_capacity
        )
        scaling.scale_on_cpu_utilization(
            "CpuScaling", target_utilization_percent=policy.target_cpu_utilization
        )
        for index, target_group in enumerate(target_groups):
            scaling.scale_on_request_count(
                f"RequestScaling{index}",
                requests_per_target=policy.request_per_target,
                target_group=target_group,
            )
        if policy.target_memory_utilization is not None:
            scaling.scale_on_memory_utilization(
                "MemoryScaling", target_utilization_percent=policy.target_memory_utilization
            )
        for index, action in enumerate(policy.scheduled):
            scaling.scale_on_schedule(
                f"Scheduled{index}",
                schedule=appscaling.Schedule.expression(f"cron({action.cron})"),
                min_capacity=action.min_capacity,
                max_capacity=action.max_capacity,
            )

    # -- names and outputs ----------------------------------------------------------------------

    def _zone(self, ops: Route53Options) -> route53.PrivateHostedZone:
        zone = route53.PrivateHostedZone(self, "HostedZone", zone_name=ops.zone_name, vpc=self.vpc)
        for side, alb, record in (
            ("External", self.external_alb, ops.external_alb_record_name),
            ("Internal", self.internal_alb, ops.internal_alb_record_name),
        ):
            if alb is not None:
                route53.ARecord(
                    self,
                    f"{side}AlbAlias",
                    zone=zone,
                    record_name=record,
                    target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(alb)),
                )
        return zone

    def _outputs(self, listeners: list[_Listener], ops: Route53Options) -> None:
        for side, alb, record in (
            ("external", self.external_alb, ops.external_alb_record_name),
            ("internal", self.internal_alb, ops.internal_alb_record_name),
        ):
            if alb is None:
                continue
            first = next(lst.access for lst in listeners if lst.side == side)
            scheme = "https" if first.certificates else "http"
            port = "" if (scheme, first.port) in (("http", 80), ("https", 443)) else f":{first.port}"
            self._output(f"{side.title()}Endpoint", f"{scheme}://{alb.load_balancer_dns_name}{port}")
            if self.zone is not None:
                self._output(f"{side.title()}EndpointPrivate", f"{scheme}://{record}.{ops.zone_name}{port}")

    def _output(self, name: str, value: str) -> None:
        output = CfnOutput(self, name, value=value)
        output.override_logical_id(name)


def _listener_certificate(cert: Certificate) -> elbv2.IListenerCertificate:
    if hasattr(cert, "metric_days_to_expiry"):  # an ACM certificate rather than a listener certificate
        return elbv2.ListenerCertificate.from_certificate_manager(cert)  # type: ignore[arg-type]
    return cert  # type: ignore[return-value]


def _capacity_strategy(props: FargateTaskProps, spot: bool) -> list[ecs.CapacityProviderStrategy]:
    """The task's own strategy, else 100% FARGATE_SPOT with ``spot``, else 100% FARGATE."""
    return list(props.capacity_provider_strategy or []) or [
        ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT" if spot else "FARGATE", weight=1)
    ]


def _rule_priorities(names: Sequence[str]) -> dict[str, int]:
    """Listener-rule priorities (1-50000) of the tasks on one listener, from their names alone, so
    a task coming or going leaves the others' priorities as they are. Conditions never overlap
    (``validation.check_shared_listeners``), so the order of the rules does not matter."""
    taken: set[int] = set()
    priorities: dict[str, int] = {}
    for name in sorted(names):
        priority = zlib.crc32(name.encode()) % RULE_PRIORITY_MAX + 1
        while priority in taken:
            priority = priority % RULE_PRIORITY_MAX + 1
        taken.add(priority)
        priorities[name] = priority
    return priorities


def _plain_conditions(conditions: Sequence[elbv2.ListenerCondition] | None) -> list[validation.Condition]:
    """Listener conditions as the plain ``(field, values)`` pairs the shared rules check."""
    plain: list[validation.Condition] = []
    for condition in conditions or ():
        raw = condition.render_raw_condition()
        config = next((value for key, value in raw.items() if key.endswith("Config")), {})
        plain.append((raw.get("field", "?"), tuple(str(v) for v in config.get("values", []))))
    return plain


def _struct_values(struct: object | None) -> dict[str, object]:
    """The fields a jsii struct (``ecs.ClusterProps``) sets, by keyword name."""
    if struct is None:
        return {}
    names = inspect.signature(type(struct)).parameters
    return {name: value for name in names if (value := getattr(struct, name)) is not None}


def _validate(tasks: Sequence[FargateTaskProps], route53_ops: Route53Options) -> list[str]:
    """Check the props before anything reaches jsii; return each task's name."""
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
    validation.check_services(
        [
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
                    side: _plain_conditions(access.forward_conditions)
                    for side in SIDES
                    if (access := getattr(props, side)) is not None
                },
                https_sides=frozenset(
                    side for side in SIDES if (access := getattr(props, side)) is not None and access.cert
                ),
                strategy=None
                if props.capacity_provider_strategy is None
                else [
                    (s.capacity_provider, s.base or 0, s.weight or 0)
                    for s in props.capacity_provider_strategy
                ],
            )
            for index, props in enumerate(tasks)
        ]
    )
    validation.check_dns_name("route53_ops.zone_name", route53_ops.zone_name)
    validation.check_dns_name(
        "route53_ops.external_alb_record_name", route53_ops.external_alb_record_name, single_label=True
    )
    validation.check_dns_name(
        "route53_ops.internal_alb_record_name", route53_ops.internal_alb_record_name, single_label=True
    )
    return names
