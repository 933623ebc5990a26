"""A synthesized CloudFormation template read the way a reviewer reads it, one table per question.

Where do the database and its credentials come from, who may read the credentials, how is the
file system mounted, who may connect to what, what survives a stack deletion, and what changes
between two templates (:func:`template_diff`). Every function takes the template as a dict
(``Synthesis.template``) and returns a DataFrame; no CDK, no AWS.
Values CloudFormation only knows at deploy time are shown as text: ``{Cluster.Endpoint.Port}``
for ``Fn::GetAtt``, ``{Secret}`` for ``Ref``, joined as ``Fn::Join`` joins them. pandas loads
when the first table is made (:func:`data_frame`), not with the module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

DATA_RESOURCE_TYPES = (
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::SecretsManager::Secret",
    "AWS::EFS::FileSystem",
    "AWS::Logs::LogGroup",
)
"""Resources that hold data (or the key to it): the ones whose deletion policy matters."""

READ_SECRET_ACTION = "secretsmanager:GetSecretValue"

DATABASE_COLUMNS = [
    "resource",
    "type",
    "engine",
    "version",
    "instance_class",
    "database",
    "min_acu",
    "max_acu",
    "encrypted",
    "backup_days",
]
VARIABLE_COLUMNS = ["container", "variable", "kind", "value"]
SECRET_READER_COLUMNS = ["policy", "role", "role_of", "secret", "actions"]
EFS_VOLUME_COLUMNS = [
    "task_definition",
    "container",
    "container_path",
    "read_only",
    "file_system",
    "encrypted_at_rest",
    "transit_encryption",
    "iam_authorization",
]
INGRESS_COLUMNS = ["into", "port", "protocol", "source", "description"]
DELETION_COLUMNS = ["resource", "type", "on_delete", "on_replace"]


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one CloudFormation type: logical id -> resource, in template order."""
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def intrinsic_text(value: Any) -> str:
    """A property value as text: ``Ref`` as ``{Id}``, ``Fn::GetAtt`` as ``{Id.Attr}``, ``Fn::Join``
    joined, a plain value as itself, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"{{{argument}}}"
        if function == "Fn::GetAtt":
            return "{" + ".".join(argument if isinstance(argument, list) else [argument]) + "}"
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(intrinsic_text(part) for part in parts)
    return json.dumps(value)


def database_table(template: dict[str, Any]) -> pd.DataFrame:
    """The RDS clusters and instances, one row each.

    Columns: ``resource`` (logical id), ``type``, ``engine``, ``version`` (an instance of a cluster
    shows ``(the cluster's)``), ``instance_class`` (``db.serverless`` for a Serverless v2 member),
    ``database`` (the schema created with it), ``min_acu``/``max_acu`` (the Serverless v2 range,
    NaN otherwise), ``encrypted`` (at rest), ``backup_days``.
    """
    rows = []
    for kind in ("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"):
        for logical_id, resource in resources_of_type(template, kind).items():
            props = resource.get("Properties", {})
            member = "DBClusterIdentifier" in props
            capacity = props.get("ServerlessV2ScalingConfiguration", {})
            rows.append(
                (
                    logical_id,
                    kind,
                    props.get("Engine"),
                    props.get("EngineVersion", "(the cluster's)" if member else None),
                    props.get("DBInstanceClass", ""),
                    props.get("DatabaseName", props.get("DBName", "")),
                    capacity.get("MinCapacity"),
                    capacity.get("MaxCapacity"),
                    props.get("StorageEncrypted"),
                    props.get("BackupRetentionPeriod"),
                )
            )
    return data_frame(rows, DATABASE_COLUMNS)


def container_variables(template: dict[str, Any]) -> pd.DataFrame:
    """Every container's variables: ``kind`` ``secret`` (ECS resolves ``value``, a reference to a
    secret's field, when the task starts) or ``environment`` (``value`` is the plain value).

    Columns: ``container``, ``variable``, ``kind``, ``value``; secrets first, per container.
    """
    rows = []
    for task_definition in resources_of_type(template, "AWS::ECS::TaskDefinition").values():
        for container in task_definition.get("Properties", {}).get("ContainerDefinitions", []):
            name = container.get("Name", "")
            for secret in container.get("Secrets", []):
                rows.append((name, secret["Name"], "secret", intrinsic_text(secret["ValueFrom"])))
            for variable in container.get("Environment", []):
                rows.append((name, variable["Name"], "environment", intrinsic_text(variable["Value"])))
    return data_frame(rows, VARIABLE_COLUMNS)


def secret_readers(template: dict[str, Any]) -> pd.DataFrame:
    """Who may read a secret's value: one row per IAM policy statement allowing
    ``secretsmanager:GetSecretValue`` and role it is attached to.

    Columns: ``policy`` (logical id), ``role`` (logical id), ``role_of`` (``execution role of
    <task definition>``, ``task role of <task definition>`` or empty), ``secret`` (the statement's
    resource as text), ``actions`` (comma-separated).
    """
    uses = {}
    for logical_id, task_definition in resources_of_type(template, "AWS::ECS::TaskDefinition").items():
        props = task_definition.get("Properties", {})
        for key, use in (("ExecutionRoleArn", "execution role"), ("TaskRoleArn", "task role")):
            if key in props:
                uses[referenced_id(props[key])] = f"{use} of {logical_id}"
    rows = []
    for logical_id, policy in resources_of_type(template, "AWS::IAM::Policy").items():
        props = policy.get("Properties", {})
        for statement in props.get("PolicyDocument", {}).get("Statement", []):
            actions = _as_list(statement.get("Action", []))
            if statement.get("Effect") != "Allow" or READ_SECRET_ACTION not in actions:
                continue
            secret = ", ".join(intrinsic_text(item) for item in _as_list(statement.get("Resource", [])))
            for role in props.get("Roles", []):
                role_id = referenced_id(role)
                rows.append((logical_id, role_id, uses.get(role_id, ""), secret, ", ".join(actions)))
    return data_frame(rows, SECRET_READER_COLUMNS)


def efs_volumes(template: dict[str, Any]) -> pd.DataFrame:
    """Where EFS file systems are mounted: one row per container mount point of an EFS volume.

    Columns: ``task_definition`` (logical id), ``container``, ``container_path``, ``read_only``,
    ``file_system`` (logical id), ``encrypted_at_rest`` (the file system's ``Encrypted``),
    ``transit_encryption`` (``ENABLED``: mounted over TLS), ``iam_authorization`` (``ENABLED``: the
    task role, not just the network, decides who mounts).
    """
    file_systems = resources_of_type(template, "AWS::EFS::FileSystem")
    rows = []
    for logical_id, task_definition in resources_of_type(template, "AWS::ECS::TaskDefinition").items():
        props = task_definition.get("Properties", {})
        volumes = {
            volume["Name"]: volume["EFSVolumeConfiguration"]
            for volume in props.get("Volumes", [])
            if "EFSVolumeConfiguration" in volume
        }
        for container in props.get("ContainerDefinitions", []):
            for mount in container.get("MountPoints", []):
                config = volumes.get(mount.get("SourceVolume"))
                if config is None:
                    continue
                file_system = referenced_id(config.get("FilesystemId"))
                rows.append(
                    (
                        logical_id,
                        container.get("Name", ""),
                        mount.get("ContainerPath"),
                        bool(mount.get("ReadOnly", False)),
                        file_system,
                        file_systems.get(file_system, {}).get("Properties", {}).get("Encrypted", False),
                        config.get("TransitEncryption", "DISABLED"),
                        config.get("AuthorizationConfig", {}).get("IAM", "DISABLED"),
                    )
                )
    return data_frame(rows, EFS_VOLUME_COLUMNS)


def ingress_rules(template: dict[str, Any]) -> pd.DataFrame:
    """Every security-group ingress rule by source: standalone ``SecurityGroupIngress`` resources
    first, then the rules inline in a ``SecurityGroup``.

    Columns: ``into`` and ``source`` (a group by its description; else the CIDR or prefix list),
    ``port`` (a number, ``from-to``, ``all``, or the deploy-time reference as text),
    ``protocol``, ``description``.
    """
    groups = resources_of_type(template, "AWS::EC2::SecurityGroup")
    names = {
        logical_id: intrinsic_text(group.get("Properties", {}).get("GroupDescription", logical_id))
        for logical_id, group in groups.items()
    }

    def group_name(value: Any) -> str:
        logical_id = referenced_id(value)
        return names.get(logical_id, logical_id)

    rules = [
        (group_name(props.get("GroupId")), props)
        for props in (
            r.get("Properties", {})
            for r in resources_of_type(template, "AWS::EC2::SecurityGroupIngress").values()
        )
    ]
    rules += [
        (names[logical_id], rule)
        for logical_id, group in groups.items()
        for rule in group.get("Properties", {}).get("SecurityGroupIngress", [])
    ]
    rows = []
    for into, rule in rules:
        if "SourceSecurityGroupId" in rule:
            source = group_name(rule["SourceSecurityGroupId"])
        else:
            source = intrinsic_text(
                rule.get("CidrIp") or rule.get("CidrIpv6") or rule.get("SourcePrefixListId") or "?"
            )
        rows.append((into, _port(rule), str(rule.get("IpProtocol", "")), source, rule.get("Description", "")))
    return data_frame(rows, INGRESS_COLUMNS)


def deletion_policies(
    template: dict[str, Any], resource_types: Iterable[str] | None = DATA_RESOURCE_TYPES
) -> pd.DataFrame:
    """What a stack deletion (``on_delete``) and a replacement (``on_replace``) do to each resource
    of ``resource_types`` (default :data:`DATA_RESOURCE_TYPES`; ``None``: every resource).

    Columns: ``resource``, ``type``, ``on_delete`` and ``on_replace`` (``Delete``, ``Retain``,
    ``Snapshot``, ...; CloudFormation's default ``Delete`` when the template sets none).
    """
    wanted = None if resource_types is None else set(resource_types)
    rows = [
        (
            logical_id,
            resource["Type"],
            resource.get("DeletionPolicy", "Delete"),
            resource.get("UpdateReplacePolicy", "Delete"),
        )
        for logical_id, resource in template.get("Resources", {}).items()
        if wanted is None or resource["Type"] in wanted
    ]
    return data_frame(rows, DELETION_COLUMNS)


def _port(rule: dict[str, Any]) -> int | str:
    if str(rule.get("IpProtocol")) == "-1":
        return "all"
    first, last = rule.get("FromPort"), rule.get("ToPort", rule.get("FromPort"))
    if not isinstance(first, int):
        return intrinsic_text(first)
    return first if first == last else f"{first}-{intrinsic_text(last)}"


def referenced_id(value: Any) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at; other values as text."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".", 1)[0])
    return intrinsic_text(value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def data_frame(rows: Iterable[Any], columns: list[str]) -> pd.DataFrame:
    """``rows`` (dicts or tuples) as a DataFrame with ``columns``, in that order; pandas is imported
    here, on first use, so that reading a template (or failing early on bad input) never waits
    for it."""
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


DIFF_COLUMNS = ["logical_id", "type", "change", "property_paths"]
"""The columns of :func:`template_diff` (and :func:`dualalb_kit.deploy.diff`)."""


def template_diff(deployed: dict[str, Any], proposed: dict[str, Any]) -> pd.DataFrame:
    """Resource changes from template ``deployed`` to template ``proposed`` (columns as in ``diff``)."""
    import pandas as pd

    before, after = deployed.get("Resources", {}), proposed.get("Resources", {})
    rows = []
    for logical_id in sorted(after.keys() - before.keys()):
        rows.append((logical_id, after[logical_id].get("Type", ""), "added", []))
    for logical_id in sorted(before.keys() & after.keys()):
        paths = _differing_paths(before[logical_id], after[logical_id])
        if paths:
            rows.append((logical_id, after[logical_id].get("Type", ""), "modified", paths))
    for logical_id in sorted(before.keys() - after.keys()):
        rows.append((logical_id, before[logical_id].get("Type", ""), "removed", []))
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def _differing_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """Paths (``Properties.Tags[1].Value``) at which two JSON values differ, depth first."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths = []
        for key in sorted(before.keys() | after.keys(), key=str):
            child = f"{path}.{key}" if path else str(key)
            if key not in before or key not in after:
                paths.append(child)
            else:
                paths.extend(_differing_paths(before[key], after[key], child))
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            p
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for p in _differing_paths(b, a, f"{path}[{i}]")
        ]
    return [] if before == after else [path]
