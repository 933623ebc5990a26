"""One service's values as the spec and the constructs check them alike, and the whole stack's size."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError
from .deployment import DeploymentRules, check_deployment, check_deployment_strategy
from .listeners import Condition, ListenerUse, check_forward_conditions, check_port, check_shared_listeners
from .scaling import check_capacity_strategy, check_scaling, check_scheduled_scaling


@dataclass(frozen=True)
class ServiceRules:
    """The values of one service that the spec and the constructs check alike.

    ``field`` is the service's path (``tasks[1]``); ``listener_ports`` maps each side it listens on
    (``external``/``internal``) to its port; ``scaling`` has ``min_capacity``, ``max_capacity``,
    ``target_cpu_utilization`` and ``request_per_target``; ``strategy`` holds ``(provider, base,
    weight)`` triples reported under ``strategy_field`` (``None``: the stack's default); ``label``
    names the service in messages (``"task 'order' "``, default nothing); ``min_healthy_percent``
    and ``max_healthy_percent`` bound its rolling deployments (default 100 and 200);
    ``forward_conditions`` maps a side to the conditions of the service's rule on that side's
    listener (default none: the listener's default action) and ``https_sides`` are the sides
    where it brings certificates. ``deployment`` is its deployment strategy and options (default:
    rolling), reported under ``deployment_field`` (the task's own or the stack's), checked knowing
    whether the stack has ``alarms``.
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
    forward_conditions: Mapping[str, Sequence[Condition]] = dataclasses.field(default_factory=dict)
    https_sides: frozenset[str] = frozenset()
    deployment: DeploymentRules | None = None
    deployment_field: str = "deployment"
    alarms: bool = False


def check_services(services: Sequence[ServiceRules]) -> None:
    """Listeners, ports, scaling and capacity of every service; tasks share a port of an ALB only
    when forward conditions tell them apart (see :func:`check_shared_listeners`)."""
    if not services:
        raise ValidationError("tasks", "at least one task is required")
    listeners: dict[tuple[str, int], list[ListenerUse]] = {}
    for service in services:
        if not service.listener_ports:
            raise ValidationError(service.field, f"{service.label}needs external, internal or both")
        for side, port in service.listener_ports.items():
            check_port(f"{service.field}.{side}.port", port)
            use = ListenerUse(
                service.field,
                side,
                port,
                service.forward_conditions.get(side, ()),
                side in service.https_sides,
            )
            check_forward_conditions(f"{use.field}.forward_conditions", use.conditions)
            listeners.setdefault((side, port), []).append(use)
        scaling = service.scaling
        check_scaling(
            service.field,
            desired_count=service.desired_count,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            target_cpu_utilization=scaling.target_cpu_utilization,
            request_per_target=scaling.request_per_target,
        )
        memory = scaling.target_memory_utilization
        if memory is not None and not 0 < memory <= 100:
            raise ValidationError(
                f"{service.field}.scaling.target_memory_utilization", f"{memory:g} is outside (0, 100]"
            )
        for index, action in enumerate(scaling.scheduled or ()):
            check_scheduled_scaling(
                f"{service.field}.scaling.scheduled[{index}]",
                cron=action.cron,
                min_capacity=action.min_capacity,
                max_capacity=action.max_capacity,
            )
        if service.strategy is not None:
            check_capacity_strategy(service.strategy_field, service.strategy)
        check_deployment(
            service.field,
            min_healthy_percent=service.min_healthy_percent,
            max_healthy_percent=service.max_healthy_percent,
        )
        if service.deployment is not None:
            check_deployment_strategy(service.deployment_field, service.deployment, alarms=service.alarms)
    for uses in listeners.values():
        check_shared_listeners(uses)


STACK_RESOURCES_MAX = 500
"""CloudFormation's limit on the resources of one stack."""

RESOURCES_PER_SERVICE = 14

RESOURCES_PER_SECOND_LISTENER = 5
"""The fewest resources a service adds to a stack (its service, task definition, roles, log
group, target group, listener or rule, security group rules, scalable target and policies), and
what listening on both ALBs adds: counted in templates synthesized from the shipped params files
and from 1-4 plain tasks (the same numbers in each; options such as alarms add more)."""


def check_stack_size(field: str, listener_sides: Sequence[int]) -> None:
    """A lower bound of the stack's resources under CloudFormation's :data:`STACK_RESOURCES_MAX`,
    before any synthesis; ``listener_sides`` has each service's number of ALB sides (1 or 2).
    A stack this passes may still be over (the bound counts only what every service adds)."""
    estimate = sum(
        RESOURCES_PER_SERVICE + RESOURCES_PER_SECOND_LISTENER * (sides - 1) for sides in listener_sides
    )
    if estimate > STACK_RESOURCES_MAX:
        raise ValidationError(
            field,
            f"{len(listener_sides)} services make at least {estimate} resources; CloudFormation takes at "
            f"most {STACK_RESOURCES_MAX} per stack (split the services over several stacks)",
        )
