"""Find a deployed stack's load balancers, target groups and ECS services from the stack itself.

The kit tags every target group ``dualalb:service=<task>`` and ``dualalb:alb=external|internal``
and every ECS service ``dualalb:service=<task>``; :func:`discover` reads those tags, so nobody
types an ARN. It reads CloudFormation's resource list, then describes the resources through
ELBv2 and ECS in as few calls as their batch limits allow.

The ``*_table`` functions answer "what is running" per kind, from the same resource list:
:func:`services_table` (desired counts and capacity mixes), the RDS clusters and instances, the
EFS file systems, and the secrets (metadata only, never a value).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from .diagram import capacity_label
from .errors import ValidationError
from .tags import ALB_TAG, SERVICE_TAG
from .target import Target, as_target
from .validation import SIDES

DESCRIBE_TAGS_BATCH = 20
DESCRIBE_SERVICES_BATCH = 10


@dataclass(frozen=True)
class LoadBalancer:
    """One of the stack's load balancers (ALBs, or NLBs for ``load_balancer: nlb``); ``alb`` is
    its side, ``external`` or ``internal``."""

    alb: str
    arn: str

    @property
    def dimension(self) -> str:
        """CloudWatch's ``LoadBalancer`` dimension value: ``app/<name>/<id>`` (``net/...`` for an NLB)."""
        return self.arn.split(":loadbalancer/", 1)[1]

    @property
    def kind(self) -> str:
        """``application`` or ``network``, from the ARN."""
        return "network" if self.dimension.startswith("net/") else "application"


@dataclass(frozen=True)
class TargetGroup:
    """A service's target group behind one ALB, with the tags the kit put on it."""

    service: str
    alb: str
    arn: str
    load_balancer: LoadBalancer
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def dimension(self) -> str:
        """CloudWatch's ``TargetGroup`` dimension value: ``targetgroup/<name>/<id>``."""
        return "targetgroup/" + self.arn.split(":targetgroup/", 1)[1]


@dataclass(frozen=True)
class EcsService:
    """A task's ECS service: the names CloudWatch uses and its current desired count."""

    service: str
    cluster_name: str
    service_name: str
    arn: str
    desired_count: int
    container_insights: bool
    tags: tuple[tuple[str, str], ...] = ()
    capacity: tuple[tuple[str, int, int], ...] = ()
    """Its capacity provider strategy, ``(provider, base, weight)`` per provider."""
    load_balancers: int = 0
    """How many target groups it registers tasks with."""


@dataclass(frozen=True)
class StackResources:
    """What :func:`discover` found, ordered by service then ALB side."""

    stack_name: str
    load_balancers: tuple[LoadBalancer, ...]
    target_groups: tuple[TargetGroup, ...]
    services: tuple[EcsService, ...]

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys([s.service for s in self.services] + [t.service for t in self.target_groups])
        )

    def require_albs(self, what: str) -> None:
        """Raise ``ValidationError("stack_name", ...)`` if the stack is behind NLBs: ``what`` works on
        the ALB request metrics (``AWS/ApplicationELB``), which an NLB does not publish."""
        if any(balancer.kind == "network" for balancer in self.load_balancers):
            raise ValidationError(
                "stack_name",
                f"{self.stack_name!r} is behind Network Load Balancers; {what} needs ALB request "
                "metrics (AWS/ApplicationELB), which NLBs do not publish (NLB stacks are not supported)",
            )

    def tag_values(self, key: str) -> list[str]:
        """Values of tag ``key`` on the stack's target groups and services."""
        return [
            value
            for resource in (*self.target_groups, *self.services)
            for name, value in resource.tags
            if name == key
        ]


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


def stack_resources(stack_name: str, cloudformation: Any) -> dict[str, list[str]]:
    """Physical ids of the stack's resources by CloudFormation type."""
    by_type: dict[str, list[str]] = {}
    try:
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for summary in page["StackResourceSummaries"]:
                if summary.get("PhysicalResourceId"):
                    by_type.setdefault(summary["ResourceType"], []).append(summary["PhysicalResourceId"])
    except ClientError as error:
        raise ValidationError(
            "stack_name", f"{stack_name!r}: {error.response['Error']['Message']}"
        ) from error
    return by_type


