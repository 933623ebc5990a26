"""IAM: a role's ``ManagedPolicyArns`` are attached (moto's model drops them), AWS-managed
policies included, and detached again when the stack deletes the role."""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.iam import models as iam_models
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.exceptions import NotFoundException
from moto.iam.models import AWSManagedPolicy, IAMBackend, iam_backends
from moto.utilities.utils import get_partition

AWS_MANAGED_PREFIX = ":iam::aws:policy/"
"""What an AWS-managed policy's ARN holds after its partition."""


class Role(iam_models.Role, CloudFormationModel):
    """``AWS::IAM::Role`` (moto's model) with its ``ManagedPolicyArns`` attached."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> iam_models.Role:
        role = super().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )
        backend = _backend(account_id, region_name)
        for arn in cloudformation_json["Properties"].get("ManagedPolicyArns", []):
            _register_aws_managed(backend, arn)
            backend.attach_role_policy(arn, role.name)
        return role

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        backend = _backend(account_id, region_name)
        if resource_name in {role.name for role in backend.roles.values()}:
            for arn in list(backend.get_role(resource_name).managed_policies):
                backend.detach_role_policy(arn, resource_name)
        super().delete_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name)


def _backend(account_id: str, region_name: str) -> IAMBackend:
    return iam_backends[account_id][get_partition(region_name)]


def _register_aws_managed(backend: IAMBackend, arn: str) -> None:
    """Make an AWS-managed policy known to ``backend`` from moto's copy of AWS's list (moto loads
    that list only when configured to, all of it); other ARNs are left to ``attach_role_policy``,
    which names a missing one as AWS does."""
    name = arn.partition(AWS_MANAGED_PREFIX)[2].rsplit("/", 1)[-1]
    if not name or arn in backend.managed_policies:
        return
    data = _aws_managed_policies().get(name)
    if data is None:
        raise NotFoundException(f"Policy {arn} does not exist or is not attachable.")
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    backend.managed_policies[policy.arn] = policy


@functools.cache
def _aws_managed_policies() -> dict[str, Any]:
    return json.loads(aws_managed_policies_data)
