"""Laravel: each option on the template, the shared database wiring, cfn-lint, cdk-nag, the spec,
the designer, and a deploy of params/laravel.yaml to the sandbox."""

from __future__ import annotations

import filecmp
import json
from functools import cache
from pathlib import Path

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Template
from test_wordpress import cfn_lint_errors, container_definition, ingress_rules_into, only, security_group_of

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit import ValidationError
from dualalb_kit.build import build_stack
from dualalb_kit.constructs import Laravel, LoadBalancerAccessibility
from dualalb_kit.samples import SAMPLE_LARAVEL_DIR
from dualalb_kit.spec import load_spec
from dualalb_kit.synth import synth
from dualalb_kit.target import as_target

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "params" / "laravel.yaml"
CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
DB_SECRETS = {"DB_HOST": "host", "DB_PORT": "port", "DB_USERNAME": "username", "DB_PASSWORD": "password"}

VARIANTS = {
    "default": {},
    "efs": {"efs_file_system": True},
    "custom": {
        "loadbalancer": {"port": 8080},
        "container_port": 8000,
        "default_database_name": "shop",
        "aurora_serverless": True,
        "serverless_max_capacity": 8,
        "spot": True,
        "enable_execute_command": True,
    },
    "single-destroy": {
        "single_db_instance": True,
        "database_instance_type": ec2.InstanceType("t4g.small"),
        "backup_retention": Duration.days(3),
        "efs_file_system": True,
        "removal_policy": RemovalPolicy.DESTROY,
    },
}


def laravel_in(stack: Stack, **options) -> Laravel:
    port = options.pop("loadbalancer", {"port": 80})["port"]
    options.setdefault("code", SAMPLE_LARAVEL_DIR)
    return Laravel(stack, "App", loadbalancer=LoadBalancerAccessibility(port=port), **options)


@cache
def variant(name: str) -> Template:
    """The template of a Laravel made with ``VARIANTS[name]``, synthesized once per test run."""
    stack = Stack(App(), "Test")
    laravel_in(stack, **VARIANTS[name])
    return Template.from_stack(stack)


def app_key(template: Template) -> tuple[str, dict]:
    secrets = template.find_resources("AWS::SecretsManager::Secret")
    [(logical_id, secret)] = [
        (lid, s)
        for lid, s in secrets.items()
        if str(s["Properties"].get("Description", "")).startswith("APP_KEY")
    ]
    return logical_id, secret


# -- the image and the container ------------------------------------------------------------------


def test_the_image_is_an_asset_of_the_code_directory():
    image = container_definition(variant("default"))["Image"]
    assert "container-assets" in image["Fn::Sub"]


def test_the_container_gets_laravels_database_settings_and_app_key_as_secrets():
    template = variant("default")
    container = container_definition(template)
    attachment, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    key, _ = app_key(template)
    assert {s["Name"]: s["ValueFrom"] for s in container["Secrets"]} == {
        **{
            variable: {"Fn::Join": ["", [{"Ref": attachment}, f":{field}::"]]}
            for variable, field in DB_SECRETS.items()
        },
        "APP_KEY": {"Ref": key},
    }
    assert container["Environment"] == [
        {"Name": "DB_CONNECTION", "Value": "mysql"},
        {"Name": "DB_DATABASE", "Value": "laravel"},
        {"Name": "LOG_CHANNEL", "Value": "stderr"},
    ]
    assert container["Name"] == "laravel"
    assert container["PortMappings"] == [{"ContainerPort": 80, "Protocol": "tcp"}]


def test_app_key_is_32_generated_letters_and_digits_kept_with_the_data():
    _, secret = app_key(variant("default"))
    generate = secret["Properties"]["GenerateSecretString"]
    assert (generate["PasswordLength"], generate["ExcludePunctuation"]) == (32, True)
    assert secret["DeletionPolicy"] == "Retain"
    assert app_key(variant("single-destroy"))[1]["DeletionPolicy"] == "Delete"


