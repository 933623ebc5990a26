"""``Laravel``: a Laravel app built from its code directory, on Fargate, its data in MySQL."""

from __future__ import annotations

import os
from typing import Any

from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import validation
from .database_app import DatabaseApp, FileSystemMount, refuse_service_options
from .findings import acknowledge
from .props import FargateTaskProps, LoadBalancerAccessibility

CONTAINER_NAME = "laravel"
DEFAULT_DATABASE_NAME = "laravel"
HEALTH_CHECK_PATH = "/up"
"""Laravel's built-in health route (since Laravel 11): 200 once the app boots."""
STORAGE_PATH = "/var/www/html/storage/app"
"""Where Laravel's ``local`` and ``public`` disks keep files: the EFS mount with ``efs_file_system``."""
VOLUME_NAME = "laravel-storage"
WEB_USER_ID = "33"
"""``www-data`` in the Debian-based PHP images (``php:8.3-apache``): the owner of files on EFS."""
DB_SECRETS = {
    "DB_HOST": "host",
    "DB_PORT": "port",
    "DB_USERNAME": "username",
    "DB_PASSWORD": "password",
}
"""Laravel's database variables -> fields of the database secret."""
APP_KEY_LENGTH = 32
"""Laravel's ``APP_KEY`` for AES-256-CBC: 32 bytes (here 32 letters and digits)."""


class Laravel(DatabaseApp):
    """A Laravel app on Fargate behind one internet-facing ALB, its data in MySQL.

    The image is built from ``code`` by the CDK CLI (``docker build``, linux/amd64) and published
    as an asset. The container gets Laravel's database settings (``DB_CONNECTION=mysql``,
    ``DB_DATABASE``; ``DB_HOST``, ``DB_PORT``, ``DB_USERNAME``, ``DB_PASSWORD`` as ECS secrets),
    ``APP_KEY`` from a generated secret (kept with the data: it decrypts what the app encrypted),
    and ``LOG_CHANNEL=stderr`` so its log reaches CloudWatch.

    :param code: the app's directory, with a ``Dockerfile`` at its top (the build context).
    :param loadbalancer: the listener on the internet-facing ALB (port, certificates, conditions).
    :param container_port: where the container listens. Default 80.
    :param efs_file_system: files on encrypted EFS at :data:`STORAGE_PATH`, through an access point
        owned by ``www-data``. Default ``False`` (no file system: files live and die with a task).
    :param default_database_name: the database created for the app. Default ``laravel``.
    :param health_check: the target group's check. Default :data:`HEALTH_CHECK_PATH`, 200.
    :param options: the options every :class:`DatabaseApp` takes: ``vpc``, ``aurora_serverless``,
        ``single_db_instance``, ``database_instance_type``, ``database_subnets``, ``backup_retention``,
        ``serverless_min_capacity``, ``serverless_max_capacity``, ``spot``, ``spot_termination_handler``,
        ``enable_execute_command``, ``removal_policy`` (default: data kept on delete).

    Attributes: as :class:`DatabaseApp`, and ``app_key`` (the ``APP_KEY`` secret). Outputs: as
    :class:`DatabaseApp` (``FileSystemId`` with ``efs_file_system``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: str | os.PathLike[str],
        loadbalancer: LoadBalancerAccessibility,
        container_port: int = 80,
        efs_file_system: bool = False,
        default_database_name: str = DEFAULT_DATABASE_NAME,
        health_check: elbv2.HealthCheck | None = None,
        **options: Any,
    ) -> None:
        refuse_service_options("Laravel", options)
        validate_laravel(
            code=code,
            listener_port=loadbalancer.port,
            container_port=container_port,
            default_database_name=default_database_name,
        )
        super().__init__(scope, id, database_name=default_database_name, **options)
        self.app_key = self._app_key()
        mount = self._storage_mount() if efs_file_system else None
        task = self._task(
            container_name=CONTAINER_NAME,
            image=ecs.ContainerImage.from_asset(str(code), platform=ecr_assets.Platform.LINUX_AMD64),
            container_port=container_port,
            environment={
                "DB_CONNECTION": "mysql",
                "DB_DATABASE": default_database_name,
                "LOG_CHANNEL": "stderr",
            },
        )
        acknowledge(
            task.obtain_execution_role().node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "pulling an image asset needs ecr:GetAuthorizationToken, which AWS grants only on *",
        )
        self._serve(
            FargateTaskProps(task=task, desired_count=1, external=loadbalancer),
            label="Laravel",
            health_check=health_check or elbv2.HealthCheck(path=HEALTH_CHECK_PATH, healthy_http_codes="200"),
            secrets={**self._db_secrets(DB_SECRETS), "APP_KEY": (self.app_key, None)},
            mount=mount,
        )

    def _app_key(self) -> secretsmanager.Secret:
        """``APP_KEY``: 32 generated letters and digits, kept with the data."""
        app_key = secretsmanager.Secret(
            self,
            "AppKey",
            description=f"APP_KEY of {self.node.path}",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=APP_KEY_LENGTH, exclude_punctuation=True
            ),
            removal_policy=self.data_policy,
        )
        acknowledge(
            app_key,
            "AwsSolutions-SMG4",
            "a new APP_KEY cannot decrypt what the old one encrypted; rotate by hand with APP_PREVIOUS_KEYS",
        )
        return app_key

    def _storage_mount(self) -> FileSystemMount:
        """The app's file system at :data:`STORAGE_PATH`, through the storage access point."""
        return FileSystemMount(
            container_path=STORAGE_PATH,
            volume_name=VOLUME_NAME,
            access_point=self._storage_access_point(self._add_file_system()),
        )

    def _storage_access_point(self, file_system: efs.FileSystem) -> efs.AccessPoint:
        """``/laravel-storage``, created for and entered as ``www-data``, so the app can write."""
        return file_system.add_access_point(
            "Storage",
            path="/laravel-storage",
            create_acl=efs.Acl(owner_uid=WEB_USER_ID, owner_gid=WEB_USER_ID, permissions="750"),
            posix_user=efs.PosixUser(uid=WEB_USER_ID, gid=WEB_USER_ID),
        )


def validate_laravel(
    *, code: str | os.PathLike[str], listener_port: int, container_port: int, default_database_name: str
) -> None:
    """Laravel's own props (the database options are :class:`DatabaseApp`'s)."""
    validation.check_code_directory("code", code)
    validation.check_port("loadbalancer.port", listener_port)
    validation.check_port("container_port", container_port)
    validation.check_database_name("default_database_name", default_database_name)
