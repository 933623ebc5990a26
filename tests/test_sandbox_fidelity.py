"""Fidelity of the sandbox: a CDK CLI deploy leaves every resource described by the service APIs.

A reference app written directly with aws-cdk-lib covers every resource type the kit's
constructs emit (the dual-ALB Fargate pattern and the WordPress pattern). It is synthesized,
the sandbox is bootstrapped with ``cdk bootstrap`` and the app deployed with ``cdk deploy``,
then ``list_stack_resources`` and the service APIs are checked against the template.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit.runtime import cdk_cli, node_environment
from dualalb_kit.target import as_target

pytestmark = pytest.mark.sandbox

PARAMS_DIR = Path(__file__).resolve().parent.parent / "params"
PARAMS_FILES = sorted(PARAMS_DIR.glob("*.yaml"))

ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK_NAME = "FidelityRef"
CERT_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555"
ZONE_NAME = "svc.local"
SERVICES = {
    # name: (desired count, capacity strategy [(provider, base, weight)], external port, internal port)
    "web": (2, [("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 3)], 443, 8080),
    "api": (1, [("FARGATE_SPOT", 0, 1)], 8443, 9090),
    "worker": (3, [("FARGATE", 0, 1)], None, 9091),
}
SCALING = {"max_capacity": 7, "min_capacity": 1, "target_cpu": 55, "requests_per_target": 800}


def build_reference_app(outdir: Path) -> Path:
    """Synthesize the reference stack into ``outdir``; returns the cloud assembly directory."""
    from aws_cdk import App, CfnOutput, Duration, Environment, RemovalPolicy, Stack, Tags
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_ecs as ecs
    from aws_cdk import aws_elasticloadbalancingv2 as elbv2
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_route53 as route53
    from aws_cdk import aws_route53_targets as targets
    from aws_cdk import aws_secretsmanager as secretsmanager

    app = App(
        outdir=str(outdir),
        context={f"availability-zones:account={ACCOUNT}:region={REGION}": [f"{REGION}a", f"{REGION}b"]},
    )
    stack = Stack(app, STACK_NAME, env=Environment(account=ACCOUNT, region=REGION))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    vpc.add_flow_log("FlowLog")
    cluster = ecs.Cluster(
        stack, "Cluster", vpc=vpc, enable_fargate_capacity_providers=True, container_insights=True
    )
    cluster.add_default_capacity_provider_strategy(
        [ecs.CapacityProviderStrategy(capacity_provider="FARGATE", base=0, weight=1)]
    )
    external = elbv2.ApplicationLoadBalancer(stack, "ExternalAlb", vpc=vpc, internet_facing=True)
    internal = elbv2.ApplicationLoadBalancer(stack, "InternalAlb", vpc=vpc, internet_facing=False)
    external.add_redirect(source_port=80, target_port=443)
    zone = route53.PrivateHostedZone(stack, "Zone", zone_name=ZONE_NAME, vpc=vpc)
    for record, alb in (("external", external), ("internal", internal)):
        route53.ARecord(
            stack,
            f"{record.title()}Alias",
            zone=zone,
            record_name=record,
            target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(alb)),
        )
    secret = secretsmanager.Secret(
        stack,
        "AppSecret",
        generate_secret_string=secretsmanager.SecretStringGenerator(
            secret_string_template='{"username":"app"}', generate_string_key="password"
        ),
    )
    for name, (desired, strategy, external_port, internal_port) in SERVICES.items():
        task = ecs.FargateTaskDefinition(stack, f"{name}Task", cpu=512, memory_limit_mib=1024)
        task.add_container(
            "app",
            image=ecs.ContainerImage.from_registry("nginx:1.27"),
            port_mappings=[ecs.PortMapping(container_port=80)],
            logging=ecs.LogDriver.aws_logs(
                stream_prefix=name,
                log_group=logs.LogGroup(
                    stack,
                    f"{name}Logs",
                    retention=logs.RetentionDays.ONE_WEEK,
                    removal_policy=RemovalPolicy.DESTROY,
                ),
            ),
            environment={"SERVICE": name},
            secrets={"PASSWORD": ecs.Secret.from_secrets_manager(secret, "password")},
        )
        service = ecs.FargateService(
            stack,
            f"{name}Service",
            cluster=cluster,
            task_definition=task,
            desired_count=desired,
            capacity_provider_strategies=[
                ecs.CapacityProviderStrategy(capacity_provider=provider, base=base, weight=weight)
                for provider, base, weight in strategy
            ],
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            enable_execute_command=True,
            min_healthy_percent=50,
            max_healthy_percent=200,
        )
        Tags.of(service).add("dualalb:service", name)
        scaling = service.auto_scale_task_count(
            min_capacity=SCALING["min_capacity"], max_capacity=SCALING["max_capacity"]
        )
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=SCALING["target_cpu"])
        for alb_name, alb, port in (
            ("external", external, external_port),
            ("internal", internal, internal_port),
        ):
            if port is None:
                continue
            listener = alb.add_listener(
                f"{name}{alb_name}Listener",
                port=port,
                protocol=elbv2.ApplicationProtocol.HTTPS
                if port in (443, 8443)
                else elbv2.ApplicationProtocol.HTTP,
                certificates=[elbv2.ListenerCertificate.from_arn(CERT_ARN)] if port in (443, 8443) else None,
                open=alb_name == "external",
            )
            target_group = listener.add_targets(
                f"{name}{alb_name}Targets",
                port=80,
                targets=[service],
                health_check=elbv2.HealthCheck(
                    path="/health", interval=Duration.seconds(15), healthy_http_codes="200"
                ),
            )
            Tags.of(target_group).add("dualalb:service", name)
            Tags.of(target_group).add("dualalb:alb", alb_name)
            if alb_name == "external":
                scaling.scale_on_request_count(
                    "Requests", requests_per_target=SCALING["requests_per_target"], target_group=target_group
                )
    CfnOutput(stack, "ExternalEndpoint", value=f"https://{external.load_balancer_dns_name}")
    CfnOutput(stack, "InternalEndpoint", value=f"http://{internal.load_balancer_dns_name}")
    add_wordpress_resources(stack, vpc)
    return Path(app.synth().directory)


def add_wordpress_resources(stack, vpc) -> None:
    """The WordPress pattern's storage: Aurora MySQL 3 serverless v2, a MySQL 8.0 instance, EFS."""
    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_efs as efs
    from aws_cdk import aws_rds as rds

    rds.DatabaseCluster(
        stack,
        "Aurora",
        engine=rds.DatabaseClusterEngine.aurora_mysql(version=rds.AuroraMysqlEngineVersion.VER_3_08_0),
        writer=rds.ClusterInstance.serverless_v2("writer"),
        serverless_v2_min_capacity=0.5,
        serverless_v2_max_capacity=4,
        vpc=vpc,
        default_database_name="wordpress",
        removal_policy=RemovalPolicy.DESTROY,
    )
    rds.DatabaseInstance(
        stack,
        "Mysql",
        engine=rds.DatabaseInstanceEngine.mysql(version=rds.MysqlEngineVersion.VER_8_0_39),
        instance_type=ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
        vpc=vpc,
        allocated_storage=20,
        removal_policy=RemovalPolicy.DESTROY,
    )
    filesystem = efs.FileSystem(stack, "Files", vpc=vpc, encrypted=True, removal_policy=RemovalPolicy.DESTROY)
    filesystem.add_access_point("WordPressAccess", path="/wordpress")


