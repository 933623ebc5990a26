"""S3 bucket policies (moto has no model): the CDK bootstrap stack's staging bucket has one.

moto enforces a bucket policy without reading its conditions, so the bootstrap policy's
"deny unless ``aws:SecureTransport``" would deny every upload to the staging bucket. The
sandbox evaluates only statements without conditions (``enforced_permission``); the policy
itself is stored and returned as written.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition


class BucketPolicy(CloudFormationModel):
    """``AWS::S3::BucketPolicy``, put with moto's ``put_bucket_policy``; the physical id is the bucket."""

    def __init__(self, bucket_name: str) -> None:
        self.bucket_name = bucket_name

    @property
    def physical_resource_id(self) -> str:
        return self.bucket_name

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> BucketPolicy:
        properties = cloudformation_json["Properties"]
        document = properties["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        s3_backends[account_id][get_partition(region_name)].put_bucket_policy(
            properties["Bucket"], text.encode()
        )
        return cls(properties["Bucket"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: BucketPolicy,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> BucketPolicy:
        if cloudformation_json["Properties"]["Bucket"] != original_resource.bucket_name:
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(self.bucket_name)


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
