"""The keyword arguments both dual patterns take, in one place: :class:`FargateServiceOptions`."""

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Required, TypedDict, Unpack, get_args, get_origin, get_type_hints

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs

from .deployment import DeploymentOptions
from .monitoring import AlarmThresholds
from .props import FargateTaskProps, Route53Options


class FargateServiceOptions(TypedDict, total=False):
    """The keyword arguments :class:`DualAlbFargateService` and :class:`DualNlbFargateService`
    share (:class:`BaseFargateService`'s): ``tasks`` is required, every other one optional with
    the default it names (:data:`SERVICE_OPTION_DEFAULTS`, else ``None``). Their annotations are
    evaluated (no postponed annotations here), so ``Required`` marks ``tasks`` at run time too."""

    tasks: Required[Sequence[FargateTaskProps]]
    """The services, in order (at least one)."""

    vpc: ec2.IVpc | None
    """The VPC. Default: context ``use_default_vpc=1`` / env ``CDK_USE_DEFAULT_VPC=1`` (the default
    VPC), context ``use_vpc_id``, else a new VPC (3 AZs at most, one NAT gateway)."""
    vpc_subnets: ec2.SubnetSelection | None
    """Where the tasks run. Default: private subnets with egress."""
    spot: bool
    """100% FARGATE_SPOT for tasks without their own strategy. Default ``False`` (FARGATE)."""
    enable_execute_command: bool
    """ECS Exec on every service. Default ``False``."""
    circuit_breaker: bool
    """Deployment circuit breaker with rollback. Default ``True``."""
    route53_ops: Route53Options | None
    """The private zone and alias names. Default :class:`Route53Options()`."""
    cluster: ecs.ICluster | None
    """An existing ECS cluster (with the FARGATE and FARGATE_SPOT capacity providers).
    Default: a new cluster with both providers and Container Insights."""
    cluster_props: ecs.ClusterProps | None
    """Properties of the new cluster, over those defaults; not with ``cluster``."""
    spot_termination_handler: bool | None
    """When some task runs on FARGATE_SPOT, an EventBridge rule and a function that deregister an
    interrupted Spot task from its target groups at once (:class:`SpotTerminationHandler`).
    Default: on when some task runs on FARGATE_SPOT (as the original's); ``False`` turns it off;
    ``True`` without a Spot task is a synthesis warning."""
    alarms: bool | AlarmThresholds
    """CloudWatch alarms per service and one dashboard (:class:`ServiceMonitoring`); ``True`` for
    the default :class:`AlarmThresholds`, or thresholds of your own. Default ``False``."""
    deployment: DeploymentOptions | None
    """The deployment strategy of tasks without their own (:class:`DeploymentOptions`). Default:
    rolling."""


SERVICE_OPTION_DEFAULTS: Mapping[str, Any] = {
    "spot": False,
    "enable_execute_command": False,
    "circuit_breaker": True,
    "alarms": False,
}
"""The defaults of :class:`FargateServiceOptions` other than ``None``."""


def service_options(owner: str, options: Mapping[str, Any]) -> FargateServiceOptions:
    """``options`` with every default filled in (``route53_ops`` a :class:`Route53Options()`);
    ``owner`` names the construct in the ``TypeError`` an unknown or a missing keyword raises, as
    Python's own for a keyword it does not take."""
    required = FargateServiceOptions.__required_keys__
    known = required | FargateServiceOptions.__optional_keys__
    for name in options:
        if name not in known:
            raise TypeError(f"{owner}.__init__() got an unexpected keyword argument {name!r}")
    missing = sorted(required - options.keys())
    if missing:
        raise TypeError(f"{owner}.__init__() missing 1 required keyword-only argument: {missing[0]!r}")
    resolved: dict[str, Any] = {**dict.fromkeys(known), **SERVICE_OPTION_DEFAULTS, **options}
    resolved["route53_ops"] = resolved["route53_ops"] or Route53Options()
    return resolved  # type: ignore[return-value]


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
