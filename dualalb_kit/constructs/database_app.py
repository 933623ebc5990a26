"""``DatabaseApp``: what ``WordPress`` and ``Laravel`` share.

A web app on Fargate behind one internet-facing ALB (a :class:`DualAlbFargateService` with one
task and no internal ALB), its data in a :class:`Database` whose credentials reach the container
only as ECS secrets, optionally its files on encrypted EFS. A subclass validates its own props,
calls ``super().__init__`` with the shared options, builds its task and hands it to
:meth:`DatabaseApp._serve`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Unpack

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import validation
from ..errors import ValidationError
from .database import (
    DATABASE_OPTION_DEFAULTS,
    Database,
    DatabaseOptions,
    check_removal_policy,
    database_values,
)
from .findings import acknowledge
from .network import resolve_vpc
from .props import FargateTaskProps, Route53Options, keyword_names, with_defaults
from .service import DualAlbFargateService

TASK_CPU = 512
"""CPU units of the app's default task (0.5 vCPU)."""
TASK_MEMORY_MIB = 1024
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


@dataclass(frozen=True, kw_only=True)
class FileSystemMount:
    """Where the app's container mounts the file system.

    :param container_path: the mount point in the container.
    :param volume_name: the task's name for the volume.
    :param access_point: mount through this access point (its POSIX user, read/write). Default:
        the file system's root with root access (for images whose entrypoint chowns as root).
    """

    container_path: str
    volume_name: str
    access_point: efs.AccessPoint | None = None