def discover(
    stack_name: str,
    *,
    target: Target | None = None,
) -> StackResources:
    """The stack's ALBs, tagged target groups and tagged ECS services.

    Raises ``ValidationError("stack_name", ...)`` when the stack does not exist or holds no
    resource the kit tagged. ``target`` is where the stack is (default: AWS with boto3's default
    session and region, :func:`dualalb_kit.target.as_target`).
    """
    where = as_target(target)
    clients = {name: where.client(name) for name in ("cloudformation", "elbv2", "ecs")}
    resources = stack_resources(stack_name, clients["cloudformation"])
    target_groups = find_target_groups(
        resources.get("AWS::ElasticLoadBalancingV2::TargetGroup", []), clients["elbv2"]
    )
    services = find_services(
        resources.get("AWS::ECS::Service", []), resources.get("AWS::ECS::Cluster", []), clients["ecs"]
    )
    if not target_groups and not services:
        raise ValidationError(
            "stack_name",
            f"{stack_name!r} has no target group or ECS service tagged {SERVICE_TAG}; "
            "is it a dualalb-kit stack?",
        )
    balancers = tuple(dict.fromkeys(group.load_balancer for group in target_groups))
    return StackResources(stack_name, balancers, target_groups, services)


def find_target_groups(arns: list[str], elbv2: Any) -> tuple[TargetGroup, ...]:
    tags: dict[str, dict[str, str]] = {}
    for batch in batches(arns, DESCRIBE_TAGS_BATCH):
        for description in elbv2.describe_tags(ResourceArns=list(batch))["TagDescriptions"]:
            tags[description["ResourceArn"]] = {t["Key"]: t["Value"] for t in description.get("Tags", [])}
    tagged = [arn for arn in arns if SERVICE_TAG in tags.get(arn, {}) and tags[arn].get(ALB_TAG) in SIDES]
    groups = []
    for batch in batches(tagged, DESCRIBE_TAGS_BATCH):
        for group in elbv2.describe_target_groups(TargetGroupArns=list(batch))["TargetGroups"]:
            own = tags[group["TargetGroupArn"]]
            for balancer_arn in group.get("LoadBalancerArns", [])[:1]:
                groups.append(
                    TargetGroup(
                        service=own[SERVICE_TAG],
                        alb=own[ALB_TAG],
                        arn=group["TargetGroupArn"],
                        load_balancer=LoadBalancer(own[ALB_TAG], balancer_arn),
                        tags=tuple(sorted(own.items())),
                    )
                )
    return tuple(sorted(groups, key=lambda g: (g.service, SIDES.index(g.alb))))


def find_services(arns: list[str], clusters: list[str], ecs: Any) -> tuple[EcsService, ...]:
    by_cluster: dict[str, list[str]] = {}
    for arn in arns:
        parts = arn.split(":service/", 1)[-1].split("/")
        by_cluster.setdefault(parts[0] if len(parts) == 2 else clusters[0], []).append(arn)
    insights = container_insights(list(by_cluster), ecs)
    found = []
    for cluster, service_arns in by_cluster.items():
        for batch in batches(service_arns, DESCRIBE_SERVICES_BATCH):
            response = ecs.describe_services(cluster=cluster, services=list(batch), include=["TAGS"])
            for service in response["services"]:
                tags = {t["key"]: t["value"] for t in service.get("tags") or []}
                if SERVICE_TAG in tags:
                    cluster_name = service["clusterArn"].rsplit("/", 1)[-1]
                    found.append(
                        EcsService(
                            service=tags[SERVICE_TAG],
                            cluster_name=cluster_name,
                            service_name=service["serviceName"],
                            arn=service["serviceArn"],
                            desired_count=int(service["desiredCount"]),
                            container_insights=insights.get(cluster_name, False),
                            tags=tuple(sorted(tags.items())),
                            capacity=tuple(
                                (
                                    item["capacityProvider"],
                                    int(item.get("base", 0)),
                                    int(item.get("weight", 0)),
                                )
                                for item in service.get("capacityProviderStrategy") or []
                            ),
                            load_balancers=len(service.get("loadBalancers") or []),
                        )
                    )
    return tuple(sorted(found, key=lambda s: s.service))


def container_insights(clusters: list[str], ecs: Any) -> dict[str, bool]:
    """Whether Container Insights is on, per cluster name."""
    if not clusters:
        return {}
    described = ecs.describe_clusters(clusters=clusters, include=["SETTINGS"])["clusters"]
    return {
        cluster["clusterName"]: any(
            s["name"] == "containerInsights" and s["value"] in ("enabled", "enhanced")
            for s in cluster.get("settings", [])
        )
        for cluster in described
    }


SERVICES_COLUMNS = ["service", "cluster", "desired_count", "capacity", "load_balancers"]
DATABASE_CLUSTER_COLUMNS = [
    "cluster",
    "engine",
    "version",
    "database",
    "min_acu",
    "max_acu",
    "encrypted",
    "backup_days",
    "status",
]
DATABASE_INSTANCE_COLUMNS = ["instance", "cluster", "instance_class", "engine", "status"]
FILE_SYSTEM_COLUMNS = ["file_system", "encrypted", "state"]
SECRET_COLUMNS = ["name", "arn", "rotation"]


