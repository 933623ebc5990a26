"""CloudWatch Logs: log groups update in place (moto's model has no update, so an updated log
group dropped out of its stack and was never deleted)."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.logs import models as logs_models
from moto.logs.models import logs_backends

from ._base import GapFillModel, Properties, tag_dict


class LogGroup(GapFillModel, logs_models.LogGroup, CloudFormationModel):
    """``AWS::Logs::LogGroup`` (moto's model); retention and tags update in place, a new
    ``LogGroupName`` replaces it."""

    moto_model = logs_models.LogGroup

    @classmethod
    def replaced_on_update(
        cls, original: logs_models.LogGroup, resource_name: str, properties: Properties
    ) -> bool:
        return properties.get("LogGroupName", original.name) != original.name

    @classmethod
    def update_in_place(
        cls,
        original: logs_models.LogGroup,
        resource_name: str,
        properties: Properties,
        account_id: str,
        region_name: str,
    ) -> logs_models.LogGroup:
        backend = logs_backends[account_id][region_name]
        if "RetentionInDays" in properties:
            backend.put_retention_policy(original.name, properties["RetentionInDays"])
        else:
            backend.delete_retention_policy(original.name)
        backend.untag_log_group(original.name, list(backend.list_tags_log_group(original.name)))
        backend.tag_log_group(original.name, tag_dict(properties.get("Tags")))
        return original