def run_cdk(args: list[str], environment: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the pinned CDK CLI against the sandbox; raises with its output when it fails."""
    result = subprocess.run(
        [*cdk_cli(), *args],
        env=node_environment({**os.environ, **environment}),
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise AssertionError(f"cdk {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def deployed(sandbox, tmp_path_factory):
    """The reference stack deployed into the session sandbox; yields (template, boto3 session)."""
    import boto3

    workdir = tmp_path_factory.mktemp("fidelity")
    assembly = build_reference_app(workdir / "cdk.out")
    run_cdk(["bootstrap", f"aws://{ACCOUNT}/{REGION}"], sandbox.environment, workdir)
    run_cdk(["deploy", "--app", str(assembly), "--require-approval", "never"], sandbox.environment, workdir)
    template = json.loads((assembly / f"{STACK_NAME}.template.json").read_text())
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    yield template, lambda service: session.client(service, endpoint_url=sandbox.endpoint_url)


def reference_load_balancers(client) -> list[dict]:
    """The reference stack's ALBs as ``describe_load_balancers`` reports them."""
    arns = list(physical_ids(client, "AWS::ElasticLoadBalancingV2::LoadBalancer").values())
    return client("elbv2").describe_load_balancers(LoadBalancerArns=arns)["LoadBalancers"]


def stack_resources(client, stack_name: str) -> list[dict]:
    return client("cloudformation").list_stack_resources(StackName=stack_name)["StackResourceSummaries"]


def physical_ids(client, resource_type: str, stack_name: str = STACK_NAME) -> dict[str, str]:
    """Logical id -> physical id of a stack's resources of one type (default: the reference stack)."""
    return {
        row["LogicalResourceId"]: row["PhysicalResourceId"]
        for row in stack_resources(client, stack_name)
        if row["ResourceType"] == resource_type
    }


def test_every_template_resource_is_listed_with_its_physical_id(deployed):
    template, client = deployed
    rows = stack_resources(client, STACK_NAME)
    assert all(row["PhysicalResourceId"] for row in rows), [
        row for row in rows if not row["PhysicalResourceId"]
    ]
    listed = {row["LogicalResourceId"]: row["ResourceType"] for row in rows}
    assert listed == {logical_id: body["Type"] for logical_id, body in template["Resources"].items()}


def test_bootstrap_stack_resources_have_physical_ids(deployed):
    _, client = deployed
    named = [row for row in stack_resources(client, "CDKToolkit") if row["LogicalResourceId"]]
    assert {row["ResourceType"] for row in named} >= {
        "AWS::S3::BucketPolicy",
        "AWS::ECR::Repository",
        "AWS::SSM::Parameter",
    }
    assert all(row["PhysicalResourceId"] for row in named), named


def test_bootstrap_stack_lists_no_blank_rows(deployed):
    _, client = deployed
    assert all(row["LogicalResourceId"] for row in stack_resources(client, "CDKToolkit"))


def test_outputs_are_present(deployed):
    _, client = deployed
    stack = client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}
    assert set(outputs) == {"ExternalEndpoint", "InternalEndpoint"}
    assert outputs["ExternalEndpoint"].startswith("https://") and outputs["ExternalEndpoint"].endswith(
        ".elb.amazonaws.com"
    )


