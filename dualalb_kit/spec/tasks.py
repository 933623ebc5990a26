"""A task (one Fargate service), its parts (listeners, scaling, capacity, health check, deployment)
and the rules on a task list."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .. import validation
from ..errors import ValidationError
from ..samples import SAMPLE_ROLES
from .strict import StrictModel

FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
"""Valid Fargate task sizes: CPU units -> memory (MiB) choices."""

SAMPLE_IMAGE_PREFIX = "sample:"
"""``image: sample:order`` selects the bundled sample application's image (see ``sample_app/``)."""


class ForwardConditionSpec(StrictModel):
    """One listener-rule condition: ``host_header`` or ``path_pattern`` values (``*``, ``?`` wildcards)."""

    host_header: list[str] | None = None
    path_pattern: list[str] | None = None

    @model_validator(mode="after")
    def _one_field(self) -> ForwardConditionSpec:
        if (self.host_header is None) == (self.path_pattern is None):
            raise ValidationError("", "give exactly one of host_header, path_pattern")
        return self

    def condition(self) -> validation.Condition:
        """As the plain ``(field, values)`` pair the shared rules check."""
        if self.host_header is not None:
            return "host-header", tuple(self.host_header)
        return "path-pattern", tuple(self.path_pattern or ())


class AlbSpec(StrictModel):
    """A task's listener on one ALB: ``port`` (1-65535) and ``cert_arn`` (ACM ARN(s); HTTPS when set).

    ``forward_conditions`` route requests to the task by host or path, so tasks share a port
    (at most one task on a port goes without: the listener's default). Default: none.
    """

    port: int = Field(examples=[80])
    """The listener's port; a listener the designer adds starts on the first of ``examples``."""
    cert_arn: str | list[str] | None = None
    forward_conditions: list[ForwardConditionSpec] | None = None

    @field_validator("cert_arn")
    @classmethod
    def _cert_arn(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and not value:
            raise ValidationError("", "an empty list has no certificate; leave cert_arn out for HTTP")
        if isinstance(value, str):
            validation.check_certificate_arn("", value)
        for index, arn in enumerate(value if isinstance(value, list) else []):
            validation.check_certificate_arn(f"[{index}]", arn)
        return value

    @property
    def cert_arns(self) -> list[str]:
        if self.cert_arn is None:
            return []
        return [self.cert_arn] if isinstance(self.cert_arn, str) else list(self.cert_arn)


class ScheduledScalingSpec(StrictModel):
    """New capacity bounds on a schedule: ``cron`` is Application Auto Scaling's six fields in UTC
    (``"0 8 ? * MON-FRI *"``); ``min_capacity`` and/or ``max_capacity`` (unset: unchanged)."""

    cron: str
    min_capacity: int | None = None
    max_capacity: int | None = None


class ScalingSpec(StrictModel):
    """Target tracking for a service. Defaults: 1-10 tasks, 50% CPU, 1000 requests per target;
    ``target_memory_utilization`` (percent) adds memory tracking and ``scheduled`` lists
    capacity changes on a schedule (defaults: none)."""

    max_capacity: int = validation.DEFAULT_MAX_CAPACITY
    min_capacity: int = validation.DEFAULT_MIN_CAPACITY
    request_per_target: int = validation.DEFAULT_REQUESTS_PER_TARGET
    target_cpu_utilization: float = validation.DEFAULT_TARGET_CPU_UTILIZATION
    target_memory_utilization: float | None = None
    scheduled: list[ScheduledScalingSpec] | None = None


class CapacitySpec(StrictModel):
    """One capacity provider of a strategy: ECS places ``base`` tasks first, the rest by ``weight``."""

    provider: str
    base: int = 0
    weight: int = 1


class HealthCheckSpec(StrictModel):
    """Target-group health check. Defaults: ``/``, 200-399, every 30 s, 5 s timeout, 5 up / 2 down."""

    path: str = "/"
    healthy_http_codes: str = "200-399"
    interval_seconds: int = 30
    timeout_seconds: int = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2


class DeploymentStrategySpec(StrictModel):
    """How ECS deploys a new revision of a service (ECS's built-in strategies; times in minutes).

    ``strategy``: ``rolling`` (default: tasks replaced in place, today's templates), ``blue_green``
    (all traffic at once to the new revision, started beside the old one behind a second target
    group), ``linear`` (``linear_step_percent`` per step, default 10, every
    ``linear_step_bake_time_minutes``, default 6) or ``canary`` (``canary_percent`` first,
    default 5, the rest after ``canary_bake_time_minutes``, default 10). ``bake_time_minutes``:
    both revisions run this long after the last shift (0-1440; default 15 except for rolling).
    ``rollback_on_alarms``: the service's alarms (``alarms: true``) roll a deployment back;
    default on for blue_green, linear and canary with alarms, off for rolling.
    """

    strategy: Literal["rolling", "blue_green", "linear", "canary"] = "rolling"
    bake_time_minutes: int | None = None
    linear_step_percent: float | None = None
    linear_step_bake_time_minutes: int | None = None
    canary_percent: float | None = None
    canary_bake_time_minutes: int | None = None
    rollback_on_alarms: bool | None = None

    def rules(self) -> validation.DeploymentRules:
        """As the plain values the shared rules check."""
        return validation.DeploymentRules(**self.model_dump())


class LocalCommandSpec(StrictModel):
    """How the live sandbox (``sandbox --live``) runs this task's container on this machine instead
    of its image: ``command`` is the program and its arguments (a list of 1-100 non-empty strings;
    ``$PORT`` in an argument becomes the task's loopback port), run in ``cwd`` (an existing
    directory; a relative path is relative to the params file's folder, else to the working
    directory; default: the sandbox's working directory) with the container's ``environment``
    plus ``PORT`` and ``HOST``. The construct puts it on the container definition as the Docker
    label ``dualalb-kit.local``; AWS ignores it. Default: none (only the sample images run locally).
    """

    command: list[str]
    cwd: str | None = None

    @field_validator("command", mode="before")
    @classmethod
    def _command(cls, value: Any) -> Any:
        validation.check_local_command("", value)
        return value

    @field_validator("cwd", mode="before")
    @classmethod
    def _cwd(cls, value: Any) -> Any:
        if value is None:
            return value
        validation.check_local_cwd("", value)
        path = Path(value).expanduser()
        validation.check_local_cwd("", str(path.absolute()), directory=True)
        return str(path.resolve())


class TaskSpec(StrictModel):
    """One Fargate service: its container, size, listeners, scaling and capacity strategy.

    Rolling deployments keep ``min_healthy_percent`` (default 100) and go up to
    ``max_healthy_percent`` (default 200) of ``desired_count``; ECS ignores failing health checks
    of a new task for ``health_check_grace_period_seconds`` (default 60).
    """

    name: str
    image: str
    container_port: int = 80
    cpu: int = 256
    memory: int = 512
    desired_count: int = 1
    environment: dict[str, str] = Field(default_factory=dict)
    external: AlbSpec | None = None
    internal: AlbSpec | None = None
    scaling: ScalingSpec = Field(default_factory=ScalingSpec)
    capacity: list[CapacitySpec] | None = None
    health_check: HealthCheckSpec | None = None
    protocol_version: Literal["HTTP1", "HTTP2", "GRPC"] | None = None
    protocol: Literal["TCP", "TLS"] | None = None
    """``load_balancer: nlb`` only: the listeners' protocol. Default: TLS where the listener has a
    certificate (``cert_arn``), else TCP."""
    health_check_grace_period_seconds: int | None = Field(None, ge=0, le=2147483647)
    min_healthy_percent: int | None = None
    max_healthy_percent: int | None = None
    deployment: DeploymentStrategySpec | None = None
    """This task's deployment strategy, instead of the stack's ``deployment``. Default: the stack's."""
    local: LocalCommandSpec | None = None
    """The command that runs this task's container in the live sandbox (see
    :class:`LocalCommandSpec`). Default: none."""

    def deployment_percents(self) -> dict[str, int]:
        """``min_healthy_percent`` and ``max_healthy_percent`` where the task sets them."""
        return {
            name: value
            for name in ("min_healthy_percent", "max_healthy_percent")
            if (value := getattr(self, name)) is not None
        }

    def listeners(self) -> dict[str, AlbSpec]:
        """The task's listeners by side (``external``, ``internal``), sides without one left out."""
        return {side: alb for side in validation.SIDES if (alb := getattr(self, side)) is not None}

    def capacity_strategy(self, spot: bool) -> list[CapacitySpec]:
        """The effective strategy: the task's own, else the stack's (:func:`stack_capacity`)."""
        if self.capacity:
            return list(self.capacity)
        return stack_capacity(spot)


def stack_capacity(spot: bool) -> list[CapacitySpec]:
    """The strategy of a task without its own: 100% FARGATE_SPOT if the stack's ``spot``, else FARGATE."""
    return [CapacitySpec(provider="FARGATE_SPOT" if spot else "FARGATE")]


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
        _check_task(field, task, load_balancer)
    rules = [_service_rules(index, task, deployment, alarms) for index, task in enumerate(tasks)]
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


def _check_task(field: str, task: TaskSpec, load_balancer: str) -> None:
    """One task's own values (``field`` is its path): size, container port, image, health check,
    protocol and environment."""
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
        raise ValidationError(f"{field}.image", f"{role!r} is not a sample role ({', '.join(SAMPLE_ROLES)})")
    if task.protocol is not None and load_balancer == "alb":
        raise ValidationError(f"{field}.protocol", "is for load_balancer: nlb")
    validation.check_environment(f"{field}.environment", task.environment)


def _service_rules(
    index: int, task: TaskSpec, deployment: DeploymentStrategySpec | None, alarms: bool
) -> validation.ServiceRules:
    """Task ``index``'s values for the rules the construct shares; ``deployment`` is the stack's
    default strategy, ``alarms`` whether the stack has alarms."""
    listeners = task.listeners()
    return validation.ServiceRules(
        field=f"tasks[{index}]",
        label=f"task {task.name!r} ",
        listener_ports={side: alb.port for side, alb in listeners.items()},
        desired_count=task.desired_count,
        scaling=task.scaling,
        strategy_field=f"tasks[{index}].capacity",
        strategy=None if task.capacity is None else [(c.provider, c.base, c.weight) for c in task.capacity],
        **task.deployment_percents(),
        forward_conditions={
            side: [c.condition() for c in alb.forward_conditions or ()] for side, alb in listeners.items()
        },
        https_sides=frozenset(side for side, alb in listeners.items() if alb.cert_arn),
        deployment=(task.deployment or deployment or DeploymentStrategySpec()).rules(),
        deployment_field=f"tasks[{index}].deployment" if task.deployment else "deployment",
        alarms=alarms,
    )


def _memory_choices(cpu: int) -> str:
    choices = FARGATE_MEMORY_BY_CPU[cpu]
    if len(choices) <= 4:
        return ", ".join(map(str, choices)) + " MiB"
    return f"{choices[0]}-{choices[-1]} MiB in steps of {choices[1] - choices[0]}"
