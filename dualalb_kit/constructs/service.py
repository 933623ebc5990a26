"""``DualAlbFargateService``: Fargate services behind an internet-facing and an internal ALB."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Unpack

from aws_cdk import Duration, RemovalPolicy, Stack, Tags, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import validation
from ..errors import ValidationError
from ..tags import ALB_TAG, SERVICE_TAG
from ..validation import SIDES
from .base import BaseFargateService, _Listener, listener_certificate
from .deployment import TrafficShifting, check_catch_all_priority
from .findings import acknowledge
from .network import vpc_cidr
from .props import (
    FargateTaskProps,
    LoadBalancerAccessibility,
    ServiceScalingPolicy,
)
from .service_options import FargateServiceOptions

RULE_PRIORITY_MAX = 50000
"""ALB's highest listener-rule priority."""


class DualAlbFargateService(BaseFargateService):
    """One or many Fargate services behind an internet-facing ALB, an internal ALB, or both.

    :param external_alb_idle_timeout: the internet-facing ALB's idle timeout (1-4000 s).
        Default: ALB's, 60 s.
    :param internal_alb_idle_timeout: the internal ALB's idle timeout (1-4000 s). Default 60 s.
    :param access_logs: ALB access logs into a new bucket (SSE-S3, as ELB requires; public access
        blocked, TLS only, objects expire after ``access_log_retention_days``). Default ``False``.
    :param access_log_retention_days: days the bucket keeps a log object. Default 90.
    :param options: the options both dual patterns take (:class:`FargateServiceOptions`):
        ``tasks`` (required), ``vpc``, ``vpc_subnets``, ``spot``, ``enable_execute_command``,
        ``circuit_breaker``, ``route53_ops``, ``cluster``, ``cluster_props``,
        ``spot_termination_handler``, ``alarms`` (here: 5xx rate, p99 latency and unhealthy hosts
        per target group, CPU) and ``deployment`` (here: rolling, or ECS's blue_green, linear or
        canary, which give a task per listener an alternate target group and a production
        listener rule (a listener's default task gets one matching every path, at priority
        50000) and roll back on the task's alarms with ``alarms``).

    Attributes: ``vpc``, ``cluster``, ``services`` (in task order), ``external_alb`` and
    ``internal_alb`` (``None`` where not created), ``zone`` (``None`` without aliases),
    ``target_groups`` (``{(task name, side): target group}``), ``alternate_target_groups``
    (the same for blue_green/linear/canary tasks), ``spot_termination_handler``
    (``None`` unless created), ``monitoring`` (``None`` without ``alarms``),
    ``access_log_bucket`` (``None`` without ``access_logs``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        external_alb_idle_timeout: Duration | None = None,
        internal_alb_idle_timeout: Duration | None = None,
        access_logs: bool = False,
        access_log_retention_days: int = 90,
        **options: Unpack[FargateServiceOptions],
    ) -> None:
        self._idle_timeouts = {"external": external_alb_idle_timeout, "internal": internal_alb_idle_timeout}
        self._access_logs = (access_logs, access_log_retention_days)
        super().__init__(scope, id, **options)

    def _check(self, scope: Construct, options: FargateServiceOptions) -> None:
        """The shared rules, then the idle timeouts and the access logs."""
        super()._check(scope, options)
        for side, timeout in self._idle_timeouts.items():
            if timeout is not None:
                validation.check_idle_timeout(f"{side}_alb_idle_timeout", timeout.to_seconds())
        access_logs, retention_days = self._access_logs
        if retention_days < 1:
            raise ValidationError("access_log_retention_days", f"{retention_days} must be at least 1")
        if access_logs and Token.is_unresolved(Stack.of(scope).region):
            raise ValidationError(
                "access_logs",
                "needs the stack's region (Stack(env=Environment(region=...))): "
                "ELB delivers the logs from an account of that region",
            )

    def _check_load_balancer(
        self, tasks: Sequence[FargateTaskProps], rules: list[validation.ServiceRules]
    ) -> None:
        """An ALB listener's protocol follows its certificates: no task sets ``protocol``."""
        for index, props in enumerate(tasks):
            if props.protocol is not None:
                raise ValidationError(
                    f"tasks[{index}].protocol",
                    "is for DualNlbFargateService; an ALB listener is HTTP, or HTTPS with a certificate",
                )

    @property
    def external_alb(self) -> elbv2.ApplicationLoadBalancer | None:
        return self.load_balancers.get("external")  # type: ignore[return-value]

    @property
    def internal_alb(self) -> elbv2.ApplicationLoadBalancer | None:
        return self.load_balancers.get("internal")  # type: ignore[return-value]

    # -- load balancers -------------------------------------------------------------------------

    def _create_load_balancers(self, listeners: list[_Listener], names: list[str]) -> None:
        access_logs, retention_days = self._access_logs
        self.access_log_bucket = self._access_log_bucket(retention_days) if access_logs else None
        for side in SIDES:
            if any(lst.side == side for lst in listeners):
                self.load_balancers[side] = self._alb(side, self._idle_timeouts[side])
        self._alb_listeners: dict[tuple[str, int], elbv2.ApplicationListener] = {}
        self._priorities = {
            (side, port): _rule_priorities(
                [names[lst.task_index] for lst in listeners if lst.key == (side, port) and lst.conditional]
            )
            for side, port in {lst.key for lst in listeners}
        }
        for lst in listeners:
            if lst.shifts_traffic and not lst.conditional:
                check_catch_all_priority(f"tasks[{lst.task_index}].{lst.side}", self._priorities[lst.key])
        self._traffic_shifting = TrafficShifting(self)

    def _attach(
        self, name: str, props: FargateTaskProps, service: ecs.FargateService, listener: _Listener
    ) -> elbv2.ApplicationTargetGroup:
        return self._listen(name, props, service, listener, self._priorities[listener.key].get(name))

    def _complete_load_balancers(self, listeners: list[_Listener]) -> None:
        self._answer_unmatched_requests(listeners)
        self._redirect_http_to_https(listeners)

    def _endpoint(self, access: LoadBalancerAccessibility) -> tuple[str, int | None]:
        scheme = "https" if access.certificates else "http"
        return scheme, None if (scheme, access.port) in (("http", 80), ("https", 443)) else access.port

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
        alb = elbv2.ApplicationLoadBalancer(
            self,
            f"{side.title()}Alb",
            vpc=self.vpc,
            internet_facing=side == "external",
            security_group=self._security_group(side),
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
        certificates = [listener_certificate(c) for c in access.certificates]
        alb_listener = self._alb_listener(listener, certificates, name)
        container = props.task.default_container
        assert container is not None
        if listener.shifts_traffic:
            return self._shift_traffic(name, props, service, listener, alb_listener, priority)
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

    def _shift_traffic(
        self,
        name: str,
        props: FargateTaskProps,
        service: ecs.FargateService,
        listener: _Listener,
        alb_listener: elbv2.ApplicationListener,
        priority: int | None,
    ) -> elbv2.ApplicationTargetGroup:
        """``_listen`` for a blue_green/linear/canary task: two target groups and a production rule."""
        container = props.task.default_container
        assert container is not None
        targets = self._traffic_shifting.listen(
            name=name,
            side=listener.side,
            listener=alb_listener,
            vpc=self.vpc,
            service=service,
            container=container,
            group_props={
                "port": container.container_port,
                "protocol": elbv2.ApplicationProtocol.HTTP,
                "protocol_version": props.protocol_version,
                "health_check": props.health_check,
                "deregistration_delay": Duration.seconds(30),
            },
            conditions=listener.access.forward_conditions,
            priority=priority,
        )
        Tags.of(targets.production).add(ALB_TAG, listener.side)
        self.target_groups[(name, listener.side)] = targets.production
        self.alternate_target_groups[(name, listener.side)] = targets.alternate
        return targets.production

    def _answer_unmatched_requests(self, listeners: list[_Listener]) -> None:
        """A 404 on each listener where every task has a rule of its own (no default action)."""
        for key, alb_listener in self._alb_listeners.items():
            if all(lst.conditional or lst.shifts_traffic for lst in listeners if lst.key == key):
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

    def _scale_on_load_balancer(
        self,
        scaling: ecs.ScalableTaskCount,
        policy: ServiceScalingPolicy,
        target_groups: list[elbv2.ApplicationTargetGroup],
    ) -> None:
        for index, target_group in enumerate(target_groups):
            scaling.scale_on_request_count(
                f"RequestScaling{index}",
                requests_per_target=policy.request_per_target,
                target_group=target_group,
            )


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
