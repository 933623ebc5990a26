"""The sample application's Docker image assets, one per role."""

from __future__ import annotations

from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs

from ..errors import ValidationError
from . import SAMPLE_APP_DIR, SAMPLE_ROLES


def sample_image(role: str, *, field: str = "image") -> ecs.ContainerImage:
    """The Docker image asset built from ``sample_app/`` for ``role`` (order, customer or product).

    The role is a build argument (``SERVICE_NAME``), so each role is its own asset and its image
    answers as that role without further environment. Built for linux/amd64 (Fargate's default
    architecture) when the CDK CLI publishes the assets. An unknown role raises ValidationError
    naming ``field``.
    """
    if role not in SAMPLE_ROLES:
        raise ValidationError(field, f"unknown sample role {role!r}; choose one of {', '.join(SAMPLE_ROLES)}")
    return ecs.ContainerImage.from_asset(
        str(SAMPLE_APP_DIR),
        build_args={"SERVICE_NAME": role},
        platform=ecr_assets.Platform.LINUX_AMD64,
    )