def test_cluster_lists_fargate_capacity_providers(deployed):
    _, client = deployed
    (cluster_name,) = physical_ids(client, "AWS::ECS::Cluster").values()
    cluster = client("ecs").describe_clusters(clusters=[cluster_name], include=["SETTINGS"])["clusters"][0]
    assert sorted(cluster["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]
    assert cluster["defaultCapacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 0}
    ]
    assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]


def services_by_name(client) -> dict[str, dict]:
    """The deployed ECS services keyed by their ``dualalb:service`` tag."""
    ecs = client("ecs")
    (cluster_name,) = physical_ids(client, "AWS::ECS::Cluster").values()
    arns = list(physical_ids(client, "AWS::ECS::Service").values())
    described = ecs.describe_services(cluster=cluster_name, services=arns, include=["TAGS"])["services"]
    return {
        next(tag["value"] for tag in service["tags"] if tag["key"] == "dualalb:service"): service
        for service in described
    }


def test_services_keep_counts_strategies_and_deployment_settings(deployed):
    _, client = deployed
    services = services_by_name(client)
    assert set(services) == set(SERVICES)
    for name, (desired, strategy, _, _) in SERVICES.items():
        service = services[name]
        assert service["desiredCount"] == desired
        assert "launchType" not in service
        assert [
            (item["capacityProvider"], item.get("base", 0), item["weight"])
            for item in service["capacityProviderStrategy"]
        ] == strategy
        assert service["enableExecuteCommand"] is True
        configuration = service["deploymentConfiguration"]
        assert configuration["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert (configuration["minimumHealthyPercent"], configuration["maximumPercent"]) == (50, 200)
        vpc_configuration = service["networkConfiguration"]["awsvpcConfiguration"]
        assert vpc_configuration["assignPublicIp"] == "DISABLED" and len(vpc_configuration["subnets"]) == 2
        assert len(vpc_configuration["securityGroups"]) == 1
        ports = [alb_port for alb_port in SERVICES[name][2:] if alb_port is not None]
        assert len(service["loadBalancers"]) == len(ports)
        assert {(item["containerName"], item["containerPort"]) for item in service["loadBalancers"]} == {
            ("app", 80)
        }


def test_task_definitions_keep_cpu_memory_logging_and_secrets(deployed):
    _, client = deployed
    for arn in physical_ids(client, "AWS::ECS::TaskDefinition").values():
        task = client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
        assert (task["cpu"], task["memory"], task["networkMode"]) == ("512", "1024", "awsvpc")
        assert task["requiresCompatibilities"] == ["FARGATE"] and task["executionRoleArn"].startswith(
            "arn:aws:iam::"
        )
        (container,) = task["containerDefinitions"]
        assert container["logConfiguration"]["logDriver"] == "awslogs"
        assert [secret["name"] for secret in container["secrets"]] == ["PASSWORD"]


def test_listeners_keep_ports_protocols_certificates_and_redirect(deployed):
    _, client = deployed
    elbv2 = client("elbv2")
    balancers = {item["Scheme"]: item for item in reference_load_balancers(client)}
    listeners = {
        scheme: {
            item["Port"]: item
            for item in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
        }
        for scheme, balancer in balancers.items()
    }
    external_ports = {port for _, _, port, _ in SERVICES.values() if port} | {80}
    internal_ports = {port for _, _, _, port in SERVICES.values() if port}
    assert set(listeners["internet-facing"]) == external_ports
    assert set(listeners["internal"]) == internal_ports
    redirect = listeners["internet-facing"][80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Port"] == "443"
    for port in external_ports - {80}:
        assert listeners["internet-facing"][port]["Protocol"] == "HTTPS"
        assert listeners["internet-facing"][port]["Certificates"][0]["CertificateArn"] == CERT_ARN


def test_target_groups_keep_health_checks_and_tags(deployed):
    _, client = deployed
    elbv2 = client("elbv2")
    arns = list(physical_ids(client, "AWS::ElasticLoadBalancingV2::TargetGroup").values())
    groups = elbv2.describe_target_groups(TargetGroupArns=arns)["TargetGroups"]
    tags = {
        item["ResourceArn"]: {tag["Key"]: tag["Value"] for tag in item["Tags"]}
        for item in elbv2.describe_tags(ResourceArns=arns)["TagDescriptions"]
    }
    expected = {
        (name, alb)
        for name, (_, _, external, internal) in SERVICES.items()
        for alb, port in (("external", external), ("internal", internal))
        if port
    }
    assert {(tags[arn]["dualalb:service"], tags[arn]["dualalb:alb"]) for arn in arns} == expected
    for group in groups:
        assert (group["TargetType"], group["HealthCheckPath"], group["HealthCheckIntervalSeconds"]) == (
            "ip",
            "/health",
            15,
        )
        assert group["Matcher"] == {"HttpCode": "200"}


def test_scaling_targets_and_policies_match_the_template(deployed):
    _, client = deployed
    autoscaling = client("application-autoscaling")
    resource_ids = [
        physical_id.split("|")[0]
        for physical_id in physical_ids(client, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    ]
    targets = autoscaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=resource_ids)[
        "ScalableTargets"
    ]
    assert len(targets) == len(SERVICES)
    assert {(item["MinCapacity"], item["MaxCapacity"]) for item in targets} == {
        (SCALING["min_capacity"], SCALING["max_capacity"])
    }
    policies = [
        policy
        for resource_id in resource_ids
        for policy in autoscaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)[
            "ScalingPolicies"
        ]
    ]
    by_metric: dict[str, list[dict]] = {}
    for policy in policies:
        configuration = policy["TargetTrackingScalingPolicyConfiguration"]
        by_metric.setdefault(
            configuration["PredefinedMetricSpecification"]["PredefinedMetricType"], []
        ).append(configuration)
    assert {item["TargetValue"] for item in by_metric["ECSServiceAverageCPUUtilization"]} == {
        SCALING["target_cpu"]
    }
    assert len(by_metric["ECSServiceAverageCPUUtilization"]) == len(SERVICES)
    request_policies = by_metric["ALBRequestCountPerTarget"]
    assert {item["TargetValue"] for item in request_policies} == {SCALING["requests_per_target"]}
    load_balancer_names = {
        item["LoadBalancerArn"].split(":loadbalancer/")[1] for item in reference_load_balancers(client)
    }
    for item in request_policies:
        balancer, target_group = item["PredefinedMetricSpecification"]["ResourceLabel"].split("/targetgroup/")
        assert balancer in load_balancer_names and target_group.count("/") == 1


def test_private_zone_has_alias_records_for_both_albs(deployed):
    _, client = deployed
    route53 = client("route53")
    (zone_id,) = physical_ids(client, "AWS::Route53::HostedZone").values()
    zone = route53.get_hosted_zone(Id=zone_id)
    assert (
        zone["HostedZone"]["Name"] == f"{ZONE_NAME}." and zone["HostedZone"]["Config"]["PrivateZone"] is True
    )
    (vpc_id,) = physical_ids(client, "AWS::EC2::VPC").values()
    assert [vpc["VPCId"] for vpc in zone["VPCs"]] == [vpc_id]
    records = {
        item["Name"]: item
        for item in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if item["Type"] == "A"
    }
    balancers = {item["DNSName"] for item in reference_load_balancers(client)}
    assert set(records) == {f"external.{ZONE_NAME}.", f"internal.{ZONE_NAME}."}
    assert {
        record["AliasTarget"]["DNSName"].rstrip(".").removeprefix("dualstack.") for record in records.values()
    } == balancers


def test_log_groups_keep_retention_and_the_vpc_has_a_flow_log(deployed):
    _, client = deployed
    log_groups = physical_ids(client, "AWS::Logs::LogGroup")
    groups = client("logs").describe_log_groups()["logGroups"]
    retention = {group["logGroupName"]: group.get("retentionInDays") for group in groups}
    assert {logical_id: retention.get(name) for logical_id, name in log_groups.items()} == {
        "webLogsF20CC270": 7,
        "apiLogsC6C29EB1": 7,
        "workerLogs41619A4B": 7,
        "VpcFlowLogLogGroup7B5C56B9": 731,
    }
    (vpc_id,) = physical_ids(client, "AWS::EC2::VPC").values()
    flow_logs = client("ec2").describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])[
        "FlowLogs"
    ]
    assert [(item["ResourceId"], item["TrafficType"]) for item in flow_logs] == [(vpc_id, "ALL")]


