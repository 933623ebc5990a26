"""Fargate workers: the network, security group and TLS the kit prepares, checked in the sandbox's EC2."""

from __future__ import annotations

import inspect

import pytest

from dualalb_kit.batch import main
from dualalb_kit.batch.fargate import fargate_cluster_options, private_subnets, worker_hour_usd
from dualalb_kit.target import as_target


@pytest.fixture
def network(sandbox, monkeypatch):
    """A VPC with one public subnet (a route to an internet gateway) and two private ones."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    ec2 = as_target(endpoint_url=sandbox.endpoint_url).client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{index}.0/24")["Subnet"]["SubnetId"]
        for index in range(3)
    ]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    public = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    ec2.associate_route_table(RouteTableId=public, SubnetId=subnets[0])
    private = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=private, SubnetId=subnets[1])
    return ec2, vpc, subnets  # subnets[2] follows the main route table: local routes only


def test_the_cluster_runs_in_private_subnets_behind_a_group_open_to_the_vpc_and_caller_only(sandbox, network):
    ec2, vpc, subnets = network
    options = fargate_cluster_options(
        image="registry.example/dualalb-kit:1",
        vpc_id=vpc,
        caller_cidr="203.0.113.7/32",
        n_workers=3,
        spot=True,
        idle_timeout="15 minutes",
        task_role_policies=["arn:aws:iam::123456789012:policy/write-batch-bucket"],
        target=as_target(endpoint_url=sandbox.endpoint_url),
    )
    assert options["subnets"] == sorted(subnets[1:]) == private_subnets(ec2, vpc)
    assert options["fargate_use_private_ip"] is True
    assert options["fargate_spot"] is True
    assert options["scheduler_timeout"] == "15 minutes"
    assert options["task_role_policies"] == ["arn:aws:iam::123456789012:policy/write-batch-bucket"]
    assert options["n_workers"] == 3 and options["worker_nthreads"] == 1
    [group] = ec2.describe_security_groups(GroupIds=options["security_groups"])["SecurityGroups"]
    assert group["VpcId"] == vpc and group["GroupName"] == options["name"]
    by_port = {(rule["FromPort"], rule["ToPort"]): rule for rule in group["IpPermissions"]}
    assert sorted(by_port) == [(0, 65535), (8786, 8787)]
    assert sorted(r["CidrIp"] for r in by_port[8786, 8787]["IpRanges"]) == ["10.42.0.0/16", "203.0.113.7/32"]
    assert [pair["GroupId"] for pair in by_port[0, 65535]["UserIdGroupPairs"]] == [group["GroupId"]]
    assert by_port[0, 65535]["IpRanges"] == []

    security = options["security"]
    assert security.require_encryption is True
    environment = options["environment"]
    assert environment["DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION"] == "True"
    assert environment["DASK_DISTRIBUTED__COMM__TLS__CA_FILE"] == security.tls_ca_file
    assert environment["DASK_DISTRIBUTED__COMM__TLS__CA_FILE"].startswith("-----BEGIN CERTIFICATE-----")
    assert options["scheduler_extra_args"] == ["--protocol", "tls"]

    from dask_cloudprovider.aws import ECSCluster
    from distributed.deploy.spec import SpecCluster

    accepted = set(inspect.signature(ECSCluster).parameters) | set(inspect.signature(SpecCluster).parameters)
    assert set(options) <= accepted


def test_a_vpc_without_private_subnets_or_missing_options_is_a_usage_error(sandbox, monkeypatch, capsys):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    ec2 = as_target(endpoint_url=sandbox.endpoint_url).client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    from dualalb_kit import ValidationError

    with pytest.raises(ValidationError, match=f"vpc: {vpc} has no private subnet"):
        fargate_cluster_options(
            image="i",
            vpc_id=vpc,
            caller_cidr="203.0.113.7/32",
            target=as_target(endpoint_url=sandbox.endpoint_url),
        )
    assert main(["params/sample.yaml", "--cluster", "fargate", "--vpc", vpc]) == 2
    assert capsys.readouterr().err == "error: --image: required with --cluster fargate\n"


def test_a_worker_hour_costs_one_vcpu_and_4_gb_at_fargate_prices():
    assert worker_hour_usd("us-east-1") == pytest.approx(0.04048 + 4 * 0.004445, abs=1e-12)
    assert worker_hour_usd("us-east-1", spot=True) == pytest.approx(0.01334053 + 4 * 0.00146489, abs=1e-12)
