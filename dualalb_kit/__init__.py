"""dualalb-kit: the dual-ALB AWS Fargate pattern, from a notebook.

Importing the package points jsii at the kit's own Node 24 (see ``runtime``). The CDK-backed
names below load on first use, so analysis modules (``scaling``, ``cost``) import quickly.
"""

from __future__ import annotations

import importlib

from .errors import ValidationError
from .runtime import configure_jsii

configure_jsii()

# ``synth`` is both a module and its main function: bind the function eagerly so that
# ``from dualalb_kit import synth`` never returns the module.
from .synth import Synthesis, synth  # noqa: E402

_LAZY = {
    "DeploymentOptions": "dualalb_kit.constructs",
    "DualAlbFargateService": "dualalb_kit.constructs",
    "DualNlbFargateService": "dualalb_kit.constructs",
    "FargateTaskProps": "dualalb_kit.constructs",
    "LoadBalancerAccessibility": "dualalb_kit.constructs",
    "ServiceScalingPolicy": "dualalb_kit.constructs",
    "ScheduledScaling": "dualalb_kit.constructs",
    "SpotTerminationHandler": "dualalb_kit.constructs",
    "Route53Options": "dualalb_kit.constructs",
    "WordPress": "dualalb_kit.constructs",
    "Laravel": "dualalb_kit.constructs",
    "Database": "dualalb_kit.constructs",
    "DeploymentSpec": "dualalb_kit.spec",
    "load_spec": "dualalb_kit.spec",
    "build_stack": "dualalb_kit.build",
}

__all__ = ["Synthesis", "ValidationError", "__version__", "synth", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "__version__":
        # The installed distribution's version (``pyproject.toml``); read on first use, as
        # importlib.metadata costs an import of the email package.
        from importlib.metadata import version

        return version("dualalb-kit")
    raise AttributeError(f"module 'dualalb_kit' has no attribute {name!r}")
