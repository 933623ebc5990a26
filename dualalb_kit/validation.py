"""Rules on plain values shared by the spec and the constructs.

Each check raises :class:`ValidationError` naming the field path; none imports CDK, so the
spec (before synthesis) and the constructs (before jsii) apply the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ValidationError

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
SIDES = ("external", "internal")

_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class ServiceRules:
    """The values of one service that the spec and the constructs check alike.

    ``field`` is the service's path (``tasks[1]``); ``listener_ports`` maps each side it listens on
    (``external``/``internal``) to its port; ``scaling`` has ``min_capacity``, ``max_capacity``,
    ``target_cpu_utilization`` and ``request_per_target``; ``strategy`` holds ``(provider, base,
    weight)`` triples reported under ``strategy_field`` (``None``: the stack's default); ``label``
    names the service in messages (``"task 'order' "``, default nothing); ``min_healthy_percent``
    and ``max_healthy_percent`` bound its rolling deployments (default 100 and 200).
    """

    field: str
    listener_ports: Mapping[str, int]
    desired_count: int
    scaling: Any
    strategy_field: str
    strategy: Sequence[tuple[str, int, int]] | None = None
    label: str = ""

    min_healthy_percent: int = 100
    max_healthy_percent: int = 200

def check_services(services: Sequence[ServiceRules]) -> None:
    """Listeners, ports, scaling and capacity of every service; one task per port per ALB."""
    if not services:
        raise ValidationError("tasks", "at least one task is required")
    listener_ports: dict[str, list[tuple[str, int]]] = {side: [] for side in SIDES}
    for service in services:
        if not service.listener_ports:
            raise ValidationError(service.field, f"{service.label}needs external, internal or both")
        for side, port in service.listener_ports.items():
            check_port(f"{service.field}.{side}.port", port)
            listener_ports[side].append((f"{service.field}.{side}.port", port))
        scaling = service.scaling
        check_scaling(
            service.field,
            desired_count=service.desired_count,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            target_cpu_utilization=scaling.target_cpu_utilization,
            request_per_target=scaling.request_per_target,
        )
        if service.strategy is not None:
            check_capacity_strategy(service.strategy_field, service.strategy)
    for side, ports in listener_ports.items():
        check_deployment(
            service.field,
            min_healthy_percent=service.min_healthy_percent,
            max_healthy_percent=service.max_healthy_percent,
        )
        check_unique_listener_ports(side, ports)


def check_port(field: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise ValidationError(field, f"{port} is not a port (1-65535)")


def check_unique_listener_ports(side: str, ports: Iterable[tuple[str, int]]) -> None:
    """``ports`` are ``(field path, port)`` pairs of one ALB; a port may serve one task only."""
    seen: dict[int, str] = {}
    for field, port in ports:
        if port in seen:
            raise ValidationError(field, f"port {port} of the {side} ALB is already used by {seen[port]}")
        seen[port] = field.rsplit(".", 2)[0]


def check_scaling(
    field: str,
    *,
    desired_count: int,
    min_capacity: int,
    max_capacity: int,
    target_cpu_utilization: float,
    request_per_target: int,
) -> None:
    """``field`` is the task's path; scaling fields are reported under ``<field>.scaling``."""
    if desired_count < 0:
        raise ValidationError(f"{field}.desired_count", f"{desired_count} is negative")
    if min_capacity < 0:
        raise ValidationError(f"{field}.scaling.min_capacity", f"{min_capacity} is negative")
    if max_capacity < 1:
        raise ValidationError(f"{field}.scaling.max_capacity", f"{max_capacity} must be at least 1")
    if min_capacity > max_capacity:
        raise ValidationError(
            f"{field}.scaling.min_capacity", f"{min_capacity} is above max_capacity {max_capacity}"
        )
    if desired_count > max_capacity:
        raise ValidationError(
            f"{field}.desired_count", f"{desired_count} is above scaling.max_capacity {max_capacity}"
        )
    if not 0 < target_cpu_utilization <= 100:
        raise ValidationError(
            f"{field}.scaling.target_cpu_utilization",
            f"{target_cpu_utilization} is outside (0, 100]",
        )
    if request_per_target <= 0:
        raise ValidationError(f"{field}.scaling.request_per_target", f"{request_per_target} must be above 0")


def check_capacity_strategy(field: str, strategy: Sequence[tuple[str, int, int]]) -> None:
def check_deployment(field: str, *, min_healthy_percent: int, max_healthy_percent: int) -> None:
    """Rolling-deployment bounds, in percent of the desired count; ``field`` is the task's path."""
    if not 0 <= min_healthy_percent <= 100:
        raise ValidationError(f"{field}.min_healthy_percent", f"{min_healthy_percent} is outside 0-100")
    if not 100 <= max_healthy_percent <= 2000:
        raise ValidationError(f"{field}.max_healthy_percent", f"{max_healthy_percent} is outside 100-2000")
    if max_healthy_percent <= min_healthy_percent:
        raise ValidationError(
            f"{field}.max_healthy_percent",
            f"{max_healthy_percent} must be above min_healthy_percent {min_healthy_percent} "
            "or a deployment cannot start a new task",
        )


def check_idle_timeout(field: str, seconds: float) -> None:
    """An ALB's idle timeout, in seconds (1-4000)."""
    if not 1 <= seconds <= 4000:
        raise ValidationError(field, f"{seconds:g} s is outside 1-4000 s")


    """``strategy`` is ``(provider, base, weight)`` triples; ``field`` the strategy's path."""
    if not strategy:
        raise ValidationError(field, "needs at least one capacity provider")
    with_base = []
    for index, (provider, base, weight) in enumerate(strategy):
        item = f"{field}[{index}]"
        if provider not in CAPACITY_PROVIDERS:
            raise ValidationError(
                f"{item}.provider",
                f"{provider!r} is not a capacity provider ({', '.join(CAPACITY_PROVIDERS)})",
            )
        if base < 0:
            raise ValidationError(f"{item}.base", f"{base} is negative")
        if weight < 0:
            raise ValidationError(f"{item}.weight", f"{weight} is negative")
        if base > 0:
            with_base.append(provider)
    if len(with_base) > 1:
        raise ValidationError(field, f"base is set on more than one provider ({', '.join(with_base)})")
    if all(weight == 0 for _, _, weight in strategy):
        raise ValidationError(field, "all weights are zero; at least one provider needs a weight above 0")


def check_dns_name(field: str, name: str, *, single_label: bool = False) -> None:
    """A DNS name (``svc.local``) or, with ``single_label``, one label (``internal``)."""
    labels = name.lower().rstrip(".").split(".")
    if single_label and len(labels) != 1:
        raise ValidationError(field, f"{name!r} must be one DNS label (letters, digits, hyphens)")
    if not name or len(name) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        raise ValidationError(field, f"{name!r} is not a DNS name")
