"""EC2: security group rules as their own resources, and the network pieces of a new VPC that
update and delete as in EC2.

Security group ingress (moto gives it no physical id) and egress (moto has no model) are
authorized through moto's EC2 backend. moto's models for route tables, routes, subnet route
table associations, internet and NAT gateways, their attachment, Elastic IPs and flow logs
create but never delete, so deleting a stack that made a VPC failed on the VPC's remaining
route tables. These models delete through the backend in the order EC2 enforces: a route table
only without associations, an internet gateway only once detached, an Elastic IP only once its
NAT gateway released it. moto's VPC and subnet models have no update, so an updated VPC or
subnet dropped out of its stack (and was never deleted); here their tags and switches update in
place. A subnet association is made on its route table (moto's never reached the table, so
``describe_route_tables`` showed no subnets); gateways, addresses and route tables keep their
tags, VPCs their DNS switches and subnets ``MapPublicIpOnLaunch``. Network interfaces have their
private DNS name (moto's ECS needs it to run an awsvpc task).
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import Any, ClassVar, Self

from moto.core.common_models import CloudFormationModel
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import (
    ec2_backends,
    elastic_ip_addresses,
    flow_logs,
    internet_gateways,
    nat_gateways,
    security_groups,
    subnets,
    vpcs,
    vpn_gateway,
)
from moto.ec2.models import route_tables as moto_route_tables
from moto.ec2.models.elastic_network_interfaces import NetworkInterface

from ._base import BackendHandle, GapFillModel, KeyedModel, Properties, StandaloneModel, moto_create, tag_dict


def ec2_backend(account_id: str, region_name: str) -> Any:
    """moto's EC2 backend of one account and region."""
    return ec2_backends[account_id][region_name]


class SecurityGroupRule(StandaloneModel):
    """What ingress and egress rules share; the physical id is the rule id (``sgr-...``).

    An update revokes the rule and authorizes the new one.
    """

    replaced_side_by_side = False

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
        backend = ec2_backend(account_id, region_name)
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
        backend = ec2_backend(account_id, region_name)
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


def retag(resource: Any, tags: list[dict[str, str]] | None) -> None:
    """Make an EC2 resource's tags exactly the template's ``Tags``."""
    backend = resource.ec2_backend
    backend.delete_tag_keys([resource.id], list(backend.tags.get(resource.id, {})))
    if tags:
        backend.create_tags([resource.id], tag_dict(tags))


