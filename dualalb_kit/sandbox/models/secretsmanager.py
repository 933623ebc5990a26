"""Secrets Manager (moto has no CloudFormation models): secrets, generated secret strings, and
target attachments that add a database's connection details to its secret."""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.rds.models import rds_backends
from moto.secretsmanager.models import secretsmanager_backends


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


class Secret(CloudFormationModel):
    """``AWS::SecretsManager::Secret``; Ref is the secret's ARN."""

    def __init__(self, arn: str, name: str) -> None:
        self.arn = arn
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name != "Id":
            raise UnformattedGetAttTemplateException()
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Secret:
        properties = cloudformation_json["Properties"]
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
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Secret,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Secret:
        properties = cloudformation_json["Properties"]
        if new_resource_name != original_resource.name:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        secretsmanager_backends[account_id][region_name].update_secret(
            original_resource.arn,
            secret_string=properties.get("SecretString"),
            description=properties.get("Description"),
            kms_key_id=properties.get("KmsKeyId"),
        )
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        secretsmanager_backends[account_id][region_name].delete_secret(
            self.arn, recovery_window_in_days=None, force_delete_without_recovery=True
        )


class SecretTargetAttachment(CloudFormationModel):
    """``AWS::SecretsManager::SecretTargetAttachment``: writes engine, host, port and the database
    identifier of an RDS instance or cluster into the secret's JSON, as CloudFormation does."""

    def __init__(self, secret_arn: str) -> None:
        self.secret_arn = secret_arn

    @property
    def physical_resource_id(self) -> str:
        return self.secret_arn

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::SecretTargetAttachment"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> SecretTargetAttachment:
        properties = cloudformation_json["Properties"]
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
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: SecretTargetAttachment,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> SecretTargetAttachment:
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        """Detaching leaves the secret's value as it is, as in CloudFormation."""
