"""The keyword arguments both dual patterns take, in one place: :class:`FargateServiceOptions`."""

from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs

from .deployment import DeploymentOptions
from .monitoring import AlarmThresholds
from .props import FargateTaskProps, Route53Options, with_defaults


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
    ``owner`` names the construct in the ``TypeError`` an unknown or a missing keyword raises."""
    resolved = with_defaults(owner, FargateServiceOptions, options, SERVICE_OPTION_DEFAULTS)
    resolved["route53_ops"] = resolved["route53_ops"] or Route53Options()
    return resolved  # type: ignore[return-value]