def test_the_execution_role_reads_both_secrets_and_the_task_role_neither():
    template = variant("default")
    attachment, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    key, _ = app_key(template)
    _, task = only(template, "AWS::ECS::TaskDefinition")
    execution_role = task["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    readers = {
        json.dumps(resource): p["Properties"]["Roles"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "secretsmanager:GetSecretValue" in s["Action"]
        for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert readers == {
        json.dumps({"Ref": attachment}): [{"Ref": execution_role}],
        json.dumps({"Ref": key}): [{"Ref": execution_role}],
    }


# -- the database ---------------------------------------------------------------------------------


def test_default_database_is_provisioned_aurora_named_laravel():
    template = variant("default")
    _, cluster = only(template, "AWS::RDS::DBCluster")
    assert (cluster["Properties"]["Engine"], cluster["Properties"]["DatabaseName"]) == (
        "aurora-mysql",
        "laravel",
    )
    assert cluster["Properties"]["BackupRetentionPeriod"] == 7
    _, writer = only(template, "AWS::RDS::DBInstance")
    assert writer["Properties"]["DBInstanceClass"] == "db.t4g.medium"


def test_database_options_and_default_database_name():
    template = variant("custom")
    _, cluster = only(template, "AWS::RDS::DBCluster")
    assert cluster["Properties"]["DatabaseName"] == "shop"
    assert cluster["Properties"]["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 8}
    assert {"Name": "DB_DATABASE", "Value": "shop"} in container_definition(template)["Environment"]
    single = variant("single-destroy")
    single.resource_count_is("AWS::RDS::DBCluster", 0)
    _, instance = only(single, "AWS::RDS::DBInstance")
    assert (instance["Properties"]["DBInstanceClass"], instance["Properties"]["BackupRetentionPeriod"]) == (
        "db.t4g.small",
        3,
    )


def test_the_database_admits_mysql_only_from_the_laravel_service_which_waits_for_it():
    template = variant("default")
    service_group = security_group_of(template, "/laravelService/SecurityGroup")
    [rule] = ingress_rules_into(template, security_group_of(template, "MySQL of"))
    assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [service_group, "GroupId"]}
    assert rule["Description"] == "MySQL from Laravel"
    cluster, _ = only(template, "AWS::RDS::DBCluster")
    _, service = only(template, "AWS::ECS::Service")
    assert cluster in service["DependsOn"]


# -- load balancing -------------------------------------------------------------------------------


def test_one_internet_facing_alb_on_the_listener_port_forwarding_to_the_container_port():
    template = variant("custom")
    _, alb = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Properties"]["Scheme"] == "internet-facing"
    _, listener = only(template, "AWS::ElasticLoadBalancingV2::Listener")
    assert (listener["Properties"]["Port"], listener["Properties"]["Protocol"]) == (8080, "HTTP")
    _, group = only(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["Properties"]["Port"] == 8000
    assert container_definition(template)["PortMappings"][0]["ContainerPort"] == 8000
    template.resource_count_is("AWS::Route53::HostedZone", 0)


def test_a_certificate_makes_the_listener_https():
    stack = Stack(App(), "Test")
    cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    Laravel(
        stack, "App", code=SAMPLE_LARAVEL_DIR, loadbalancer=LoadBalancerAccessibility(port=443, cert=cert)
    )
    listeners = Template.from_stack(stack).find_resources("AWS::ElasticLoadBalancingV2::Listener")
    https = [lst["Properties"] for lst in listeners.values() if lst["Properties"]["Port"] == 443]
    assert [(lst["Protocol"], lst["Certificates"]) for lst in https] == [
        ("HTTPS", [{"CertificateArn": CERT_ARN}])
    ]


def test_health_check_is_laravels_up_route_unless_given():
    _, group = only(variant("default"), "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert (group["Properties"]["HealthCheckPath"], group["Properties"]["Matcher"]) == (
        "/up",
        {"HttpCode": "200"},
    )
    stack = Stack(App(), "Test")
    laravel_in(stack, health_check=elbv2.HealthCheck(path="/health", healthy_http_codes="200-299"))
    _, group = only(Template.from_stack(stack), "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["Properties"]["HealthCheckPath"] == "/health"


@pytest.mark.parametrize(
    ("name", "provider", "exec_enabled"), [("default", "FARGATE", False), ("custom", "FARGATE_SPOT", True)]
)
def test_spot_and_execute_command(name, provider, exec_enabled):
    _, service = only(variant(name), "AWS::ECS::Service")
    assert service["Properties"]["CapacityProviderStrategy"] == [{"CapacityProvider": provider, "Weight": 1}]
    assert service["Properties"]["EnableExecuteCommand"] is exec_enabled


# -- the optional file system ---------------------------------------------------------------------


def test_no_file_system_unless_asked():
    template = variant("default")
    template.resource_count_is("AWS::EFS::FileSystem", 0)
    _, task = only(template, "AWS::ECS::TaskDefinition")
    assert "Volumes" not in task["Properties"]
    assert "MountPoints" not in container_definition(template)
    assert set(template.to_json()["Outputs"]) == {"ExternalEndpoint", "DatabaseEndpoint", "DatabaseSecretArn"}


def test_efs_file_system_holds_storage_app_through_a_www_data_access_point():
    template = variant("efs")
    file_system, definition = only(template, "AWS::EFS::FileSystem")
    assert definition["Properties"]["Encrypted"] is True
    access_point, point = only(template, "AWS::EFS::AccessPoint")
    assert point["Properties"]["FileSystemId"] == {"Ref": file_system}
    assert point["Properties"]["PosixUser"] == {"Uid": "33", "Gid": "33"}
    assert point["Properties"]["RootDirectory"] == {
        "Path": "/laravel-storage",
        "CreationInfo": {"OwnerUid": "33", "OwnerGid": "33", "Permissions": "750"},
    }
    _, task = only(template, "AWS::ECS::TaskDefinition")
    [volume] = task["Properties"]["Volumes"]
    assert volume["EFSVolumeConfiguration"] == {
        "FilesystemId": {"Ref": file_system},
        "TransitEncryption": "ENABLED",
        "AuthorizationConfig": {"AccessPointId": {"Ref": access_point}, "IAM": "ENABLED"},
    }
    assert container_definition(template)["MountPoints"] == [
        {"ContainerPath": "/var/www/html/storage/app", "SourceVolume": volume["Name"], "ReadOnly": False}
    ]
    [rule] = ingress_rules_into(template, security_group_of(template, "NFS of"))
    assert (rule["FromPort"], rule["Description"]) == (2049, "NFS from Laravel")
    assert template.to_json()["Outputs"]["FileSystemId"]["Value"] == {"Ref": file_system}


def test_the_task_role_reads_and_writes_the_file_system_but_is_not_root():
    template = variant("efs")
    _, task = only(template, "AWS::ECS::TaskDefinition")
    task_role = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    actions = {
        action
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": task_role}]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        if action.startswith("elasticfilesystem:")
    }
    assert actions == {"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"}


# -- deletion -------------------------------------------------------------------------------------


def deletion(template: Template, kind: str) -> set[str]:
    return {r.get("DeletionPolicy", "Delete") for r in template.find_resources(kind).values()}


def test_data_is_kept_on_delete_by_default_and_destroyed_on_request():
    kept = variant("efs")
    assert deletion(kept, "AWS::RDS::DBCluster") == {"Snapshot"}
    assert deletion(kept, "AWS::SecretsManager::Secret") == {"Retain"}  # the database's and APP_KEY
    assert deletion(kept, "AWS::EFS::FileSystem") == {"Retain"}
    destroyed = variant("single-destroy")
    for kind in ("AWS::RDS::DBInstance", "AWS::SecretsManager::Secret", "AWS::EFS::FileSystem"):
        assert deletion(destroyed, kind) == {"Delete"}, kind


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"code": ROOT / "missing"}, "code: '"),
        ({"code": ROOT / "params"}, "code: '"),
        ({"container_port": 0}, "container_port: 0 is not a port (1-65535)"),
        ({"loadbalancer": {"port": 70000}}, "loadbalancer.port: 70000 is not a port (1-65535)"),
        ({"default_database_name": "my-app"}, "default_database_name: 'my-app' is not a database name"),
        ({"aurora_serverless": True, "single_db_instance": True}, "single_db_instance: cannot be combined"),
        (
            {"aurora_serverless": True, "database_instance_type": ec2.InstanceType("t4g.medium")},
            "database_instance_type: a Serverless v2 writer is db.serverless",
        ),
        ({"serverless_min_capacity": 6}, "serverless_min_capacity: 6 is above serverless_max_capacity (4)"),
        ({"backup_retention": Duration.hours(12)}, "backup_retention: 0.5 days is not"),
        ({"alarms": True}, "alarms: is a DualAlbFargateService option; Laravel does not take it"),
        (
            {"code": ROOT / "missing", "access_logs": True},
            "access_logs: is a DualAlbFargateService option; Laravel does not take it",
        ),
        (
            {"internal_alb_idle_timeout": Duration.seconds(30)},
            "internal_alb_idle_timeout: is a DualAlbFargateService option; Laravel does not take it",
        ),
    ],
)
def test_bad_props_are_validation_errors_before_any_construct(options, message):
    stack = Stack(App(), "Test")
    with pytest.raises(ValidationError) as raised:
        laravel_in(stack, **options)
    assert str(raised.value).startswith(message)
    assert stack.node.try_find_child("App") is None


