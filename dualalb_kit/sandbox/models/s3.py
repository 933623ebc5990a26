"""S3 bucket policies (moto has no model): the CDK bootstrap stack's staging bucket has one.

moto enforces a bucket policy without reading its conditions, so the bootstrap policy's
"deny unless ``aws:SecureTransport``" would deny every upload to the staging bucket. The
sandbox evaluates only statements without conditions (``enforced_permission``); the policy
itself is stored and returned as written.
"""

from __future__ import annotations

import json
from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from ._base import KeyedModel, Properties


class BucketPolicy(KeyedModel, CloudFormationModel):
    """``AWS::S3::BucketPolicy``, put with moto's ``put_bucket_policy``; the key (physical id) is
    the bucket."""

    cfn_type = "AWS::S3::BucketPolicy"

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        document = properties["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        s3_backends[account_id][get_partition(region_name)].put_bucket_policy(
            properties["Bucket"], text.encode()
        )
        return cls(properties["Bucket"])

    @classmethod
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        """Putting again replaces the policy of the same bucket."""
        return properties["Bucket"] != original.key

    def delete(self, account_id: str, region_name: str) -> None:
        s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(self.key)


class Bucket(FakeBucket, CloudFormationModel):
    """``AWS::S3::Bucket``: moto's model, plus the lifecycle rules and public access block it
    drops (the ALB access-log bucket has both)."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> FakeBucket:
        bucket = super().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        properties = cloudformation_json.get("Properties", {})
        backend = s3_backends[account_id][get_partition(region_name)]
        rules = properties.get("LifecycleConfiguration", {}).get("Rules", [])
        if rules:
            backend.put_bucket_lifecycle(bucket.name, [_lifecycle_rule(rule) for rule in rules])
        block = properties.get("PublicAccessBlockConfiguration")
        if block:
            backend.put_public_access_block(
                bucket.name, {key: str(value).lower() for key, value in block.items()}
            )
        return bucket


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A template's lifecycle rule (expiration only) in the S3 API's shape."""
    converted: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        converted["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
    return converted


def enforced_permission(bucket: FakeBucket, action: str, resource: str) -> PermissionResult:
    """The bucket policy's verdict on ``action``, from its statements without conditions."""
    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    document = json.loads(bucket.policy)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    unconditional = [statement for statement in statements if "Condition" not in statement]
    return IAMPolicy(json.dumps({**document, "Statement": unconditional})).is_action_permitted(
        action, resource
    )


FakeBucket.get_permission = enforced_permission
