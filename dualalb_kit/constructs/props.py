"""Option types of :class:`DualAlbFargateService`, with their defaults."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Unpack, get_args, get_origin, get_type_hints

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from ..validation import (
    DEFAULT_MAX_CAPACITY,
    DEFAULT_MIN_CAPACITY,
    DEFAULT_REQUESTS_PER_TARGET,
    DEFAULT_TARGET_CPU_UTILIZATION,
)
from .deployment import DeploymentOptions

Certificate = acm.ICertificate | elbv2.IListenerCertificate
LOCAL_LABEL = "dualalb-kit.local"
"""The Docker label that tells the kit's live sandbox how to run a container locally."""


@dataclass(frozen=True, kw_only=True)
class LoadBalancerAccessibility:
    """A task's listener on one ALB.

    :param port: listener port (1-65535). Tasks share a port of one ALB when their
        ``forward_conditions`` tell them apart.
    :param cert: an ACM certificate or a list of them; makes the listener HTTPS. Default: HTTP.
        Tasks sharing a port all give certificates (served by SNI) or none do.
    :param forward_conditions: host-header and/or path-pattern conditions
        (``elbv2.ListenerCondition.host_headers([...])``, ``.path_patterns([...])``, at most 5
        values) that route requests to this task with a listener rule. Default: none, the
        listener's default action; on a shared port at most one task goes without, and a port
        where every task has conditions answers other requests with 404. No two tasks' conditions
        may match the same request. Rule priorities derive from the task's container name, so
        adding or removing another task leaves them as they are.
    """

    port: int
    cert: Certificate | Sequence[Certificate] | None = None
    forward_conditions: Sequence[elbv2.ListenerCondition] | None = None

    @property
    def certificates(self) -> list[Certificate]:
        if self.cert is None:
            return []
        return list(self.cert) if isinstance(self.cert, Sequence) else [self.cert]


@dataclass(frozen=True, kw_only=True)
class ScheduledScaling:
    """A scheduled change of a service's capacity bounds.

    :param cron: when, as Application Auto Scaling's six cron fields in UTC (minutes hours
        day-of-month month day-of-week year; ``?`` in one of the two day fields), e.g.
        ``"0 8 ? * MON-FRI *"``.
    :param min_capacity: the new fewest tasks. Default: unchanged.
    :param max_capacity: the new most tasks. Default: unchanged (at least one of the two is set).
    """

    cron: str
    min_capacity: int | None = None
    max_capacity: int | None = None


@dataclass(frozen=True, kw_only=True)
class ServiceScalingPolicy:
    """Target tracking for one service.

    :param max_capacity: most tasks. Default 10.
    :param min_capacity: fewest tasks. Default 1.
    :param request_per_target: ALB requests per target per minute to track. Default 1000.
    :param target_cpu_utilization: average CPU percent to track, in (0, 100]. Default 50.
    :param target_memory_utilization: average memory percent to track, in (0, 100].
        Default: no memory tracking.
    :param scheduled: capacity changes on a schedule. Default: none.
    """

    max_capacity: int = DEFAULT_MAX_CAPACITY
    min_capacity: int = DEFAULT_MIN_CAPACITY
    request_per_target: int = DEFAULT_REQUESTS_PER_TARGET
    target_cpu_utilization: float = DEFAULT_TARGET_CPU_UTILIZATION
    target_memory_utilization: float | None = None
    scheduled: Sequence[ScheduledScaling] = ()


@dataclass(frozen=True, kw_only=True)
class LocalCommand:
    """How the kit's live sandbox runs a task's default container on the user's machine instead of
    its image. The service puts it on the container definition as the Docker label
    :data:`LOCAL_LABEL` (``{"command": [...], "cwd": "..."}``); AWS ignores the label.

    :param command: the program and its arguments (1-100 non-empty strings); ``$PORT`` in an
        argument becomes the task's loopback port. It runs with the container's environment
        plus ``PORT`` and ``HOST``.
    :param cwd: the working directory, an absolute path on the machine running the sandbox.
        Default: the sandbox's working directory.
    """

    command: Sequence[str]
    cwd: str | None = None

    def label(self) -> str:
        """The label's value: the JSON object ``{"command": [...]}`` (with ``"cwd"`` when set)."""
        return json.dumps({"command": list(self.command), **({"cwd": self.cwd} if self.cwd else {})})


