"""Application Auto Scaling: scalable targets and scaling policies (moto has no models for them).

Both register through moto's Application Auto Scaling backend, so ``describe_scalable_targets``
and ``describe_scaling_policies`` report the template's capacities and target tracking
configurations (target value, predefined metric and resource label, cooldowns).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Self

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.core.common_models import CloudFormationModel

from ._base import Properties, StandaloneModel


class ScalableTarget(StandaloneModel, CloudFormationModel):
    """``AWS::ApplicationAutoScaling::ScalableTarget``; the physical id is CloudFormation's
    ``resource-id|scalable-dimension|service-namespace``."""

    cfn_type = "AWS::ApplicationAutoScaling::ScalableTarget"
    cfn_attributes = {"Id": attrgetter("physical_resource_id")}

    def __init__(self, service_namespace: str, resource_id: str, scalable_dimension: str) -> None:
        self.service_namespace = service_namespace
        self.resource_id = resource_id
        self.scalable_dimension = scalable_dimension
        self.scheduled_action_names: list[str] = []

    @classmethod
    def from_properties(cls, properties: Properties) -> Self:
        """The target a template names, by ``ScalingTargetId`` or by its three parts."""
        if "ScalingTargetId" in properties:
            resource_id, dimension, namespace = properties["ScalingTargetId"].split("|")
            return cls(namespace, resource_id, dimension)
        return cls(properties["ServiceNamespace"], properties["ResourceId"], properties["ScalableDimension"])

    @property
    def physical_resource_id(self) -> str:
        return f"{self.resource_id}|{self.scalable_dimension}|{self.service_namespace}"

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        target = cls.from_properties(properties)
        applicationautoscaling_backends[account_id][region_name].register_scalable_target(
            target.service_namespace,
            target.resource_id,
            target.scalable_dimension,
            min_capacity=int(properties["MinCapacity"]),
            max_capacity=int(properties["MaxCapacity"]),
            role_arn=properties.get("RoleARN"),
            suspended_state=properties.get("SuspendedState"),
        )
        target.scheduled_action_names = [
            target.put_scheduled_action(action, account_id, region_name)
            for action in properties.get("ScheduledActions", [])
        ]
        return target

    def put_scheduled_action(self, action: Properties, account_id: str, region_name: str) -> str:
        """One of the template's ``ScheduledActions`` on this target; its name."""
        applicationautoscaling_backends[account_id][region_name].put_scheduled_action(
            service_namespace=self.service_namespace,
            schedule=action["Schedule"],
            timezone=action.get("Timezone"),
            scheduled_action_name=action["ScheduledActionName"],
            resource_id=self.resource_id,
            scalable_dimension=self.scalable_dimension,
            start_time=action.get("StartTime"),
            end_time=action.get("EndTime"),
            scalable_target_action=action.get("ScalableTargetAction"),
        )
        return action["ScheduledActionName"]

    @classmethod
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        """Registering again updates the capacities of the same target in place."""
        return cls.from_properties(properties).physical_resource_id != original.physical_resource_id

    @classmethod
    def update_in_place(
        cls, original: Self, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> Self:
        """Register again with the new capacities and actions; the actions the template no longer
        lists are deleted, as CloudFormation replaces the whole ``ScheduledActions`` list."""
        target = cls.create(resource_name, properties, account_id, region_name)
        dropped = [
            name for name in original.scheduled_action_names if name not in target.scheduled_action_names
        ]
        target._delete_scheduled_actions(dropped, account_id, region_name)
        return target

    def delete(self, account_id: str, region_name: str) -> None:
        self._delete_scheduled_actions(self.scheduled_action_names, account_id, region_name)
        backend = applicationautoscaling_backends[account_id][region_name]
        backend.deregister_scalable_target(self.service_namespace, self.resource_id, self.scalable_dimension)

    def _delete_scheduled_actions(self, names: list[str], account_id: str, region_name: str) -> None:
        backend = applicationautoscaling_backends[account_id][region_name]
        for name in names:
            backend.delete_scheduled_action(
                self.service_namespace, name, self.resource_id, self.scalable_dimension
            )


class ScalingPolicy(StandaloneModel, CloudFormationModel):
    """``AWS::ApplicationAutoScaling::ScalingPolicy`` (step or target tracking); Ref is its ARN."""

    cfn_type = "AWS::ApplicationAutoScaling::ScalingPolicy"
    name_property = "PolicyName"
    cfn_attributes = {"Arn": attrgetter("arn")}

    id_attribute = "arn"

    def __init__(self, arn: str, policy_name: str, target: ScalableTarget) -> None:
        self.arn = arn
        self.policy_name = policy_name
        self.target = target

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        target = ScalableTarget.from_properties(properties)
        policy_type = properties["PolicyType"]
        body_name = (
            "StepScalingPolicyConfiguration"
            if policy_type == "StepScaling"
            else "TargetTrackingScalingPolicyConfiguration"
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
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        """Putting again updates a policy of the same name and target in place."""
        target = ScalableTarget.from_properties(properties)
        return (resource_name, target.physical_resource_id) != (
            original.policy_name,
            original.target.physical_resource_id,
        )

    def delete(self, account_id: str, region_name: str) -> None:
        applicationautoscaling_backends[account_id][region_name].delete_scaling_policy(
            self.policy_name,
            self.target.service_namespace,
            self.target.resource_id,
            self.target.scalable_dimension,
        )