def test_security_group_rules_exist(deployed):
    _, client = deployed
    ec2 = client("ec2")
    for rule_id in [
        *physical_ids(client, "AWS::EC2::SecurityGroupEgress").values(),
        *physical_ids(client, "AWS::EC2::SecurityGroupIngress").values(),
    ]:
        (rule,) = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"]
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 80, 80)
        assert rule["ReferencedGroupInfo"]["GroupId"].startswith("sg-")


def test_aurora_serverless_v2_cluster_and_instances(deployed):
    _, client = deployed
    rds = client("rds")
    (cluster_id,) = physical_ids(client, "AWS::RDS::DBCluster").values()
    cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    assert cluster["Engine"] == "aurora-mysql" and cluster["EngineVersion"].startswith(
        "8.0.mysql_aurora.3.08"
    )
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    assert cluster["DatabaseName"] == "wordpress" and cluster["MasterUsername"] == "admin"
    instances = {
        identifier: rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        for identifier in physical_ids(client, "AWS::RDS::DBInstance").values()
    }
    writer = next(item for item in instances.values() if item.get("DBClusterIdentifier") == cluster_id)
    assert writer["DBInstanceClass"] == "db.serverless" and writer["Engine"] == "aurora-mysql"
    mysql = next(item for item in instances.values() if item["Engine"] == "mysql")
    assert mysql["EngineVersion"] == "8.0.39" and mysql["DBInstanceClass"] == "db.t3.micro"
    assert (
        mysql["AllocatedStorage"] == 20
        and mysql["DBSubnetGroup"]["DBSubnetGroupName"]
        in physical_ids(client, "AWS::RDS::DBSubnetGroup").values()
    )


def test_secrets_are_generated_and_attached(deployed):
    _, client = deployed
    secrets = client("secretsmanager")
    values = {
        logical_id: json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
        for logical_id, arn in physical_ids(client, "AWS::SecretsManager::Secret").items()
    }
    app_secret = next(value for logical_id, value in values.items() if logical_id.startswith("AppSecret"))
    assert app_secret["username"] == "app" and len(app_secret["password"]) == 32
    aurora_secret = next(
        value for logical_id, value in values.items() if logical_id.startswith("AuroraSecret")
    )
    (cluster_id,) = physical_ids(client, "AWS::RDS::DBCluster").values()
    assert aurora_secret["dbClusterIdentifier"] == cluster_id and aurora_secret["engine"] == "aurora-mysql"
    assert aurora_secret["port"] == 3306 and aurora_secret["host"].startswith(cluster_id)


def test_encrypted_file_system_with_mount_targets_and_access_point(deployed):
    _, client = deployed
    efs = client("efs")
    (file_system_id,) = physical_ids(client, "AWS::EFS::FileSystem").values()
    assert efs.describe_file_systems(FileSystemId=file_system_id)["FileSystems"][0]["Encrypted"] is True
    assert len(efs.describe_mount_targets(FileSystemId=file_system_id)["MountTargets"]) == 2
    (access_point_id,) = physical_ids(client, "AWS::EFS::AccessPoint").values()
    (access_point,) = efs.describe_access_points(AccessPointId=access_point_id)["AccessPoints"]
    assert access_point["RootDirectory"]["Path"] == "/wordpress"


