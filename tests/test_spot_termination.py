"""The Spot termination handler: its function (botocore Stubber on a real event), the template,
and the sandbox deploy of a params file that turns it on."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template
from botocore.stub import Stubber

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit import DualAlbFargateService, FargateTaskProps, LoadBalancerAccessibility
from dualalb_kit.assembly import read_assembly
from dualalb_kit.handlers import spot_termination
from dualalb_kit.target import as_target

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/dualalb-sample-ServiceCluster-Ab12Cd34"
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/dualalb-sample-ServiceCluster-Ab12Cd34/0b69d5c0d6a34d1e"
EXTERNAL_GROUP = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/dualal-Servi-1A/0a1b2c3d4e5f6a7b"
)
INTERNAL_GROUP = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/dualal-Servi-2B/1b2c3d4e5f6a7b8c"
)
TASK_IP = "10.0.2.57"

INTERRUPTION = {
    "version": "0",
    "id": "9bcdac79-b31f-4d3d-9410-fbd727c29fab",
    "detail-type": "ECS Task State Change",
    "source": "aws.ecs",
    "account": "123456789012",
    "time": "2026-11-30T14:02:11Z",
    "region": REGION,
    "resources": [TASK_ARN],
    "detail": {
        "attachments": [
            {
                "id": "1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8",
                "type": "eni",
                "status": "ATTACHED",
                "details": [
                    {"name": "subnetId", "value": "subnet-0a1b2c3d4e5f6a7b8"},
                    {"name": "networkInterfaceId", "value": "eni-0c1d2e3f4a5b6c7d8"},
                    {"name": "macAddress", "value": "0a:9f:5c:3e:11:27"},
                    {"name": "privateDnsName", "value": "ip-10-0-2-57.ec2.internal"},
                    {"name": "privateIPv4Address", "value": TASK_IP},
                ],
            }
        ],
        "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
        "availabilityZone": "us-east-1b",
        "capacityProviderName": "FARGATE_SPOT",
        "clusterArn": CLUSTER_ARN,
        "connectivity": "CONNECTED",
        "connectivityAt": "2026-11-30T09:41:02.114Z",
        "containers": [
            {
                "containerArn": "arn:aws:ecs:us-east-1:123456789012:container/dualalb-sample/0b69d5c0/3f1e",
                "lastStatus": "RUNNING",
                "name": "order",
                "image": "public.ecr.aws/nginx/nginx:stable",
                "runtimeId": "0b69d5c0d6a34d1e-2531612879",
                "taskArn": TASK_ARN,
                "networkInterfaces": [
                    {"attachmentId": "1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8", "privateIpv4Address": TASK_IP}
                ],
                "cpu": "0",
            }
        ],
        "cpu": "256",
        "createdAt": "2026-11-30T09:40:51.302Z",
        "desiredStatus": "STOPPED",
        "enableExecuteCommand": False,
        "group": "service:dualalb-sample-ServiceorderService-Xy9",
        "launchType": "FARGATE",
        "lastStatus": "RUNNING",
        "memory": "512",
        "overrides": {"containerOverrides": [{"name": "order"}]},
        "platformVersion": "1.4.0",
        "pullStartedAt": "2026-11-30T09:41:09.871Z",
        "pullStoppedAt": "2026-11-30T09:41:17.200Z",
        "startedAt": "2026-11-30T09:41:21.553Z",
        "startedBy": "ecs-svc/3954738510432191642",
        "stopCode": "SpotInterruption",
        "stoppedReason": "Your Spot Task was interrupted.",
        "stoppingAt": "2026-11-30T14:02:10.947Z",
        "taskArn": TASK_ARN,
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/dualalb-sample-order:3",
        "updatedAt": "2026-11-30T14:02:10.947Z",
        "version": 5,
    },
}
"""EventBridge's "ECS Task State Change" for an interrupted Fargate Spot task of a service on both ALBs."""

ORDER_SERVICE = {
    "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/dualalb-sample-ServiceCluster-Ab12Cd34/"
    "dualalb-sample-ServiceorderService-Xy9",
    "serviceName": "dualalb-sample-ServiceorderService-Xy9",
    "clusterArn": CLUSTER_ARN,
    "loadBalancers": [
        {"targetGroupArn": EXTERNAL_GROUP, "containerName": "order", "containerPort": 8080},
        {"targetGroupArn": INTERNAL_GROUP, "containerName": "order", "containerPort": 8080},
    ],
    "status": "ACTIVE",
    "desiredCount": 2,
    "runningCount": 2,
}


