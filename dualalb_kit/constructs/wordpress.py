"""``WordPress``: WordPress on Fargate, files on EFS, data in MySQL; a :class:`DatabaseApp`."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from ..errors import ValidationError
from .database_app import DatabaseApp, FileSystemMount, refuse_service_options
from .props import FargateTaskProps, LoadBalancerAccessibility

WORDPRESS_IMAGE = "public.ecr.aws/docker/library/wordpress:6-apache"
"""The official WordPress image (Docker Official Images, mirrored on ECR Public)."""
CONTAINER_NAME = "wordpress"
DATABASE_NAME = "wordpress"
CONTENT_PATH = "/var/www/html"
"""Where the image keeps WordPress, its plugins and uploads: the EFS mount."""
VOLUME_NAME = "wordpress-content"
HEALTH_CHECK_PATH = "/wp-includes/images/blank.gif"
"""A static file that answers 200 before and after WordPress is installed."""
DB_SECRETS = {
    "WORDPRESS_DB_HOST": "host",
    "WORDPRESS_DB_USER": "username",
    "WORDPRESS_DB_PASSWORD": "password",
}
"""Container variable -> field of the database secret."""


class WordPress(DatabaseApp):
    """WordPress on Fargate behind one internet-facing ALB, its files on EFS, its data in MySQL.

    :param service_props: the WordPress service, replacing the default (the official image, 0.5 vCPU /
        1 GiB, one task, external port 80). Its task's default container still gets the database
        secrets and the EFS mount; it must have an ``external`` listener and no ``internal`` one;
        its health check defaults to :data:`HEALTH_CHECK_PATH`.
    :param options: the options every :class:`DatabaseApp` takes: ``vpc``, ``aurora_serverless``,
        ``single_db_instance``, ``database_instance_type``, ``database_subnets``, ``backup_retention``,
        ``serverless_min_capacity``, ``serverless_max_capacity``, ``spot``, ``spot_termination_handler``,
        ``enable_execute_command``, ``removal_policy`` (default: data kept on delete).

    The file system is always there, mounted at :data:`CONTENT_PATH`; the database is ``wordpress``.
    Attributes and outputs: as :class:`DatabaseApp` (``FileSystemId`` included).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service_props: FargateTaskProps | None = None,
        **options: Any,
    ) -> None:
        _validate(service_props)
        refuse_service_options("WordPress", options)
        super().__init__(scope, id, database_name=DATABASE_NAME, **options)
        self._add_file_system()
        self._serve(
            service_props or self._default_service_props(),
            label="WordPress",
            health_check=elbv2.HealthCheck(path=HEALTH_CHECK_PATH, healthy_http_codes="200"),
            secrets=self._db_secrets(DB_SECRETS),
            # The image's entrypoint copies WordPress into the volume and chowns it, as root.
            mount=FileSystemMount(container_path=CONTENT_PATH, volume_name=VOLUME_NAME),
        )

    def _default_service_props(self) -> FargateTaskProps:
        task = self._task(
            container_name=CONTAINER_NAME,
            image=ecs.ContainerImage.from_registry(WORDPRESS_IMAGE),
            container_port=80,
            environment={"WORDPRESS_DB_NAME": DATABASE_NAME},
        )
        return FargateTaskProps(task=task, desired_count=1, external=LoadBalancerAccessibility(port=80))


def _validate(service_props: FargateTaskProps | None) -> None:
    if service_props is None:
        return
    if service_props.external is None:
        raise ValidationError("service_props.external", "WordPress is served by the internet-facing ALB")
    if service_props.internal is not None:
        raise ValidationError("service_props.internal", "WordPress has no internal ALB; leave it unset")