def test_retain_is_refused_in_the_vpc_the_app_creates():
    with pytest.raises(ValidationError) as raised:
        laravel_in(Stack(App(), "Test"), removal_policy=RemovalPolicy.RETAIN)
    assert str(raised.value).startswith("removal_policy: retain keeps the database running in the VPC")


def test_code_errors_say_what_is_missing():
    stack = Stack(App(), "Test")
    with pytest.raises(ValidationError) as missing:
        laravel_in(stack, code=ROOT / "missing")
    assert str(missing.value) == f"code: '{ROOT / 'missing'}' is not a directory"
    with pytest.raises(ValidationError) as no_dockerfile:
        laravel_in(stack, code=ROOT / "params")
    assert str(no_dockerfile.value) == f"code: '{ROOT / 'params'}' has no Dockerfile"


# -- the sample, the spec and the shipped params file ---------------------------------------------


def test_the_sample_is_a_php_app_served_as_laravel_is():
    dockerfile = (SAMPLE_LARAVEL_DIR / "Dockerfile").read_text()
    assert "FROM php:8.3-apache" in dockerfile and "pdo_mysql" in dockerfile
    assert "DocumentRoot /var/www/html/public" in (SAMPLE_LARAVEL_DIR / "apache-site.conf").read_text()
    index = (SAMPLE_LARAVEL_DIR / "public" / "index.php").read_text()
    assert "'/up'" in index and "getenv('DB_PASSWORD')" in index
    assert "RewriteRule ^ index.php [L]" in (SAMPLE_LARAVEL_DIR / "public" / ".htaccess").read_text()


