"""Database on its own: allow_from, the three variants, removal policies, attributes and errors."""

from __future__ import annotations

from functools import cache

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template
from test_wordpress import only

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit import ValidationError
from dualalb_kit.constructs import Database

CIDR = "10.20.0.0/16"


def new_stack() -> tuple[Stack, ec2.Vpc]:
    stack = Stack(App(), "Test")
    return stack, ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)


@cache
def database(variant: str) -> tuple[Database, Template]:
    """A Database in its own stack: ``provisioned``, ``serverless``, ``single`` or ``peers``."""
    stack, vpc = new_stack()
    options = {
        "provisioned": {},
        "serverless": {"aurora_serverless": True, "serverless_min_capacity": 0, "serverless_max_capacity": 8},
        "single": {"single_db_instance": True, "instance_type": ec2.InstanceType("t4g.micro")},
        "peers": {
            "allow_from": [
                ec2.SecurityGroup(stack, "Clients", vpc=vpc, description="clients"),
                ec2.Peer.ipv4(CIDR),
            ]
        },
    }[variant]
    db = Database(stack, "Db", vpc=vpc, database_name="shop", **options)
    return db, Template.from_stack(stack)


def database_ingress(template: Template) -> list[dict]:
    """The ingress rules into the database's security group (its description starts with MySQL):
    inline ones (CIDR peers) and separate resources (security-group peers)."""
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    [group] = [lid for lid, r in groups.items() if r["Properties"]["GroupDescription"].startswith("MySQL of")]
    inline = groups[group]["Properties"].get("SecurityGroupIngress", [])
    return inline + [
        r["Properties"]
        for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}
    ]


def cluster_port(template: Template) -> dict:
    """The Aurora cluster's port as its security-group rules name it: the cluster's endpoint port
    (MySQL's 3306, which the cluster's template leaves to the engine's default)."""
    [(cluster, resource)] = template.find_resources("AWS::RDS::DBCluster").items()
    assert "Port" not in resource["Properties"]
    return {"Fn::GetAtt": [cluster, "Endpoint.Port"]}


# -- allow_from -----------------------------------------------------------------------------------


def test_nobody_is_admitted_by_default():
    _, template = database("provisioned")
    assert database_ingress(template) == []


def test_allow_from_admits_each_peer_on_the_mysql_port_only():
    _, template = database("peers")
    clients, _ = next(
        (lid, r)
        for lid, r in template.find_resources("AWS::EC2::SecurityGroup").items()
        if r["Properties"]["GroupDescription"] == "clients"
    )
    rules = database_ingress(template)
    port = cluster_port(template)
    assert [(r["FromPort"], r["ToPort"], r["IpProtocol"]) for r in rules] == [(port, port, "tcp")] * 2
    sources = [r.get("SourceSecurityGroupId") or r.get("CidrIp") for r in rules]
    assert sorted(map(str, sources)) == sorted(map(str, [{"Fn::GetAtt": [clients, "GroupId"]}, CIDR]))
    assert {r["Description"] for r in rules} == {"MySQL from allow_from[0]", "MySQL from allow_from[1]"}


def test_allow_from_takes_one_peer_as_the_originals_allowfrom_does():
    stack, vpc = new_stack()
    clients = ec2.SecurityGroup(stack, "Clients", vpc=vpc, description="clients")
    Database(stack, "Db", vpc=vpc, allow_from=clients)
    template = Template.from_stack(stack)
    [rule] = database_ingress(template)
    assert (rule["SourceSecurityGroupId"], rule["Description"]) == (
        stack.resolve(clients.security_group_id),
        "MySQL from allow_from[0]",
    )


def test_peers_can_be_admitted_later_through_connections():
    stack, vpc = new_stack()
    db = Database(stack, "Db", vpc=vpc)
    db.connections.allow_default_port_from(ec2.Peer.ipv4(CIDR), "reporting")
    template = Template.from_stack(stack)
    [rule] = database_ingress(template)
    assert (rule["CidrIp"], rule["FromPort"], rule["Description"]) == (
        CIDR,
        cluster_port(template),
        "reporting",
    )


# -- the variants ---------------------------------------------------------------------------------


def test_provisioned_aurora_is_the_default():
    db, template = database("provisioned")
    assert db.variant == "aurora-provisioned" and db.instance is None and db.cluster is not None
    _, cluster = only(template, "AWS::RDS::DBCluster")
    assert cluster["Properties"]["Engine"] == "aurora-mysql"
    assert cluster["Properties"]["DatabaseName"] == "shop"
    assert "ServerlessV2ScalingConfiguration" not in cluster["Properties"]
    _, writer = only(template, "AWS::RDS::DBInstance")
    assert writer["Properties"]["DBInstanceClass"] == "db.t4g.medium"


