"""WordPress and Database: each option on the template, cfn-lint, cdk-nag, the spec, the sandbox deploy."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit import ValidationError
from dualalb_kit.build import build_stack
from dualalb_kit.constructs import (
    Database,
    FargateTaskProps,
    LoadBalancerAccessibility,
    Route53Options,
    WordPress,
)
from dualalb_kit.spec import load_spec
from dualalb_kit.synth import synth
from dualalb_kit.target import as_target

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "params" / "wordpress.yaml"
SECRET_VARIABLES = {
    "WORDPRESS_DB_HOST": "host",
    "WORDPRESS_DB_USER": "username",
    "WORDPRESS_DB_PASSWORD": "password",
}

VARIANTS = {
    "provisioned": {},
    "serverless": {"aurora_serverless": True, "serverless_min_capacity": 1, "serverless_max_capacity": 16},
    "single": {"single_db_instance": True},
    "destroy": {"removal_policy": RemovalPolicy.DESTROY},
    "spot-exec": {"spot": True, "enable_execute_command": True},
}


@cache
def variant(name: str) -> Template:
    """The template of ``WordPress(stack, "WP", **VARIANTS[name])``, synthesized once per test run."""
    stack = Stack(App(), "Test")
    WordPress(stack, "WP", **VARIANTS[name])
    return Template.from_stack(stack)


def only(template: Template, kind: str, props: dict | None = None) -> tuple[str, dict]:
    """The single resource of ``kind`` (matching ``props``): its logical id and definition."""
    found = template.find_resources(kind, {"Properties": props} if props else None)
    assert len(found) == 1, f"{len(found)} {kind} resources"
    return next(iter(found.items()))


def container_definition(template: Template) -> dict:
    _, task = only(template, "AWS::ECS::TaskDefinition")
    [container] = task["Properties"]["ContainerDefinitions"]
    return container


def security_group_of(template: Template, description_part: str) -> str:
    """Logical id of the one security group whose description contains ``description_part``."""
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    [found] = [lid for lid, r in groups.items() if description_part in r["Properties"]["GroupDescription"]]
    return found


def ingress_rules_into(template: Template, group: str) -> list[dict]:
    rules = template.find_resources("AWS::EC2::SecurityGroupIngress")
    return [
        r["Properties"]
        for r in rules.values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}
    ]


# -- the database ---------------------------------------------------------------------------------


def test_default_is_a_provisioned_aurora_mysql_3_cluster_with_the_wordpress_database():
    template = variant("provisioned")
    _, cluster = only(template, "AWS::RDS::DBCluster")
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-mysql"
    assert props["EngineVersion"].startswith("8.0.mysql_aurora.3.")
    assert props["DatabaseName"] == "wordpress"
    assert props["StorageEncrypted"] is True
    assert props["BackupRetentionPeriod"] == 7
    assert "ServerlessV2ScalingConfiguration" not in props
    _, writer = only(template, "AWS::RDS::DBInstance")
    assert writer["Properties"]["DBInstanceClass"] == "db.t4g.medium"
    assert writer["Properties"]["PubliclyAccessible"] is False


def test_aurora_serverless_has_a_serverless_v2_writer_and_the_capacity_range():
    template = variant("serverless")
    _, cluster = only(template, "AWS::RDS::DBCluster")
    assert cluster["Properties"]["EngineVersion"].startswith("8.0.mysql_aurora.3.")
    assert cluster["Properties"]["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 1, "MaxCapacity": 16}
    assert "EngineMode" not in cluster["Properties"]  # serverless v1 ("serverless" engine mode) is retired
    _, writer = only(template, "AWS::RDS::DBInstance")
    assert writer["Properties"]["DBInstanceClass"] == "db.serverless"


def test_single_db_instance_is_rds_for_mysql_8_0():
    template = variant("single")
    template.resource_count_is("AWS::RDS::DBCluster", 0)
    _, instance = only(template, "AWS::RDS::DBInstance")
    props = instance["Properties"]
    assert props["Engine"] == "mysql"
    assert props["EngineVersion"].startswith("8.0.")
    assert props["DBName"] == "wordpress"
    assert props["DBInstanceClass"] == "db.t4g.medium"
    assert (props["StorageType"], props["AllocatedStorage"]) == ("gp3", "20")
    assert props["StorageEncrypted"] is True
    assert props["BackupRetentionPeriod"] == 7


@pytest.mark.parametrize("single", [False, True], ids=["aurora", "single"])
def test_database_instance_type_and_backup_retention(single):
    stack = Stack(App(), "Test")
    WordPress(
        stack,
        "WP",
        single_db_instance=single,
        database_instance_type=ec2.InstanceType("r6g.large"),
        backup_retention=Duration.days(14),
    )
    template = Template.from_stack(stack)
    _, instance = only(template, "AWS::RDS::DBInstance")
    assert instance["Properties"]["DBInstanceClass"] == "db.r6g.large"
    _, owner = only(template, "AWS::RDS::DBInstance" if single else "AWS::RDS::DBCluster")
    assert owner["Properties"]["BackupRetentionPeriod"] == 14


def test_database_subnets_are_used_for_the_subnet_group():
    stack = Stack(App(), "Test")
    WordPress(stack, "WP", database_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC))
    template = Template.from_stack(stack)
    _, group = only(template, "AWS::RDS::DBSubnetGroup")
    assert all("PublicSubnet" in s["Ref"] for s in group["Properties"]["SubnetIds"])


def test_database_construct_exposes_secret_connections_and_endpoint():
    stack = Stack(App(), "Test")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    database = Database(stack, "Db", vpc=vpc, aurora_serverless=True)
    assert database.cluster is not None and database.instance is None
    cluster_id = stack.get_logical_id(database.cluster.node.default_child)
    assert stack.resolve(database.endpoint.hostname) == {"Fn::GetAtt": [cluster_id, "Endpoint.Address"]}
    attachment_id = stack.get_logical_id(database.secret.node.default_child)
    assert stack.resolve(database.secret.secret_arn) == {"Ref": attachment_id}
    [group] = database.connections.security_groups
    assert stack.resolve(group.security_group_id) == {
        "Fn::GetAtt": [stack.get_logical_id(group.node.default_child), "GroupId"]
    }
    assert group.node.path == "Test/Db/SecurityGroup"


# -- credentials ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["provisioned", "serverless", "single"])
def test_credentials_reach_the_container_only_as_ecs_secrets(name):
    template = variant(name)
    _, secret = only(template, "AWS::SecretsManager::Secret")
    generate = secret["Properties"]["GenerateSecretString"]
    assert (generate["GenerateStringKey"], json.loads(generate["SecretStringTemplate"])) == (
        "password",
        {"username": "admin"},
    )
    attachment, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    container = container_definition(template)
    assert {s["Name"]: s["ValueFrom"] for s in container["Secrets"]} == {
        variable: {"Fn::Join": ["", [{"Ref": attachment}, f":{field}::"]]}
        for variable, field in SECRET_VARIABLES.items()
    }
    assert container["Environment"] == [{"Name": "WORDPRESS_DB_NAME", "Value": "wordpress"}]


def test_the_execution_role_reads_the_secret_and_the_task_role_does_not():
    template = variant("provisioned")
    attachment, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    _, task = only(template, "AWS::ECS::TaskDefinition")
    execution_role = task["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    task_role = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    readers = [
        p["Properties"]["Roles"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "secretsmanager:GetSecretValue" in s["Action"] and s["Resource"] == {"Ref": attachment}
    ]
    assert readers == [[{"Ref": execution_role}]]
    assert task_role != execution_role


# -- network rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["provisioned", "single"])
def test_database_admits_mysql_only_from_the_wordpress_service(name):
    template = variant(name)
    database_group = security_group_of(template, "MySQL of")
    service_group = security_group_of(template, "/wordpressService/SecurityGroup")
    [rule] = ingress_rules_into(template, database_group)
    assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [service_group, "GroupId"]}
    assert "CidrIp" not in rule
    assert rule["IpProtocol"] == "tcp"
    definition = template.to_json()["Resources"][database_group]["Properties"]
    assert "SecurityGroupIngress" not in definition


def test_file_system_admits_nfs_only_from_the_wordpress_service():
    template = variant("provisioned")
    file_system_group = security_group_of(template, "NFS of")
    service_group = security_group_of(template, "/wordpressService/SecurityGroup")
    [rule] = ingress_rules_into(template, file_system_group)
    assert (rule["FromPort"], rule["ToPort"], rule["IpProtocol"]) == (2049, 2049, "tcp")
    assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [service_group, "GroupId"]}


def test_the_service_waits_for_the_database():
    template = variant("provisioned")
    cluster, _ = only(template, "AWS::RDS::DBCluster")
    writer, _ = only(template, "AWS::RDS::DBInstance")
    _, service = only(template, "AWS::ECS::Service")
    assert {cluster, writer} <= set(service["DependsOn"])


# -- the file system ------------------------------------------------------------------------------


def test_efs_is_encrypted_at_rest_and_in_transit_and_mounted_at_var_www_html():
    template = variant("provisioned")
    file_system, definition = only(template, "AWS::EFS::FileSystem")
    assert definition["Properties"]["Encrypted"] is True
    _, task = only(template, "AWS::ECS::TaskDefinition")
    [volume] = task["Properties"]["Volumes"]
    assert volume["EFSVolumeConfiguration"] == {
        "FilesystemId": {"Ref": file_system},
        "TransitEncryption": "ENABLED",
        "AuthorizationConfig": {"IAM": "ENABLED"},
    }
    assert container_definition(template)["MountPoints"] == [
        {"ContainerPath": "/var/www/html", "SourceVolume": volume["Name"], "ReadOnly": False}
    ]
    template.resource_count_is("AWS::EFS::MountTarget", 2)


def test_the_task_role_may_mount_and_write_the_file_system():
    template = variant("provisioned")
    file_system, _ = only(template, "AWS::EFS::FileSystem")
    _, task = only(template, "AWS::ECS::TaskDefinition")
    task_role = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    [statement] = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": task_role}]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert set(statement["Action"]) == {
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
        "elasticfilesystem:ClientRootAccess",
    }
    assert statement["Resource"] == {"Fn::GetAtt": [file_system, "Arn"]}


# -- load balancing, logs, capacity ---------------------------------------------------------------


def test_one_internet_facing_alb_no_internal_alb_and_no_zone():
    template = variant("provisioned")
    _, alb = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Properties"]["Scheme"] == "internet-facing"
    template.resource_count_is("AWS::Route53::HostedZone", 0)
    template.resource_count_is("AWS::Route53::RecordSet", 0)
    _, listener = only(template, "AWS::ElasticLoadBalancingV2::Listener")
    assert (listener["Properties"]["Port"], listener["Properties"]["Protocol"]) == (80, "HTTP")
    outputs = template.to_json()["Outputs"]
    assert set(outputs) == {"ExternalEndpoint", "DatabaseEndpoint", "DatabaseSecretArn", "FileSystemId"}
    attachment, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    assert outputs["DatabaseSecretArn"]["Value"] == {"Ref": attachment}


def test_health_check_on_blank_gif_and_a_log_group_kept_one_month():
    template = variant("provisioned")
    _, group = only(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["Properties"]["HealthCheckPath"] == "/wp-includes/images/blank.gif"
    assert group["Properties"]["Matcher"] == {"HttpCode": "200"}
    log_group = wordpress_log_group(template)
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == 30


def wordpress_log_group(template: Template) -> dict:
    """The log group WordPress's container writes to (the VPC's flow-log group is another)."""
    options = container_definition(template)["LogConfiguration"]["Options"]
    return template.to_json()["Resources"][options["awslogs-group"]["Ref"]]


@pytest.mark.parametrize(
    ("name", "provider", "exec_enabled"),
    [("provisioned", "FARGATE", False), ("spot-exec", "FARGATE_SPOT", True)],
)
def test_spot_and_execute_command(name, provider, exec_enabled):
    _, service = only(variant(name), "AWS::ECS::Service")
    assert service["Properties"]["CapacityProviderStrategy"] == [{"CapacityProvider": provider, "Weight": 1}]
    assert service["Properties"]["EnableExecuteCommand"] is exec_enabled


@pytest.mark.parametrize(
    "option",
    [
        {"alarms": True},
        {"access_logs": True},
        {"external_alb_idle_timeout": Duration.seconds(120)},
        {"internal_alb_idle_timeout": Duration.seconds(120)},
        {"route53_ops": Route53Options(zone_name="blog.internal")},
    ],
    ids=lambda option: next(iter(option)),
)
def test_dual_alb_options_are_refused_naming_the_option(option):
    stack = Stack(App(), "Test")
    with pytest.raises(ValidationError) as raised:
        WordPress(stack, "WP", **option)
    assert (
        str(raised.value)
        == f"{next(iter(option))}: is a DualAlbFargateService option; WordPress does not take it"
    )
    assert stack.node.try_find_child("WP") is None


def test_the_spot_termination_handler_is_on_with_spot_unless_turned_off():
    handler_kinds = ("AWS::Lambda::Function", "AWS::Events::Rule", "AWS::Lambda::Permission")
    for kind in handler_kinds:
        variant("spot-exec").resource_count_is(kind, 1)
        variant("provisioned").resource_count_is(kind, 0)
    stack = Stack(App(), "Test")
    WordPress(stack, "WP", spot=True, spot_termination_handler=False)
    turned_off = Template.from_stack(stack)
    for kind in handler_kinds:
        turned_off.resource_count_is(kind, 0)


# -- deletion -------------------------------------------------------------------------------------

KINDS = (
    "AWS::RDS::DBCluster",
    "AWS::SecretsManager::Secret",
    "AWS::EFS::FileSystem",
)


def deletion_policies(template: Template, kinds: tuple[str, ...] = KINDS) -> dict[str, set[str]]:
    return {
        kind: {r.get("DeletionPolicy", "Delete") for r in template.find_resources(kind).values()}
        for kind in kinds
    }


def test_data_is_kept_on_delete_by_default():
    assert deletion_policies(variant("provisioned")) == {
        "AWS::RDS::DBCluster": {"Snapshot"},
        "AWS::SecretsManager::Secret": {"Retain"},
        "AWS::EFS::FileSystem": {"Retain"},
    }
    assert wordpress_log_group(variant("provisioned"))["DeletionPolicy"] == "Retain"
    single = deletion_policies(variant("single"), ("AWS::RDS::DBInstance",))
    assert single == {"AWS::RDS::DBInstance": {"Snapshot"}}


def test_removal_policy_destroy_deletes_the_data():
    template = variant("destroy")
    policies = deletion_policies(template)
    assert policies["AWS::RDS::DBCluster"] == {"Delete"}
    assert policies["AWS::SecretsManager::Secret"] == {"Delete"}
    assert policies["AWS::EFS::FileSystem"] == {"Delete"}
    assert wordpress_log_group(template)["DeletionPolicy"] == "Delete"


# -- service_props --------------------------------------------------------------------------------


def custom_task(stack: Stack, **container) -> ecs.FargateTaskDefinition:
    task = ecs.FargateTaskDefinition(stack, "CustomTask", cpu=1024, memory_limit_mib=2048)
    task.add_container(
        "site",
        image=ecs.ContainerImage.from_registry("example.com/my-wordpress:1"),
        port_mappings=[ecs.PortMapping(container_port=8080)],
        **container,
    )
    return task


def test_service_props_replace_the_service_and_still_get_storage_and_credentials():
    stack = Stack(App(), "Test")
    props = FargateTaskProps(
        task=custom_task(stack), desired_count=2, external=LoadBalancerAccessibility(port=8080)
    )
    wordpress = WordPress(stack, "WP", service_props=props)
    template = Template.from_stack(stack)
    container = container_definition(template)
    assert container["Image"] == "example.com/my-wordpress:1"
    assert {s["Name"] for s in container["Secrets"]} == set(SECRET_VARIABLES)
    assert [m["ContainerPath"] for m in container["MountPoints"]] == ["/var/www/html"]
    _, service = only(template, "AWS::ECS::Service")
    assert service["Properties"]["DesiredCount"] == 2
    _, group = only(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert (group["Properties"]["Port"], group["Properties"]["HealthCheckPath"]) == (
        8080,
        "/wp-includes/images/blank.gif",
    )
    assert wordpress.service is wordpress.svc.services[0]
    assert wordpress.svc.internal_alb is None and wordpress.svc.zone is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"aurora_serverless": True, "single_db_instance": True}, "single_db_instance: cannot be combined"),
        (
            {"aurora_serverless": True, "database_instance_type": ec2.InstanceType("t4g.medium")},
            "database_instance_type: a Serverless v2 writer is db.serverless",
        ),
        ({"serverless_min_capacity": 0.25}, "serverless_min_capacity: 0.25 is not an ACU count"),
        ({"serverless_max_capacity": 300}, "serverless_max_capacity: 300 is not an ACU count"),
        ({"serverless_max_capacity": 0.5}, "serverless_max_capacity: 0.5 is below 1 ACU"),
        ({"serverless_min_capacity": 8, "serverless_max_capacity": 4}, "serverless_min_capacity: 8 is above"),
        ({"backup_retention": Duration.days(0)}, "backup_retention: 0 days is not"),
        ({"backup_retention": Duration.days(36)}, "backup_retention: 36 days is not"),
        ({"backup_retention": Duration.hours(36)}, "backup_retention: 1.5 days is not"),
    ],
)
def test_bad_database_options_are_validation_errors(kwargs, message):
    with pytest.raises(ValidationError) as raised:
        WordPress(Stack(App(), "Test"), "WP", **kwargs)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("side", "message"),
    [
        ("internal", "service_props.external: WordPress is served by the internet-facing ALB"),
        ("both", "service_props.internal: WordPress has no internal ALB; leave it unset"),
    ],
)
def test_service_props_need_the_external_alb_only(side, message):
    stack = Stack(App(), "Test")
    access = LoadBalancerAccessibility(port=80)
    props = FargateTaskProps(
        task=custom_task(stack),
        internal=access,
        external=access if side == "both" else None,
    )
    with pytest.raises(ValidationError) as raised:
        WordPress(stack, "WP", service_props=props)
    assert str(raised.value) == message


# -- the spec and the shipped params file ---------------------------------------------------------


def test_params_file_builds_the_wordpress_construct():
    spec = load_spec(PARAMS)
    assert spec.pattern == "wordpress" and spec.tasks == []
    _, stack = build_stack(spec)
    [wordpress] = [c for c in stack.node.children if isinstance(c, WordPress)]
    template = Template.from_stack(stack)
    _, cluster = only(template, "AWS::RDS::DBCluster")
    assert cluster["Properties"]["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": spec.wordpress.serverless_min_capacity,
        "MaxCapacity": spec.wordpress.serverless_max_capacity,
    }
    assert cluster["DeletionPolicy"] == "Delete"  # the shipped demo opts in to destroy
    _, service = only(template, "AWS::ECS::Service")
    assert service["Properties"]["CapacityProviderStrategy"][0]["CapacityProvider"] == "FARGATE_SPOT"
    assert wordpress.db.cluster is not None


def test_spec_task_replaces_the_wordpress_service():
    spec = load_spec(
        {
            "stack_name": "wp",
            "pattern": "wordpress",
            "wordpress": {"single_db_instance": True, "database_instance_type": "t3.small"},
            "tasks": [
                {"name": "blog", "image": "wordpress:6", "cpu": 512, "memory": 1024, "external": {"port": 80}}
            ],
        }
    )
    _, stack = build_stack(spec)
    template = Template.from_stack(stack)
    container = container_definition(template)
    assert (container["Name"], container["Image"]) == ("blog", "wordpress:6")
    assert {s["Name"] for s in container["Secrets"]} == set(SECRET_VARIABLES)
    _, instance = only(template, "AWS::RDS::DBInstance")
    assert instance["Properties"]["DBInstanceClass"] == "db.t3.small"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"wordpress": {"aurora_serverless": True, "single_db_instance": True}},
            "wordpress.single_db_instance:",
        ),
        (
            {"wordpress": {"aurora_serverless": True, "database_instance_type": "t4g.medium"}},
            "wordpress.database_instance_type:",
        ),
        ({"wordpress": {"serverless_min_capacity": 0.3}}, "wordpress.serverless_min_capacity:"),
        ({"wordpress": {"serverless_min_capacity": 8}}, "wordpress.serverless_min_capacity: 8 is above"),
        ({"wordpress": {"backup_retention_days": 40}}, "wordpress.backup_retention_days:"),
        ({"wordpress": {"removal_policy": "forever"}}, "wordpress.removal_policy:"),
        ({"wordpress": {"engine": "postgres"}}, "wordpress.engine: unknown key"),
        ({"subnets": "public"}, "subnets: the wordpress pattern runs in private subnets"),
        ({"circuit_breaker": False}, "circuit_breaker:"),
        (
            {"tasks": [{"name": "a", "image": "x", "external": {"port": 80}}] * 2},
            "tasks: the wordpress pattern",
        ),
        (
            {"tasks": [{"name": "a", "image": "x", "external": {"port": 80}, "internal": {"port": 81}}]},
            "tasks[0].internal: the wordpress pattern has no internal ALB",
        ),
        ({"pattern": "dualalb", "wordpress": {}}, "wordpress: is for pattern: wordpress"),
        ({"alarms": True}, "alarms: is for pattern: dualalb (WordPress has no alarms)"),
        ({"access_logs": True}, "access_logs: is for pattern: dualalb (WordPress keeps no ALB access logs)"),
        (
            {"external_alb_idle_timeout_seconds": 120},
            "external_alb_idle_timeout_seconds: is for pattern: dualalb "
            "(WordPress keeps ALB's 60 s idle timeout)",
        ),
        (
            {"internal_alb_idle_timeout_seconds": 120},
            "internal_alb_idle_timeout_seconds: is for pattern: dualalb (WordPress has no internal ALB)",
        ),
        (
            {"route53": {"zone_name": "blog.internal"}},
            "route53: is for pattern: dualalb (WordPress makes no private zone)",
        ),
        (
            {"log_retention_days": 7},
            "log_retention_days: is for pattern: dualalb (WordPress keeps its log one month)",
        ),
    ],
)
def test_bad_wordpress_specs_name_the_field(params, message):
    with pytest.raises(ValidationError) as raised:
        load_spec({"stack_name": "wp", "pattern": "wordpress", **params})
    assert str(raised.value).startswith(message)


def test_dualalb_pattern_still_requires_tasks():
    with pytest.raises(ValidationError) as raised:
        load_spec({"stack_name": "x"})
    assert str(raised.value) == "tasks: at least one task is required"


# -- cfn-lint and cdk-nag -------------------------------------------------------------------------


def cfn_lint_errors(template: Template) -> list[str]:
    """cfn-lint's errors on ``template`` in us-east-1, the shipped params' region (db.t4g is not
    offered in every region)."""
    from cfnlint.api import lint

    matches = lint(json.dumps(template.to_json()), regions=["us-east-1"])
    return [f"{m.rule.id} {m.path}: {m.message}" for m in matches if m.rule.severity == "error"]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_cfn_lint_reports_no_errors(name):
    assert cfn_lint_errors(variant(name)) == []


@pytest.mark.parametrize(
    "options",
    [None, {"single_db_instance": True}, {}],
    ids=["params-file", "single-kept", "provisioned-kept"],
)
def test_no_unacknowledged_cdk_nag_findings(tmp_path, options):
    spec = load_spec(PARAMS)
    if options is not None:
        spec = load_spec({**spec.to_params(), "wordpress": options})
    result = synth(spec, tmp_path)
    assert result.findings.empty, result.findings.to_string()
    assert result.warnings == []
    assert set(result.outputs) == {
        "ExternalEndpoint",
        "DatabaseEndpoint",
        "DatabaseSecretArn",
        "FileSystemId",
    }


# -- the sandbox ----------------------------------------------------------------------------------


@pytest.mark.sandbox
def test_params_file_deploys_to_the_sandbox_with_the_templates_values(sandbox, tmp_path):
    import boto3

    from dualalb_kit import deploy

    spec = load_spec(PARAMS)
    template = synth(spec, tmp_path / "expected", nag=False).template
    [cluster_props] = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::RDS::DBCluster"
    ]
    outputs = dict(deploy.deploy(spec, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)))
    try:
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=spec.region
        )
        rds = session.client("rds", endpoint_url=sandbox.endpoint_url)
        [cluster] = [
            c
            for c in rds.describe_db_clusters()["DBClusters"]
            if c["Endpoint"] == outputs["DatabaseEndpoint"]
        ]
        assert (cluster["Engine"], cluster["EngineVersion"], cluster["DatabaseName"]) == (
            "aurora-mysql",
            cluster_props["EngineVersion"],
            "wordpress",
        )
        assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
        assert cluster["StorageEncrypted"] is True
        [member] = cluster["DBClusterMembers"]
        [writer] = rds.describe_db_instances(DBInstanceIdentifier=member["DBInstanceIdentifier"])[
            "DBInstances"
        ]
        assert writer["DBInstanceClass"] == "db.serverless"

        efs = session.client("efs", endpoint_url=sandbox.endpoint_url)
        [file_system] = efs.describe_file_systems(FileSystemId=outputs["FileSystemId"])["FileSystems"]
        assert file_system["Encrypted"] is True

        secrets = session.client("secretsmanager", endpoint_url=sandbox.endpoint_url)
        secret = secrets.describe_secret(SecretId=outputs["DatabaseSecretArn"])
        assert secret["ARN"] == outputs["DatabaseSecretArn"]

        cloudformation = session.client("cloudformation", endpoint_url=sandbox.endpoint_url)
        physical = {
            r["ResourceType"]: r["PhysicalResourceId"]
            for r in cloudformation.describe_stack_resources(StackName=spec.stack_name)["StackResources"]
        }
        ecs = session.client("ecs", endpoint_url=sandbox.endpoint_url)
        [service] = ecs.describe_services(
            cluster=physical["AWS::ECS::Cluster"], services=[physical["AWS::ECS::Service"]]
        )["services"]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        [container] = definition["containerDefinitions"]
        assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
            variable: f"{secret['ARN']}:{field}::" for variable, field in SECRET_VARIABLES.items()
        }
        assert definition["volumes"][0]["efsVolumeConfiguration"]["transitEncryption"] == "ENABLED"
        assert outputs["ExternalEndpoint"].startswith("http://")
    finally:
        deploy.destroy(spec, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