class DatabaseApp(Construct):
    """A web app on Fargate behind one internet-facing ALB, its data in MySQL (base of
    ``WordPress`` and ``Laravel``).

    The options every such app takes (keyword-only, all optional):

    :param vpc: the VPC. Default: as :class:`DualAlbFargateService` (lookup by context, else a new VPC).
    :param database_instance_type: provisioned writer or single instance class. Default ``db.t4g.medium``.
    :param database_subnets: where the database runs. Default: private subnets with egress.
    :param spot: run on FARGATE_SPOT. Default ``False``.
    :param spot_termination_handler: with ``spot``, deregister an interrupted task from its target
        group at once (as :class:`DualAlbFargateService`'s). Default: on with ``spot``; ``False``
        turns it off.
    :param enable_execute_command: ECS Exec on the service. Default ``False``.
    :param removal_policy: on stack deletion. Default: keep the data (the database takes a final
        snapshot and keeps its secret; the file system and the log group are retained).
        ``RemovalPolicy.RETAIN`` also keeps the database running (only with an existing ``vpc``).
        ``RemovalPolicy.DESTROY`` deletes everything: for throwaway demos only.
    :param database: the database's options (:class:`DatabaseOptions`): ``aurora_serverless``
        (default ``False``: provisioned), ``single_db_instance``, ``backup_retention`` (default 7
        days), ``serverless_min_capacity`` and ``serverless_max_capacity`` (default 0.5 and 4 ACUs).

    Attributes: ``vpc``, ``db`` (:class:`Database`), ``svc`` (the :class:`DualAlbFargateService`),
    ``service`` (the ``ecs.FargateService``), ``file_system`` (``efs.FileSystem``, or ``None``).
    Outputs: ``ExternalEndpoint``, ``DatabaseEndpoint``, ``DatabaseSecretArn`` and, with a file
    system, ``FileSystemId``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        database_name: str,
        vpc: ec2.IVpc | None = None,
        database_instance_type: ec2.InstanceType | None = None,
        database_subnets: ec2.SubnetSelection | None = None,
        spot: bool = False,
        spot_termination_handler: bool | None = None,
        enable_execute_command: bool = False,
        removal_policy: RemovalPolicy | None = None,
        **database: Unpack[DatabaseOptions],
    ) -> None:
        values = database_values(
            **with_defaults("DatabaseApp", DatabaseOptions, database, DATABASE_OPTION_DEFAULTS),
            instance_type=database_instance_type,
        )
        validation.check_database("", values, names={"backup_retention_days": "backup_retention"})
        if vpc is not None:  # else Database checks the VPC resolve_vpc finds or makes
            check_removal_policy("removal_policy", removal_policy, vpc)
        super().__init__(scope, id)
        self._spot, self._spot_termination_handler = spot, spot_termination_handler
        self._enable_execute_command = enable_execute_command
        self.data_policy = (
            RemovalPolicy.DESTROY if removal_policy == RemovalPolicy.DESTROY else RemovalPolicy.RETAIN
        )
        """What happens to the file system, the log group and other kept data on stack deletion."""
        self.vpc = resolve_vpc(self, vpc)
        self.db = Database(
            self,
            "Database",
            vpc=self.vpc,
            vpc_subnets=database_subnets,
            instance_type=database_instance_type,
            database_name=database_name,
            removal_policy=removal_policy,
            **database,
        )
        self.file_system: efs.FileSystem | None = None

    def _add_file_system(self) -> efs.FileSystem:
        """The app's encrypted EFS file system; it admits NFS from the service once it exists."""
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=self.vpc,
            encrypted=True,
            security_group=ec2.SecurityGroup(
                self,
                "FileSystemSecurityGroup",
                vpc=self.vpc,
                allow_all_outbound=False,
                description=f"NFS of {self.node.path}",
            ),
            removal_policy=self.data_policy,
        )
        return self.file_system

    def _task(
        self,
        *,
        container_name: str,
        image: ecs.ContainerImage,
        container_port: int,
        environment: Mapping[str, str],
    ) -> ecs.FargateTaskDefinition:
        """The app's default task: 0.5 vCPU / 1 GiB, one container logging to a one-month log group.

        ``environment`` holds names, never credentials (those go in as secrets in :meth:`_serve`).
        """
        task = ecs.FargateTaskDefinition(self, "Task", cpu=TASK_CPU, memory_limit_mib=TASK_MEMORY_MIB)
        log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=self.data_policy)
        task.add_container(
            container_name,
            image=image,
            port_mappings=[ecs.PortMapping(container_port=container_port)],
            environment=dict(environment),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=container_name, log_group=log_group),
        )
        acknowledge(
            task,
            "AwsSolutions-ECS2",
            f"{', '.join(environment)}: names and settings, not credentials (those go in as ECS secrets)",
        )
        return task

    def _serve(
        self,
        props: FargateTaskProps,
        *,
        label: str,
        health_check: elbv2.HealthCheck,
        secrets: Mapping[str, tuple[secretsmanager.ISecret, str | None]],
        mount: FileSystemMount | None = None,
    ) -> None:
        """Run ``props`` (one task on the external ALB) with ``secrets`` (container variable ->
        secret and field, ``None`` for the whole secret) and ``mount``; admit it to the database
        and the file system.

        ``label`` names the app in security-group rule descriptions; ``health_check`` applies
        when ``props`` has none.
        """
        container = props.task.default_container
        assert container is not None
        if mount is not None:
            self._mount(props.task, container, mount)
        for variable, (secret, field) in secrets.items():
            container.add_secret(variable, ecs.Secret.from_secrets_manager(secret, field))
        self.svc = DualAlbFargateService(
            self,
            "Service",
            tasks=[dataclasses.replace(props, health_check=props.health_check or health_check)],
            vpc=self.vpc,
            spot=self._spot,
            spot_termination_handler=self._spot_termination_handler,
            enable_execute_command=self._enable_execute_command,
            route53_ops=Route53Options(enable_load_balancer_alias=False),
        )
        self.service = self.svc.services[0]
        if self.file_system is not None:
            self.file_system.connections.allow_default_port_from(self.service, f"NFS from {label}")
        self.db.connections.allow_default_port_from(self.service, f"MySQL from {label}")
        # The database (cluster, writer, named schema) exists before the first task starts. Only the
        # ECS service resource waits: its security group is referenced by the database's ingress rule.
        assert self.service.node.default_child is not None
        self.service.node.default_child.node.add_dependency(self.db.resource)
        self._outputs()

    def _db_secrets(self, fields: Mapping[str, str]) -> dict[str, tuple[secretsmanager.ISecret, str | None]]:
        """Container variable -> (the database secret, its field), for :meth:`_serve`."""
        return {variable: (self.db.secret, field) for variable, field in fields.items()}

    def _mount(
        self, task: ecs.FargateTaskDefinition, container: ecs.ContainerDefinition, mount: FileSystemMount
    ) -> None:
        """Mount the file system over TLS, IAM-authorized, at ``mount.container_path``."""
        assert self.file_system is not None
        access_point = mount.access_point
        task.add_volume(
            name=mount.volume_name,
            efs_volume_configuration=ecs.EfsVolumeConfiguration(
                file_system_id=self.file_system.file_system_id,
                transit_encryption="ENABLED",
                authorization_config=ecs.AuthorizationConfig(
                    iam="ENABLED",
                    access_point_id=access_point.access_point_id if access_point else None,
                ),
            ),
        )
        if access_point is None:
            self.file_system.grant_root_access(task.task_role)
        else:
            self.file_system.grant_read_write(task.task_role)
        container.add_mount_points(
            ecs.MountPoint(
                container_path=mount.container_path, source_volume=mount.volume_name, read_only=False
            )
        )

    def _outputs(self) -> None:
        outputs = {
            "DatabaseEndpoint": self.db.cluster_endpoint_hostname,
            "DatabaseSecretArn": self.db.secret.secret_arn,
        }
        if self.file_system is not None:
            outputs["FileSystemId"] = self.file_system.file_system_id
        for name, value in outputs.items():
            CfnOutput(self, name, value=value).override_logical_id(name)


def refuse_service_options(app: str, options: Mapping[str, Any]) -> None:
    """A ValidationError naming the first of ``options`` that :class:`DualAlbFargateService` takes
    and :class:`DatabaseApp` does not (``alarms``, ``access_logs``, the idle timeouts, ...): ``app``
    (``WordPress``, ``Laravel``) builds its one service itself. Other unknown names are left to
    Python's TypeError."""
    service_only = keyword_names(DualAlbFargateService.__init__) - keyword_names(DatabaseApp.__init__)
    for name in options:
        if name in service_only:
            raise ValidationError(name, f"is a DualAlbFargateService option; {app} does not take it")