def test_bootstrap_bucket_policy_is_stored(deployed):
    _, client = deployed
    bucket = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
    policy = json.loads(client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.fixture(scope="module")
def params_deploys(deployed, sandbox, tmp_path_factory):
    """Every ``params/*.yaml`` synthesized by the kit and deployed through the CDK CLI by
    ``dualalb_kit.deploy`` (which records image assets in the sandbox: the sample's images cannot
    be built here); maps file stem -> :class:`ParamsDeploy`."""
    from dualalb_kit.deploy import deploy
    from dualalb_kit.spec import load_spec
    from dualalb_kit.synth import synth

    workdir = tmp_path_factory.mktemp("params")
    deploys = {}
    for path in PARAMS_FILES:
        spec = load_spec(path)
        synthesis = synth(spec, workdir / path.stem, target=as_target(endpoint_url=sandbox.endpoint_url))
        deploy(synthesis, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
        deploys[path.stem] = ParamsDeploy(spec, synthesis.template, synthesis.assembly_dir)
    return deploys


class ParamsDeploy(NamedTuple):
    """A shipped params file as deployed: its spec, template and assembly."""

    spec: Any
    template: dict
    assembly_dir: Path


@pytest.mark.parametrize("params", [path.stem for path in PARAMS_FILES])
def test_params_file_deploys_with_every_resource_and_output(params, params_deploys, deployed):
    spec, template, _ = params_deploys[params]
    _, client = deployed
    rows = stack_resources(client, spec.stack_name)
    assert all(row["PhysicalResourceId"] for row in rows), [
        row for row in rows if not row["PhysicalResourceId"]
    ]
    assert {row["LogicalResourceId"]: row["ResourceType"] for row in rows} == {
        logical_id: body["Type"] for logical_id, body in template["Resources"].items()
    }
    stack = client("cloudformation").describe_stacks(StackName=spec.stack_name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {item["OutputKey"] for item in stack.get("Outputs", [])} == set(template.get("Outputs", {}))


LISTENER_PORTS = {
    "canary-with-alarms": {"external": {80}, "internal": {80, 8080, 9090}},
    "internal-only": {"internal": {80, 8443}},
    "mixed-spot": {"external": {80}, "internal": {80, 8080, 9090}},
    "nlb": {"external": {443}, "internal": {80, 8080, 9090}},
    "public-one-per-az": {"external": {80, 8080}, "internal": {80}},
    "sample": {"external": {80}, "internal": {80, 8080, 9090}},
    "shared-port-by-host": {"external": {80, 443}, "internal": {80}},  # 80 redirects to 443
}
"""Every listener port of each dual-ALB (or dual-NLB) params file's load balancers, written out by hand."""


@pytest.mark.parametrize("params", [path.stem for path in PARAMS_FILES])
def test_params_file_services_scaling_and_listeners_match_the_spec(params, params_deploys, deployed):
    spec, _, _ = params_deploys[params]
    _, client = deployed
    ecs = client("ecs")
    (cluster_name,) = physical_ids(client, "AWS::ECS::Cluster", spec.stack_name).values()
    service_arns = list(physical_ids(client, "AWS::ECS::Service", spec.stack_name).values())
    described = ecs.describe_services(cluster=cluster_name, services=service_arns, include=["TAGS"])[
        "services"
    ]
    services = {
        next(tag["value"] for tag in service["tags"] if tag["key"] == "dualalb:service"): service
        for service in described
    }
    if spec.pattern in ("wordpress", "laravel") and not spec.tasks:
        assert set(services) == {spec.pattern}
        check_app_storage(client, spec)
        return
    assert set(services) == {task.name for task in spec.tasks}
    autoscaling = client("application-autoscaling")
    for task in spec.tasks:
        service = services[task.name]
        assert service["desiredCount"] == task.desired_count
        assert [
            (item["capacityProvider"], item.get("base", 0), item["weight"])
            for item in service["capacityProviderStrategy"]
        ] == [(item.provider, item.base, item.weight) for item in task.capacity_strategy(spec.spot)]
        assert service["enableExecuteCommand"] is spec.enable_execute_command
        resource_id = f"service/{cluster_name}/{service['serviceName']}"
        (target,) = autoscaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
            "ScalableTargets"
        ]
        assert (target["MinCapacity"], target["MaxCapacity"]) == (
            task.scaling.min_capacity,
            task.scaling.max_capacity,
        )
        policies = autoscaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)[
            "ScalingPolicies"
        ]
        targets = sorted(
            (
                policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
                    "PredefinedMetricType"
                ],
                policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
            )
            for policy in policies
        )
        sides = [alb for alb in (task.external, task.internal) if alb is not None]
        # A blue/green, linear or canary task tracks requests on its alternate target groups too.
        groups = len(sides) * (2 if spec.deployment_of(task).strategy != "rolling" else 1)
        if spec.load_balancer == "nlb":
            groups = 0  # an NLB counts no requests: CPU (and memory) tracking only
        memory = task.scaling.target_memory_utilization
        assert targets == [("ALBRequestCountPerTarget", task.scaling.request_per_target)] * groups + [
            ("ECSServiceAverageCPUUtilization", task.scaling.target_cpu_utilization)
        ] + ([("ECSServiceAverageMemoryUtilization", memory)] if memory is not None else [])
        actions = autoscaling.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=resource_id)
        assert sorted(
            (a["Schedule"], a["ScalableTargetAction"]) for a in actions["ScheduledActions"]
        ) == sorted(
            (f"cron({action.cron})", scheduled_bounds(action)) for action in task.scaling.scheduled or ()
        )
    elbv2 = client("elbv2")
    listener_ports: dict[str, set[int]] = {}
    for arn in physical_ids(client, "AWS::ElasticLoadBalancingV2::LoadBalancer", spec.stack_name).values():
        (balancer,) = elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
        ports = {item["Port"] for item in elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]}
        listener_ports["external" if balancer["Scheme"] == "internet-facing" else "internal"] = ports
    assert listener_ports == LISTENER_PORTS[params]


