"""The original's later options and today's additions, from a params file to the template."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit import ValidationError
from dualalb_kit.build import build_stack
from dualalb_kit.spec import load_spec
from dualalb_kit.target import as_target


def spec_with(task: dict | None = None, **fields):
    return load_spec(
        {
            "stack_name": "options",
            "tasks": [{"name": "web", "image": "nginx", "external": {"port": 80}, **(task or {})}],
            **fields,
        }
    )


def template_of(spec) -> Template:
    _, stack = build_stack(spec)
    return Template.from_stack(stack)


def resources(template: Template, kind: str) -> list[dict]:
    return [r["Properties"] for r in template.find_resources(kind).values()]


def test_params_set_deployment_percents_grace_period_cluster_name_and_idle_timeouts():
    spec = spec_with(
        {"min_healthy_percent": 0, "max_healthy_percent": 100, "health_check_grace_period_seconds": 90},
        cluster_name="shop",
        external_alb_idle_timeout_seconds=120,
    )
    template = template_of(spec)
    (service,) = resources(template, "AWS::ECS::Service")
    assert service["DeploymentConfiguration"]["MinimumHealthyPercent"] == 0
    assert service["DeploymentConfiguration"]["MaximumPercent"] == 100
    assert service["HealthCheckGracePeriodSeconds"] == 90
    assert [c["ClusterName"] for c in resources(template, "AWS::ECS::Cluster")] == ["shop"]
    (alb,) = resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert {"Key": "idle_timeout.timeout_seconds", "Value": "120"} in alb["LoadBalancerAttributes"]


def test_params_defaults_leave_the_template_as_before():
    spec = spec_with()
    assert "min_healthy_percent" not in spec.to_params()["tasks"][0]
    assert "cluster_name" not in spec.to_params()
    template = template_of(spec)
    (service,) = resources(template, "AWS::ECS::Service")
    assert service["DeploymentConfiguration"]["MinimumHealthyPercent"] == 100
    assert service["DeploymentConfiguration"]["MaximumPercent"] == 200
    assert "ClusterName" not in resources(template, "AWS::ECS::Cluster")[0]
    (alb,) = resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert all(a["Key"] != "idle_timeout.timeout_seconds" for a in alb["LoadBalancerAttributes"])


@pytest.mark.parametrize(
    ("task", "fields", "message"),
    [
        ({"min_healthy_percent": -1}, {}, "tasks[0].min_healthy_percent: -1 is outside 0-100"),
        (
            {"min_healthy_percent": 60, "max_healthy_percent": 50},
            {},
            "tasks[0].max_healthy_percent: 50 is outside 100-2000",
        ),
        (
            {"health_check_grace_period_seconds": -5},
            {},
            "tasks[0].health_check_grace_period_seconds: Input should be greater than or equal to 0, got -5",
        ),
        (
            {},
            {"internal_alb_idle_timeout_seconds": 0},
            "internal_alb_idle_timeout_seconds: Input should be greater than or equal to 1, got 0",
        ),
    ],
    ids=["min percent", "max percent", "grace period", "idle timeout"],
)
def test_params_option_errors_name_the_field(task, fields, message):
    with pytest.raises(ValidationError) as caught:
        spec_with(task, **fields)
    assert str(caught.value) == message


def test_params_existing_cluster_runs_the_services_there_and_makes_no_cluster():
    spec = spec_with(existing_cluster="shared", vpc="default", account="123456789012")
    template = template_of(spec)
    template.resource_count_is("AWS::ECS::Cluster", 0)
    template.resource_count_is("AWS::ECS::ClusterCapacityProviderAssociations", 0)
    assert [service["Cluster"] for service in resources(template, "AWS::ECS::Service")] == ["shared"]
    assert spec.to_params()["existing_cluster"] == "shared"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"existing_cluster": "shared", "cluster_name": "shop", "vpc": "default"},
            "cluster_name: names a new cluster; with existing_cluster there is none to name",
        ),
        (
            {"existing_cluster": "shared"},
            "existing_cluster: needs vpc: default or vpc-..., the VPC its services run in",
        ),
        (
            {"existing_cluster": "my cluster", "vpc": "default"},
            "existing_cluster: 'my cluster' is not an ECS cluster name "
            "(1-255 letters, digits, hyphens, underscores)",
        ),
        (
            {"cluster_name": "x" * 256},
            f"cluster_name: '{'x' * 256}' is not an ECS cluster name "
            "(1-255 letters, digits, hyphens, underscores)",
        ),
    ],
    ids=["both", "new vpc", "bad name", "long name"],
)
def test_params_cluster_errors_name_the_field(fields, message):
    with pytest.raises(ValidationError) as caught:
        spec_with(**fields)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("pattern", "fields", "message"),
    [
        (
            "wordpress",
            {"cluster_name": "shop"},
            "cluster_name: is for pattern: dualalb (WordPress makes its own cluster)",
        ),
        (
            "laravel",
            {"existing_cluster": "shared", "vpc": "default"},
            "existing_cluster: is for pattern: dualalb (Laravel makes its own cluster)",
        ),
    ],
)
def test_the_app_patterns_refuse_cluster_options(pattern, fields, message):
    sections = {"laravel": {"code": "sample:laravel"}} if pattern == "laravel" else {}
    with pytest.raises(ValidationError) as caught:
        load_spec({"stack_name": "app", "pattern": pattern, **sections, **fields})
    assert str(caught.value) == message


def two_on_port_80(first: dict, second: dict):
    return load_spec(
        {
            "stack_name": "shared",
            "tasks": [
                {"name": "shop", "image": "nginx", "external": {"port": 80, **first}},
                {"name": "blog", "image": "nginx", "external": {"port": 80, **second}},
            ],
        }
    )


def test_params_forward_conditions_become_listener_rules():
    spec = two_on_port_80(
        {"forward_conditions": [{"host_header": ["shop.example.com"]}, {"path_pattern": ["/cart/*"]}]}, {}
    )
    template = template_of(spec)
    (listener,) = resources(template, "AWS::ElasticLoadBalancingV2::Listener")
    assert "blogTarget" in listener["DefaultActions"][0]["TargetGroupArn"]["Ref"]
    (rule,) = resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert rule["Priority"] == 47587
    assert rule["Conditions"] == [
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["shop.example.com"]}},
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/cart/*"]}},
    ]


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (
            {},
            {},
            "tasks[1].external.port: port 80 of the external ALB is already used by tasks[0]; "
            "tasks sharing a port need forward_conditions (all but one)",
        ),
        (
            {"forward_conditions": [{"path_pattern": ["/api/*"]}]},
            {"forward_conditions": [{"path_pattern": ["/api/v1/*"]}]},
            "tasks[1].external.forward_conditions: path-pattern /api/v1/* overlaps tasks[0]'s "
            "path-pattern /api/* on port 80 of the external ALB; one request would match both",
        ),
        (
            {"forward_conditions": [{"host_header": ["a.example.com"], "path_pattern": ["/"]}]},
            {},
            "tasks[0].external.forward_conditions[0]: give exactly one of host_header, path_pattern",
        ),
        (
            {"forward_conditions": [{"host_header": []}]},
            {},
            "tasks[0].external.forward_conditions[0]: host-header has no values",
        ),
    ],
    ids=["no conditions", "overlapping paths", "two fields in one", "no values"],
)
def test_params_shared_port_errors_name_both_tasks(first, second, message):
    with pytest.raises(ValidationError) as caught:
        two_on_port_80(first, second)
    assert str(caught.value) == message


# -- scaling: memory tracking and scheduled actions -----------------------------------------------

SCALED = {
    "scaling": {
        "max_capacity": 12,
        "target_memory_utilization": 70,
        "scheduled": [
            {"cron": "0 7 ? * MON-FRI *", "min_capacity": 4, "max_capacity": 20},
            {"cron": "0  19 ? * MON-FRI *", "min_capacity": 1},  # as typed: one space in the template
        ],
    }
}


def test_params_memory_tracking_and_scheduled_actions():
    template = template_of(spec_with(SCALED))
    (target,) = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert [(a["Schedule"], a["ScalableTargetAction"]) for a in target["ScheduledActions"]] == [
        ("cron(0 7 ? * MON-FRI *)", {"MinCapacity": 4, "MaxCapacity": 20}),
        ("cron(0 19 ? * MON-FRI *)", {"MinCapacity": 1}),
    ]
    metrics = sorted(
        (
            p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
                "PredefinedMetricType"
            ],
            p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        )
        for p in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    )
    assert metrics == [
        ("ALBRequestCountPerTarget", 1000),
        ("ECSServiceAverageCPUUtilization", 50),
        ("ECSServiceAverageMemoryUtilization", 70),
    ]


def test_params_without_scaling_options_have_no_memory_policy_or_schedule():
    template = template_of(spec_with())
    (target,) = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert "ScheduledActions" not in target
    assert len(resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")) == 2


@pytest.mark.parametrize(
    ("scaling", "message"),
    [
        (
            {"target_memory_utilization": 0},
            "tasks[0].scaling.target_memory_utilization: 0 is outside (0, 100]",
        ),
        (
            {"scheduled": [{"cron": "0 8 * * 1-5", "min_capacity": 2}]},
            "tasks[0].scaling.scheduled[0].cron: '0 8 * * 1-5' is not six cron fields "
            "(minutes hours day-of-month month day-of-week year), e.g. '0 8 ? * MON-FRI *'",
        ),
        (
            {"scheduled": [{"cron": "0 8 * * MON-FRI *", "min_capacity": 2}]},
            "tasks[0].scaling.scheduled[0].cron: '0 8 * * MON-FRI *': "
            "exactly one of day-of-month, day-of-week is '?'",
        ),
        (
            {"scheduled": [{"cron": "0 8 ? * MON-FRI *"}]},
            "tasks[0].scaling.scheduled[0]: sets neither min_capacity nor max_capacity",
        ),
        (
            {"scheduled": [{"cron": "0 8 ? * MON-FRI *", "min_capacity": 5, "max_capacity": 3}]},
            "tasks[0].scaling.scheduled[0].min_capacity: 5 is above max_capacity 3",
        ),
    ],
    ids=["memory target", "five fields", "no question mark", "no bounds", "min above max"],
)
def test_params_scaling_errors_name_the_field(scaling, message):
    with pytest.raises(ValidationError) as caught:
        spec_with({"scaling": scaling})
    assert str(caught.value) == message


def test_sandbox_describes_memory_tracking_and_scheduled_actions(sandbox, tmp_path):
    import boto3

    from dualalb_kit.deploy import deploy, destroy
    from dualalb_kit.synth import synth

    spec = spec_with(SCALED, stack_name="options-scaling")
    synthesis = synth(spec, tmp_path / "assembly", target=as_target(endpoint_url=sandbox.endpoint_url))
    deploy(synthesis, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=spec.region
    )
    autoscaling = session.client("application-autoscaling", endpoint_url=sandbox.endpoint_url)
    cloudformation = session.client("cloudformation", endpoint_url=sandbox.endpoint_url)
    (cluster,) = [  # this stack's: other tests' stacks share the session's sandbox
        r["PhysicalResourceId"]
        for r in cloudformation.describe_stack_resources(StackName=spec.stack_name)["StackResources"]
        if r["ResourceType"] == "AWS::ECS::Cluster"
    ]
    (target,) = [
        target
        for target in autoscaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        if target["ResourceId"].startswith(f"service/{cluster}/")
    ]
    actions = autoscaling.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=target["ResourceId"])
    assert sorted((a["Schedule"], a["ScalableTargetAction"]) for a in actions["ScheduledActions"]) == [
        ("cron(0 19 ? * MON-FRI *)", {"MinCapacity": 1}),
        ("cron(0 7 ? * MON-FRI *)", {"MinCapacity": 4, "MaxCapacity": 20}),
    ]
    policies = autoscaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=target["ResourceId"])
    assert sorted(
        p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]
        for p in policies["ScalingPolicies"]
    ) == ["ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization"]
    destroy(synthesis, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    after = autoscaling.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=target["ResourceId"])
    assert after["ScheduledActions"] == []