def test_params_file_builds_laravel_from_the_bundled_sample(tmp_path):
    spec = load_spec(PARAMS)
    assert (spec.pattern, spec.laravel.code, spec.tasks) == ("laravel", "sample:laravel", [])
    _, stack = build_stack(spec)
    [laravel] = [c for c in stack.node.children if isinstance(c, Laravel)]
    assert laravel.file_system is not None and laravel.db.variant == "single-instance"
    template = Template.from_stack(stack)
    _, instance = only(template, "AWS::RDS::DBInstance")
    assert (instance["Properties"]["DBInstanceClass"], instance["Properties"]["DBName"]) == (
        "db.t4g.micro",
        "laravel",
    )
    assert instance["DeletionPolicy"] == "Delete"  # the shipped demo opts in to destroy
    # The assembly carries the sample as the image's build context, for linux/amd64.
    result = synth(spec, tmp_path, nag=False)
    [manifest] = result.assembly_dir.glob("*.assets.json")
    [image] = json.loads(manifest.read_text())["dockerImages"].values()
    assert image["source"]["platform"] == "linux/amd64"
    context = result.assembly_dir / image["source"]["directory"]
    for name in ("Dockerfile", "apache-site.conf", "public/index.php", "public/.htaccess"):
        assert filecmp.cmp(context / name, SAMPLE_LARAVEL_DIR / name, shallow=False), name


def test_a_relative_code_path_is_relative_to_the_params_file(tmp_path, monkeypatch):
    app = tmp_path / "shop"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM php:8.3-apache\n")
    params = tmp_path / "params" / "shop.yaml"
    params.parent.mkdir()
    params.write_text("stack_name: shop\npattern: laravel\nlaravel: {code: ../shop}\n")
    monkeypatch.chdir(ROOT)
    spec = load_spec(params)
    assert spec.laravel.code == str(app.resolve()) and spec.laravel.code_directory == app.resolve()
    assert load_spec(spec.to_yaml()) == spec
    monkeypatch.chdir(tmp_path)
    assert load_spec({"stack_name": "shop", "pattern": "laravel", "laravel": {"code": "shop"}}) == spec


