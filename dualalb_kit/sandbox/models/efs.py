"""EFS: file systems answer ``Fn::GetAtt`` (``Arn``, ``FileSystemId``; moto's model has no
attributes, and CDK grants reference the ARN), access points get a physical id (moto gives them
none, so a ``Ref`` resolved to the model object instead of its ``fsap-...`` id)."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.efs import models as efs_models
from moto.efs.models import efs_backends


class FileSystem(CloudFormationModel):
    """``AWS::EFS::FileSystem``: a handle on moto's file system, created by moto's own model."""

    def __init__(self, file_system: efs_models.FileSystem, account_id: str, region_name: str) -> None:
        self.file_system = file_system
        self.account_id = account_id
        self.region_name = region_name

    @property
    def physical_resource_id(self) -> str:
        return self.file_system.file_system_id

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EFS::FileSystem"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in {"Arn", "FileSystemId"}

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.file_system.file_system_arn
        if attribute_name == "FileSystemId":
            return self.file_system.file_system_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> FileSystem:
        file_system = efs_models.FileSystem.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )
        return cls(file_system, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: FileSystem,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> FileSystem:
        """Lifecycle policies and tags update in place; moto cannot change the rest of a file system."""
        properties = cloudformation_json["Properties"]
        backend = efs_backends[account_id][region_name]
        backend.put_lifecycle_configuration(
            file_system_id=original_resource.physical_resource_id,
            policies=properties.get("LifecyclePolicies", []),
        )
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        efs_backends[account_id][region_name].delete_file_system(self.physical_resource_id)


class AccessPoint(efs_models.AccessPoint, CloudFormationModel):
    """``AWS::EFS::AccessPoint``; Ref is the access point id."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> efs_models.AccessPoint:
        access_point = efs_models.AccessPoint.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )
        access_point.physical_resource_id = access_point.access_point_id
        return access_point

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: efs_models.AccessPoint,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> efs_models.AccessPoint:
        """Every access point property is immutable: an update replaces it."""
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in {"AccessPointId", "Arn"}

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.access_point_id if attribute_name == "AccessPointId" else self.access_point_arn
