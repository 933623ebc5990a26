"""``WordPress``: WordPress on Fargate, files on EFS, data in MySQL; built on DualAlbFargateService."""

from __future__ import annotations

import dataclasses

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..errors import ValidationError
from .database import DEFAULT_BACKUP_RETENTION, Database
from .findings import acknowledge
from .network import resolve_vpc
from .props import FargateTaskProps, LoadBalancerAccessibility, Route53Options
from .service import DualAlbFargateService

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


class WordPress(Construct):
    """WordPress on Fargate behind one internet-facing ALB, its files on EFS, its data in MySQL.

    :param vpc: the VPC. Default: as :class:`DualAlbFargateService` (lookup by context, else a new VPC).
    :param aurora_serverless: Aurora MySQL 3 with a Serverless v2 writer. Default ``False`` (provisioned).
    :param single_db_instance: one RDS for MySQL 8.0 instance instead of Aurora. Default ``False``.
    :param database_instance_type: provisioned writer or single instance class. Default ``db.t4g.medium``.
    :param database_subnets: where the database runs. Default: private subnets with egress.
    :param backup_retention: automated database backups, 1-35 days. Default 7 days.
    :param serverless_min_capacity: fewest ACUs of a serverless writer. Default 0.5.
    :param serverless_max_capacity: most ACUs of a serverless writer. Default 4.
    :param spot: run on FARGATE_SPOT. Default ``False``.
    :param enable_execute_command: ECS Exec on the service. Default ``False``.
    :param service_props: the WordPress service, replacing the default (the official image, 0.5 vCPU /
        1 GiB, one task, external port 80). Its task's default container still gets the database
        secrets and the EFS mount; it must have an ``external`` listener and no ``internal`` one;
        its health check defaults to :data:`HEALTH_CHECK_PATH`.
    :param removal_policy: on stack deletion. Default: keep the data (the database takes a final
        snapshot; the file system and the log group are retained). ``RemovalPolicy.DESTROY`` deletes
        everything: for throwaway demos only.

    Attributes: ``vpc``, ``db`` (:class:`Database`), ``svc`` (the :class:`DualAlbFargateService`),
    ``file_system`` (``efs.FileSystem``), ``service`` (the ``ecs.FargateService``).
    Outputs: ``ExternalEndpoint``, ``DatabaseEndpoint``, ``DatabaseSecretArn``, ``FileSystemId``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | None = None,
        aurora_serverless: bool = False,
        single_db_instance: bool = False,
        database_instance_type: ec2.InstanceType | None = None,
        database_subnets: ec2.SubnetSelection | None = None,
        backup_retention: Duration = DEFAULT_BACKUP_RETENTION,
        serverless_min_capacity: float = 0.5,
        serverless_max_capacity: float = 4,
        spot: bool = False,
        enable_execute_command: bool = False,
        service_props: FargateTaskProps | None = None,
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        _validate(service_props)
        super().__init__(scope, id)
        data_policy = (
            RemovalPolicy.DESTROY if removal_policy == RemovalPolicy.DESTROY else RemovalPolicy.RETAIN
        )

        self.vpc = resolve_vpc(self, vpc)
        self.db = Database(
            self,
            "Database",
            vpc=self.vpc,
            vpc_subnets=database_subnets,
            aurora_serverless=aurora_serverless,
            single_db_instance=single_db_instance,
            instance_type=database_instance_type,
            backup_retention=backup_retention,
            serverless_min_capacity=serverless_min_capacity,
            serverless_max_capacity=serverless_max_capacity,
            database_name=DATABASE_NAME,
            removal_policy=removal_policy,
        )
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
            removal_policy=data_policy,
        )

        props = service_props or self._default_service_props(data_policy)
        self._wire_storage_and_credentials(props.task)
        self.svc = DualAlbFargateService(
            self,
            "Service",
            tasks=[dataclasses.replace(props, health_check=props.health_check or _health_check())],
            vpc=self.vpc,
            spot=spot,
            enable_execute_command=enable_execute_command,
            route53_ops=Route53Options(enable_load_balancer_alias=False),
        )
        self.service = self.svc.services[0]
        self.file_system.connections.allow_default_port_from(self.service, "NFS from WordPress")
        self.db.connections.allow_default_port_from(self.service, "MySQL from WordPress")
        # The database (cluster, writer, named schema) exists before the first task starts. Only the
        # ECS service resource waits: its security group is referenced by the database's ingress rule.
        database = self.db.cluster or self.db.instance
        assert self.service.node.default_child is not None and database is not None
        self.service.node.default_child.node.add_dependency(database)
        self._outputs()

    def _default_service_props(self, data_policy: RemovalPolicy) -> FargateTaskProps:
        task = ecs.FargateTaskDefinition(self, "Task", cpu=512, memory_limit_mib=1024)
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=data_policy
        )
        task.add_container(
            CONTAINER_NAME,
            image=ecs.ContainerImage.from_registry(WORDPRESS_IMAGE),
            port_mappings=[ecs.PortMapping(container_port=80)],
            environment={"WORDPRESS_DB_NAME": DATABASE_NAME},
            logging=ecs.LogDrivers.aws_logs(stream_prefix=CONTAINER_NAME, log_group=log_group),
        )
        acknowledge(
            task,
            "AwsSolutions-ECS2",
            "WORDPRESS_DB_NAME is a name, not a credential; credentials go in as ECS secrets",
        )
        return FargateTaskProps(task=task, desired_count=1, external=LoadBalancerAccessibility(port=80))

    def _wire_storage_and_credentials(self, task: ecs.FargateTaskDefinition) -> None:
        """Mount the file system (TLS, IAM-authorized) and inject the database secret's fields."""
        task.add_volume(
            name=VOLUME_NAME,
            efs_volume_configuration=ecs.EfsVolumeConfiguration(
                file_system_id=self.file_system.file_system_id,
                transit_encryption="ENABLED",
                authorization_config=ecs.AuthorizationConfig(iam="ENABLED"),
            ),
        )
        # The image's entrypoint copies WordPress into the volume and chowns it, as root.
        self.file_system.grant_root_access(task.task_role)
        container = task.default_container
        assert container is not None
        container.add_mount_points(
            ecs.MountPoint(container_path=CONTENT_PATH, source_volume=VOLUME_NAME, read_only=False)
        )
        for variable, field in DB_SECRETS.items():
            container.add_secret(variable, ecs.Secret.from_secrets_manager(self.db.secret, field))

    def _outputs(self) -> None:
        for name, value in (
            ("DatabaseEndpoint", self.db.endpoint.hostname),
            ("DatabaseSecretArn", self.db.secret.secret_arn),
            ("FileSystemId", self.file_system.file_system_id),
        ):
            CfnOutput(self, name, value=value).override_logical_id(name)


def _health_check() -> elbv2.HealthCheck:
    return elbv2.HealthCheck(path=HEALTH_CHECK_PATH, healthy_http_codes="200")


def _validate(service_props: FargateTaskProps | None) -> None:
    if service_props is None:
        return
    if service_props.external is None:
        raise ValidationError("service_props.external", "WordPress is served by the internet-facing ALB")
    if service_props.internal is not None:
        raise ValidationError("service_props.internal", "WordPress has no internal ALB; leave it unset")