@pytest.mark.parametrize("params", [path.stem for path in PARAMS_FILES])
def test_params_file_deployment_configuration_matches_the_spec(params, params_deploys, deployed):
    """Strategy, bake times, traffic shifting and rollback alarms as DescribeServices reports them;
    a traffic-shifting service's alternate target group, production rule and ECS's role exist."""
    spec, _, _ = params_deploys[params]
    if spec.pattern != "dualalb":
        return
    _, client = deployed
    (cluster_name,) = physical_ids(client, "AWS::ECS::Cluster", spec.stack_name).values()
    service_arns = list(physical_ids(client, "AWS::ECS::Service", spec.stack_name).values())
    described = client("ecs").describe_services(cluster=cluster_name, services=service_arns, include=["TAGS"])
    services = {
        next(tag["value"] for tag in service["tags"] if tag["key"] == "dualalb:service"): service
        for service in described["services"]
    }
    elbv2, iam, cloudwatch = client("elbv2"), client("iam"), client("cloudwatch")
    for task in spec.tasks:
        options = spec.deployment_of(task)
        rules = options.rules()
        service = services[task.name]
        configuration = service["deploymentConfiguration"]
        assert configuration.get("strategy", "ROLLING") == options.strategy.upper()
        if rules.shifts_traffic or options.bake_time_minutes is not None:
            assert configuration["bakeTimeInMinutes"] == rules.value("bake_time_minutes")
        else:
            assert "bakeTimeInMinutes" not in configuration
        if options.strategy == "linear":
            assert configuration["linearConfiguration"] == {
                "stepPercent": rules.value("linear_step_percent"),
                "stepBakeTimeInMinutes": rules.value("linear_step_bake_time_minutes"),
            }
        if options.strategy == "canary":
            assert configuration["canaryConfiguration"] == {
                "canaryPercent": rules.value("canary_percent"),
                "canaryBakeTimeInMinutes": rules.value("canary_bake_time_minutes"),
            }
        alarms = configuration["alarms"]
        rolls_back = rules.rolls_back_on_alarms(spec.alarms)
        assert (alarms["enable"], alarms["rollback"]) == (rolls_back, rolls_back)
        if rolls_back:
            names = alarms["alarmNames"]
            described_alarms = cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
            assert sorted(a["AlarmName"] for a in described_alarms) == sorted(names)
            assert len(names) == 1 + 3 * 2 * len(service["loadBalancers"])
        for balancer in service["loadBalancers"]:
            if not rules.shifts_traffic:
                assert "advancedConfiguration" not in balancer
                continue
            advanced = balancer["advancedConfiguration"]
            (alternate,) = elbv2.describe_target_groups(
                TargetGroupArns=[advanced["alternateTargetGroupArn"]]
            )["TargetGroups"]
            assert (alternate["TargetType"], alternate["Port"]) == ("ip", task.container_port)
            (rule,) = elbv2.describe_rules(RuleArns=[advanced["productionListenerRule"]])["Rules"]
            (action,) = rule["Actions"]
            assert [(g["TargetGroupArn"], g["Weight"]) for g in action["ForwardConfig"]["TargetGroups"]] == [
                (balancer["targetGroupArn"], 100),
                (alternate["TargetGroupArn"], 0),
            ]
            role_name = advanced["roleArn"].rsplit("/", 1)[1]
            attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
            assert [p["PolicyName"] for p in attached] == [
                "AmazonECSInfrastructureRolePolicyForLoadBalancers"
            ]


@pytest.mark.parametrize("params", [path.stem for path in PARAMS_FILES])
def test_params_file_load_balancers_listeners_and_target_groups_match_the_template(
    params, params_deploys, deployed
):
    """Type and scheme of every load balancer (ALB or NLB), protocol, port, certificates and TLS
    policy of every listener, protocol, port and health check of every target group, as the
    ELBv2 API describes them, against the template's values."""
    spec, template, _ = params_deploys[params]
    _, client = deployed
    elbv2 = client("elbv2")
    ids = {
        kind: physical_ids(client, f"AWS::ElasticLoadBalancingV2::{kind}", spec.stack_name)
        for kind in ("LoadBalancer", "Listener", "TargetGroup")
    }

    def of(kind: str) -> dict[str, dict]:
        return {
            ids[kind][logical_id]: body.get("Properties", {})
            for logical_id, body in template["Resources"].items()
            if body["Type"] == f"AWS::ElasticLoadBalancingV2::{kind}"
        }

    balancers = elbv2.describe_load_balancers(LoadBalancerArns=list(ids["LoadBalancer"].values()))
    assert {
        b["LoadBalancerArn"]: (b["Type"], b["Scheme"], b["LoadBalancerArn"].split(":loadbalancer/")[1][:4])
        for b in balancers["LoadBalancers"]
    } == {
        arn: (
            props.get("Type", "application"),
            props["Scheme"],
            "net/" if props.get("Type") == "network" else "app/",
        )
        for arn, props in of("LoadBalancer").items()
    }
    listeners = {
        item["ListenerArn"]: item
        for arn in ids["LoadBalancer"].values()
        for item in elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]
    }
    assert set(listeners) == set(ids["Listener"].values())
    for arn, props in of("Listener").items():
        described = listeners[arn]
        assert (described["Port"], described["Protocol"]) == (props["Port"], props["Protocol"])
        assert described.get("SslPolicy") == props.get("SslPolicy")
        assert [c["CertificateArn"] for c in described.get("Certificates", [])] == [
            c["CertificateArn"] for c in props.get("Certificates", [])
        ]
    groups = elbv2.describe_target_groups(TargetGroupArns=list(ids["TargetGroup"].values()))["TargetGroups"]
    described_groups = {g["TargetGroupArn"]: g for g in groups}
    for arn, props in of("TargetGroup").items():
        group = described_groups[arn]
        assert (group["Protocol"], group["Port"], group["TargetType"]) == (
            props["Protocol"],
            props["Port"],
            props["TargetType"],
        )
        health_check = props.get("HealthCheckProtocol", props["Protocol"])
        assert group["HealthCheckProtocol"] == health_check
        if "HealthCheckPath" in props:
            assert group["HealthCheckPath"] == props["HealthCheckPath"]


