"""The deployment spec: the plain-data language shared by params files, widgets and the CLI.

A params file is YAML whose top-level keys are :class:`DeploymentSpec`'s fields, so
``papermill -f params/x.yaml`` injects them into a notebook's parameters cell unchanged.
Every error is a one-line :class:`~dualalb_kit.errors.ValidationError` naming the key path
(``tasks[1].internal.port: 70000 is not a port (1-65535)``). This module imports no CDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import validation
from .errors import ValidationError
from .params_file import parse_params, read_params_file
from .samples import SAMPLE_LARAVEL_DIR, SAMPLE_ROLES

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

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)
"""Retention periods CloudWatch Logs accepts, in days."""
SUBNET_CHOICES = ("private", "public", "public-one-per-az")
SAMPLE_IMAGE_PREFIX = "sample:"
"""``image: sample:order`` selects the bundled sample application's image (see ``sample_app/``)."""
SAMPLE_PARAMS = Path(__file__).resolve().parent / "examples" / "params" / "sample.yaml"
"""The sample's params file: the order/customer/product services, on Fargate Spot."""
LARAVEL_SAMPLE_CODE = "sample:laravel"
"""``laravel.code: sample:laravel`` builds the bundled Laravel sample (see ``sample_laravel/``)."""
APP_PATTERNS = ("wordpress", "laravel")
"""The patterns of one web app with its database; each has its own section of options."""


class _Model(BaseModel):
    """Strict types: a boolean is not a port, a float is not a cpu, a number is not a string."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise _as_validation_error(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any):  # type: ignore[override]
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError as exc:
            raise _as_validation_error(exc) from None


class ForwardConditionSpec(_Model):
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


class AlbSpec(_Model):
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


class ScheduledScalingSpec(_Model):
    """New capacity bounds on a schedule: ``cron`` is Application Auto Scaling's six fields in UTC
    (``"0 8 ? * MON-FRI *"``); ``min_capacity`` and/or ``max_capacity`` (unset: unchanged)."""

    cron: str
    min_capacity: int | None = None
    max_capacity: int | None = None


class ScalingSpec(_Model):
    """Target tracking for a service. Defaults: 1-10 tasks, 50% CPU, 1000 requests per target;
    ``target_memory_utilization`` (percent) adds memory tracking and ``scheduled`` lists
    capacity changes on a schedule (defaults: none)."""

    max_capacity: int = validation.DEFAULT_MAX_CAPACITY
    min_capacity: int = validation.DEFAULT_MIN_CAPACITY
    request_per_target: int = validation.DEFAULT_REQUESTS_PER_TARGET
    target_cpu_utilization: float = validation.DEFAULT_TARGET_CPU_UTILIZATION
    target_memory_utilization: float | None = None
    scheduled: list[ScheduledScalingSpec] | None = None


class CapacitySpec(_Model):
    """One capacity provider of a strategy: ECS places ``base`` tasks first, the rest by ``weight``."""

    provider: str
    base: int = 0
    weight: int = 1


class HealthCheckSpec(_Model):
    """Target-group health check. Defaults: ``/``, 200-399, every 30 s, 5 s timeout, 5 up / 2 down."""

    path: str = "/"
    healthy_http_codes: str = "200-399"
    interval_seconds: int = 30
    timeout_seconds: int = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2


class DeploymentStrategySpec(_Model):
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


class LocalCommandSpec(_Model):
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


class TaskSpec(_Model):
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

    def capacity_strategy(self, spot: bool) -> list[CapacitySpec]:
        """The effective strategy: the task's own, else the stack's (:func:`stack_capacity`)."""
        if self.capacity:
            return list(self.capacity)
        return stack_capacity(spot)


def stack_capacity(spot: bool) -> list[CapacitySpec]:
    """The strategy of a task without its own: 100% FARGATE_SPOT if the stack's ``spot``, else FARGATE."""
    return [CapacitySpec(provider="FARGATE_SPOT" if spot else "FARGATE")]


class Route53Spec(_Model):
    """Private hosted zone and the ALB alias names (``internal.svc.local``, ``external.svc.local``)."""

    zone_name: str = "svc.local"
    external_record: str = "external"
    internal_record: str = "internal"
    alias: bool = True


class DatabaseOptionsSpec(_Model):
    """The database options the wordpress and laravel patterns share. Defaults: provisioned Aurora
    MySQL 3 on ``t4g.medium`` (``database_instance_type``, without ``db.``), 7-day backups, data
    kept on delete: a final snapshot and the secret (``removal_policy: destroy`` deletes them;
    ``retain`` keeps the database running and needs ``vpc: default`` or ``vpc-...``)."""

    aurora_serverless: bool = False
    single_db_instance: bool = False
    database_instance_type: str | None = None
    backup_retention_days: int = 7
    serverless_min_capacity: float = 0.5
    serverless_max_capacity: float = 4
    removal_policy: Literal["retain", "snapshot", "destroy"] | None = None

    @model_validator(mode="after")
    def _database_rules(self) -> DatabaseOptionsSpec:
        validation.check_database("", dict(self))
        return self


