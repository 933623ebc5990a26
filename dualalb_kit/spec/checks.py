"""The cross-field rules on a whole spec: its task list, an NLB stack, and the app patterns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import validation
from ..errors import ValidationError
from ..samples import SAMPLE_ROLES
from .tasks import FARGATE_MEMORY_BY_CPU, SAMPLE_IMAGE_PREFIX, DeploymentStrategySpec, TaskSpec

if TYPE_CHECKING:
    from .deployment import DeploymentSpec


def check_tasks(
    tasks: list[TaskSpec],
    *,
    deployment: DeploymentStrategySpec | None = None,
    alarms: bool = False,
    load_balancer: str = "alb",
) -> None:
    """The cross-field rules on a task list (names, sizes, images, then the rules the construct
    shares: listeners, ports, scaling, capacity, deployment strategy); ``deployment`` is the
    stack's default strategy, ``alarms`` whether the stack has alarms."""
    names: set[str] = set()
    for index, task in enumerate(tasks):
        field = f"tasks[{index}]"
        validation.check_dns_name(f"{field}.name", task.name, single_label=True)
        if task.name in names:
            raise ValidationError(f"{field}.name", f"{task.name!r} is used by another task")
        names.add(task.name)
        if task.cpu not in FARGATE_MEMORY_BY_CPU:
            raise ValidationError(
                f"{field}.cpu",
                f"{task.cpu} is not a Fargate CPU size ({', '.join(map(str, FARGATE_MEMORY_BY_CPU))})",
            )
        if task.memory not in FARGATE_MEMORY_BY_CPU[task.cpu]:
            raise ValidationError(
                f"{field}.memory",
                f"{task.memory} MiB does not fit cpu {task.cpu} (valid: {_memory_choices(task.cpu)})",
            )
        validation.check_port(f"{field}.container_port", task.container_port)
        validation.check_image(f"{field}.image", task.image)
        if task.health_check is not None:
            validation.check_health_check(
                f"{field}.health_check", task.health_check, grpc=task.protocol_version == "GRPC"
            )
        role = task.image.removeprefix(SAMPLE_IMAGE_PREFIX)
        if task.image.startswith(SAMPLE_IMAGE_PREFIX) and role not in SAMPLE_ROLES:
            raise ValidationError(
                f"{field}.image", f"{role!r} is not a sample role ({', '.join(SAMPLE_ROLES)})"
            )
        if task.protocol is not None and load_balancer == "alb":
            raise ValidationError(f"{field}.protocol", "is for load_balancer: nlb")
        validation.check_environment(f"{field}.environment", task.environment)
    rules = [
        validation.ServiceRules(
            field=f"tasks[{index}]",
            label=f"task {task.name!r} ",
            listener_ports={
                side: alb.port for side in validation.SIDES if (alb := getattr(task, side)) is not None
            },
            desired_count=task.desired_count,
            scaling=task.scaling,
            strategy_field=f"tasks[{index}].capacity",
            strategy=None
            if task.capacity is None
            else [(c.provider, c.base, c.weight) for c in task.capacity],
            **task.deployment_percents(),
            forward_conditions={
                side: [c.condition() for c in alb.forward_conditions or ()]
                for side in validation.SIDES
                if (alb := getattr(task, side)) is not None
            },
            https_sides=frozenset(
                side for side in validation.SIDES if (alb := getattr(task, side)) and alb.cert_arn
            ),
            deployment=(task.deployment or deployment or DeploymentStrategySpec()).rules(),
            deployment_field=f"tasks[{index}].deployment" if task.deployment else "deployment",
            alarms=alarms,
        )
        for index, task in enumerate(tasks)
    ]
    if load_balancer == "nlb":
        validation.check_nlb_services(
            rules,
            [
                validation.NlbRules(protocol=task.protocol, protocol_version=task.protocol_version)
                for task in tasks
            ],
            cert_key="cert_arn",
        )
    validation.check_services(rules)
    validation.check_stack_size("tasks", [len(rule.listener_ports) for rule in rules])