@pytest.mark.parametrize("params", [path.stem for path in PARAMS_FILES])
def test_params_file_private_zone_and_records(params, params_deploys, deployed):
    spec, template, _ = params_deploys[params]
    _, client = deployed
    zones = physical_ids(client, "AWS::Route53::HostedZone", spec.stack_name)
    if not zones:
        assert "AWS::Route53::RecordSet" not in {body["Type"] for body in template["Resources"].values()}
        return
    route53 = client("route53")
    (zone_id,) = zones.values()
    zone = route53.get_hosted_zone(Id=zone_id)
    assert (
        zone["HostedZone"]["Name"] == f"{spec.route53.zone_name}."
        and zone["HostedZone"]["Config"]["PrivateZone"]
    )
    names = {
        item["Name"]
        for item in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if item["Type"] == "A"
    }
    expected = {
        f"{getattr(spec.route53, f'{alb}_record')}.{spec.route53.zone_name}."
        for alb in ("external", "internal")
        if any(getattr(task, alb) for task in spec.tasks)
    }
    assert names == expected


def check_app_storage(client, spec) -> None:
    """The WordPress or Laravel pattern's database (an Aurora MySQL 3 cluster, serverless v2 when
    asked, or one RDS for MySQL 8.0 instance) and its encrypted EFS (Laravel's when asked, through
    a www-data access point)."""
    options = getattr(spec, spec.pattern)
    if options.single_db_instance:
        (instance_id,) = physical_ids(client, "AWS::RDS::DBInstance", spec.stack_name).values()
        (instance,) = client("rds").describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"]
        assert (instance["Engine"], instance["DBInstanceClass"]) == (
            "mysql",
            f"db.{options.database_instance_type or 't4g.medium'}",
        )
        assert instance["EngineVersion"].startswith("8.0.") and instance["StorageEncrypted"] is True
        assert instance["BackupRetentionPeriod"] == options.backup_retention_days
    else:
        check_aurora_cluster(client, spec, options)
    if spec.pattern == "laravel" and not options.efs_file_system:
        assert not physical_ids(client, "AWS::EFS::FileSystem", spec.stack_name)
        return
    (file_system_id,) = physical_ids(client, "AWS::EFS::FileSystem", spec.stack_name).values()
    assert (
        client("efs").describe_file_systems(FileSystemId=file_system_id)["FileSystems"][0]["Encrypted"]
        is True
    )
    if spec.pattern == "laravel":
        (access_point_id,) = physical_ids(client, "AWS::EFS::AccessPoint", spec.stack_name).values()
        (access_point,) = client("efs").describe_access_points(AccessPointId=access_point_id)["AccessPoints"]
        assert (access_point["FileSystemId"], access_point["PosixUser"]) == (
            file_system_id,
            {"Uid": 33, "Gid": 33},
        )


def check_aurora_cluster(client, spec, options) -> None:
    (cluster_id,) = physical_ids(client, "AWS::RDS::DBCluster", spec.stack_name).values()
    (cluster,) = client("rds").describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    assert cluster["Engine"] == "aurora-mysql" and cluster["EngineVersion"].startswith("8.0.mysql_aurora.3")
    assert cluster["BackupRetentionPeriod"] == options.backup_retention_days
    if options.aurora_serverless:
        assert cluster["ServerlessV2ScalingConfiguration"] == {
            "MinCapacity": options.serverless_min_capacity,
            "MaxCapacity": options.serverless_max_capacity,
        }
        (writer_id,) = physical_ids(client, "AWS::RDS::DBInstance", spec.stack_name).values()
        (writer,) = client("rds").describe_db_instances(DBInstanceIdentifier=writer_id)["DBInstances"]
        assert writer["DBInstanceClass"] == "db.serverless" and writer["DBClusterIdentifier"] == cluster_id


def scheduled_bounds(action) -> dict[str, int]:
    """The ``ScalableTargetAction`` Application Auto Scaling describes for a spec's action."""
    bounds = {"MinCapacity": action.min_capacity, "MaxCapacity": action.max_capacity}
    return {key: value for key, value in bounds.items() if value is not None}


def _ecs_services(client) -> set[str]:
    ecs = client("ecs")
    return {
        arn
        for cluster in ecs.list_clusters()["clusterArns"]
        for arn in ecs.list_services(cluster=cluster)["serviceArns"]
    }


LISTINGS = {
    # resource type: (service, describe operation, result key, id key)
    "AWS::EC2::VPC": ("ec2", "describe_vpcs", "Vpcs", "VpcId"),
    "AWS::EC2::Subnet": ("ec2", "describe_subnets", "Subnets", "SubnetId"),
    "AWS::EC2::RouteTable": ("ec2", "describe_route_tables", "RouteTables", "RouteTableId"),
    "AWS::EC2::InternetGateway": (
        "ec2",
        "describe_internet_gateways",
        "InternetGateways",
        "InternetGatewayId",
    ),
    "AWS::EC2::NatGateway": ("ec2", "describe_nat_gateways", "NatGateways", "NatGatewayId"),
    "AWS::EC2::EIP": ("ec2", "describe_addresses", "Addresses", "PublicIp"),
    "AWS::EC2::FlowLog": ("ec2", "describe_flow_logs", "FlowLogs", "FlowLogId"),
    "AWS::EC2::SecurityGroup": ("ec2", "describe_security_groups", "SecurityGroups", "GroupId"),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (
        "elbv2",
        "describe_load_balancers",
        "LoadBalancers",
        "LoadBalancerArn",
    ),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (
        "elbv2",
        "describe_target_groups",
        "TargetGroups",
        "TargetGroupArn",
    ),
    "AWS::RDS::DBCluster": ("rds", "describe_db_clusters", "DBClusters", "DBClusterIdentifier"),
    "AWS::RDS::DBInstance": ("rds", "describe_db_instances", "DBInstances", "DBInstanceIdentifier"),
    "AWS::RDS::DBSubnetGroup": ("rds", "describe_db_subnet_groups", "DBSubnetGroups", "DBSubnetGroupName"),
    "AWS::EFS::FileSystem": ("efs", "describe_file_systems", "FileSystems", "FileSystemId"),
    "AWS::SecretsManager::Secret": ("secretsmanager", "list_secrets", "SecretList", "ARN"),
    "AWS::Logs::LogGroup": ("logs", "describe_log_groups", "logGroups", "logGroupName"),
    "AWS::IAM::Role": ("iam", "list_roles", "Roles", "RoleName"),
}
OPTIONAL_LISTINGS = {
    # the resources of issue 14's options, which not every stack has
    "AWS::Lambda::Function": ("lambda", "list_functions", "Functions", "FunctionName"),
    "AWS::Events::Rule": ("events", "list_rules", "Rules", "Name"),
    "AWS::CloudWatch::Alarm": ("cloudwatch", "describe_alarms", "MetricAlarms", "AlarmName"),
    "AWS::CloudWatch::Dashboard": ("cloudwatch", "list_dashboards", "DashboardEntries", "DashboardName"),
    "AWS::S3::Bucket": ("s3", "list_buckets", "Buckets", "Name"),
}


