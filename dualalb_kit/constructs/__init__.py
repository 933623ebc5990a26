"""The kit's CDK constructs.

``WordPress``, ``Laravel`` and ``Database`` load on first use: they pull in the RDS, EFS and
Secrets Manager modules, which a dual-ALB synthesis does not need.
"""

import importlib

from ..tags import ALB_TAG, SERVICE_TAG
from .base import BaseFargateService
from .deployment import DeploymentOptions
from .nlb_service import DualNlbFargateService
from .props import (
    LOCAL_LABEL,
    FargateTaskProps,
    LoadBalancerAccessibility,
    LocalCommand,
    Route53Options,
    ScheduledScaling,
    ServiceScalingPolicy,
)
from .service import DualAlbFargateService
from .service_options import FargateServiceOptions
from .spot_termination import SpotTerminationHandler

_LAZY = {"Database": ".database", "Laravel": ".laravel", "WordPress": ".wordpress"}

__all__ = [
    "ALB_TAG",
    "LOCAL_LABEL",
    "SERVICE_TAG",
    "BaseFargateService",
    "Database",
    "DeploymentOptions",
    "DualAlbFargateService",
    "DualNlbFargateService",
    "FargateServiceOptions",
    "FargateTaskProps",
    "Laravel",
    "LoadBalancerAccessibility",
    "LocalCommand",
    "Route53Options",
    "ScheduledScaling",
    "ServiceScalingPolicy",
    "SpotTerminationHandler",
    "WordPress",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
