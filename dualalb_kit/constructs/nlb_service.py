"""``DualNlbFargateService``: Fargate services behind an internet-facing and an internal NLB."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Tags, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from .. import validation
from ..tags import ALB_TAG, SERVICE_TAG
from ..validation import SIDES
from .base import BaseFargateService, _Listener, listener_certificate, struct_values
from .findings import acknowledge
from .network import vpc_cidr
from .props import FargateTaskProps, LoadBalancerAccessibility

DEREGISTRATION_DELAY = Duration.seconds(30)
"""How long an NLB keeps sending a deregistered task its open connections."""


class DualNlbFargateService(BaseFargateService):
    """One or many Fargate services behind an internet-facing NLB, an internal NLB, or both.

    The same task model as :class:`DualAlbFargateService` (:class:`FargateTaskProps`), with a
    Network Load Balancer on each side that has a listener:

    - one listener per task and port, ``TCP`` or, with a certificate, ``TLS`` (terminated at the
      NLB with ELB's recommended TLS policy); ``FargateTaskProps.protocol`` picks one explicitly
      (``elbv2.Protocol.TCP`` or ``elbv2.Protocol.TLS``; other values are a ValidationError);
    - a TCP target group per task and side (IP targets, 30 s deregistration delay) with a TCP
      health check on the traffic port, or the task's ``health_check`` (HTTP when it has no
      protocol of its own);
    - a security group on each NLB: the internal NLB admits the VPC's CIDR on its listener ports,
      the internet-facing one anyone on its listener ports; each service admits its NLBs on its
      container port (traffic and health checks);
    - CPU (and memory, and scheduled) target tracking only. An NLB counts no requests, so a
      ``ServiceScalingPolicy.request_per_target`` other than its default (1000, then unused) is a
      ValidationError naming the field; so are ``forward_conditions`` (an NLB listener has no
      rules: each task needs ports of its own) and ``protocol_version``.

    ALB-only options (idle timeouts, access logs) do not exist here. ``alarms`` gives each service
    a CPU alarm and an unhealthy-hosts alarm per target group (an NLB has no 5xx or latency
    metric), and the dashboard.

    Keyword arguments: :class:`FargateServiceOptions` (``deployment`` rolling only: ``blue_green``,
    ``linear`` and ``canary`` are a ValidationError). Outputs: ``ExternalEndpoint`` and
    ``InternalEndpoint`` as ``tcp://`` or ``tls://`` URLs with the first listener's port, and
    ``...EndpointPrivate`` with the alias names.

    Attributes: ``vpc``, ``cluster``, ``services``, ``external_nlb`` and ``internal_nlb``
    (``None`` where not created), ``load_balancers``, ``zone``, ``target_groups``
    (``{(task name, side): NetworkTargetGroup}``), ``spot_termination_handler``, ``monitoring``.
    """

    kind = "Nlb"

    def _check_load_balancer(
        self, tasks: Sequence[FargateTaskProps], rules: list[validation.ServiceRules]
    ) -> None:
        """What an NLB cannot do (:func:`validation.check_nlb_services`)."""
        validation.check_nlb_services(
            rules,
            [
                validation.NlbRules(
                    protocol=None if props.protocol is None else props.protocol.value,
                    protocol_version=None if props.protocol_version is None else props.protocol_version.value,
                )
                for props in tasks
            ],
        )

    @property
    def external_nlb(self) -> elbv2.NetworkLoadBalancer | None:
        return self.load_balancers.get("external")  # type: ignore[return-value]

    @property
    def internal_nlb(self) -> elbv2.NetworkLoadBalancer | None:
        return self.load_balancers.get("internal")  # type: ignore[return-value]

    def _create_load_balancers(self, listeners: list[_Listener], names: list[str]) -> None:
        for side in SIDES:
            if any(lst.side == side for lst in listeners):
                self.load_balancers[side] = self._nlb(side)

    def _nlb(self, side: str) -> elbv2.NetworkLoadBalancer:
        nlb = elbv2.NetworkLoadBalancer(
            self,
            f"{side.title()}Nlb",
            vpc=self.vpc,
            internet_facing=side == "external",
            security_groups=[self._security_group(side)],
        )
        acknowledge(
            nlb,
            "AwsSolutions-ELB2",
            "NLB access logs record TLS listeners only and need a regional log bucket; "
            "not offered for this pattern",
        )
        return nlb

    def _attach(
        self, name: str, props: FargateTaskProps, service: ecs.FargateService, listener: _Listener
    ) -> elbv2.NetworkTargetGroup:
        access = listener.access
        nlb: elbv2.NetworkLoadBalancer = self.load_balancers[listener.side]  # type: ignore[assignment]
        certificates = [listener_certificate(c) for c in access.certificates]
        tls = _protocol(props, access) == elbv2.Protocol.TLS
        nlb_listener = nlb.add_listener(
            f"Listener{access.port}",
            port=access.port,
            protocol=elbv2.Protocol.TLS if tls else elbv2.Protocol.TCP,
            certificates=certificates or None,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS if tls else None,
        )
        self._admit(nlb, listener)
        container = props.task.default_container
        assert container is not None
        target_group = nlb_listener.add_targets(
            f"{name}Target",
            port=container.container_port,
            protocol=elbv2.Protocol.TCP,
            targets=[
                service.load_balancer_target(
                    container_name=container.container_name, container_port=container.container_port
                )
            ],
            health_check=_health_check(props.health_check),
            deregistration_delay=DEREGISTRATION_DELAY,
        )
        service.connections.allow_from(
            nlb, ec2.Port.tcp(container.container_port), f"from the {listener.side} NLB"
        )
        Tags.of(target_group).add(SERVICE_TAG, name)
        Tags.of(target_group).add(ALB_TAG, listener.side)
        self.target_groups[(name, listener.side)] = target_group
        return target_group

    def _admit(self, nlb: elbv2.NetworkLoadBalancer, listener: _Listener) -> None:
        """Open the listener's port on the NLB's security group: to anyone (external) or to the
        VPC's CIDR (internal)."""
        port = ec2.Port.tcp(listener.access.port)
        if listener.side == "external":
            nlb.connections.allow_from(ec2.Peer.any_ipv4(), port, "from the internet")
            return
        cidr = vpc_cidr(self.vpc)
        nlb.connections.allow_from(ec2.Peer.ipv4(cidr), port, "from inside the VPC")
        if Token.is_unresolved(cidr):
            acknowledge(
                nlb, "AwsSolutions::AwsSolutions-EC23", "ingress is the VPC CIDR, known only at deploy time"
            )

    def _endpoint(self, access: LoadBalancerAccessibility) -> tuple[str, int | None]:
        return ("tls" if access.certificates else "tcp"), access.port


def _protocol(props: FargateTaskProps, access: LoadBalancerAccessibility) -> elbv2.Protocol:
    """The listener protocol: the task's, else TLS with a certificate, else TCP."""
    if props.protocol is not None:
        return props.protocol
    return elbv2.Protocol.TLS if access.certificates else elbv2.Protocol.TCP


def _health_check(given: elbv2.HealthCheck | None) -> elbv2.HealthCheck:
    """TCP on the traffic port by default; a given check without a protocol is HTTP (its path)."""
    if given is None:
        return elbv2.HealthCheck(protocol=elbv2.Protocol.TCP)
    if given.protocol is not None:
        return given
    return elbv2.HealthCheck(**{**struct_values(given), "protocol": elbv2.Protocol.HTTP})