def test_aurora_serverless_v2_writer_and_capacity_range():
    db, template = database("serverless")
    assert db.variant == "aurora-serverless"
    _, cluster = only(template, "AWS::RDS::DBCluster")
    assert cluster["Properties"]["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0, "MaxCapacity": 8}
    _, writer = only(template, "AWS::RDS::DBInstance")
    assert writer["Properties"]["DBInstanceClass"] == "db.serverless"


def test_single_instance_is_rds_for_mysql_with_its_class():
    db, template = database("single")
    assert db.variant == "single-instance" and db.cluster is None and db.instance is not None
    template.resource_count_is("AWS::RDS::DBCluster", 0)
    _, instance = only(template, "AWS::RDS::DBInstance")
    props = instance["Properties"]
    assert (props["Engine"], props["DBInstanceClass"], props["DBName"]) == ("mysql", "db.t4g.micro", "shop")
    assert (props["StorageType"], props["AllocatedStorage"], props["StorageEncrypted"]) == ("gp3", "20", True)


def test_each_variant_is_one_small_method():
    assert set(database("provisioned")[0]._variants()) == {
        "aurora-provisioned",
        "aurora-serverless",
        "single-instance",
    }


# -- attributes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "kind"), [("provisioned", "AWS::RDS::DBCluster"), ("single", "AWS::RDS::DBInstance")]
)
def test_read_only_attributes(variant, kind):
    db, template = database(variant)
    stack = Stack.of(db)
    logical_id, _ = only(template, kind)
    assert stack.resolve(db.cluster_identifier) == {"Ref": logical_id}
    assert stack.resolve(db.cluster_endpoint_hostname) == {"Fn::GetAtt": [logical_id, "Endpoint.Address"]}
    attachment, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    assert stack.resolve(db.secret.secret_arn) == {"Ref": attachment}
    assert db.vpc.node.path == "Test/Vpc"
    [group] = db.connections.security_groups
    assert group.node.path == "Test/Db/SecurityGroup"


# -- removal policy -------------------------------------------------------------------------------


def deletion(template: Template, kind: str) -> set[str]:
    return {r.get("DeletionPolicy", "Delete") for r in template.find_resources(kind).values()}


def test_kept_on_delete_means_a_final_snapshot_and_the_secret():
    _, template = database("provisioned")
    assert deletion(template, "AWS::RDS::DBCluster") == {"Snapshot"}
    assert deletion(template, "AWS::SecretsManager::Secret") == {"Retain"}
    _, single = database("single")
    assert deletion(single, "AWS::RDS::DBInstance") == {"Snapshot"}


def test_destroy_deletes_the_database_and_its_secret():
    stack, vpc = new_stack()
    Database(stack, "Db", vpc=vpc, removal_policy=RemovalPolicy.DESTROY)
    template = Template.from_stack(stack)
    assert deletion(template, "AWS::RDS::DBCluster") == {"Delete"}
    assert deletion(template, "AWS::SecretsManager::Secret") == {"Delete"}


def test_retain_keeps_the_database_running_in_a_vpc_the_stack_does_not_own():
    stack = Stack(App(), "Test")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-12345678",
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-11111111", "subnet-22222222"],
    )
    Database(
        stack,
        "Db",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        removal_policy=RemovalPolicy.RETAIN,
    )
    template = Template.from_stack(stack)
    assert deletion(template, "AWS::RDS::DBCluster") == {"Retain"}
    assert deletion(template, "AWS::SecretsManager::Secret") == {"Retain"}


def test_retain_in_a_vpc_the_stack_creates_is_refused():
    stack, vpc = new_stack()
    with pytest.raises(ValidationError) as raised:
        Database(stack, "Db", vpc=vpc, removal_policy=RemovalPolicy.RETAIN)
    assert str(raised.value).startswith("removal_policy: retain keeps the database running in the VPC")
    assert stack.node.try_find_child("Db") is None


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"aurora_serverless": True, "single_db_instance": True}, "single_db_instance: cannot be combined"),
        (
            {"aurora_serverless": True, "instance_type": ec2.InstanceType("t4g.medium")},
            "instance_type: a Serverless v2 writer is db.serverless",
        ),
        (
            {"instance_type": ec2.InstanceType("db.t4g.medium")},
            "instance_type: 'db.t4g.medium': give the class",
        ),
        ({"serverless_max_capacity": 0.5}, "serverless_max_capacity: 0.5 is below 1 ACU"),
        ({"backup_retention": Duration.days(40)}, "backup_retention: 40 days is not"),
        ({"database_name": "my-shop"}, "database_name: 'my-shop' is not a database name"),
        ({"database_name": "x" * 65}, "database_name: 'xxxx"),
    ],
)
def test_bad_props_are_validation_errors_naming_the_prop(kwargs, message):
    stack, vpc = new_stack()
    with pytest.raises(ValidationError) as raised:
        Database(stack, "Db", vpc=vpc, **kwargs)
    assert str(raised.value).startswith(message)
    assert stack.node.try_find_child("Db") is None
