"""VPC and subnet resolution for the kit's constructs."""

from __future__ import annotations

import os

from aws_cdk import RemovalPolicy, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..errors import ValidationError

NEW_VPC_CIDR = "10.0.0.0/16"
"""Address range of a VPC the construct creates."""


def vpc_cidr(vpc: ec2.IVpc) -> str:
    """The VPC's CIDR as a literal where it is known at synth time (looked-up or kit-made VPCs)."""
    if Token.is_unresolved(vpc.vpc_cidr_block) and isinstance(vpc, ec2.Vpc) and vpc.node.id == "Vpc":
        return NEW_VPC_CIDR
    return vpc.vpc_cidr_block


def resolve_vpc(scope: Construct, vpc: ec2.IVpc | None) -> ec2.IVpc:
    """The given VPC, else a looked-up one, else a new one.

    Lookup: context ``use_default_vpc=1`` or env ``CDK_USE_DEFAULT_VPC=1`` (the default VPC), or
    context ``use_vpc_id=vpc-...``. New: at most 3 AZs, one NAT gateway, flow logs to CloudWatch
    Logs (kept one month, deleted with the stack).
    """
    if vpc is not None:
        return vpc
    node = scope.node
    if str(node.try_get_context("use_default_vpc")) == "1" or os.environ.get("CDK_USE_DEFAULT_VPC") == "1":
        return ec2.Vpc.from_lookup(scope, "Vpc", is_default=True)
    vpc_id = node.try_get_context("use_vpc_id")
    if vpc_id:
        return ec2.Vpc.from_lookup(scope, "Vpc", vpc_id=str(vpc_id))
    new_vpc = ec2.Vpc(
        scope, "Vpc", ip_addresses=ec2.IpAddresses.cidr(NEW_VPC_CIDR), max_azs=3, nat_gateways=1
    )
    flow_logs = logs.LogGroup(
        scope, "FlowLogGroup", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
    )
    new_vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
    return new_vpc


def resolve_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection | None) -> tuple[ec2.SubnetSelection, bool]:
    """The subnets for the services and whether tasks need a public IP.

    Default: private subnets with egress. Public subnets (``one_per_az`` too) assign public IPs.
    Isolated subnets, a mix of public and private, or ids outside the VPC raise ValidationError.
    """
    if selection is None:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS), False
    if selection.subnet_type == ec2.SubnetType.PRIVATE_ISOLATED:
        raise ValidationError(
            "vpc_subnets", "isolated subnets have no route to pull images; use private or public"
        )
    if selection.subnet_type == ec2.SubnetType.PUBLIC:
        return selection, True
    if selection.subnets:
        return selection, _given_subnets_are_public(vpc, [s.subnet_id for s in selection.subnets])
    return selection, False


def _given_subnets_are_public(vpc: ec2.IVpc, subnet_ids: list[str]) -> bool:
    public = {s.subnet_id for s in vpc.public_subnets}
    private = {s.subnet_id for s in vpc.private_subnets}
    isolated = {s.subnet_id for s in vpc.isolated_subnets}
    if any(Token.is_unresolved(i) for i in public | private):
        raise ValidationError(
            "vpc_subnets.subnets", "specific subnet ids need an existing VPC (a lookup), not a new one"
        )
    for subnet_id in subnet_ids:
        if subnet_id in isolated:
            raise ValidationError("vpc_subnets.subnets", f"{subnet_id} is an isolated subnet")
        if subnet_id not in public | private:
            raise ValidationError("vpc_subnets.subnets", f"{subnet_id} is not a subnet of {vpc.vpc_id}")
    chosen = set(subnet_ids)
    if chosen & public and chosen & private:
        raise ValidationError("vpc_subnets.subnets", "mixes public and private subnets; choose one kind")
    return bool(chosen & public)
