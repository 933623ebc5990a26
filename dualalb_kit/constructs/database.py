"""``Database``: a MySQL database for a web app, with generated credentials in Secrets Manager."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict, Unpack

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import validation
from ..errors import ValidationError
from .findings import acknowledge
from .props import with_defaults

AURORA_MYSQL_VERSION = rds.AuroraMysqlEngineVersion.VER_3_10_0
"""Aurora MySQL 3 (MySQL 8.0-compatible), the 3.10 long-term-support line."""
MYSQL_VERSION = rds.MysqlEngineVersion.VER_8_0_43
"""RDS for MySQL 8.0 for ``single_db_instance``."""
DEFAULT_INSTANCE_TYPE = ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM)
"""``db.t4g.medium``: the smallest class Aurora MySQL 3 accepts, and a fair size for one RDS instance."""
MASTER_USERNAME = "admin"
DEFAULT_DATABASE_NAME = "app"
SINGLE_INSTANCE_STORAGE_GIB = 20
SERVERLESS_CAPACITY_LIMITS = validation.SERVERLESS_CAPACITY_ACU
"""Aurora Serverless v2 capacity range in ACUs, in steps of 0.5 (0 pauses an idle writer)."""

PROP_NAMES = {"database_instance_type": "instance_type", "backup_retention_days": "backup_retention"}
"""The props of :class:`Database` named otherwise than :func:`validation.check_database`'s values."""

Variant = Literal["aurora-provisioned", "aurora-serverless", "single-instance"]
"""Which database :class:`Database` runs (from ``aurora_serverless`` and ``single_db_instance``)."""


class DatabaseOptions(TypedDict, total=False):
    """Which database and its capacity and backups: the options :class:`Database` and the app
    patterns (``WordPress``, ``Laravel``) take alike, each optional (defaults:
    :data:`DATABASE_OPTION_DEFAULTS`)."""

    aurora_serverless: bool
    """An Aurora MySQL 3 cluster whose writer is ``db.serverless``. Default ``False``."""
    single_db_instance: bool
    """One RDS for MySQL 8.0 instance (20 GiB gp3, one AZ) instead of a cluster. Default
    ``False``. With neither, an Aurora MySQL 3 cluster with a provisioned writer."""
    backup_retention: Duration
    """Automated backups, 1-35 whole days. Default 7 days."""
    serverless_min_capacity: float
    """Fewest ACUs of a serverless writer (0-256, steps of 0.5). Default 0.5."""
    serverless_max_capacity: float
    """Most ACUs of a serverless writer (1-256, steps of 0.5). Default 4."""


DATABASE_OPTION_DEFAULTS: Mapping[str, Any] = {
    "aurora_serverless": validation.DATABASE_DEFAULTS["aurora_serverless"],
    "single_db_instance": validation.DATABASE_DEFAULTS["single_db_instance"],
    "backup_retention": Duration.days(validation.DATABASE_DEFAULTS["backup_retention_days"]),
    "serverless_min_capacity": validation.DATABASE_DEFAULTS["serverless_min_capacity"],
    "serverless_max_capacity": validation.DATABASE_DEFAULTS["serverless_max_capacity"],
}
"""The defaults of :class:`DatabaseOptions`: the shared rules' (:data:`validation.DATABASE_DEFAULTS`)."""