NLB_ONLY_ALB_OPTIONS = (
    "external_alb_idle_timeout_seconds",
    "internal_alb_idle_timeout_seconds",
    "access_logs",
)


def check_nlb_stack(spec: DeploymentSpec) -> None:
    """``load_balancer: nlb``: the ALB-only stack options are left unset."""
    for name in NLB_ONLY_ALB_OPTIONS:
        if getattr(spec, name):
            raise ValidationError(name, "is an ALB option; load_balancer: nlb does not take it")


APP_PATTERN_UNSUPPORTED = {
    "alarms": "has no alarms",
    "access_logs": "keeps no ALB access logs",
    "external_alb_idle_timeout_seconds": "keeps ALB's 60 s idle timeout",
    "internal_alb_idle_timeout_seconds": "has no internal ALB",
    "route53": "makes no private zone",
    "log_retention_days": "keeps its log one month",
}
"""The stack options the app patterns (wordpress, laravel) do not take, each with the reason; a
value other than the option's default is a ValidationError naming it."""


def check_app_pattern(spec: DeploymentSpec, label: str) -> None:
    """What the app patterns (wordpress, laravel) share: private subnets, an ALB, the circuit
    breaker, rolling deployments, none of :data:`APP_PATTERN_UNSUPPORTED`, and a database kept
    running only outside a VPC the stack creates."""
    pattern = spec.pattern
    if spec.subnets != "private":
        raise ValidationError("subnets", f"the {pattern} pattern runs in private subnets")
    if spec.load_balancer != "alb":
        raise ValidationError("load_balancer", f"the {pattern} pattern runs behind an ALB")
    if not spec.circuit_breaker:
        raise ValidationError(
            "circuit_breaker", f"the {pattern} pattern always rolls back failed deployments"
        )
    if spec.deployment is not None:
        raise ValidationError("deployment", f"is for pattern: dualalb ({label} deploys rolling)")
    for name in ("cluster_name", "existing_cluster"):
        if getattr(spec, name) is not None:
            raise ValidationError(name, f"is for pattern: dualalb ({label} makes its own cluster)")
    for name, reason in APP_PATTERN_UNSUPPORTED.items():
        if getattr(spec, name) != type(spec).model_fields[name].get_default(call_default_factory=True):
            raise ValidationError(name, f"is for pattern: dualalb ({label} {reason})")
    options = getattr(spec, pattern)
    if options is not None and options.removal_policy == "retain" and spec.vpc == "new":
        raise ValidationError(f"{pattern}.removal_policy", validation.RETAINED_DATABASE_IN_NEW_VPC)


def check_wordpress(spec: DeploymentSpec) -> None:
    """The wordpress pattern (see :func:`check_app_pattern`) and at most one task (which replaces
    the default WordPress service and is served on the external ALB only)."""
    check_app_pattern(spec, "WordPress")
    if not spec.tasks:
        return
    if len(spec.tasks) > 1:
        raise ValidationError("tasks", "the wordpress pattern takes at most one task (its WordPress service)")
    if spec.tasks[0].deployment is not None:
        raise ValidationError("tasks[0].deployment", "is for pattern: dualalb (WordPress deploys rolling)")
    check_tasks(spec.tasks)
    if spec.tasks[0].internal is not None:
        raise ValidationError("tasks[0].internal", "the wordpress pattern has no internal ALB")


def check_laravel(spec: DeploymentSpec) -> None:
    """The laravel pattern (see :func:`check_app_pattern`): its ``laravel`` section, and no tasks
    (the one service is built from ``laravel.code``)."""
    if spec.laravel is None:
        raise ValidationError("laravel", "is required for pattern: laravel (at least its code directory)")
    check_app_pattern(spec, "Laravel")
    if spec.tasks:
        raise ValidationError("tasks", "the laravel pattern takes no tasks; laravel.code is its service")


def _memory_choices(cpu: int) -> str:
    choices = FARGATE_MEMORY_BY_CPU[cpu]
    if len(choices) <= 4:
        return ", ".join(map(str, choices)) + " MiB"
    return f"{choices[0]}-{choices[-1]} MiB in steps of {choices[1] - choices[0]}"