def test_spec_options_reach_the_construct():
    spec = load_spec(
        {
            "stack_name": "shop",
            "pattern": "laravel",
            "spot": True,
            "laravel": {
                "code": str(SAMPLE_LARAVEL_DIR),
                "loadbalancer": {"port": 443, "cert_arn": CERT_ARN},
                "container_port": 8000,
                "default_database_name": "shop",
                "aurora_serverless": True,
                "serverless_max_capacity": 2,
            },
        }
    )
    _, stack = build_stack(spec)
    template = Template.from_stack(stack)
    listeners = template.find_resources("AWS::ElasticLoadBalancingV2::Listener")
    assert {(lst["Properties"]["Port"], lst["Properties"]["Protocol"]) for lst in listeners.values()} >= {
        (443, "HTTPS")
    }
    _, group = only(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["Properties"]["Port"] == 8000
    _, cluster = only(template, "AWS::RDS::DBCluster")
    assert cluster["Properties"]["DatabaseName"] == "shop"
    assert cluster["Properties"]["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 2
    _, service = only(template, "AWS::ECS::Service")
    assert service["Properties"]["CapacityProviderStrategy"][0]["CapacityProvider"] == "FARGATE_SPOT"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "laravel: is required for pattern: laravel"),
        ({"laravel": {}}, "laravel.code: is required"),
        ({"laravel": {"code": "no/such/dir"}}, "laravel.code: '"),
        ({"laravel": {"code": "params"}}, "laravel.code: '"),
        ({"laravel": {"code": "sample:wordpress"}}, "laravel.code: 'sample:wordpress' is not a sample"),
        (
            {"laravel": {"code": "sample:laravel", "container_port": 0}},
            "laravel.container_port: 0 is not a port",
        ),
        (
            {"laravel": {"code": "sample:laravel", "loadbalancer": {"port": 0}}},
            "laravel.loadbalancer.port: 0 is not a port",
        ),
        (
            {"laravel": {"code": "sample:laravel", "default_database_name": "1st"}},
            "laravel.default_database_name: '1st' is not a database name",
        ),
        (
            {"laravel": {"code": "sample:laravel", "database_instance_type": "db.t4g.micro"}},
            "laravel.database_instance_type: 'db.t4g.micro': give the class without 'db.'",
        ),
        (
            {"laravel": {"code": "sample:laravel", "serverless_min_capacity": 0.3}},
            "laravel.serverless_min_capacity: 0.3 is not an ACU count",
        ),
        (
            {"laravel": {"code": "sample:laravel", "backup_retention_days": 0}},
            "laravel.backup_retention_days: 0 days is not",
        ),
        (
            {"laravel": {"code": "sample:laravel", "removal_policy": "retain"}},
            "laravel.removal_policy: retain keeps the database running",
        ),
        ({"laravel": {"code": "sample:laravel", "php": "8.3"}}, "laravel.php: unknown key"),
        (
            {"laravel": {"code": "sample:laravel"}, "subnets": "public"},
            "subnets: the laravel pattern runs in private",
        ),
        (
            {
                "laravel": {"code": "sample:laravel"},
                "tasks": [{"name": "a", "image": "x", "external": {"port": 80}}],
            },
            "tasks: the laravel pattern takes no tasks",
        ),
        ({"pattern": "dualalb", "laravel": {"code": "sample:laravel"}}, "laravel: is for pattern: laravel"),
        ({"pattern": "wordpress", "laravel": {"code": "sample:laravel"}}, "laravel: is for pattern: laravel"),
        (
            {"laravel": {"code": "sample:laravel"}, "alarms": True},
            "alarms: is for pattern: dualalb (Laravel has no alarms)",
        ),
        (
            {"laravel": {"code": "sample:laravel"}, "access_logs": True},
            "access_logs: is for pattern: dualalb (Laravel keeps no ALB access logs)",
        ),
        (
            {"laravel": {"code": "sample:laravel"}, "external_alb_idle_timeout_seconds": 300},
            "external_alb_idle_timeout_seconds: is for pattern: dualalb "
            "(Laravel keeps ALB's 60 s idle timeout)",
        ),
    ],
)
def test_bad_laravel_specs_name_the_field(params, message, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ValidationError) as raised:
        load_spec({"stack_name": "shop", "pattern": "laravel", **params})
    assert str(raised.value).startswith(message)


def test_retain_is_accepted_with_an_existing_vpc():
    spec = load_spec(
        {
            "stack_name": "shop",
            "pattern": "laravel",
            "vpc": "default",
            "laravel": {"code": "sample:laravel", "removal_policy": "retain"},
        }
    )
    assert spec.laravel.removal_policy == "retain"


def test_the_designer_offers_laravel():
    from dualalb_kit.widgets import SpecDesigner

    designer = SpecDesigner(load_spec(ROOT / "params" / "sample.yaml"))
    assert "laravel" in designer.widget("pattern").options
    designer.widget("pattern").value = "laravel"
    assert designer.error is None
    assert (designer.spec.laravel.code, designer.spec.tasks) == ("sample:laravel", [])
    assert designer.apps["laravel"].box.layout.display is None
    assert designer.tasks_section.layout.display == "none"
    designer.widget("laravel.efs_file_system").value = True
    designer.widget("laravel.container_port").value = 70000
    assert str(designer.error) == "laravel.container_port: 70000 is not a port (1-65535)"
    assert "70000 is not a port" in designer.apps["laravel"].fields["laravel.container_port"].error.value
    designer.widget("laravel.container_port").value = 8000
    spec = designer.spec
    assert (spec.laravel.efs_file_system, spec.laravel.container_port) == (True, 8000)
    designer.widget("pattern").value = "dualalb"
    assert designer.spec.laravel is None and len(designer.spec.tasks) == 3