class Database(Construct):
    """A MySQL 8.0-compatible database: Aurora (provisioned or Serverless v2) or one RDS instance.

    It admits nobody until told: ``allow_from`` peers, or ``connections.allow_default_port_from``
    later (``WordPress`` and ``Laravel`` admit their service so).

    :param vpc: the VPC.
    :param allow_from: peers admitted on MySQL's port 3306, one or a sequence (the original's
        ``allowFrom`` takes one): security groups, ``ec2.Peer.ipv4(cidr)``, or anything with
        ``connections`` (a service, a function). Default: none.
    :param vpc_subnets: where the database runs. Default: private subnets with egress.
    :param instance_type: provisioned writer or single instance class. Default ``db.t4g.medium``.
    :param database_name: database created with the cluster or instance (a letter, then letters,
        digits or ``_``, at most 64). Default ``app``.
    :param removal_policy: on stack deletion. Default ``RemovalPolicy.SNAPSHOT``: the data is kept
        as a final snapshot (restorable, billed as storage only) while the running database goes,
        so the stack, its VPC included, deletes cleanly; the secret is retained with it, since a
        restored snapshot keeps the same user and password. ``RemovalPolicy.RETAIN`` keeps the
        database running and needs a VPC the stack does not create (the retained database would
        hold its subnets and the stack's deletion would fail). ``RemovalPolicy.DESTROY`` deletes
        the data and the secret: for throwaway demos only.
    :param options: which database and its capacity and backups (:class:`DatabaseOptions`):
        ``aurora_serverless``, ``single_db_instance``, ``backup_retention``,
        ``serverless_min_capacity``, ``serverless_max_capacity``.

    Attributes: ``vpc``, ``variant`` (:data:`Variant`), ``secret`` (generated credentials; after
    deployment it also holds ``host``, ``port`` and ``dbname``), ``connections`` (the database's
    security group), ``endpoint`` (the writer's ``rds.Endpoint``), ``cluster_endpoint_hostname``,
    ``cluster_identifier`` (of the cluster, or of the single instance), ``cluster`` or
    ``instance`` (the other is ``None``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        allow_from: ec2.IConnectable | Sequence[ec2.IConnectable] = (),
        vpc_subnets: ec2.SubnetSelection | None = None,
        instance_type: ec2.InstanceType | None = None,
        database_name: str = DEFAULT_DATABASE_NAME,
        removal_policy: RemovalPolicy | None = None,
        **options: Unpack[DatabaseOptions],
    ) -> None:
        database = with_defaults("Database", DatabaseOptions, options, DATABASE_OPTION_DEFAULTS)
        values = database_values(**database, instance_type=instance_type, database_name=database_name)
        validation.check_database("", values, names=PROP_NAMES)
        check_removal_policy("removal_policy", removal_policy, vpc)
        super().__init__(scope, id)
        self.vpc = vpc
        self.variant: Variant = variant_of(
            aurora_serverless=database["aurora_serverless"], single_db_instance=database["single_db_instance"]
        )
        self._instance_type = instance_type or DEFAULT_INSTANCE_TYPE
        self._serverless_capacity = (database["serverless_min_capacity"], database["serverless_max_capacity"])
        self._database_name = database_name
        self._backup_days = int(values["backup_retention_days"])
        self._removal_policy = removal_policy or RemovalPolicy.SNAPSHOT
        self._placement = self._placement_props(vpc_subnets)
        self.cluster: rds.DatabaseCluster | None = None
        self.instance: rds.DatabaseInstance | None = None
        database = self._variants()[self.variant]()
        assert database.secret is not None
        self.secret: secretsmanager.ISecret = database.secret
        self.connections: ec2.Connections = database.connections
        peers = [allow_from] if hasattr(allow_from, "connections") else list(allow_from)
        for index, peer in enumerate(peers):
            self.connections.allow_default_port_from(peer, f"MySQL from allow_from[{index}]")
        self._acknowledge()

    def _placement_props(self, vpc_subnets: ec2.SubnetSelection | None) -> dict[str, Any]:
        """What every variant takes alike: network, security group, generated credentials,
        encryption and removal policy."""
        generated = rds.DatabaseSecret(self, "Secret", username=MASTER_USERNAME)
        # The credentials outlive the stack with the snapshot they open, unless all is destroyed.
        generated.apply_removal_policy(
            RemovalPolicy.DESTROY if self._removal_policy == RemovalPolicy.DESTROY else RemovalPolicy.RETAIN
        )
        return {
            "vpc": self.vpc,
            "vpc_subnets": vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            "security_groups": [
                ec2.SecurityGroup(
                    self,
                    "SecurityGroup",
                    vpc=self.vpc,
                    allow_all_outbound=False,
                    description=f"MySQL of {self.node.path}",
                )
            ],
            "credentials": rds.Credentials.from_secret(generated),
            "storage_encrypted": True,
            "removal_policy": self._removal_policy,
        }

    @property
    def resource(self) -> rds.DatabaseCluster | rds.DatabaseInstance:
        """The cluster or the single instance."""
        database = self.cluster or self.instance
        assert database is not None
        return database

    @property
    def endpoint(self) -> rds.Endpoint:
        """The writer's endpoint (the cluster endpoint, or the instance's)."""
        if self.cluster is not None:
            return self.cluster.cluster_endpoint
        assert self.instance is not None
        return self.instance.instance_endpoint

    @property
    def cluster_endpoint_hostname(self) -> str:
        """The writer's host name (a token until deployment)."""
        return self.endpoint.hostname

    @property
    def cluster_identifier(self) -> str:
        """The cluster's identifier, or the single instance's."""
        if self.cluster is not None:
            return self.cluster.cluster_identifier
        assert self.instance is not None
        return self.instance.instance_identifier

    # ---- one method per variant --------------------------------------------------------------

    def _variants(self) -> dict[Variant, Callable[[], rds.DatabaseCluster | rds.DatabaseInstance]]:
        return {
            "aurora-provisioned": self._aurora_provisioned,
            "aurora-serverless": self._aurora_serverless,
            "single-instance": self._single_instance,
        }

    def _aurora_provisioned(self) -> rds.DatabaseCluster:
        return self._aurora(rds.ClusterInstance.provisioned("Writer", instance_type=self._instance_type))

    def _aurora_serverless(self) -> rds.DatabaseCluster:
        low, high = self._serverless_capacity
        return self._aurora(
            rds.ClusterInstance.serverless_v2("Writer"),
            serverless_v2_min_capacity=low,
            serverless_v2_max_capacity=high,
        )

    def _aurora(self, writer: rds.IClusterInstance, **capacity: float) -> rds.DatabaseCluster:
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_mysql(version=AURORA_MYSQL_VERSION),
            writer=writer,
            default_database_name=self._database_name,
            backup=rds.BackupProps(retention=Duration.days(self._backup_days)),
            **capacity,
            **self._placement,
        )
        acknowledge(
            self.cluster,
            "AwsSolutions-RDS14",
            "recovery is from automated backups (point-in-time restore); Backtrack is billed per change",
        )
        acknowledge(
            self.cluster,
            "AwsSolutions-RDS6",
            "the apps (WordPress, Laravel) sign in with a password; they cannot use IAM database auth",
        )
        return self.cluster

    def _single_instance(self) -> rds.DatabaseInstance:
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=rds.DatabaseInstanceEngine.mysql(version=MYSQL_VERSION),
            instance_type=self._instance_type,
            database_name=self._database_name,
            backup_retention=Duration.days(self._backup_days),
            allocated_storage=SINGLE_INSTANCE_STORAGE_GIB,
            storage_type=rds.StorageType.GP3,
            **self._placement,
        )
        acknowledge(
            self.instance,
            "AwsSolutions-RDS3",
            "single_db_instance is the low-cost, single-AZ choice; the Aurora options span AZs",
        )
        return self.instance

    def _acknowledge(self) -> None:
        acknowledge(
            self,
            "AwsSolutions-RDS10",
            "the removal policy keeps a final snapshot; deletion protection would block stack deletion",
        )
        acknowledge(
            self,
            "AwsSolutions-RDS11",
            "MySQL clients expect port 3306; only the app's service and allow_from peers may connect",
        )
        acknowledge(
            self,
            "AwsSolutions-SMG4",
            "the apps read the password once at task start; rotation would lock out running tasks",
        )