class SecurityGroup(GapFillModel, security_groups.SecurityGroup, CloudFormationModel):
    """``AWS::EC2::SecurityGroup``: moto's group, with its inline ``SecurityGroupIngress`` rules
    made as :class:`SecurityGroupIngress` makes them. As in EC2, a new description, name or VPC
    replaces the group (the new one is made next to the old one, which goes once the stack update
    succeeded); any other change updates it in place: tags, and the inline rules revoked and
    authorized anew (moto replaced the group on every change)."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> security_groups.SecurityGroup:
        without_rules = {key: value for key, value in properties.items() if key != "SecurityGroupIngress"}
        group = moto_create(
            security_groups.SecurityGroup, resource_name, without_rules, account_id, region_name
        )
        group.inline_rules = _authorize_inline_rules(group.id, properties, account_id, region_name)
        return group

    @classmethod
    def replaced_on_update(
        cls, original: security_groups.SecurityGroup, resource_name: str, properties: Properties
    ) -> bool:
        wanted = (properties.get("GroupDescription"), properties.get("VpcId"))
        return wanted != (original.description, original.vpc_id) or cls.renamed(
            original.name, resource_name, properties
        )

    @classmethod
    def update_in_place(
        cls,
        original: security_groups.SecurityGroup,
        resource_name: str,
        properties: Properties,
        account_id: str,
        region_name: str,
    ) -> security_groups.SecurityGroup:
        for rule in getattr(original, "inline_rules", []):
            rule.delete(account_id, region_name)
        original.inline_rules = _authorize_inline_rules(original.id, properties, account_id, region_name)
        retag(original, properties.get("Tags"))
        return original


def _authorize_inline_rules(
    group_id: str, properties: Properties, account_id: str, region_name: str
) -> list[SecurityGroupIngress]:
    return [
        SecurityGroupIngress.create("", {**rule, "GroupId": group_id}, account_id, region_name)
        for rule in properties.get("SecurityGroupIngress", [])
    ]


class TaggedResourceModel(GapFillModel):
    """An EC2 resource whose ``Tags`` and ``switches`` update in place; ``replaced_on_update``
    names the property changes that replace it (default: none).

    ``switches`` maps a boolean property to the attribute of moto's object that holds it and
    the property's default (default: none).
    """

    switches: ClassVar[Mapping[str, tuple[str, bool]]] = {}

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Any:
        resource = super().create(resource_name, properties, account_id, region_name)
        return cls.set_switches(resource, properties)

    @classmethod
    def replaced_on_update(cls, original: Any, resource_name: str, properties: Properties) -> bool:
        return False

    @classmethod
    def update_in_place(
        cls, original: Any, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> Any:
        retag(original, properties.get("Tags"))
        return cls.set_switches(original, properties)

    @classmethod
    def set_switches(cls, resource: Any, properties: Properties) -> Any:
        """``resource`` with its ``switches`` as the template sets them (``true`` / ``"true"``)."""
        for name, (attribute, default) in cls.switches.items():
            setattr(resource, attribute, str(properties.get(name, default)).lower() == "true")
        return resource


class VPC(TaggedResourceModel, vpcs.VPC, CloudFormationModel):
    """``AWS::EC2::VPC`` (moto's model) keeping its DNS switches. A new CIDR block or tenancy
    replaces it; moto deletes it only once its subnets and route tables are gone."""

    moto_model = vpcs.VPC
    switches = {
        "EnableDnsHostnames": ("enable_dns_hostnames", False),
        "EnableDnsSupport": ("enable_dns_support", True),
    }

    @classmethod
    def replaced_on_update(cls, original: vpcs.VPC, resource_name: str, properties: Properties) -> bool:
        wanted = (properties["CidrBlock"], properties.get("InstanceTenancy", "default"))
        return wanted != (original.cidr_block, original.instance_tenancy)


class Subnet(TaggedResourceModel, subnets.Subnet, CloudFormationModel):
    """``AWS::EC2::Subnet`` (moto's model) keeping ``MapPublicIpOnLaunch``. A new VPC, CIDR
    block or availability zone replaces it."""

    moto_model = subnets.Subnet
    switches = {"MapPublicIpOnLaunch": ("map_public_ip_on_launch", False)}

    @classmethod
    def replaced_on_update(cls, original: subnets.Subnet, resource_name: str, properties: Properties) -> bool:
        zone = properties.get("AvailabilityZone", original.availability_zone)
        wanted = (properties["VpcId"], properties["CidrBlock"], zone)
        return wanted != (original.vpc_id, original.cidr_block, original.availability_zone)


class RouteTable(TaggedResourceModel, moto_route_tables.RouteTable, CloudFormationModel):
    """``AWS::EC2::RouteTable`` with its tags, deleted once no subnet is associated with it.
    A new VPC replaces it."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> moto_route_tables.RouteTable:
        return ec2_backend(account_id, region_name).create_route_table(
            properties["VpcId"], tags=properties.get("Tags")
        )

    @classmethod
    def replaced_on_update(
        cls, original: moto_route_tables.RouteTable, resource_name: str, properties: Properties
    ) -> bool:
        return properties["VpcId"] != original.vpc_id

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        ec2_backend(account_id, region_name).delete_route_table(resource_name)


class Route(BackendHandle, CloudFormationModel):
    """``AWS::EC2::Route``: a handle on the route moto's model adds to its table. An update
    replaces it; deleting it after its table is no error (the table took its routes along)."""

    replaced_side_by_side = False

    cfn_type = "AWS::EC2::Route"
    backends = ec2_backends
    id_attribute = "resource.id"

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        route = moto_create(moto_route_tables.Route, resource_name, properties, account_id, region_name)
        return cls(route, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        table_id = self.resource.route_table.id
        if table_id in self.backend.route_tables:
            self.backend.delete_route(table_id, self.resource.destination_cidr_block)


class SubnetRouteTableAssociation(KeyedModel, CloudFormationModel):
    """``AWS::EC2::SubnetRouteTableAssociation``, made on the route table; the key (physical id) is
    the association id (``rtbassoc-...``). An update replaces it."""

    cfn_type = "AWS::EC2::SubnetRouteTableAssociation"
    cfn_attributes = {"Id": attrgetter("key")}

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        backend = ec2_backend(account_id, region_name)
        return cls(
            backend.associate_route_table(properties["RouteTableId"], subnet_id=properties["SubnetId"])
        )

    def delete(self, account_id: str, region_name: str) -> None:
        ec2_backend(account_id, region_name).disassociate_route_table(self.key)


class InternetGateway(TaggedResourceModel, internet_gateways.InternetGateway, CloudFormationModel):
    """``AWS::EC2::InternetGateway`` with its tags, deleted once detached from its VPC."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> internet_gateways.InternetGateway:
        return ec2_backend(account_id, region_name).create_internet_gateway(tags=properties.get("Tags"))

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        ec2_backend(account_id, region_name).delete_internet_gateway(resource_name)


class VPCGatewayAttachment(StandaloneModel, CloudFormationModel):
    """``AWS::EC2::VPCGatewayAttachment`` of an internet or a VPN gateway; the physical id is the
    VPC id (as moto's). Deleting it detaches the gateway; an update replaces it."""

    replaced_side_by_side = False

    cfn_type = "AWS::EC2::VPCGatewayAttachment"
    id_attribute = "vpc_id"

    def __init__(self, vpc_id: str, internet_gateway_id: str | None, vpn_gateway_id: str | None) -> None:
        self.vpc_id = vpc_id
        self.internet_gateway_id = internet_gateway_id
        self.vpn_gateway_id = vpn_gateway_id

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        moto_create(vpn_gateway.VPCGatewayAttachment, resource_name, properties, account_id, region_name)
        return cls(properties["VpcId"], properties.get("InternetGatewayId"), properties.get("VpnGatewayId"))

    def delete(self, account_id: str, region_name: str) -> None:
        backend = ec2_backend(account_id, region_name)
        if self.internet_gateway_id:
            backend.detach_internet_gateway(self.internet_gateway_id, self.vpc_id)
        else:
            backend.detach_vpn_gateway(self.vpn_gateway_id, self.vpc_id)


class AddressInUse(EC2ClientError):
    """EC2's answer to releasing an Elastic IP that a NAT gateway still uses."""

    def __init__(self, public_ip: str) -> None:
        super().__init__("InvalidIPAddress.InUse", f"Address {public_ip} is in use.")


class EIP(TaggedResourceModel, elastic_ip_addresses.ElasticAddress, CloudFormationModel):
    """``AWS::EC2::EIP`` with its tags; the physical id is the address. It is released only once
    no NAT gateway uses it. A new domain replaces it."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> elastic_ip_addresses.ElasticAddress:
        backend = ec2_backend(account_id, region_name)
        address = backend.allocate_address(
            domain=properties.get("Domain", "standard"), tags=tag_dict(properties.get("Tags"))
        )
        if "InstanceId" in properties:
            backend.associate_address(backend.get_instance_by_id(properties["InstanceId"]), address.public_ip)
        return address

    @classmethod
    def replaced_on_update(
        cls, original: elastic_ip_addresses.ElasticAddress, resource_name: str, properties: Properties
    ) -> bool:
        return properties.get("Domain", "standard") != original.domain

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        backend = ec2_backend(account_id, region_name)
        (address,) = backend.address_by_ip([resource_name])
        if address.allocation_id and NatGateway.using(backend, address.allocation_id):
            raise AddressInUse(resource_name)
        backend.release_address(address=resource_name)


class NatGateway(TaggedResourceModel, nat_gateways.NatGateway, CloudFormationModel):
    """``AWS::EC2::NatGateway`` with its tags and connectivity type. Deleting it frees its network
    interface and Elastic IP; EC2 then describes it as ``deleted``. A new subnet or address
    replaces it."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> nat_gateways.NatGateway:
        return ec2_backend(account_id, region_name).create_nat_gateway(
            properties["SubnetId"],
            properties.get("AllocationId"),
            tags=tag_dict(properties.get("Tags")),
            connectivity_type=properties.get("ConnectivityType", "public"),
        )

    @classmethod
    def replaced_on_update(
        cls, original: nat_gateways.NatGateway, resource_name: str, properties: Properties
    ) -> bool:
        allocation_ids = [address.get("allocationId") for address in original.address_set]
        return properties["SubnetId"] != original.subnet_id or allocation_ids != [
            properties.get("AllocationId")
        ]

    @staticmethod
    def using(backend: Any, allocation_id: str) -> list[nat_gateways.NatGateway]:
        """The NAT gateways (not deleted) that hold the Elastic IP ``allocation_id``."""
        return [
            nat_gateway
            for nat_gateway in backend.nat_gateways.values()
            if nat_gateway.state != "deleted"
            and any(address.get("allocationId") == allocation_id for address in nat_gateway.address_set)
        ]

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        backend = ec2_backend(account_id, region_name)
        nat_gateway = backend.nat_gateways[resource_name]
        if nat_gateway.state == "deleted":
            return
        for address in nat_gateway.address_set:
            if address.get("associationId"):
                backend.disassociate_address(association_id=address["associationId"])
            backend.delete_network_interface(address["networkInterfaceId"])
        backend.delete_nat_gateway(resource_name)


class FlowLog(TaggedResourceModel, flow_logs.FlowLogs, CloudFormationModel):
    """``AWS::EC2::FlowLog`` (moto's model). A new resource, traffic type, destination or role
    replaces it."""

    moto_model = flow_logs.FlowLogs

    @classmethod
    def replaced_on_update(
        cls, original: flow_logs.FlowLogs, resource_name: str, properties: Properties
    ) -> bool:
        wanted = [
            properties.get(name)
            for name in (
                "ResourceId",
                "TrafficType",
                "LogGroupName",
                "LogDestination",
                "DeliverLogsPermissionArn",
            )
        ]
        return wanted != [
            original.resource_id,
            original.traffic_type,
            original.log_group_name,
            original.log_destination,
            original.deliver_logs_permission_arn,
        ]

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        ec2_backend(account_id, region_name).delete_flow_logs([resource_name])


def _private_dns_name(eni: NetworkInterface) -> str:
    """EC2's private DNS name of a network interface's primary address (``ip-10-0-1-5.ec2.internal``
    in us-east-1, ``ip-10-0-1-5.<region>.compute.internal`` elsewhere), unless moto set one. moto's
    ECS reads it when it attaches an ENI to an awsvpc task, but most of its interfaces lack it."""
    if eni.__dict__.get("_private_dns_name"):
        return eni.__dict__["_private_dns_name"]
    region = eni.ec2_backend.region_name
    domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{(eni.private_ip_address or '').replace('.', '-')}.{domain}"


def _set_private_dns_name(eni: NetworkInterface, value: str) -> None:
    eni.__dict__["_private_dns_name"] = value


NetworkInterface.private_dns_name = property(_private_dns_name, _set_private_dns_name)  # type: ignore[attr-defined]