@pytest.fixture
def clients(monkeypatch):
    """Stubbed ECS and ELBv2 clients, and ``boto3.client`` returning them (as on Lambda)."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    made = {"ecs": session.client("ecs"), "elbv2": session.client("elbv2")}
    monkeypatch.setattr(boto3, "client", lambda name, **_: made[name])
    stubs = {name: Stubber(client) for name, client in made.items()}
    for stub in stubs.values():
        stub.activate()
    yield stubs
    for stub in stubs.values():
        stub.deactivate()


def expect_describe_services(clients, service: dict) -> None:
    """ECS answers the handler's DescribeServices for the interrupted task's service with ``service``."""
    clients["ecs"].add_response(
        "describe_services",
        {"services": [service], "failures": []},
        {"cluster": CLUSTER_ARN, "services": ["dualalb-sample-ServiceorderService-Xy9"]},
    )


def assert_every_call_made(clients) -> None:
    """Every stubbed response was asked for."""
    for stub in clients.values():
        stub.assert_no_pending_responses()


def test_interruption_deregisters_exactly_the_tasks_ip_from_both_target_groups(clients):
    expect_describe_services(clients, ORDER_SERVICE)
    for group in (EXTERNAL_GROUP, INTERNAL_GROUP):
        clients["elbv2"].add_response(
            "deregister_targets", {}, {"TargetGroupArn": group, "Targets": [{"Id": TASK_IP, "Port": 8080}]}
        )
    calls = spot_termination.handler(copy.deepcopy(INTERRUPTION), None)
    assert calls == [
        {"TargetGroupArn": EXTERNAL_GROUP, "Targets": [{"Id": TASK_IP, "Port": 8080}]},
        {"TargetGroupArn": INTERNAL_GROUP, "Targets": [{"Id": TASK_IP, "Port": 8080}]},
    ]
    assert_every_call_made(clients)


def test_a_blue_green_services_task_leaves_the_alternate_target_group_too(clients):
    alternate = (
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/dualal-Servi-3C/2c3d4e5f6a7b8c9d"
    )
    external, internal = copy.deepcopy(ORDER_SERVICE["loadBalancers"])
    external["advancedConfiguration"] = {
        "alternateTargetGroupArn": alternate,
        "productionListenerRule": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/"
        "dualal-Servi-4D/3d4e5f6a7b8c9d0e/4e5f6a7b8c9d0e1f/5f6a7b8c9d0e1f2a",
        "roleArn": "arn:aws:iam::123456789012:role/dualalb-sample-EcsTrafficShifting",
    }
    service = {**ORDER_SERVICE, "loadBalancers": [external, internal]}
    expect_describe_services(clients, service)
    for group in (EXTERNAL_GROUP, alternate, INTERNAL_GROUP):
        clients["elbv2"].add_response(
            "deregister_targets", {}, {"TargetGroupArn": group, "Targets": [{"Id": TASK_IP, "Port": 8080}]}
        )
    calls = spot_termination.handler(copy.deepcopy(INTERRUPTION), None)
    assert [call["TargetGroupArn"] for call in calls] == [EXTERNAL_GROUP, alternate, INTERNAL_GROUP]
    assert_every_call_made(clients)


def test_a_refused_group_does_not_keep_the_task_in_the_others(clients):
    expect_describe_services(clients, ORDER_SERVICE)
    targets = [{"Id": TASK_IP, "Port": 8080}]
    clients["elbv2"].add_client_error(
        "deregister_targets",
        service_error_code="Throttling",
        service_message="Rate exceeded",
        expected_params={"TargetGroupArn": EXTERNAL_GROUP, "Targets": targets},
    )
    clients["elbv2"].add_response(
        "deregister_targets", {}, {"TargetGroupArn": INTERNAL_GROUP, "Targets": targets}
    )
    with pytest.raises(RuntimeError) as caught:
        spot_termination.handler(copy.deepcopy(INTERRUPTION), None)
    assert str(caught.value).startswith(f"the task is still in 1 target group(s): {EXTERNAL_GROUP}: ")
    assert "Rate exceeded" in str(caught.value)
    assert_every_call_made(clients)  # the internal group was still asked


@pytest.mark.parametrize(
    "change",
    [
        {
            "stopCode": "ServiceSchedulerInitiated",
            "stoppedReason": "Scaling activity initiated by deployment",
        },
        {"group": "family:dualalb-sample-order"},
        {"attachments": []},
    ],
    ids=["not a spot interruption", "not a service's task", "no network interface"],
)
def test_other_stops_call_nothing(clients, change):
    event = copy.deepcopy(INTERRUPTION)
    event["detail"].update(change)
    # No response is queued: any AWS call would fail the test.
    assert spot_termination.handler(event, None) == []


def test_task_addresses_read_the_eni_attachment():
    assert spot_termination.task_addresses(INTERRUPTION["detail"]) == [TASK_IP]


# -- the construct ------------------------------------------------------------------------------


def build(
    spot: bool, handler: bool | None, strategies: dict[str, list] | None = None, stack: Stack | None = None
) -> Template:
    stack = stack or Stack(App(), "Test")
    tasks = []
    for name, sides in (("order", ("external", "internal")), ("customer", ("internal",))):
        definition = ecs.FargateTaskDefinition(stack, f"{name}Task")
        definition.add_container(
            name,
            image=ecs.ContainerImage.from_registry("nginx"),
            port_mappings=[ecs.PortMapping(container_port=8080)],
        )
        port = 80 if name == "order" else 8080
        tasks.append(
            FargateTaskProps(
                task=definition,
                capacity_provider_strategy=(strategies or {}).get(name),
                **{side: LoadBalancerAccessibility(port=port) for side in sides},
            )
        )
    DualAlbFargateService(stack, "Service", tasks=tasks, spot=spot, spot_termination_handler=handler)
    return Template.from_stack(stack)


HANDLER_TYPES = ("AWS::Lambda::Function", "AWS::Events::Rule", "AWS::Lambda::Permission")


@pytest.mark.parametrize(
    ("spot", "handler"),
    [(True, False), (False, True), (False, None)],
    ids=["off", "no spot task", "default without spot tasks"],
)
def test_no_handler_when_off_or_without_spot_tasks(spot, handler):
    template = build(spot, handler)
    for kind in HANDLER_TYPES:
        template.resource_count_is(kind, 0)


@pytest.mark.parametrize(
    "strategies",
    [None, {"customer": [ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)]}],
    ids=["spot", "one task's own spot strategy"],
)
def test_the_handler_is_on_by_default_when_a_task_runs_on_spot(strategies):
    """As the original's ``spotTerminationHandler`` (default true): no need to ask for it."""
    template = build(strategies is None, None, strategies)
    for kind in HANDLER_TYPES:
        template.resource_count_is(kind, 1)


