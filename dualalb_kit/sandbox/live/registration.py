"""A task's targets in its service's target groups: registered in the sandbox's ELBv2 once the task
runs, deregistered when it stops, and what HAProxy's health checks say of them."""

from __future__ import annotations

from typing import Any

from .tasks import LocalTask


def task_targets(task: LocalTask) -> dict[str, list[dict[str, Any]]]:
    """Target group ARN -> the task's targets in it (``{"Id": "127.0.0.1", "Port": <its loopback
    port of the container port the service's load balancer names>}``)."""
    targets: dict[str, list[dict[str, Any]]] = {}
    for group, _, container_port in task.service.load_balancers:
        if container_port in task.ports:
            targets.setdefault(group, []).append({"Id": "127.0.0.1", "Port": task.ports[container_port]})
    return targets


def register(elbv2: Any, task: LocalTask) -> None:
    """Register the task's targets in its target groups."""
    for group, targets in task_targets(task).items():
        elbv2.register_targets(TargetGroupArn=group, Targets=targets)


def deregister(elbv2: Any, task: LocalTask) -> None:
    """Deregister the task's targets; a target group or a target already gone is no error."""
    for group, targets in task_targets(task).items():
        try:
            elbv2.deregister_targets(TargetGroupArn=group, Targets=targets)
        except elbv2.exceptions.TargetGroupNotFoundException:
            pass  # the stack's delete took the target group first
        except elbv2.exceptions.InvalidTargetException:
            pass  # deregistered already (by the Spot termination handler)


def any_target_down(task: LocalTask, states: dict[tuple[str, str], str]) -> bool:
    """Whether HAProxy's health checks (``states``, :meth:`.haproxy.HAProxy.server_states`) find
    one of the task's targets DOWN."""
    keys = [(group, f"127.0.0.1:{t['Port']}") for group, ts in task_targets(task).items() for t in ts]
    return any(states.get(key) == "DOWN" for key in keys)