def _listed_by(service: str, operation: str, result_key: str, id_key: str):
    def listed(client) -> set[str]:
        api = client(service)
        if api.can_paginate(operation):
            items = api.get_paginator(operation).paginate().build_full_result()[result_key]
        else:  # ec2's describe_addresses returns every address in one page
            items = getattr(api, operation)()[result_key]
        return {item[id_key] for item in items if item.get("State") != "deleted"}

    return listed


LISTED = {
    resource_type: _listed_by(*listing) for resource_type, listing in (LISTINGS | OPTIONAL_LISTINGS).items()
} | {
    "AWS::ECS::Service": _ecs_services,
    "AWS::ECS::TaskDefinition": lambda client: set(
        client("ecs").list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
    ),
}
"""Resource type -> the physical ids its service API lists (anything in state ``deleted`` left out)."""


def test_wordpress_round_trip_leaves_nothing_listed(deployed, sandbox, tmp_path):
    from dualalb_kit.spec import load_spec
    from dualalb_kit.synth import synth

    _, client = deployed
    spec = load_spec(PARAMS_DIR / "wordpress.yaml").model_copy(update={"stack_name": "wordpress-round-trip"})
    assembly = synth(
        spec, tmp_path / "cdk.out", target=as_target(endpoint_url=sandbox.endpoint_url)
    ).assembly_dir
    cli_args = ["--app", str(assembly), spec.stack_name]
    run_cdk(["deploy", *cli_args, "--require-approval", "never"], sandbox.environment, tmp_path)
    stack_id = client("cloudformation").describe_stacks(StackName=spec.stack_name)["Stacks"][0]["StackId"]
    held: dict[str, set[str]] = {}
    for row in stack_resources(client, spec.stack_name):
        held.setdefault(row["ResourceType"], set()).add(row["PhysicalResourceId"])
    assert set(LISTINGS) <= set(held)
    assert all(
        held[resource_type] <= LISTED[resource_type](client) for resource_type in set(LISTED) & set(held)
    )

    run_cdk(["destroy", *cli_args, "--force"], sandbox.environment, tmp_path)

    stack = client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_COMPLETE"
    still_listed = {
        resource_type: held.get(resource_type, set()) & listed(client)
        for resource_type, listed in LISTED.items()
    }
    assert still_listed == {resource_type: set() for resource_type in LISTED}


def test_every_params_file_is_destroyed_leaving_nothing_listed(params_deploys, deployed, sandbox):
    """Last in this module, after the tests above read them: every shipped params file's stack is
    destroyed, nothing it held is listed by its service any more, except what the template
    retains (``DeletionPolicy: Retain``, such as the access-log bucket), which still is. The
    services are listed once before and once after all the destroys."""
    from dualalb_kit.deploy import destroy

    _, client = deployed
    cloudformation = client("cloudformation")
    holdings = {}  # stem -> (stack id, held, retained): physical ids by resource type
    for stem, deployment in params_deploys.items():
        stack_name = deployment.spec.stack_name
        stack_id = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackId"]
        resources = deployment.template["Resources"]
        held: dict[str, set[str]] = {}
        retained: dict[str, set[str]] = {}
        for row in stack_resources(client, stack_name):
            is_retained = resources[row["LogicalResourceId"]].get("DeletionPolicy") == "Retain"
            (retained if is_retained else held).setdefault(row["ResourceType"], set()).add(
                row["PhysicalResourceId"]
            )
        holdings[stem] = stack_id, held, retained
    before = {kind: listed(client) for kind, listed in LISTED.items()}  # one listing for every stack
    for deployment in params_deploys.values():
        destroy(
            deployment.assembly_dir,
            progress=False,
            target=as_target("sandbox", endpoint_url=sandbox.endpoint_url),
        )
    after = {kind: listed(client) for kind, listed in LISTED.items()}
    for stem, (stack_id, held, retained) in holdings.items():
        listed_types = set(LISTED) & (set(held) | set(retained))
        not_listed = {
            kind: (held.get(kind, set()) | retained.get(kind, set())) - before[kind] for kind in listed_types
        }
        assert not_listed == {kind: set() for kind in listed_types}, stem  # the ids are what the APIs list
        status = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        still_listed = {kind: held.get(kind, set()) & after[kind] for kind in listed_types}
        gone = {kind: retained[kind] - after[kind] for kind in retained if kind in LISTED}
        assert (status, still_listed, gone) == (
            "DELETE_COMPLETE",
            {kind: set() for kind in listed_types},
            {kind: set() for kind in gone},
        ), stem
