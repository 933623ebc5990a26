"""EFS access points with a physical id (moto gives them none, so ``Ref`` to one resolved to the
model object instead of its ``fsap-...`` id) and CloudFormation updates."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.efs import models as efs_models


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