# -- cfn-lint and cdk-nag -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_cfn_lint_reports_no_errors(name):
    assert cfn_lint_errors(variant(name)) == []


NAG_CASES = {
    "params-file": (None, True),
    "defaults-kept": ({"code": "sample:laravel"}, False),
    "serverless-efs-kept": (
        {"code": "sample:laravel", "aurora_serverless": True, "efs_file_system": True},
        True,
    ),
}
"""Laravel section (None: the shipped file's) -> whether the stack has a file system."""


@pytest.mark.parametrize("case", sorted(NAG_CASES))
def test_no_unacknowledged_cdk_nag_findings_and_the_outputs(tmp_path, case):
    section, file_system = NAG_CASES[case]
    shipped = load_spec(PARAMS)
    spec = shipped if section is None else load_spec({**shipped.to_params(), "laravel": section})
    synthesis = synth(spec, tmp_path)
    outputs = {"ExternalEndpoint", "DatabaseEndpoint", "DatabaseSecretArn"} | (
        {"FileSystemId"} if file_system else set()
    )
    assert (synthesis.findings.to_dict("records"), synthesis.warnings) == ([], [])
    assert set(synthesis.outputs) == outputs


# -- the sandbox ----------------------------------------------------------------------------------


@pytest.mark.sandbox
def test_params_file_deploys_to_the_sandbox_with_the_templates_values(sandbox, tmp_path):
    import boto3

    from dualalb_kit import deploy

    spec = load_spec(PARAMS).model_copy(update={"stack_name": "sandbox-laravel"})
    outputs = dict(deploy.deploy(spec, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)))
    try:
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=spec.region
        )
        client = lambda name: session.client(name, endpoint_url=sandbox.endpoint_url)  # noqa: E731
        cloudformation = client("cloudformation")
        physical = {
            r["ResourceType"]: r["PhysicalResourceId"]
            for r in cloudformation.describe_stack_resources(StackName=spec.stack_name)["StackResources"]
        }
        [instance] = client("rds").describe_db_instances(
            DBInstanceIdentifier=physical["AWS::RDS::DBInstance"]
        )["DBInstances"]
        assert (instance["Engine"], instance["DBInstanceClass"], instance["DBName"]) == (
            "mysql",
            "db.t4g.micro",
            "laravel",
        )
        assert instance["Endpoint"]["Address"] == outputs["DatabaseEndpoint"]
        assert instance["StorageEncrypted"] is True

        efs = client("efs")
        [file_system] = efs.describe_file_systems(FileSystemId=outputs["FileSystemId"])["FileSystems"]
        assert file_system["Encrypted"] is True
        [access_point] = efs.describe_access_points(AccessPointId=physical["AWS::EFS::AccessPoint"])[
            "AccessPoints"
        ]
        assert access_point["PosixUser"] == {"Uid": 33, "Gid": 33}
        assert access_point["RootDirectory"] == {
            "Path": "/laravel-storage",
            "CreationInfo": {"OwnerUid": 33, "OwnerGid": 33, "Permissions": "750"},
        }

        ecs = client("ecs")
        [service] = ecs.describe_services(
            cluster=physical["AWS::ECS::Cluster"], services=[physical["AWS::ECS::Service"]]
        )["services"]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        [container] = definition["containerDefinitions"]
        secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
        assert {name: secrets[name] for name in DB_SECRETS} == {
            name: f"{outputs['DatabaseSecretArn']}:{field}::" for name, field in DB_SECRETS.items()
        }
        client("secretsmanager").describe_secret(SecretId=secrets["APP_KEY"])
        # The image asset was recorded in the sandbox's ECR (no Docker build), under the task's tag.
        repository, tag = container["image"].split("/", 1)[1].split(":")
        images = client("ecr").describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        assert images["imageDetails"][0]["imageTags"] == [tag]
        assert outputs["ExternalEndpoint"].startswith("http://")
    finally:
        deploy.destroy(spec, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    remaining = [
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackName"] == spec.stack_name and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    assert remaining == []