HANDLER_RESOURCES = sorted(
    (
        "AWS::Logs::LogGroup",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::Lambda::Function",
        "AWS::Events::Rule",
        "AWS::Lambda::Permission",
    )
)
"""What the handler adds to a stack: its function with its log group, role and policy, the rule and
the rule's permission to invoke the function."""
SPOT_PARAMS = [
    "canary-with-alarms.yaml",
    "mixed-spot.yaml",
    "public-one-per-az.yaml",
    "sample.yaml",
    "wordpress.yaml",
]
"""The shipped params files with tasks on FARGATE_SPOT that leave ``spot_termination_handler`` unset."""


def _resources(spec) -> dict[str, dict]:
    from dualalb_kit.build import build_stack

    _, stack = build_stack(spec)
    return Template.from_stack(stack).to_json()["Resources"]


@pytest.mark.parametrize("name", SPOT_PARAMS)
def test_a_spot_params_file_gets_exactly_the_handlers_resources_unless_turned_off(name):
    from dualalb_kit.spec import load_spec

    spec = load_spec(ROOT / "params" / name)
    assert spec.spot_termination_handler is None
    with_handler = _resources(spec)
    without = _resources(spec.model_copy(update={"spot_termination_handler": False}))
    added = {logical_id: body for logical_id, body in with_handler.items() if logical_id not in without}
    assert sorted(body["Type"] for body in added.values()) == HANDLER_RESOURCES
    assert all("SpotTerminationHandler" in logical_id for logical_id in added)
    assert {logical_id: with_handler[logical_id] for logical_id in without} == without