class WordPressSpec(DatabaseOptionsSpec):
    """Options of the WordPress pattern: its database (see :class:`DatabaseOptionsSpec`)."""


class LaravelSpec(DatabaseOptionsSpec):
    """Options of the Laravel pattern: the app's ``code`` (a directory with a Dockerfile; a relative
    path is relative to the params file, else to the working directory; ``sample:laravel`` is the
    bundled sample), its ``loadbalancer`` listener (default port 80), ``container_port`` (default
    80), ``efs_file_system`` (files on EFS under ``storage/app``, default off),
    ``default_database_name`` (default ``laravel``), and the database (see :class:`DatabaseOptionsSpec`)."""

    code: str
    loadbalancer: AlbSpec = Field(default_factory=lambda: AlbSpec(port=80))
    container_port: int = 80
    efs_file_system: bool = False
    default_database_name: str = "laravel"

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if value.startswith(SAMPLE_IMAGE_PREFIX):
            if value != LARAVEL_SAMPLE_CODE:
                raise ValidationError(
                    "", f"{value!r} is not a sample (the bundled one: {LARAVEL_SAMPLE_CODE})"
                )
            return value
        path = Path(value).expanduser()
        validation.check_code_directory("", path.absolute())
        return str(path.resolve())

    @model_validator(mode="after")
    def _ports(self) -> LaravelSpec:
        validation.check_port("loadbalancer.port", self.loadbalancer.port)
        validation.check_port("container_port", self.container_port)
        validation.check_database_name("default_database_name", self.default_database_name)
        return self

    @property
    def code_directory(self) -> Path:
        """The directory the image is built from (``sample:laravel``: the bundled sample)."""
        return SAMPLE_LARAVEL_DIR if self.code == LARAVEL_SAMPLE_CODE else Path(self.code)


