"""RDS: Aurora clusters (moto has no model; serverless v2 scaling kept) and instances that keep
cluster membership, subnet group, security groups and the rest of the template.

Master credentials given as ``{{resolve:secretsmanager:...}}`` references are resolved, so
``describe_db_clusters`` reports the user name the secret holds.
"""

from __future__ import annotations

import re
from operator import attrgetter
from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.rds import models as rds_models
from moto.rds.models import rds_backends

from ._base import BackendHandle, GapFillModel, Properties, resolve_secret_references, snake_kwargs

RENAMES = {
    "DBName": "db_name",
    "VPCSecurityGroups": "vpc_security_group_ids",
    "EnableCloudwatchLogsExports": "enable_cloudwatch_logs_exports",
    "EnableIAMDatabaseAuthentication": "enable_iam_database_authentication",
}
"""CloudFormation property names whose backend keyword is not their snake_case."""

INTEGERS = ("AllocatedStorage", "BackupRetentionPeriod", "Iops", "MaxAllocatedStorage", "Port")
"""Properties CloudFormation passes as strings but RDS keeps as numbers."""


MAX_IDENTIFIER_LENGTH = 63


def database_identifier(resource_name: str) -> str:
    """An RDS identifier from a name CloudFormation gave (``stack-LogicalId-SUFFIX``): lower case,
    at most 63 characters keeping the unique suffix, no doubled or trailing hyphen."""
    name = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", resource_name.lower())).strip("-")
    if len(name) > MAX_IDENTIFIER_LENGTH:
        head, _, suffix = name.rpartition("-")
        name = f"{head[: MAX_IDENTIFIER_LENGTH - len(suffix) - 1].rstrip('-')}-{suffix}"
    return name


def _property_value(name: str, value: Any, account_id: str, region: str) -> Any:
    """A property as RDS keeps it: numbers as numbers, secret references resolved."""
    if name in INTEGERS:
        return int(value)
    return resolve_secret_references(value, account_id, region)


def database_kwargs(
    identifier_key: str, identifier: str, properties: dict[str, Any], account_id: str, region: str
) -> dict[str, Any]:
    """The RDS backend's keyword arguments for a cluster or instance with the template's properties."""
    kwargs = snake_kwargs(
        {name: _property_value(name, value, account_id, region) for name, value in properties.items()},
        RENAMES,
    )
    kwargs[identifier_key] = database_identifier(identifier)
    return kwargs


class DatabaseModel(GapFillModel):
    """An RDS model named by ``database_identifier``: an update that renames it replaces it."""

    @classmethod
    def replaced_on_update(cls, original: Any, resource_name: str, properties: Properties) -> bool:
        return cls.renamed(original.physical_resource_id, database_identifier(resource_name), properties)


class DBCluster(DatabaseModel, BackendHandle, CloudFormationModel):
    """``AWS::RDS::DBCluster``; Ref is the cluster identifier."""

    cfn_type = "AWS::RDS::DBCluster"
    name_property = "DBClusterIdentifier"
    cfn_attributes = {
        "DBClusterArn": attrgetter("resource.db_cluster_arn"),
        "DBClusterResourceId": attrgetter("resource.db_cluster_resource_id"),
        "Endpoint.Address": attrgetter("resource.endpoint"),
        "Endpoint.Port": lambda handle: str(handle.resource.port),
        "ReadEndpoint.Address": attrgetter("resource.reader_endpoint"),
    }
    backends = rds_backends
    id_attribute = "resource.db_cluster_identifier"

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        arguments = database_kwargs(
            "db_cluster_identifier", resource_name, properties, account_id, region_name
        )
        return cls(
            rds_backends[account_id][region_name].create_db_cluster(arguments), account_id, region_name
        )

    @classmethod
    def update_in_place(
        cls, original: Self, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> Self:
        arguments = database_kwargs(
            "db_cluster_identifier", original.physical_resource_id, properties, account_id, region_name
        )
        original.resource = original.backend.modify_db_cluster(arguments)
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.delete_db_cluster(self.physical_resource_id)


class DBInstance(DatabaseModel, rds_models.DBInstance, CloudFormationModel):
    """``AWS::RDS::DBInstance`` with cluster membership (``db.serverless`` writers) and every
    property moto's own model leaves out."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> rds_models.DBInstance:
        arguments = database_kwargs(
            "db_instance_identifier", resource_name, properties, account_id, region_name
        )
        backend = rds_backends[account_id][region_name]
        if "source_db_instance_identifier" in arguments:
            return backend.create_db_instance_read_replica(arguments)
        return backend.create_db_instance(arguments)

    @classmethod
    def update_in_place(
        cls,
        original: rds_models.DBInstance,
        resource_name: str,
        properties: Properties,
        account_id: str,
        region_name: str,
    ) -> rds_models.DBInstance:
        identifier = original.db_instance_identifier
        arguments = database_kwargs("db_instance_identifier", identifier, properties, account_id, region_name)
        return rds_backends[account_id][region_name].modify_db_instance(identifier, arguments)


class DBSubnetGroup(DatabaseModel, rds_models.DBSubnetGroup, CloudFormationModel):
    """``AWS::RDS::DBSubnetGroup`` named in lower case as RDS does; Ref is its name (moto gives
    the group no physical id, so a ``Ref`` to it resolved to the model object)."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> rds_models.DBSubnetGroup:
        group = rds_models.DBSubnetGroup.create_from_cloudformation_json(
            database_identifier(resource_name), cloudformation_json, account_id, region_name
        )
        group.physical_resource_id = group.name
        return group

    @classmethod
    def update_in_place(
        cls,
        original: rds_models.DBSubnetGroup,
        resource_name: str,
        properties: Properties,
        account_id: str,
        region_name: str,
    ) -> rds_models.DBSubnetGroup:
        ec2 = ec2_backends[account_id][region_name]
        group = rds_backends[account_id][region_name].modify_db_subnet_group(
            original.name,
            properties["DBSubnetGroupDescription"],
            [ec2.get_subnet(subnet_id) for subnet_id in properties["SubnetIds"]],
        )
        group.physical_resource_id = group.name
        return group
