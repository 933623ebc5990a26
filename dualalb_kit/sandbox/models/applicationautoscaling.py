"""Application Auto Scaling: scalable targets and scaling policies (moto has no models for them).

Both register through moto's Application Auto Scaling backend, so ``describe_scalable_targets``
and ``describe_scaling_policies`` report the template's capacities and target tracking
configurations (target value, predefined metric and resource label, cooldowns).
"""

from __future__ import annotations

from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel


class ScalableTarget(CloudFormationModel):
    """``AWS::ApplicationAutoScaling::ScalableTarget``; the physical id is CloudFormation's
    ``resource-id|scalable-dimension|service-namespace``."""

    def __init__(self, service_namespace: str, resource_id: str, scalable_dimension: str) -> None:
        self.service_namespace = service_namespace
        self.resource_id = resource_id
        self.scalable_dimension = scalable_dimension

    @property
    def physical_resource_id(self) -> str:
        return f"{self.resource_id}|{self.scalable_dimension}|{self.service_namespace}"

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name != "Id":
            raise UnformattedGetAttTemplateException()
        return self.physical_resource_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> ScalableTarget:
        properties = cloudformation_json["Properties"]
        target = cls(
            properties["ServiceNamespace"], properties["ResourceId"], properties["ScalableDimension"]
        )
        applicationautoscaling_backends[account_id][region_name].register_scalable_target(
            target.service_namespace,
            target.resource_id,
            target.scalable_dimension,
            min_capacity=int(properties["MinCapacity"]),
            max_capacity=int(properties["MaxCapacity"]),
            role_arn=properties.get("RoleARN"),
            suspended_state=properties.get("SuspendedState"),
        )
        return target

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: ScalableTarget,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> ScalableTarget:
        properties = cloudformation_json["Properties"]
        same_target = (
            properties["ServiceNamespace"],
            properties["ResourceId"],
            properties["ScalableDimension"],
        ) == (
            original_resource.service_namespace,
            original_resource.resource_id,
            original_resource.scalable_dimension,
        )
        if not same_target:
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        applicationautoscaling_backends[account_id][region_name].deregister_scalable_target(
            self.service_namespace, self.resource_id, self.scalable_dimension
        )


class ScalingPolicy(CloudFormationModel):
    """``AWS::ApplicationAutoScaling::ScalingPolicy`` (step or target tracking); Ref is its ARN."""

    def __init__(self, arn: str, policy_name: str, target: ScalableTarget) -> None:
        self.arn = arn
        self.policy_name = policy_name
        self.target = target

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_name_type() -> str:
        return "PolicyName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalingPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name != "Arn":
            raise UnformattedGetAttTemplateException()
        return self.arn

    @staticmethod
    def _target(properties: dict[str, Any]) -> ScalableTarget:
        if "ScalingTargetId" in properties:
            resource_id, dimension, namespace = properties["ScalingTargetId"].split("|")
            return ScalableTarget(namespace, resource_id, dimension)
        return ScalableTarget(
            properties["ServiceNamespace"], properties["ResourceId"], properties["ScalableDimension"]
        )

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> ScalingPolicy:
        properties = cloudformation_json["Properties"]
        target = cls._target(properties)
        policy_type = properties["PolicyType"]
        body_name = (
            "StepScalingPolicyConfiguration"
            if policy_type == "StepScaling"
            else ("TargetTrackingScalingPolicyConfiguration")
        )
        policy = applicationautoscaling_backends[account_id][region_name].put_scaling_policy(
            policy_name=resource_name,
            service_namespace=target.service_namespace,
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            policy_body=properties.get(body_name, {}),
            policy_type=policy_type,
        )
        return cls(policy.policy_arn, resource_name, target)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: ScalingPolicy,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> ScalingPolicy:
        target = cls._target(cloudformation_json["Properties"])
        if new_resource_name != original_resource.policy_name or (
            target.physical_resource_id != original_resource.target.physical_resource_id
        ):
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        applicationautoscaling_backends[account_id][region_name].delete_scaling_policy(
            self.policy_name,
            self.target.service_namespace,
            self.target.resource_id,
            self.target.scalable_dimension,
        )