class DeploymentSpec(_Model):
    """A whole deployment. Defaults: us-east-1, on-demand, new VPC, private subnets, ``svc.local``."""

    stack_name: str
    region: str = "us-east-1"
    account: str | None = None
    pattern: Literal["dualalb", "wordpress", "laravel"] = "dualalb"
    load_balancer: Literal["alb", "nlb"] = "alb"
    """``alb``: Application Load Balancers (HTTP/HTTPS). ``nlb``: Network Load Balancers (TCP/TLS
    listeners, CPU/memory scaling only; no forward_conditions, request_per_target other than its
    default, idle timeouts, access logs or deployment strategies). Default ``alb``."""
    spot: bool = False
    enable_execute_command: bool = False
    circuit_breaker: bool = True
    spot_termination_handler: bool | None = None
    """With tasks on FARGATE_SPOT: a rule and a function that deregister an interrupted task from
    its target groups at once. Default: on when some task runs on FARGATE_SPOT (as the
    original's); ``false`` turns it off."""
    alarms: bool = False
    """CloudWatch alarms per service (5xx rate, p99 latency, unhealthy hosts, CPU) and one
    dashboard. Default off."""
    access_logs: bool = False
    """ALB access logs into a new encrypted bucket whose objects expire after 90 days. Default off."""
    vpc: str = "new"
    subnets: str | list[str] = "private"
    route53: Route53Spec = Field(default_factory=Route53Spec)
    log_retention_days: int = 30
    tasks: list[TaskSpec] = Field(default_factory=list)
    wordpress: WordPressSpec | None = None
    laravel: LaravelSpec | None = None
    """Options of the laravel pattern (its ``code`` is required there)."""
    cluster_name: str | None = None
    """The new ECS cluster's name. Default: generated by CloudFormation."""
    existing_cluster: str | None = None
    """The name of an existing ECS cluster to run the services in instead of a new one (its
    FARGATE and FARGATE_SPOT capacity providers on; needs ``vpc: default`` or ``vpc-...``; not
    with ``cluster_name``). Default: a new cluster."""
    external_alb_idle_timeout_seconds: int | None = Field(None, ge=1, le=4000)
    """The internet-facing ALB's idle timeout. Default: ALB's, 60 s."""
    internal_alb_idle_timeout_seconds: int | None = Field(None, ge=1, le=4000)
    """The internal ALB's idle timeout. Default: ALB's, 60 s."""
    deployment: DeploymentStrategySpec | None = None
    """Every task's deployment strategy unless the task has its own. Default: rolling."""

    @field_validator("stack_name")
    @classmethod
    def _stack_name(cls, value: str) -> str:
        validation.check_stack_name("", value)
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        validation.check_region("", value)
        return value

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValidationError("", f"{value} is a number in YAML; quote the account id ('{value}')")
        if isinstance(value, str):
            validation.check_account("", value)
        return value

    @field_validator("cluster_name", "existing_cluster")
    @classmethod
    def _cluster_name(cls, value: str | None) -> str | None:
        if value is not None:
            validation.check_cluster_name("", value)
        return value

    @field_validator("vpc")
    @classmethod
    def _vpc(cls, value: str) -> str:
        if value not in ("new", "default"):
            if not value.startswith("vpc-"):
                raise ValidationError("", f"{value!r} is not new, default or a vpc-... id")
            validation.check_resource_id("", "vpc", value)
        return value

    @field_validator("subnets")
    @classmethod
    def _subnets(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str) and value not in SUBNET_CHOICES:
            raise ValidationError("", f"{value!r} is not one of {', '.join(SUBNET_CHOICES)} or a list of ids")
        if isinstance(value, list):
            if not value:
                raise ValidationError("", "an empty subnet list selects nothing")
            for index, subnet_id in enumerate(value):
                validation.check_resource_id(f"[{index}]", "subnet", subnet_id)
        return value

    @model_validator(mode="after")
    def _rules(self) -> DeploymentSpec:
        for pattern in APP_PATTERNS:
            if self.pattern != pattern and getattr(self, pattern) is not None:
                raise ValidationError(pattern, f"is for pattern: {pattern}")
        if self.pattern == "wordpress":
            check_wordpress(self)
        elif self.pattern == "laravel":
            check_laravel(self)
        else:
            if self.load_balancer == "nlb":
                check_nlb_stack(self)
            check_tasks(
                self.tasks, deployment=self.deployment, alarms=self.alarms, load_balancer=self.load_balancer
            )
        validation.check_dns_name("route53.zone_name", self.route53.zone_name)
        validation.check_dns_name("route53.external_record", self.route53.external_record, single_label=True)
        validation.check_dns_name("route53.internal_record", self.route53.internal_record, single_label=True)
        if self.route53.external_record.lower() == self.route53.internal_record.lower():
            raise ValidationError(
                "route53.internal_record",
                f"{self.route53.internal_record!r} is also external_record; the two ALBs need distinct "
                "names (Route 53 takes one alias record of a name and type)",
            )
        for field, alb in self._listeners():
            for index, arn in enumerate(alb.cert_arns):
                where = f"{field}.cert_arn" + (f"[{index}]" if isinstance(alb.cert_arn, list) else "")
                validation.check_certificate_region(where, arn, self.region)
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValidationError(
                "log_retention_days",
                f"{self.log_retention_days} is not a CloudWatch Logs retention "
                f"({', '.join(map(str, LOG_RETENTION_DAYS))})",
            )
        if isinstance(self.subnets, list) and self.vpc == "new":
            raise ValidationError(
                "subnets", "specific subnet ids need vpc: default or vpc-..., not a new VPC"
            )
        if self.existing_cluster is not None:
            if self.cluster_name is not None:
                raise ValidationError(
                    "cluster_name", "names a new cluster; with existing_cluster there is none to name"
                )
            if self.vpc == "new":
                raise ValidationError(
                    "existing_cluster", "needs vpc: default or vpc-..., the VPC its services run in"
                )
        return self

    def _listeners(self) -> list[tuple[str, AlbSpec]]:
        """Every listener the spec describes, with its path: the tasks' and Laravel's."""
        listeners = [
            (f"tasks[{index}].{side}", alb)
            for index, task in enumerate(self.tasks)
            for side in validation.SIDES
            if (alb := getattr(task, side)) is not None
        ]
        if self.laravel is not None:
            listeners.append(("laravel.loadbalancer", self.laravel.loadbalancer))
        return listeners

    def deployment_of(self, task: TaskSpec) -> DeploymentStrategySpec:
        """``task``'s deployment strategy: its own, else the stack's, else rolling."""
        return task.deployment or self.deployment or DeploymentStrategySpec()

    @property
    def warnings(self) -> list[str]:
        """What is valid but unsafe: environment values that look like credentials (never their values)."""
        return [
            warning
            for index, task in enumerate(self.tasks)
            for warning in validation.credential_warnings(f"tasks[{index}].environment", task.environment)
        ]

    def to_yaml(self) -> str:
        """The spec as a params file (defaults included, ``None`` left out)."""
        return yaml.safe_dump(self.to_params(), sort_keys=False)

    def to_params(self) -> dict[str, Any]:
        """The spec as plain data: the top-level keys of a params file."""
        return self.model_dump(mode="json", exclude_none=True)


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
        if getattr(spec, name) != DeploymentSpec.model_fields[name].get_default(call_default_factory=True):
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


