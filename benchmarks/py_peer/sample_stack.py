"""params/sample.yaml written directly on aws-cdk-lib in Python, without dualalb-kit: the app a
Python user would write by hand, and the peer that bench_synth.py times ``dualalb-kit synth``
against (jsii's start and round trips are the same for both, so the ratio is the kit's own cost).

Same resources as the kit's template: a new VPC (3 AZs at most, one NAT gateway) with flow logs
into a one-month log group, a cluster with the Fargate capacity providers and Container Insights,
an internet-facing and an internal ALB (own security groups, no default egress), three services on
FARGATE_SPOT built from ``sample_app/`` as Docker image assets, CPU and request-count target
tracking, a private zone with an alias per ALB, the four endpoints as outputs, and a Spot
termination handler (an EventBridge rule on the cluster's Spot interruptions invoking a function that
deregisters the task from its target groups; its code is the kit's ``dualalb_kit/handlers`` folder,
packaged as an asset, as a hand-written app would package its own). ``differences.py`` compares the
two templates' resource types and counts; the kit's construct ids, tags and descriptions are not
copied.

    python benchmarks/py_peer/sample_stack.py [OUTDIR]      # default cdk.out
"""

from __future__ import annotations

import sys
from pathlib import Path

from aws_cdk import App, CfnOutput, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_APP = ROOT / "sample_app"
HANDLERS = ROOT / "dualalb_kit" / "handlers"
STACK_NAME = "dualalb-sample"
REGION = "us-east-1"
VPC_CIDR = "10.0.0.0/16"
ZONE_NAME = "svc.local"
CONTAINER_PORT = 8080
SERVICES = [
    {
        "name": "order",
        "ports": {"external": 80, "internal": 80},
        "max_capacity": 20,
        "environment": {
            "PRODUCT_SVC_URL": f"http://internal.{ZONE_NAME}:9090",
            "CUSTOMER_SVC_URL": f"http://internal.{ZONE_NAME}:8080",
        },
    },
    {"name": "customer", "ports": {"internal": 8080}, "max_capacity": 10, "environment": None},
    {"name": "product", "ports": {"internal": 9090}, "max_capacity": 10, "environment": None},
]


def build(app: App) -> Stack:
    """The sample stack in ``app``."""
    stack = Stack(app, STACK_NAME, env=Environment(region=REGION))
    vpc = ec2.Vpc(stack, "Vpc", ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR), max_azs=3, nat_gateways=1)
    flow_logs = logs.LogGroup(
        stack, "FlowLogGroup", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
    )
    vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
    cluster = ecs.Cluster(
        stack,
        "Cluster",
        vpc=vpc,
        enable_fargate_capacity_providers=True,
        container_insights_v2=ecs.ContainerInsights.ENABLED,
    )
    albs = {side: _alb(stack, vpc, side) for side in ("external", "internal")}
    listeners: dict[tuple[str, int], elbv2.ApplicationListener] = {}
    services: list[ecs.FargateService] = []
    target_groups: list[elbv2.ApplicationTargetGroup] = []
    for options in SERVICES:
        name = options["name"]
        service = _service(stack, cluster, name, options["environment"])
        services.append(service)
        scaling = service.auto_scale_task_count(min_capacity=1, max_capacity=options["max_capacity"])
        scaling.scale_on_cpu_utilization("CpuScaling", target_utilization_percent=50)
        for index, (side, port) in enumerate(options["ports"].items()):
            if (side, port) not in listeners:
                listeners[side, port] = _listener(albs[side], side, port)
            target_group = listeners[side, port].add_targets(
                f"{name}Target",
                port=CONTAINER_PORT,
                protocol=elbv2.ApplicationProtocol.HTTP,
                targets=[service.load_balancer_target(container_name=name, container_port=CONTAINER_PORT)],
                health_check=elbv2.HealthCheck(path="/health"),
                deregistration_delay=Duration.seconds(30),
            )
            target_groups.append(target_group)
            scaling.scale_on_request_count(
                f"RequestScaling{index}", requests_per_target=1000, target_group=target_group
            )
    _spot_termination_handler(stack, cluster, services, target_groups)
    zone = route53.PrivateHostedZone(stack, "HostedZone", zone_name=ZONE_NAME, vpc=vpc)
    for side, alb in albs.items():
        route53.ARecord(
            stack,
            f"{side.title()}AlbAlias",
            zone=zone,
            record_name=side,
            target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(alb)),
        )
    for side, alb in albs.items():
        CfnOutput(stack, f"{side.title()}Endpoint", value=f"http://{alb.load_balancer_dns_name}")
        CfnOutput(stack, f"{side.title()}EndpointPrivate", value=f"http://{side}.{ZONE_NAME}")
    return stack


