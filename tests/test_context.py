"""Context lookups in-process: a raw aws-cdk-lib app's ``Vpc.from_lookup`` and availability
zones answered with boto3 against the session sandbox, then synthesized again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dualalb_kit  # noqa: F401  (before aws_cdk: points jsii at the kit's Node)
from dualalb_kit.context import (
    ContextLookupError,
    load_cache,
    missing_context,
    resolve_missing,
    save_cache,
    vpc_context,
)
from dualalb_kit.errors import ValidationError
from dualalb_kit.target import as_target

ACCOUNT, REGION = "123456789012", "us-east-1"


def lookup_app(outdir: Path, context: dict, vpc_id: str) -> Path:
    """A stack bound to the sandbox account that looks up the default VPC and ``vpc_id``."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    app = cdk.App(outdir=str(outdir), context=context)
    stack = cdk.Stack(app, "Lookups", env=cdk.Environment(account=ACCOUNT, region=REGION))
    default = ec2.Vpc.from_lookup(stack, "Default", is_default=True)
    by_id = ec2.Vpc.from_lookup(stack, "ById", vpc_id=vpc_id)
    for name, value in {
        "DefaultVpc": default.vpc_id,
        "DefaultPublic": ",".join(s.subnet_id for s in default.public_subnets),
        "ByIdVpc": by_id.vpc_id,
        "ByIdPublic": ",".join(s.subnet_id for s in by_id.public_subnets),
        "ByIdPrivate": ",".join(s.subnet_id for s in by_id.private_subnets),
        "ByIdIsolated": ",".join(s.subnet_id for s in by_id.isolated_subnets),
        "Zones": ",".join(stack.availability_zones),
    }.items():
        cdk.CfnOutput(stack, name, value=value)
    app.synth()
    return outdir


@pytest.fixture(scope="module")
def ec2(sandbox):
    return as_target(endpoint_url=sandbox.endpoint_url, region=REGION).client("ec2")


@pytest.fixture(scope="module")
def three_tier_vpc(ec2):
    """A VPC with a public (internet gateway), a private (NAT) and an isolated subnet in each of two zones."""
    vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc_id)
    subnets: dict[str, list[str]] = {"Public": [], "Private": [], "Isolated": []}
    tables: dict[str, str] = {}
    for tier, kind in enumerate(subnets):
        table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        tables[kind] = table
        for zone_index, zone in enumerate(["us-east-1a", "us-east-1b"]):
            subnet = ec2.create_subnet(
                VpcId=vpc_id, CidrBlock=f"10.42.{tier * 10 + zone_index}.0/24", AvailabilityZone=zone
            )["Subnet"]["SubnetId"]
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
            subnets[kind].append(subnet)
    ec2.create_route(RouteTableId=tables["Public"], DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets["Public"][0], AllocationId=allocation)["NatGateway"][
        "NatGatewayId"
    ]
    ec2.create_route(RouteTableId=tables["Private"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    return {"vpc_id": vpc_id, "subnets": subnets, "tables": tables}


def test_lookups_resolve_and_the_app_synthesizes_with_the_sandbox_vpcs(
    sandbox, ec2, three_tier_vpc, tmp_path
):
    vpc_id = three_tier_vpc["vpc_id"]
    first = lookup_app(tmp_path / "first", {}, vpc_id)
    missing = missing_context(first)
    assert sorted(entry["provider"] for entry in missing) == [
        "availability-zones",
        "vpc-provider",
        "vpc-provider",
    ]

    values = resolve_missing(missing, target=as_target(endpoint_url=sandbox.endpoint_url, region=REGION))
    save_cache(tmp_path / "cdk.context.json", values)
    second = lookup_app(tmp_path / "second", load_cache(tmp_path / "cdk.context.json"), vpc_id)

    assert missing_context(second) == []
    outputs = {
        k: v["Value"]
        for k, v in json.loads((second / "Lookups.template.json").read_text())["Outputs"].items()
    }
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    default_subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [default_vpc["VpcId"]]}])[
        "Subnets"
    ]
    assert outputs["DefaultVpc"] == default_vpc["VpcId"]
    by_zone = sorted(default_subnets, key=lambda s: s["AvailabilityZone"])
    assert outputs["DefaultPublic"].split(",") == [s["SubnetId"] for s in by_zone]
    assert outputs["ByIdVpc"] == vpc_id
    for kind in ("Public", "Private", "Isolated"):
        assert outputs[f"ById{kind}"].split(",") == three_tier_vpc["subnets"][kind]
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert outputs["Zones"].split(",") == [z["ZoneName"] for z in zones if z["State"] == "available"]


