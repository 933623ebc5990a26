"""EC2 security group rules as their own resources: ingress (moto gives it no physical id) and
egress (moto has no model), both authorized through moto's EC2 backend."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends


class SecurityGroupRule:
    """What ingress and egress rules share; the physical id is the rule id (``sgr-...``)."""

    egress: bool
    peer_group_property: str

    def __init__(self, group_id: str, rule_ids: list[str]) -> None:
        self.group_id = group_id
        self.rule_ids = rule_ids

    @property
    def physical_resource_id(self) -> str:
        return self.rule_ids[0]

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.physical_resource_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> SecurityGroupRule:
        properties = cloudformation_json["Properties"]
        backend = ec2_backends[account_id][region_name]
        group = backend.get_security_group_by_name_or_id(properties.get("GroupId") or properties["GroupName"])
        ip_ranges = []
        if "CidrIp" in properties:
            ip_ranges.append({"CidrIp": properties["CidrIp"], "Description": properties.get("Description")})
        if "CidrIpv6" in properties:
            ip_ranges.append(
                {"CidrIpv6": properties["CidrIpv6"], "Description": properties.get("Description")}
            )
        peer_group = properties.get(cls.peer_group_property)
        source_groups = (
            [{"GroupId": peer_group, "Description": properties.get("Description")}] if peer_group else []
        )
        prefix_lists = [
            {"PrefixListId": properties[name]}
            for name in ("SourcePrefixListId", "DestinationPrefixListId")
            if name in properties
        ]
        authorize = (
            backend.authorize_security_group_egress
            if cls.egress
            else backend.authorize_security_group_ingress
        )
        rules, _ = authorize(
            group.id,
            str(properties["IpProtocol"]),
            properties.get("FromPort"),
            properties.get("ToPort"),
            ip_ranges,
            source_groups=source_groups,
            prefix_list_ids=prefix_lists,
        )
        return cls(group.id, [rule.id for rule in rules])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: SecurityGroupRule,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> SecurityGroupRule:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        """Deleting a security group deletes its rules; a rule whose group is gone is deleted."""
        backend = ec2_backends[account_id][region_name]
        if backend.get_security_group_by_name_or_id(self.group_id) is None:
            return
        revoke = (
            backend.revoke_security_group_egress if self.egress else backend.revoke_security_group_ingress
        )
        revoke(self.group_id, None, None, None, [], security_rule_ids=self.rule_ids)


class SecurityGroupIngress(SecurityGroupRule, CloudFormationModel):
    """``AWS::EC2::SecurityGroupIngress``."""

    egress = False
    peer_group_property = "SourceSecurityGroupId"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SecurityGroupIngress"


class SecurityGroupEgress(SecurityGroupRule, CloudFormationModel):
    """``AWS::EC2::SecurityGroupEgress``."""

    egress = True
    peer_group_property = "DestinationSecurityGroupId"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SecurityGroupEgress"
