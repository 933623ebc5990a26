"""Secrets Manager (moto has no CloudFormation models): secrets, generated secret strings, and
target attachments that add a database's connection details to its secret."""

from __future__ import annotations

import json
from operator import attrgetter
from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.rds.models import rds_backends
from moto.secretsmanager.models import secretsmanager_backends

from ._base import KeyedModel, Properties, StandaloneModel


def generate_secret_string(generator: dict[str, Any], account_id: str, region_name: str) -> str:
    """The secret string CloudFormation makes from ``GenerateSecretString`` (defaults as AWS: 32 chars)."""
    backend = secretsmanager_backends[account_id][region_name]
    password = json.loads(
        backend.get_random_password(
            password_length=int(generator.get("PasswordLength", 32)),
            exclude_characters=generator.get("ExcludeCharacters", ""),
            exclude_numbers=bool(generator.get("ExcludeNumbers", False)),
            exclude_punctuation=bool(generator.get("ExcludePunctuation", False)),
            exclude_uppercase=bool(generator.get("ExcludeUppercase", False)),
            exclude_lowercase=bool(generator.get("ExcludeLowercase", False)),
            include_space=bool(generator.get("IncludeSpace", False)),
            require_each_included_type=bool(generator.get("RequireEachIncludedType", True)),
        )
    )["RandomPassword"]
    if "SecretStringTemplate" not in generator:
        return password
    document = json.loads(generator["SecretStringTemplate"])
    document[generator["GenerateStringKey"]] = password
    return json.dumps(document)


class Secret(StandaloneModel, CloudFormationModel):
    """``AWS::SecretsManager::Secret``; Ref is the secret's ARN."""

    cfn_type = "AWS::SecretsManager::Secret"
    name_property = "Name"
    cfn_attributes = {"Id": attrgetter("arn")}

    id_attribute = "arn"

    def __init__(self, arn: str, name: str) -> None:
        self.arn = arn
        self.name = name

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        secret_string = properties.get("SecretString")
        if secret_string is None and "GenerateSecretString" in properties:
            secret_string = generate_secret_string(
                properties["GenerateSecretString"], account_id, region_name
            )
        created = json.loads(
            secretsmanager_backends[account_id][region_name].create_secret(
                name=resource_name,
                secret_string=secret_string,
                secret_binary=None,
                description=properties.get("Description"),
                tags=properties.get("Tags"),
                kms_key_id=properties.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=properties.get("ReplicaRegions", []),
                force_overwrite=False,
            )
        )
        return cls(created["ARN"], created["Name"])

    @classmethod
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        return cls.renamed(original.name, resource_name, properties)

    @classmethod
    def update_in_place(
        cls, original: Self, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> Self:
        secretsmanager_backends[account_id][region_name].update_secret(
            original.arn,
            secret_string=properties.get("SecretString"),
            description=properties.get("Description"),
            kms_key_id=properties.get("KmsKeyId"),
        )
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        secretsmanager_backends[account_id][region_name].delete_secret(
            self.arn, recovery_window_in_days=None, force_delete_without_recovery=True
        )


class SecretTargetAttachment(KeyedModel, CloudFormationModel):
    """``AWS::SecretsManager::SecretTargetAttachment``: writes engine, host, port and the database
    identifier of an RDS instance or cluster into the secret's JSON, as CloudFormation does.
    An update writes them again. The key is the secret's ARN."""

    cfn_type = "AWS::SecretsManager::SecretTargetAttachment"

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        rds = rds_backends[account_id][region_name]
        if properties["TargetType"] == "AWS::RDS::DBCluster":
            cluster = rds.describe_db_clusters(db_cluster_identifier=properties["TargetId"])[0]
            details = {"dbClusterIdentifier": cluster.db_cluster_identifier, "host": cluster.endpoint}
        else:
            instance = rds.describe_db_instances(db_instance_identifier=properties["TargetId"])[0]
            details = {"dbInstanceIdentifier": instance.db_instance_identifier, "host": instance.address}
            cluster = instance
        details.update(engine=cluster.engine, port=cluster.port)
        backend = secretsmanager_backends[account_id][region_name]
        value = backend.get_secret_value(properties["SecretId"], version_id=None, version_stage=None)
        document = {**json.loads(value["SecretString"]), **details}
        backend.put_secret_value(
            properties["SecretId"],
            secret_string=json.dumps(document),
            secret_binary=None,
            client_request_token=None,
            version_stages=["AWSCURRENT"],
        )
        return cls(value["ARN"])

    @classmethod
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        return False

    def delete(self, account_id: str, region_name: str) -> None:
        """Detaching leaves the secret's value as it is, as in CloudFormation."""