def services_table(
    stack_name: str,
    *,
    target: Target | None = None,
) -> pd.DataFrame:
    """The stack's ECS services as they run now, one row per service (by task name).

    Columns: ``service`` (task name), ``cluster``, ``desired_count``, ``capacity`` (the strategy,
    ``FARGATE_SPOT x1`` style; empty for a launch type), ``load_balancers`` (target groups it
    registers with). Arguments and errors as for :func:`discover`.
    """
    services = discover(stack_name, target=target).services
    rows = [
        (s.service, s.cluster_name, s.desired_count, capacity_label(s.capacity), s.load_balancers)
        for s in services
    ]
    return pd.DataFrame(rows, columns=SERVICES_COLUMNS)


def database_clusters_table(
    stack_name: str,
    *,
    target: Target | None = None,
) -> pd.DataFrame:
    """The stack's Aurora clusters as RDS describes them, one row per cluster.

    Columns: ``cluster`` (identifier), ``engine``, ``version``, ``database`` (the schema created
    with it), ``min_acu``/``max_acu`` (the Serverless v2 range; NaN when provisioned),
    ``encrypted``, ``backup_days``, ``status``. Empty when the stack holds no cluster.
    ``ValidationError("stack_name", ...)`` when the stack does not exist.
    """
    rds, physical_ids = _stack_parts(stack_name, "AWS::RDS::DBCluster", "rds", target)
    rows = []
    for identifier in physical_ids:
        [cluster] = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
        capacity = cluster.get("ServerlessV2ScalingConfiguration") or {}
        rows.append(
            (
                cluster["DBClusterIdentifier"],
                cluster["Engine"],
                cluster.get("EngineVersion"),
                cluster.get("DatabaseName"),
                capacity.get("MinCapacity"),
                capacity.get("MaxCapacity"),
                cluster.get("StorageEncrypted"),
                cluster.get("BackupRetentionPeriod"),
                cluster.get("Status"),
            )
        )
    return pd.DataFrame(rows, columns=DATABASE_CLUSTER_COLUMNS)


def database_instances_table(
    stack_name: str,
    *,
    target: Target | None = None,
) -> pd.DataFrame:
    """The stack's DB instances (a cluster's writer and readers, or a single instance), one row each.

    Columns: ``instance`` (identifier), ``cluster`` (empty for a single instance),
    ``instance_class`` (``db.serverless`` for a Serverless v2 member), ``engine``, ``status``.
    Errors as for :func:`database_clusters_table`.
    """
    rds, physical_ids = _stack_parts(stack_name, "AWS::RDS::DBInstance", "rds", target)
    rows = []
    for identifier in physical_ids:
        [instance] = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
        rows.append(
            (
                instance["DBInstanceIdentifier"],
                instance.get("DBClusterIdentifier", ""),
                instance["DBInstanceClass"],
                instance["Engine"],
                instance.get("DBInstanceStatus"),
            )
        )
    return pd.DataFrame(rows, columns=DATABASE_INSTANCE_COLUMNS)


def file_systems_table(
    stack_name: str,
    *,
    target: Target | None = None,
) -> pd.DataFrame:
    """The stack's EFS file systems: ``file_system`` (id), ``encrypted`` (at rest), ``state``.

    Errors as for :func:`database_clusters_table`.
    """
    efs, physical_ids = _stack_parts(stack_name, "AWS::EFS::FileSystem", "efs", target)
    rows = []
    for identifier in physical_ids:
        [described] = efs.describe_file_systems(FileSystemId=identifier)["FileSystems"]
        rows.append((described["FileSystemId"], described["Encrypted"], described.get("LifeCycleState")))
    return pd.DataFrame(rows, columns=FILE_SYSTEM_COLUMNS)


def secrets_table(
    stack_name: str,
    *,
    target: Target | None = None,
) -> pd.DataFrame:
    """The stack's Secrets Manager secrets: where credentials live, never what they are.

    Columns: ``name``, ``arn``, ``rotation`` (whether rotation is on). Reads metadata only
    (``DescribeSecret``); no secret value is ever fetched. Errors as for
    :func:`database_clusters_table`.
    """
    secrets, physical_ids = _stack_parts(stack_name, "AWS::SecretsManager::Secret", "secretsmanager", target)
    rows = []
    for arn in physical_ids:
        described = secrets.describe_secret(SecretId=arn)
        rows.append((described["Name"], described["ARN"], bool(described.get("RotationEnabled"))))
    return pd.DataFrame(rows, columns=SECRET_COLUMNS)


def _stack_parts(
    stack_name: str, resource_type: str, service: str, target: Target | None
) -> tuple[Any, list[str]]:
    """A ``service`` client on ``target`` and the physical ids of the stack's ``resource_type``
    resources (``ValidationError("stack_name", ...)`` when the stack does not exist)."""
    where = as_target(target)
    client = where.client(service)
    return client, stack_resources(stack_name, where.client("cloudformation")).get(resource_type, [])