def _alb(stack: Stack, vpc: ec2.Vpc, side: str) -> elbv2.ApplicationLoadBalancer:
    security_group = ec2.SecurityGroup(
        stack, f"{side.title()}AlbSecurityGroup", vpc=vpc, allow_all_outbound=False
    )
    return elbv2.ApplicationLoadBalancer(
        stack,
        f"{side.title()}Alb",
        vpc=vpc,
        internet_facing=side == "external",
        security_group=security_group,
        drop_invalid_header_fields=True,
    )


def _listener(alb: elbv2.ApplicationLoadBalancer, side: str, port: int) -> elbv2.ApplicationListener:
    listener = alb.add_listener(
        f"Listener{port}", port=port, protocol=elbv2.ApplicationProtocol.HTTP, open=side == "external"
    )
    if side == "internal":
        alb.connections.allow_from(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(port), "from inside the VPC")
    return listener


def _service(
    stack: Stack, cluster: ecs.Cluster, name: str, environment: dict[str, str] | None
) -> ecs.FargateService:
    task = ecs.FargateTaskDefinition(
        stack, f"{name}Task", cpu=256, memory_limit_mib=512, family=f"{STACK_NAME}-{name}"
    )
    log_group = logs.LogGroup(
        stack, f"{name}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
    )
    task.add_container(
        name,
        image=ecs.ContainerImage.from_asset(
            str(SAMPLE_APP), build_args={"SERVICE_NAME": name}, platform=ecr_assets.Platform.LINUX_AMD64
        ),
        port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT)],
        environment=environment,
        logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=log_group),
    )
    return ecs.FargateService(
        stack,
        f"{name}Service",
        cluster=cluster,
        task_definition=task,
        desired_count=2,
        capacity_provider_strategies=[
            ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)
        ],
        circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        min_healthy_percent=100,
        max_healthy_percent=200,
        health_check_grace_period=Duration.seconds(60),
    )


def _spot_termination_handler(
    stack: Stack,
    cluster: ecs.Cluster,
    services: list[ecs.FargateService],
    target_groups: list[elbv2.ApplicationTargetGroup],
) -> None:
    log_group = logs.LogGroup(
        stack, "SpotHandlerLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
    )
    role = iam.Role(stack, "SpotHandlerRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["ecs:DescribeServices"], resources=[service.service_arn for service in services]
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["elasticloadbalancing:DeregisterTargets"],
            resources=[group.target_group_arn for group in target_groups],
        )
    )
    function = lambda_.Function(
        stack,
        "SpotHandler",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="spot_termination.handler",
        code=lambda_.Code.from_asset(str(HANDLERS), exclude=["__pycache__", "*.pyc"]),
        role=role,
        log_group=log_group,
        timeout=Duration.seconds(30),
    )
    events.Rule(
        stack,
        "SpotInterruptions",
        event_pattern=events.EventPattern(
            source=["aws.ecs"],
            detail_type=["ECS Task State Change"],
            detail={"clusterArn": [cluster.cluster_arn], "stopCode": ["SpotInterruption"]},
        ),
        targets=[events_targets.LambdaFunction(function)],
    )


def main(outdir: str = "cdk.out") -> None:
    app = App(outdir=outdir)
    build(app)
    app.synth()


if __name__ == "__main__":
    main(*sys.argv[1:])
