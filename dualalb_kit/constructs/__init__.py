"""The kit's CDK constructs."""

from .database import Database
from .props import FargateTaskProps, LoadBalancerAccessibility, Route53Options, ServiceScalingPolicy
from .service import ALB_TAG, SERVICE_TAG, DualAlbFargateService
from .wordpress import WordPress

__all__ = [
    "ALB_TAG",
    "SERVICE_TAG",
    "Database",
    "DualAlbFargateService",
    "FargateTaskProps",
    "LoadBalancerAccessibility",
    "Route53Options",
    "ServiceScalingPolicy",
    "WordPress",
]
