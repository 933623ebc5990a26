"""What a Network Load Balancer cannot do that an ALB can, and the protocols it takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ValidationError
from .scaling import DEFAULT_REQUESTS_PER_TARGET
from .services import ServiceRules

LOAD_BALANCERS = ("alb", "nlb")
"""The dual pattern's load balancer types: Application (HTTP) or Network (TCP/TLS)."""

NLB_PROTOCOLS = ("TCP", "TLS")
"""Listener protocols a task may ask for behind an NLB (the targets get TCP either way)."""


@dataclass(frozen=True)
class NlbRules:
    """A task's values only an NLB stack checks: its listener ``protocol`` (``TCP``/``TLS``,
    ``None``: TLS where the listener has a certificate, else TCP) and whether it sets an ALB
    target-group ``protocol_version``."""

    protocol: str | None = None
    protocol_version: str | None = None


def check_nlb_services(
    services: Sequence[ServiceRules], nlb: Sequence[NlbRules], *, cert_key: str = "cert"
) -> None:
    """What a Network Load Balancer cannot do, checked before :func:`check_services`: listener
    rules (``forward_conditions``, so no two tasks share a port of one NLB), request-count
    scaling (a ``request_per_target`` other than :data:`DEFAULT_REQUESTS_PER_TARGET`, which is then
    unused), an HTTP protocol version; and a protocol that fits the certificates (TLS needs one,
    TCP takes none). ``nlb[i]`` belongs to ``services[i]``; ``cert_key`` names the certificate
    field in messages (``cert`` in the construct, ``cert_arn`` in the spec)."""
    owners: dict[tuple[str, int], str] = {}
    for service, rules in zip(services, nlb, strict=True):
        if service.deployment is not None and service.deployment.shifts_traffic:
            raise ValidationError(
                f"{service.deployment_field}.strategy",
                f"{service.deployment.strategy}: this kit shifts traffic with ALB listener rules; "
                "behind an NLB use rolling",
            )
        if rules.protocol is not None and rules.protocol not in NLB_PROTOCOLS:
            raise ValidationError(
                f"{service.field}.protocol",
                f"{rules.protocol!r} is not an NLB listener protocol here ({', '.join(NLB_PROTOCOLS)})",
            )
        if rules.protocol_version is not None:
            raise ValidationError(
                f"{service.field}.protocol_version",
                "is an ALB target-group setting (HTTP1, HTTP2, GRPC); an NLB forwards TCP",
            )
        requests = service.scaling.request_per_target
        if requests != DEFAULT_REQUESTS_PER_TARGET:
            raise ValidationError(
                f"{service.field}.scaling.request_per_target",
                f"{requests}: request-count scaling needs an ALB (an NLB counts no requests); "
                f"leave it at {DEFAULT_REQUESTS_PER_TARGET} and track target_cpu_utilization "
                "or target_memory_utilization",
            )
        for side, port in service.listener_ports.items():
            field = f"{service.field}.{side}"
            if service.forward_conditions.get(side):
                raise ValidationError(
                    f"{field}.forward_conditions",
                    "an NLB listener has no rules to route by host or path; give the task a port of its own",
                )
            if (side, port) in owners:
                raise ValidationError(
                    f"{field}.port",
                    f"port {port} of the {side} NLB is already used by {owners[side, port]}; "
                    "an NLB listener forwards to one task",
                )
            owners[side, port] = service.field
            has_certificate = side in service.https_sides
            if rules.protocol == "TLS" and not has_certificate:
                raise ValidationError(
                    f"{field}.{cert_key}", "protocol TLS needs a certificate on this listener"
                )
            if rules.protocol == "TCP" and has_certificate:
                raise ValidationError(
                    f"{field}.{cert_key}",
                    "a certificate needs protocol TLS (or no protocol); TCP passes bytes through",
                )