@dataclass(frozen=True, kw_only=True)
class FargateTaskProps:
    """One Fargate service of a :class:`DualAlbFargateService`.

    :param task: the task definition; its default container receives the ALB traffic on its first
        port mapping and names the service (``<container>Service``).
    :param desired_count: tasks at deploy time. Default 1.
    :param internal: listener on the internal ALB. Default: none.
    :param external: listener on the internet-facing ALB. Default: none.
    :param scaling_policy: target tracking. Default :class:`ServiceScalingPolicy()`.
    :param capacity_provider_strategy: overrides ``spot``. Default: from the service's ``spot``.
    :param health_check: target-group health check. Default: ALB's (``/``, HTTP 200).
    :param protocol_version: target-group protocol version (HTTP1, HTTP2, GRPC). Default HTTP1.
    :param service_name: the ECS service name. Default: generated by CloudFormation.
    :param health_check_grace_period: how long ECS ignores failing target-group health checks
        of a new task. Default 60 s (ECS's default for a service behind a load balancer).
    :param min_healthy_percent: running tasks kept during a rolling deployment, percent of
        ``desired_count`` (0-100). Default 100 (zero downtime; the original's was 50).
    :param max_healthy_percent: tasks allowed during a rolling deployment, percent of
        ``desired_count`` (100-2000, above ``min_healthy_percent``). Default 200.
    :param protocol: the listener protocol behind a :class:`DualNlbFargateService` (NLB only):
        ``elbv2.Protocol.TCP`` or ``elbv2.Protocol.TLS`` (TLS terminates at the NLB with the
        listener's certificate; the targets get TCP either way). Default: TLS where the listener
        has a certificate, else TCP.
    :param deployment: this service's deployment strategy (:class:`DeploymentOptions`: rolling,
        blue_green, linear or canary). Default: the construct's ``deployment``, else rolling.
    :param local: how the kit's live sandbox runs the default container locally
        (:class:`LocalCommand`, put on it as the Docker label :data:`LOCAL_LABEL`). Default: none,
        no label.
    """

    task: ecs.FargateTaskDefinition
    desired_count: int = 1
    internal: LoadBalancerAccessibility | None = None
    external: LoadBalancerAccessibility | None = None
    scaling_policy: ServiceScalingPolicy | None = None
    capacity_provider_strategy: Sequence[ecs.CapacityProviderStrategy] | None = None
    health_check: elbv2.HealthCheck | None = None
    protocol_version: elbv2.ApplicationProtocolVersion | None = None
    service_name: str | None = None
    health_check_grace_period: Duration | None = None
    min_healthy_percent: int = 100
    max_healthy_percent: int = 200
    protocol: elbv2.Protocol | None = None
    deployment: DeploymentOptions | None = None
    local: LocalCommand | None = None


@dataclass(frozen=True, kw_only=True)
class Route53Options:
    """The private hosted zone and the ALB alias records.

    :param zone_name: private zone on the VPC. Default ``svc.local``.
    :param external_alb_record_name: alias to the external ALB. Default ``external``.
    :param internal_alb_record_name: alias to the internal ALB. Default ``internal``.
    :param enable_load_balancer_alias: create the zone and aliases. Default ``True``.
    """

    zone_name: str = "svc.local"
    external_alb_record_name: str = "external"
    internal_alb_record_name: str = "internal"
    enable_load_balancer_alias: bool = True


def with_defaults(
    owner: str, options_type: Any, options: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """``options`` (keyword arguments that unpack the TypedDict ``options_type``) with ``defaults``
    filled in, ``None`` for the others; ``owner`` names the constructor in the ``TypeError`` an
    unknown or a missing keyword raises, worded as Python's own."""
    required = options_type.__required_keys__
    known = required | options_type.__optional_keys__
    for name in options:
        if name not in known:
            raise TypeError(f"{owner}.__init__() got an unexpected keyword argument {name!r}")
    missing = sorted(required - options.keys())
    if missing:
        raise TypeError(f"{owner}.__init__() missing 1 required keyword-only argument: {missing[0]!r}")
    return {**dict.fromkeys(known), **defaults, **options}


def keyword_names(function: Callable[..., Any]) -> set[str]:
    """The keyword arguments ``function`` takes by name: its named parameters and the keys of the
    TypedDict its ``**kwargs`` unpack (``**options: Unpack[FargateServiceOptions]``)."""
    names = set()
    hints = get_type_hints(function)
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind == parameter.VAR_KEYWORD:
            hint = hints.get(parameter.name)
            if get_origin(hint) is Unpack:
                (options,) = get_args(hint)
                names |= options.__required_keys__ | options.__optional_keys__
        elif parameter.kind != parameter.VAR_POSITIONAL:
            names.add(parameter.name)
    return names
