"""EFS: file systems answer ``Fn::GetAtt`` (``Arn``, ``FileSystemId``; moto's model has no
attributes, and CDK grants reference the ARN), access points get a physical id (moto gives them
none, so a ``Ref`` resolved to the model object instead of its ``fsap-...`` id)."""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.efs import models as efs_models
from moto.efs.models import efs_backends

from ._base import BackendHandle, GapFillModel, Properties


class FileSystem(BackendHandle, CloudFormationModel):
    """``AWS::EFS::FileSystem``: a handle on moto's file system, created by moto's own model.

    An update changes lifecycle policies in place; moto cannot change the rest of a file system.
    """

    cfn_type = "AWS::EFS::FileSystem"
    cfn_attributes = {
        "Arn": attrgetter("resource.file_system_arn"),
        "FileSystemId": attrgetter("resource.file_system_id"),
    }
    backends = efs_backends
    id_attribute = "resource.file_system_id"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Self:
        file_system = efs_models.FileSystem.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )
        return cls(file_system, account_id, region_name)

    @classmethod
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        return False

    @classmethod
    def update_in_place(
        cls, original: Self, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> Self:
        original.backend.put_lifecycle_configuration(
            file_system_id=original.physical_resource_id,
            policies=properties.get("LifecyclePolicies", []),
        )
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.delete_file_system(self.physical_resource_id)


class AccessPoint(GapFillModel, efs_models.AccessPoint, CloudFormationModel):
    """``AWS::EFS::AccessPoint``; Ref is the access point id. Every access point property is
    immutable: an update replaces it. The template's POSIX ids are strings; the EFS API describes
    them as numbers (``PosixUser`` ``Uid``/``Gid``/``SecondaryGids``, ``CreationInfo``
    ``OwnerUid``/``OwnerGid``), and so does the sandbox."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> efs_models.AccessPoint:
        properties = dict(cloudformation_json["Properties"])
        if "PosixUser" in properties:
            properties["PosixUser"] = _posix_ids(properties["PosixUser"], ("Uid", "Gid", "SecondaryGids"))
        creation = properties.get("RootDirectory", {}).get("CreationInfo")
        if creation is not None:
            properties["RootDirectory"] = {
                **properties["RootDirectory"],
                "CreationInfo": _posix_ids(creation, ("OwnerUid", "OwnerGid")),
            }
        access_point = efs_models.AccessPoint.create_from_cloudformation_json(
            resource_name, {**cloudformation_json, "Properties": properties}, account_id, region_name
        )
        access_point.physical_resource_id = access_point.access_point_id
        return access_point

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in {"AccessPointId", "Arn"}

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.access_point_id if attribute_name == "AccessPointId" else self.access_point_arn


def _posix_ids(values: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """``values`` with the POSIX ids under ``keys`` (a string or a list of them) as numbers."""
    numbers = {
        key: [int(item) for item in value] if isinstance(value, list) else int(value)
        for key, value in values.items()
        if key in keys
    }
    return {**values, **numbers}
