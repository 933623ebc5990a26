"""``Database``: the MySQL database behind WordPress, with generated credentials in Secrets Manager."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..errors import ValidationError
from .findings import acknowledge

AURORA_MYSQL_VERSION = rds.AuroraMysqlEngineVersion.VER_3_10_0
"""Aurora MySQL 3 (MySQL 8.0-compatible), the 3.10 long-term-support line."""
MYSQL_VERSION = rds.MysqlEngineVersion.VER_8_0_43
"""RDS for MySQL 8.0 for ``single_db_instance``."""
DEFAULT_INSTANCE_TYPE = ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM)
"""``db.t4g.medium``: the smallest class Aurora MySQL 3 accepts, and a fair size for one RDS instance."""
MASTER_USERNAME = "admin"
DEFAULT_BACKUP_RETENTION = Duration.days(7)
SERVERLESS_CAPACITY_LIMITS = (0.0, 256.0)
"""Aurora Serverless v2 capacity range in ACUs, in steps of 0.5 (0 pauses an idle writer)."""


class Database(Construct):
    """A MySQL 8.0-compatible database: Aurora (provisioned or Serverless v2) or one RDS instance.

    :param vpc: the VPC.
    :param vpc_subnets: where the database runs. Default: private subnets with egress.
    :param aurora_serverless: an Aurora MySQL 3 cluster whose writer is ``db.serverless``. Default ``False``.
    :param single_db_instance: one RDS for MySQL 8.0 instance (20 GiB gp3) instead of a cluster.
        Default ``False``.
    :param instance_type: provisioned writer or single instance class. Default ``db.t4g.medium``.
    :param backup_retention: automated backups, 1-35 days. Default 7 days.
    :param serverless_min_capacity: fewest ACUs of a serverless writer (0-256, steps of 0.5). Default 0.5.
    :param serverless_max_capacity: most ACUs of a serverless writer (1-256, steps of 0.5). Default 4.
    :param database_name: database created with the cluster or instance. Default ``wordpress``.
    :param removal_policy: on stack deletion. Default ``RemovalPolicy.SNAPSHOT`` (a final snapshot);
        the secret is retained unless this is ``RemovalPolicy.DESTROY``.

    Attributes: ``secret`` (generated credentials; after deployment it also holds ``host`` and
    ``port``), ``connections`` (the database's security group; admits nothing until allowed),
    ``endpoint`` (the writer's ``rds.Endpoint``), ``cluster`` or ``instance`` (the other is ``None``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection | None = None,
        aurora_serverless: bool = False,
        single_db_instance: bool = False,
        instance_type: ec2.InstanceType | None = None,
        backup_retention: Duration = DEFAULT_BACKUP_RETENTION,
        serverless_min_capacity: float = 0.5,
        serverless_max_capacity: float = 4,
        database_name: str = "wordpress",
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        backup_days = _validate(
            aurora_serverless=aurora_serverless,
            single_db_instance=single_db_instance,
            instance_type=instance_type,
            backup_retention=backup_retention,
            serverless_min_capacity=serverless_min_capacity,
            serverless_max_capacity=serverless_max_capacity,
        )
        super().__init__(scope, id)
        subnets = vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description=f"MySQL of {self.node.path}",
        )
        removal_policy = removal_policy or RemovalPolicy.SNAPSHOT
        generated = rds.DatabaseSecret(self, "Secret", username=MASTER_USERNAME)
        # The credentials outlive the stack with the snapshot they open, unless all is destroyed.
        generated.apply_removal_policy(
            RemovalPolicy.DESTROY if removal_policy == RemovalPolicy.DESTROY else RemovalPolicy.RETAIN
        )
        credentials = rds.Credentials.from_secret(generated)
        self.cluster: rds.DatabaseCluster | None = None
        self.instance: rds.DatabaseInstance | None = None
        if single_db_instance:
            self.instance = rds.DatabaseInstance(
                self,
                "Instance",
                engine=rds.DatabaseInstanceEngine.mysql(version=MYSQL_VERSION),
                instance_type=instance_type or DEFAULT_INSTANCE_TYPE,
                vpc=vpc,
                vpc_subnets=subnets,
                security_groups=[security_group],
                credentials=credentials,
                database_name=database_name,
                backup_retention=Duration.days(backup_days),
                allocated_storage=20,
                storage_type=rds.StorageType.GP3,
                storage_encrypted=True,
                removal_policy=removal_policy,
            )
            database: rds.DatabaseInstance | rds.DatabaseCluster = self.instance
            self.endpoint = self.instance.instance_endpoint
            acknowledge(
                self.instance,
                "AwsSolutions-RDS3",
                "single_db_instance is the low-cost, single-AZ choice; the Aurora options span AZs",
            )
        else:
            writer = (
                rds.ClusterInstance.serverless_v2("Writer")
                if aurora_serverless
                else rds.ClusterInstance.provisioned(
                    "Writer", instance_type=instance_type or DEFAULT_INSTANCE_TYPE
                )
            )
            self.cluster = rds.DatabaseCluster(
                self,
                "Cluster",
                engine=rds.DatabaseClusterEngine.aurora_mysql(version=AURORA_MYSQL_VERSION),
                writer=writer,
                serverless_v2_min_capacity=serverless_min_capacity if aurora_serverless else None,
                serverless_v2_max_capacity=serverless_max_capacity if aurora_serverless else None,
                vpc=vpc,
                vpc_subnets=subnets,
                security_groups=[security_group],
                credentials=credentials,
                default_database_name=database_name,
                backup=rds.BackupProps(retention=Duration.days(backup_days)),
                storage_encrypted=True,
                removal_policy=removal_policy,
            )
            database = self.cluster
            self.endpoint = self.cluster.cluster_endpoint
            acknowledge(
                self.cluster,
                "AwsSolutions-RDS14",
                "recovery is from automated backups (point-in-time restore); Backtrack is billed per change",
            )
            acknowledge(
                self.cluster,
                "AwsSolutions-RDS6",
                "WordPress signs in with a password; it cannot use IAM database authentication",
            )
        assert database.secret is not None
        self.secret: secretsmanager.ISecret = database.secret
        self.connections: ec2.Connections = database.connections
        acknowledge(
            self,
            "AwsSolutions-RDS10",
            "the removal policy keeps a final snapshot; deletion protection would block stack deletion",
        )
        acknowledge(
            self,
            "AwsSolutions-RDS11",
            "WordPress expects MySQL's port 3306; only the WordPress service may connect",
        )
        acknowledge(
            self,
            "AwsSolutions-SMG4",
            "WordPress reads the password once at task start; rotation would lock out running tasks",
        )


def _validate(
    *,
    aurora_serverless: bool,
    single_db_instance: bool,
    instance_type: ec2.InstanceType | None,
    backup_retention: Duration,
    serverless_min_capacity: float,
    serverless_max_capacity: float,
) -> int:
    """Check the props before anything reaches jsii; return the backup retention in days."""
    if aurora_serverless and single_db_instance:
        raise ValidationError("single_db_instance", "cannot be combined with aurora_serverless; choose one")
    if aurora_serverless and instance_type is not None:
        raise ValidationError(
            "instance_type", "a Serverless v2 writer is db.serverless; set capacities instead"
        )
    low, high = SERVERLESS_CAPACITY_LIMITS
    for field, value in (
        ("serverless_min_capacity", serverless_min_capacity),
        ("serverless_max_capacity", serverless_max_capacity),
    ):
        if not low <= value <= high or value * 2 != int(value * 2):
            raise ValidationError(field, f"{value} is not an ACU count ({low:g}-{high:g} in steps of 0.5)")
    if serverless_max_capacity < 1:
        raise ValidationError("serverless_max_capacity", f"{serverless_max_capacity} is below 1 ACU")
    if serverless_min_capacity > serverless_max_capacity:
        raise ValidationError(
            "serverless_min_capacity",
            f"{serverless_min_capacity} is above serverless_max_capacity ({serverless_max_capacity})",
        )
    days = backup_retention.to_hours() / 24
    if days != int(days) or not 1 <= days <= 35:
        raise ValidationError("backup_retention", f"{days:g} days is not a whole number of days in 1-35")
    return int(days)