def variant_of(*, aurora_serverless: bool, single_db_instance: bool) -> Variant:
    """The database a :class:`Database` with these options runs."""
    if single_db_instance:
        return "single-instance"
    return "aurora-serverless" if aurora_serverless else "aurora-provisioned"


def database_values(
    *,
    aurora_serverless: bool,
    single_db_instance: bool,
    instance_type: ec2.InstanceType | None,
    backup_retention: Duration,
    serverless_min_capacity: float,
    serverless_max_capacity: float,
    database_name: str | None = None,
) -> dict[str, Any]:
    """The construct props as the plain values :func:`validation.check_database` reads."""
    return {
        "aurora_serverless": aurora_serverless,
        "single_db_instance": single_db_instance,
        "database_instance_type": None if instance_type is None else instance_type.to_string(),
        "backup_retention_days": backup_retention.to_hours() / 24,
        "serverless_min_capacity": serverless_min_capacity,
        "serverless_max_capacity": serverless_max_capacity,
        "database_name": database_name,
    }


def check_removal_policy(field: str, removal_policy: RemovalPolicy | None, vpc: ec2.IVpc) -> None:
    """RETAIN keeps the database running: not in a VPC the app creates (an ``ec2.Vpc``)."""
    if removal_policy == RemovalPolicy.RETAIN and isinstance(vpc.node.default_child, ec2.CfnVPC):
        raise ValidationError(field, validation.RETAINED_DATABASE_IN_NEW_VPC)