def test_vpc_response_has_the_shape_cdk_expects(ec2, three_tier_vpc):
    vpc_id, tables = three_tier_vpc["vpc_id"], three_tier_vpc["tables"]
    asymmetric = vpc_context(ec2, {"filter": {"vpc-id": vpc_id}, "returnAsymmetricSubnets": True})
    assert asymmetric["vpcId"] == vpc_id
    assert asymmetric["vpcCidrBlock"] == "10.42.0.0/16"
    assert asymmetric["ownerAccountId"] == ACCOUNT
    assert asymmetric["availabilityZones"] == []
    groups = {group["type"]: group for group in asymmetric["subnetGroups"]}
    assert sorted(groups) == ["Isolated", "Private", "Public"]
    public = groups["Public"]
    assert public["name"] == "Public"
    assert public["subnets"][0] == {
        "subnetId": three_tier_vpc["subnets"]["Public"][0],
        "cidr": "10.42.0.0/24",
        "availabilityZone": "us-east-1a",
        "routeTableId": tables["Public"],
    }

    symmetric = vpc_context(ec2, {"filter": {"vpc-id": vpc_id}})
    assert symmetric["availabilityZones"] == ["us-east-1a", "us-east-1b"]
    assert symmetric["privateSubnetIds"] == three_tier_vpc["subnets"]["Private"]
    assert symmetric["privateSubnetNames"] == ["Private"]
    assert symmetric["isolatedSubnetRouteTableIds"] == [tables["Isolated"]] * 2
    assert "subnetGroups" not in symmetric


def test_subnet_type_and_name_tags_win(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.43.0.0/24", AvailabilityZone="us-east-1a")[
        "Subnet"
    ]
    ec2.create_tags(
        Resources=[subnet["SubnetId"]],
        Tags=[
            {"Key": "aws-cdk:subnet-type", "Value": "Private"},
            {"Key": "aws-cdk:subnet-name", "Value": "app"},
        ],
    )
    response = vpc_context(ec2, {"filter": {"vpc-id": vpc_id}, "returnAsymmetricSubnets": True})
    assert [(g["type"], g["name"]) for g in response["subnetGroups"]] == [("Private", "app")]


def test_a_vpc_that_does_not_exist_names_the_filter(sandbox):
    missing = [
        {
            "key": "vpc-provider:account=123456789012:filter.vpc-id=vpc-0000dead:region=us-east-1",
            "provider": "vpc-provider",
            "props": {"account": ACCOUNT, "region": REGION, "filter": {"vpc-id": "vpc-0000dead"}},
        }
    ]
    with pytest.raises(ContextLookupError) as failure:
        resolve_missing(missing, target=as_target(endpoint_url=sandbox.endpoint_url, region=REGION))
    assert isinstance(failure.value, ValidationError)
    assert str(failure.value) == (
        'vpc: Could not find any VPCs matching {"vpc-id": "vpc-0000dead"} in aws://123456789012/us-east-1'
    )


def test_an_unsupported_provider_is_refused(sandbox):
    missing = [{"key": "hosted-zone:x", "provider": "hosted-zone", "props": {"domainName": "example.com"}}]
    with pytest.raises(ContextLookupError, match="'hosted-zone' .* not supported in-process"):
        resolve_missing(missing, target=as_target(endpoint_url=sandbox.endpoint_url, region=REGION))


def test_cache_round_trips_in_the_cdk_context_json_format(tmp_path):
    path = tmp_path / "cdk.context.json"
    assert load_cache(path) == {}
    values = {"availability-zones:account=1:region=r": ["r-a", "r-b"], "vpc-provider:x": {"vpcId": "vpc-1"}}
    save_cache(path, values)
    assert json.loads(path.read_text()) == values
    assert load_cache(path) == values


def test_a_sandbox_is_asked_again_rather_than_trusting_an_earlier_sandboxs_cached_lookups(
    sandbox, ec2, tmp_path
):
    from dualalb_kit.spec import load_spec
    from dualalb_kit.synth import synth

    spec = load_spec(Path(__file__).parents[1] / "params" / "internal-only.yaml").model_copy(
        update={"stack_name": "stale-lookups", "vpc": "default", "subnets": "public"}
    )
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    outdir = tmp_path / "stale-lookups"
    synth(spec, outdir, nag=False, target=as_target(endpoint_url=sandbox.endpoint_url))
    cache_path = outdir / "cdk.context.json"
    cached = cache_path.read_text()
    assert default_vpc in cached
    # as if an earlier sandbox, with other ids, had answered
    cache_path.write_text(cached.replace(default_vpc, "vpc-0e4r1i3e5a2n4d6b"))

    again = synth(spec, outdir, nag=False, target=as_target(endpoint_url=sandbox.endpoint_url))

    template = json.dumps(again.template)
    assert "vpc-0e4r1i3e5a2n4d6b" not in template
    assert default_vpc in template
    assert default_vpc in cache_path.read_text()