def _warnings(stack: Stack) -> list[str]:
    """The stack's synthesis warnings, read from its assembly with the kit's manifest reader (jsii
    1.142's lazy loading can fail to deserialize Annotations' MetadataEntry, by test order)."""
    return [data for _, data in read_assembly(stack.node.root.synth().directory).entries("aws:cdk:warning")]


def test_a_handler_asked_for_without_spot_tasks_is_a_synthesis_warning():
    quiet, on_spot, asked = Stack(App(), "Quiet"), Stack(App(), "OnSpot"), Stack(App(), "Asked")
    by_default = Stack(App(), "ByDefault")
    build(False, False, stack=quiet)
    build(False, True, stack=asked)
    build(True, True, stack=on_spot)
    build(False, None, stack=by_default)
    assert _warnings(quiet) == []
    assert _warnings(on_spot) == []
    assert _warnings(by_default) == []
    assert _warnings(asked) == [
        "spot_termination_handler: no task runs on FARGATE_SPOT, so no handler is created "
        "[ack: dualalb-kit:spotTerminationHandlerUnused]"
    ]


def test_handler_watches_the_cluster_and_may_touch_only_its_spot_services():
    on_demand = [ecs.CapacityProviderStrategy(capacity_provider="FARGATE", weight=1)]
    template = build(True, True, {"customer": on_demand}).to_json()["Resources"]
    by_type = {}
    for logical_id, body in template.items():
        by_type.setdefault(body["Type"], []).append((logical_id, body.get("Properties", {})))
    ((_, function),) = by_type["AWS::Lambda::Function"]
    assert (function["Runtime"], function["Handler"], function["Timeout"]) == (
        "python3.14",
        "spot_termination.handler",
        30,
    )
    ((rule_id, rule),) = by_type["AWS::Events::Rule"]
    cluster_id = next(i for i, _ in by_type["AWS::ECS::Cluster"])
    assert rule["EventPattern"] == {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {"clusterArn": [{"Fn::GetAtt": [cluster_id, "Arn"]}], "stopCode": ["SpotInterruption"]},
    }
    ((_, permission),) = by_type["AWS::Lambda::Permission"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    policy = next(p for i, p in by_type["AWS::IAM::Policy"] if "SpotTerminationHandler" in i)
    statements = {str(s["Action"]): s["Resource"] for s in policy["PolicyDocument"]["Statement"]}
    order_service = next(i for i, _ in by_type["AWS::ECS::Service"] if "order" in i)
    order_groups = sorted(i for i, _ in by_type["AWS::ElasticLoadBalancingV2::TargetGroup"] if "order" in i)
    assert statements["ecs:DescribeServices"] == {"Ref": order_service}
    assert sorted(r["Ref"] for r in statements["elasticloadbalancing:DeregisterTargets"]) == order_groups
    assert len(order_groups) == 2


# -- the sandbox ---------------------------------------------------------------------------------


def test_params_file_with_the_handler_alarms_and_access_logs_deploys_and_is_destroyed(sandbox, tmp_path):
    from dualalb_kit.deploy import deploy, destroy
    from dualalb_kit.spec import load_spec
    from dualalb_kit.synth import synth

    spec = load_spec(ROOT / "params" / "shared-port-by-host.yaml")
    assert spec.spot_termination_handler
    synthesis = synth(spec, tmp_path / "assembly", target=as_target(endpoint_url=sandbox.endpoint_url))
    deploy(synthesis, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    client = lambda name: session.client(name, endpoint_url=sandbox.endpoint_url)  # noqa: E731
    resources = {
        r["ResourceType"]: r["PhysicalResourceId"]
        for r in client("cloudformation").describe_stack_resources(StackName=spec.stack_name)[
            "StackResources"
        ]
    }
    function = client("lambda").get_function(FunctionName=resources["AWS::Lambda::Function"])["Configuration"]
    assert (function["Runtime"], function["Handler"], function["Timeout"]) == (
        "python3.14",
        "spot_termination.handler",
        30,
    )
    cluster_arn = client("ecs").describe_clusters(clusters=[resources["AWS::ECS::Cluster"]])["clusters"][0][
        "clusterArn"
    ]
    events = client("events")
    rule = events.describe_rule(Name=resources["AWS::Events::Rule"])
    assert rule["State"] == "ENABLED"
    assert json.loads(rule["EventPattern"])["detail"] == {
        "clusterArn": [cluster_arn],
        "stopCode": ["SpotInterruption"],
    }
    (target,) = events.list_targets_by_rule(Rule=resources["AWS::Events::Rule"])["Targets"]
    assert target["Arn"] == function["FunctionArn"]
    policy = json.loads(client("lambda").get_policy(FunctionName=function["FunctionName"])["Policy"])
    assert [(s["Sid"], s["Principal"]) for s in policy["Statement"]] == [
        (resources["AWS::Lambda::Permission"], {"Service": "events.amazonaws.com"})
    ]
    # The same file turns alarms on: the sandbox describes them with the template's values.
    assert spec.alarms
    cloudwatch = client("cloudwatch")
    alarm_names = sorted(
        r["PhysicalResourceId"]
        for r in client("cloudformation").describe_stack_resources(StackName=spec.stack_name)[
            "StackResources"
        ]
        if r["ResourceType"] == "AWS::CloudWatch::Alarm"
    )
    alarms = {
        a["AlarmDescription"]: a for a in cloudwatch.describe_alarms(AlarmNames=alarm_names)["MetricAlarms"]
    }
    assert len(alarms) == 14  # two services, each: CPU + (5xx rate, p99 latency, unhealthy hosts) x 2 ALBs
    cpu = alarms["shop cpu: average CPU percent beyond 90 for 3 minutes"]
    assert (cpu["MetricName"], cpu["Threshold"], cpu["EvaluationPeriods"]) == ("CPUUtilization", 90, 3)
    rate = alarms["blog external-5xx-rate: target 5xx percent beyond 5 for 3 minutes"]
    assert [m.get("Expression") for m in rate["Metrics"]] == ["100 * errors / requests", None, None]
    dashboard = resources["AWS::CloudWatch::Dashboard"]  # this stack's: the sandbox is shared
    assert dashboard in {entry["DashboardName"] for entry in cloudwatch.list_dashboards()["DashboardEntries"]}
    body = json.loads(cloudwatch.get_dashboard(DashboardName=dashboard)["DashboardBody"])
    assert sorted(w["properties"]["title"] for w in body["widgets"])[:2] == [
        "Alarms",
        "blog: CPU and memory (%)",
    ]
    # And access logs: both ALBs log to the bucket, which keeps its encryption, lifecycle and block.
    assert spec.access_logs
    bucket = resources["AWS::S3::Bucket"]
    elbv2 = client("elbv2")
    prefixes = set()
    balancers = [  # this stack's: other tests' stacks share the session's sandbox
        r["PhysicalResourceId"]
        for r in client("cloudformation").describe_stack_resources(StackName=spec.stack_name)[
            "StackResources"
        ]
        if r["ResourceType"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    ]
    assert len(balancers) == 2
    for balancer in balancers:
        attributes = {
            a["Key"]: a["Value"]
            for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=balancer)["Attributes"]
        }
        assert (attributes["access_logs.s3.enabled"], attributes["access_logs.s3.bucket"]) == ("true", bucket)
        prefixes.add(attributes["access_logs.s3.prefix"])
    assert prefixes == {"external", "internal"}
    s3 = client("s3")
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == [
        {"Expiration": {"Days": 90}, "Filter": {"Prefix": ""}, "Status": "Enabled"}
    ]
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    destroy(synthesis, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    # Gone, this stack's; other tests' stacks may still stand in the session's sandbox.
    assert function["FunctionName"] not in {
        f["FunctionName"] for f in client("lambda").list_functions()["Functions"]
    }
    assert resources["AWS::Events::Rule"] not in {r["Name"] for r in events.list_rules()["Rules"]}
    assert cloudwatch.describe_alarms(AlarmNames=alarm_names)["MetricAlarms"] == []
    assert dashboard not in {
        entry["DashboardName"] for entry in cloudwatch.list_dashboards()["DashboardEntries"]
    }