def load_spec(source: str | Path | Mapping[str, Any]) -> DeploymentSpec:
    """A spec from a params file path, YAML text, or a mapping of the spec's fields.

    Paths in the spec (``laravel.code``, ``tasks[i].local.cwd``) are relative to the params file's
    folder, else to the working directory; the spec holds them resolved.
    """
    if isinstance(source, Mapping):
        data: Any = dict(source)
    elif _looks_like_path(source):
        data = _paths_relative_to(read_params_file(Path(source)), Path(source).resolve().parent)
    else:
        data = parse_params(str(source))
    if not isinstance(data, Mapping):
        raise ValidationError("params", "the top level must be a mapping of spec fields")
    return DeploymentSpec.model_validate(data)


def _paths_relative_to(data: Any, base_dir: Path) -> Any:
    """A params file's mapping with its relative ``laravel.code`` and ``tasks[i].local.cwd``
    directories joined to ``base_dir`` (samples, absolute paths and values of the wrong type as
    they are, for the spec to report)."""
    if not isinstance(data, Mapping):
        return data
    laravel = data.get("laravel")
    code = laravel.get("code") if isinstance(laravel, Mapping) else None
    if isinstance(code, str) and not code.startswith(SAMPLE_IMAGE_PREFIX):
        data = {**data, "laravel": {**laravel, "code": _joined(base_dir, code)}}
    tasks = data.get("tasks")
    if isinstance(tasks, list):
        data = {**data, "tasks": [_task_paths_relative_to(task, base_dir) for task in tasks]}
    return data


def _task_paths_relative_to(task: Any, base_dir: Path) -> Any:
    local = task.get("local") if isinstance(task, Mapping) else None
    cwd = local.get("cwd") if isinstance(local, Mapping) else None
    if not isinstance(cwd, str) or not cwd:
        return task
    return {**task, "local": {**local, "cwd": _joined(base_dir, cwd)}}


def _joined(base_dir: Path, value: str) -> str:
    """``value`` joined to ``base_dir`` when it is a relative path (``~`` expanded first)."""
    path = Path(value).expanduser()
    return value if path.is_absolute() else str(base_dir / path)


def spec_from_parameters(namespace: Mapping[str, Any]) -> DeploymentSpec:
    """A spec from a notebook's parameters (its ``globals()`` after papermill injected a params file).

    Only :class:`DeploymentSpec`'s fields count: run options (``target``, ``endpoint_url``,
    ``start``, ``end``, ``results_path``, ...) and every other name are ignored, and ``None``
    values fall back to the field's default. ``tasks`` missing or ``None`` means the tasks of
    ``params/sample.yaml`` for pattern ``dualalb`` and none for ``wordpress`` (the WordPress
    service) and ``laravel``. A relative ``laravel.code`` is relative to the working directory here
    (papermill injects the file's values, not its place): use an absolute path or ``sample:laravel``.
    """
    fields = {
        name: value
        for name, value in namespace.items()
        if name in DeploymentSpec.model_fields and value is not None
    }
    pattern = fields.get("pattern", DeploymentSpec.model_fields["pattern"].default)
    if "tasks" not in fields and pattern == "dualalb":
        fields["tasks"] = load_spec(SAMPLE_PARAMS).to_params()["tasks"]
    return load_spec(fields)


def _looks_like_path(source: str | Path) -> bool:
    if isinstance(source, Path):
        return True
    if "\n" in source:
        return False
    try:
        return source.endswith((".yaml", ".yml")) or Path(source).is_file()
    except OSError:  # a line of YAML longer than a file name
        return False


_UNION_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}


def _field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _UNION_TAGS or "[" in part or part.startswith("function-"):
            continue
        else:
            path += f".{part}" if path else part
    return path


def _join_path(prefix: str, field: str) -> str:
    if not prefix or not field:
        return prefix or field
    return prefix + field if field.startswith("[") else f"{prefix}.{field}"


def _as_validation_error(exc: pydantic.ValidationError) -> ValidationError:
    """pydantic's first error as our one-line error with the key path."""
    error = exc.errors()[0]
    path = _field_path(tuple(error["loc"]))
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, ValidationError):
        return ValidationError(_join_path(path, cause.field), cause.reason)
    kind = error["type"]
    if kind == "extra_forbidden":
        return ValidationError(path, "unknown key")
    if kind == "missing":
        return ValidationError(path, "is required")
    return ValidationError(path, f"{error['msg']}, got {error.get('input')!r}")
