"""The kit's CDK constructs."""

from .props import FargateTaskProps, LoadBalancerAccessibility, Route53Options, ServiceScalingPolicy
from .service import ALB_TAG, SERVICE_TAG, DualAlbFargateService

__all__ = [
    "ALB_TAG",
    "SERVICE_TAG",
    "DualAlbFargateService",
    "FargateTaskProps",
    "LoadBalancerAccessibility",
    "Route53Options",
    "ServiceScalingPolicy",
]
