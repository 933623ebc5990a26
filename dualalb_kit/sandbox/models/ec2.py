"""EC2 security group rules as their own resources: ingress (moto gives it no physical id) and
egress (moto has no model), both authorized through moto's EC2 backend."""

from __future__ import annotations

from operator import attrgetter
from typing import ClassVar, Self

from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends

from ._base import Properties, StandaloneModel


class SecurityGroupRule(StandaloneModel):
    """What ingress and egress rules share; the physical id is the rule id (``sgr-...``).

    An update revokes the rule and authorizes the new one.
    """

    egress: ClassVar[bool]
    peer_group_property: ClassVar[str]
    cfn_attributes = {"Id": attrgetter("physical_resource_id")}

    def __init__(self, group_id: str, rule_ids: list[str]) -> None:
        self.group_id = group_id
        self.rule_ids = rule_ids

    @property
    def physical_resource_id(self) -> str:
        return self.rule_ids[0]

    def get_cfn_attribute(self, attribute_name: str) -> str:
        """The rule id, whatever the name (``Id`` is the one attribute CloudFormation documents)."""
        return self.physical_resource_id

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
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

    cfn_type = "AWS::EC2::SecurityGroupIngress"
    egress = False
    peer_group_property = "SourceSecurityGroupId"


class SecurityGroupEgress(SecurityGroupRule, CloudFormationModel):
    """``AWS::EC2::SecurityGroupEgress``."""

    cfn_type = "AWS::EC2::SecurityGroupEgress"
    egress = True
    peer_group_property = "DestinationSecurityGroupId"
