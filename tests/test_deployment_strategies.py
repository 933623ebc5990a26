"""Deployment strategies: rolling (today's templates), ECS's blue/green, linear and canary with
alternate target groups, production listener rules and rollback on the service's alarms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Template
from test_construct import task

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit import (
    DeploymentOptions,
    DualAlbFargateService,
    FargateTaskProps,
    LoadBalancerAccessibility,
    ValidationError,
    build_stack,
    load_spec,
)

PARAMS = Path(__file__).resolve().parents[1] / "params"
ECS_POLICY = "AmazonECSInfrastructureRolePolicyForLoadBalancers"


def make_stack() -> Stack:
    return Stack(App(), "Test")


def two_services(
    stack: Stack, order: DeploymentOptions | None = None, **kwargs: Any
) -> DualAlbFargateService:
    """``order`` on both ALBs (its own ``deployment``), ``customer`` on the internal one."""
    return DualAlbFargateService(
        stack,
        "Service",
        tasks=[
            FargateTaskProps(
                task=task(stack, "order", 8080),
                external=LoadBalancerAccessibility(port=80),
                internal=LoadBalancerAccessibility(port=80),
                deployment=order,
            ),
            FargateTaskProps(task=task(stack, "customer"), internal=LoadBalancerAccessibility(port=8080)),
        ],
        **kwargs,
    )


def resources(template: Template, kind: str) -> dict[str, dict]:
    return {key: r.get("Properties", {}) for key, r in template.find_resources(kind).items()}


def service_named(template: Template, name: str) -> dict:
    (props,) = [
        p
        for p in resources(template, "AWS::ECS::Service").values()
        if {"Key": "dualalb:service", "Value": name} in p.get("Tags", [])
    ]
    return props


def deployment_of(template: Template, name: str) -> dict:
    return service_named(template, name)["DeploymentConfiguration"]


def logical_id(ref: dict) -> str:
    return ref["Ref"] if "Ref" in ref else ref["Fn::GetAtt"][0]


# -- rolling: today's templates -----------------------------------------------------------------


def test_rolling_by_default_and_explicitly_leaves_the_template_as_it_was():
    default, explicit = make_stack(), make_stack()
    two_services(default)
    two_services(explicit, deployment=DeploymentOptions(strategy="rolling"))
    template = Template.from_stack(default)
    assert Template.from_stack(explicit).to_json() == template.to_json()
    for name in ("order", "customer"):
        assert deployment_of(template, name) == {
            "Alarms": {"AlarmNames": [], "Enable": False, "Rollback": False},
            "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
            "MaximumPercent": 200,
            "MinimumHealthyPercent": 100,
        }
        assert all("AdvancedConfiguration" not in lb for lb in service_named(template, name)["LoadBalancers"])
    assert resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule") == {}
    assert len(resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup")) == 3
    assert all(ECS_POLICY not in json.dumps(role) for role in resources(template, "AWS::IAM::Role").values())


def test_rolling_with_a_bake_time_sets_only_the_bake_time():
    stack = make_stack()
    two_services(stack, DeploymentOptions(bake_time=Duration.minutes(20)))
    template = Template.from_stack(stack)
    order = deployment_of(template, "order")
    assert order["BakeTimeInMinutes"] == 20
    assert "Strategy" not in order
    assert "BakeTimeInMinutes" not in deployment_of(template, "customer")


# -- blue/green: alternate target groups, production rules, ECS's role ----------------------------


def test_blue_green_gives_each_listener_an_alternate_group_and_a_production_rule():
    stack = make_stack()
    construct = two_services(stack, DeploymentOptions(strategy="blue_green"))
    template = Template.from_stack(stack)
    order = service_named(template, "order")
    assert order["DeploymentConfiguration"]["Strategy"] == "BLUE_GREEN"
    assert order["DeploymentConfiguration"]["BakeTimeInMinutes"] == 15  # ECS's default, written out
    assert order["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert "Strategy" not in deployment_of(template, "customer")

    groups = resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    rules = resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    roles = resources(template, "AWS::IAM::Role")
    assert len(groups) == 5 and len(rules) == 2
    assert set(construct.alternate_target_groups) == {("order", "external"), ("order", "internal")}
    for balancer in order["LoadBalancers"]:
        advanced = balancer["AdvancedConfiguration"]
        blue, green = logical_id(balancer["TargetGroupArn"]), logical_id(advanced["AlternateTargetGroupArn"])
        rule = rules[logical_id(advanced["ProductionListenerRule"])]
        assert rule["Priority"] == 50000
        assert rule["Conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["*"]}}]
        (action,) = rule["Actions"]
        assert [
            (logical_id(g["TargetGroupArn"]), g["Weight"]) for g in action["ForwardConfig"]["TargetGroups"]
        ] == [
            (blue, 100),
            (green, 0),
        ]
        assert groups[green]["TargetType"] == "ip"
        assert {k: groups[green][k] for k in ("Port", "Protocol", "VpcId")} == {
            k: groups[blue][k] for k in ("Port", "Protocol", "VpcId")
        }
        assert groups[green]["TargetGroupAttributes"] == groups[blue]["TargetGroupAttributes"]
        role = roles[logical_id(advanced["RoleArn"])]
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "ecs.amazonaws.com"
        }
        assert ECS_POLICY in json.dumps(role["ManagedPolicyArns"])
    # Both listeners of the blue/green service answer unmatched requests with 404 (never reached:
    # the production rule matches every path); the customer's listener keeps its default action.
    listeners = resources(template, "AWS::ElasticLoadBalancingV2::Listener")
    defaults = sorted(lst["DefaultActions"][0]["Type"] for lst in listeners.values())
    assert defaults == ["fixed-response", "fixed-response", "forward"]
    # Request-count scaling follows whichever group has the traffic: one policy per group.
    policies = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    request_policies = [
        p
        for p in policies.values()
        if p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        == "ALBRequestCountPerTarget"
    ]
    assert len(request_policies) == 4 + 1


def test_one_role_serves_every_traffic_shifting_service():
    stack = make_stack()
    two_services(stack, deployment=DeploymentOptions(strategy="linear"))
    template = Template.from_stack(stack)
    role_arns = {
        json.dumps(lb["AdvancedConfiguration"]["RoleArn"])
        for props in resources(template, "AWS::ECS::Service").values()
        for lb in props["LoadBalancers"]
    }
    assert len(role_arns) == 1
    ecs_roles = [r for r in resources(template, "AWS::IAM::Role").values() if ECS_POLICY in json.dumps(r)]
    assert len(ecs_roles) == 1


def test_a_task_with_forward_conditions_keeps_them_and_its_priority_on_its_production_rule():
    stack = make_stack()
    DualAlbFargateService(
        stack,
        "Service",
        tasks=[
            FargateTaskProps(
                task=task(stack, "shop"),
                external=LoadBalancerAccessibility(
                    port=80, forward_conditions=[elbv2.ListenerCondition.host_headers(["shop.example.com"])]
                ),
                deployment=DeploymentOptions(strategy="blue_green"),
            ),
            FargateTaskProps(task=task(stack, "blog"), external=LoadBalancerAccessibility(port=80)),
        ],
    )
    template = Template.from_stack(stack)
    (rule,) = resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    assert rule["Conditions"] == [
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["shop.example.com"]}}
    ]
    assert rule["Priority"] == 47587  # the name's priority, as without blue/green
    (listener,) = resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    assert listener["DefaultActions"][0]["Type"] == "forward"  # the blog stays the default


# -- linear and canary ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "key", "expected"),
    [
        (
            DeploymentOptions(strategy="linear"),
            "LinearConfiguration",
            {"StepPercent": 10, "StepBakeTimeInMinutes": 6},
        ),
        (
            DeploymentOptions(
                strategy="linear", linear_step_percent=20.5, linear_step_bake_time=Duration.minutes(3)
            ),
            "LinearConfiguration",
            {"StepPercent": 20.5, "StepBakeTimeInMinutes": 3},
        ),
        (
            DeploymentOptions(strategy="canary"),
            "CanaryConfiguration",
            {"CanaryPercent": 5, "CanaryBakeTimeInMinutes": 10},
        ),
        (
            DeploymentOptions(strategy="canary", canary_percent=0.5, canary_bake_time=Duration.hours(1)),
            "CanaryConfiguration",
            {"CanaryPercent": 0.5, "CanaryBakeTimeInMinutes": 60},
        ),
    ],
    ids=["linear defaults", "linear", "canary defaults", "canary"],
)
def test_traffic_shift_configuration(options, key, expected):
    stack = make_stack()
    two_services(stack, options)
    config = deployment_of(Template.from_stack(stack), "order")
    assert config["Strategy"] == options.strategy.upper()
    assert config[key] == expected
    assert ({"LinearConfiguration", "CanaryConfiguration"} - {key}).isdisjoint(config)


def test_a_task_of_its_own_overrides_the_construct_default():
    stack = make_stack()
    two_services(
        stack,
        DeploymentOptions(strategy="rolling"),
        deployment=DeploymentOptions(strategy="canary", bake_time=Duration.minutes(5)),
    )
    template = Template.from_stack(stack)
    assert "Strategy" not in deployment_of(template, "order")
    customer = deployment_of(template, "customer")
    assert (customer["Strategy"], customer["BakeTimeInMinutes"]) == ("CANARY", 5)


# -- rollback on alarms ---------------------------------------------------------------------------


def dependency_cycle(template: dict) -> list[str] | None:
    """A cycle of logical ids through Ref, Fn::GetAtt and DependsOn, if the template has one."""
    resources_ = template["Resources"]

    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = set()
            for key, value in node.items():
                if key == "Ref" and isinstance(value, str) and value in resources_:
                    found.add(value)
                elif key == "Fn::GetAtt" and value[0] in resources_:
                    found.add(value[0])
                else:
                    found |= refs(value)
            return found
        if isinstance(node, list):
            return set().union(*(refs(item) for item in node)) if node else set()
        return set()

    edges = {
        key: refs(r.get("Properties", {})) | set(r.get("DependsOn", [])) for key, r in resources_.items()
    }
    state: dict[str, int] = {}

    def visit(key: str, path: list[str]) -> list[str] | None:
        state[key] = 1
        for nxt in edges[key]:
            if state.get(nxt) == 1:
                return [*path, key, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, key])):
                return cycle
        state[key] = 2
        return None

    return next((cycle for key in edges if key not in state and (cycle := visit(key, []))), None)


def test_canary_with_alarms_rolls_back_on_every_alarm_of_the_service():
    stack = make_stack()
    construct = two_services(stack, DeploymentOptions(strategy="canary"), alarms=True)
    template = Template.from_stack(stack)
    order_alarms = {
        kind: alarm for (name, kind), alarm in construct.monitoring.alarms.items() if name == "order"
    }
    # CPU, and three per target group: production and alternate on each ALB.
    assert sorted(order_alarms) == sorted(
        ["cpu"]
        + [
            f"{side}{alt}-{kind}"
            for side in ("external", "internal")
            for alt in ("", "-alternate")
            for kind in ("5xx-rate", "p99-latency", "unhealthy-hosts")
        ]
    )
    cfn_alarms = resources(template, "AWS::CloudWatch::Alarm")
    names = [
        cfn_alarms[stack.resolve(a.node.default_child.logical_id)]["AlarmName"] for a in order_alarms.values()
    ]
    assert all(isinstance(name, str) and name.startswith("Test-Service") for name in names)
    assert deployment_of(template, "order")["Alarms"] == {
        "AlarmNames": names,
        "Enable": True,
        "Rollback": True,
    }
    # The customer deploys rolling: its alarms keep generated names and roll nothing back.
    assert deployment_of(template, "customer")["Alarms"]["Enable"] is False
    customer_alarms = [a for (name, _), a in construct.monitoring.alarms.items() if name == "customer"]
    assert all(
        "AlarmName" not in cfn_alarms[stack.resolve(a.node.default_child.logical_id)] for a in customer_alarms
    )
    assert dependency_cycle(template.to_json()) is None


def test_rollback_on_alarms_can_be_turned_off_and_on_for_rolling():
    stack = make_stack()
    two_services(
        stack,
        DeploymentOptions(strategy="blue_green", rollback_on_alarms=False),
        alarms=True,
        deployment=DeploymentOptions(rollback_on_alarms=True),
    )
    template = Template.from_stack(stack)
    assert deployment_of(template, "order")["Alarms"]["Enable"] is False
    customer = deployment_of(template, "customer")
    assert customer["Alarms"]["Enable"] is True and len(customer["Alarms"]["AlarmNames"]) == 4
    assert "Strategy" not in customer
    assert dependency_cycle(template.to_json()) is None


def test_without_alarms_the_circuit_breaker_alone_rolls_back():
    stack = make_stack()
    two_services(stack, DeploymentOptions(strategy="linear"))
    config = deployment_of(Template.from_stack(stack), "order")
    assert config["Alarms"]["Enable"] is False
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


# -- errors before anything is built ------------------------------------------------------------

ERRORS = [
    (
        "linear option on canary",
        {"order": DeploymentOptions(strategy="canary", linear_step_percent=10)},
        "tasks[0].deployment.linear_step_percent: is for strategy linear, not canary",
    ),
    (
        "canary option on blue/green",
        {"default": DeploymentOptions(strategy="blue_green", canary_bake_time=Duration.minutes(1))},
        "deployment.canary_bake_time: is for strategy canary, not blue_green",
    ),
    (
        "linear step below 3",
        {"order": DeploymentOptions(strategy="linear", linear_step_percent=2.9)},
        "tasks[0].deployment.linear_step_percent: 2.9 is not a multiple of 0.1 in 3-100 percent",
    ),
    (
        "canary not a tenth",
        {"order": DeploymentOptions(strategy="canary", canary_percent=0.25)},
        "tasks[0].deployment.canary_percent: 0.25 is not a multiple of 0.1 in 0.1-100 percent",
    ),
    (
        "bake time over a day",
        {"order": DeploymentOptions(strategy="blue_green", bake_time=Duration.hours(25))},
        "tasks[0].deployment.bake_time: 1500 min is not whole minutes in 0-1440 (24 h)",
    ),
    (
        "bake time in seconds",
        {"order": DeploymentOptions(strategy="linear", linear_step_bake_time=Duration.seconds(90))},
        "tasks[0].deployment.linear_step_bake_time: 1.5 min is not whole minutes in 0-1440 (24 h)",
    ),
    (
        "beyond CloudFormation's 33 h",
        {
            "order": DeploymentOptions(
                strategy="linear", linear_step_percent=3, linear_step_bake_time=Duration.minutes(60)
            )
        },
        "tasks[0].deployment: bake times add up to 1995 minutes; CloudFormation rejects a linear "
        "deployment beyond 1980 (33 h)",
    ),
    (
        "rollback without alarms",
        {"default": DeploymentOptions(strategy="canary", rollback_on_alarms=True)},
        "deployment.rollback_on_alarms: needs alarms (the service's alarms are what ECS watches)",
    ),
]


@pytest.mark.parametrize(("options", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_options_are_checked_before_anything_is_built(options, message):
    stack = make_stack()
    with pytest.raises(ValidationError) as caught:
        two_services(stack, options.get("order"), deployment=options.get("default"))
    assert str(caught.value) == message
    assert stack.node.try_find_child("Service") is None


def test_the_nlb_variant_rejects_traffic_shifting():
    from dualalb_kit import DualNlbFargateService

    stack = make_stack()
    with pytest.raises(ValidationError) as caught:
        DualNlbFargateService(
            stack,
            "Service",
            tasks=[
                FargateTaskProps(
                    task=task(stack, "a"),
                    internal=LoadBalancerAccessibility(port=80),
                    deployment=DeploymentOptions(strategy="blue_green"),
                )
            ],
        )
    assert str(caught.value) == (
        "tasks[0].deployment.strategy: blue_green: this kit shifts traffic with ALB listener rules; "
        "behind an NLB use rolling"
    )


# -- the spec -----------------------------------------------------------------------------------


def test_params_file_canary_with_alarms():
    spec = load_spec(PARAMS / "canary-with-alarms.yaml")
    assert spec.alarms and spec.deployment is not None and spec.deployment.strategy == "canary"
    _, stack = build_stack(spec)
    template = Template.from_stack(stack)
    for name in ("order", "product"):
        config = deployment_of(template, name)
        assert config["Strategy"] == "CANARY"
        assert config["CanaryConfiguration"] == {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 5}
        assert config["BakeTimeInMinutes"] == 10
    customer = deployment_of(template, "customer")
    assert (customer["Strategy"], customer["BakeTimeInMinutes"]) == ("BLUE_GREEN", 5)
    assert "CanaryConfiguration" not in customer
    for name in ("order", "customer", "product"):
        alarms = deployment_of(template, name)["Alarms"]
        assert alarms["Enable"] and alarms["Rollback"]
        assert len(alarms["AlarmNames"]) == 1 + 6 * len(service_named(template, name)["LoadBalancers"])
    assert dependency_cycle(template.to_json()) is None


def spec_with(deployment: dict | None = None, task_deployment: dict | None = None, **fields: Any) -> dict:
    data = load_spec(PARAMS / "sample.yaml").to_params()
    if deployment is not None:
        data["deployment"] = deployment
    if task_deployment is not None:
        data["tasks"][1]["deployment"] = task_deployment
    return {**data, **fields}


def test_spec_task_deployment_overrides_the_stack_default():
    spec = load_spec(spec_with({"strategy": "linear", "linear_step_percent": 25}, {"strategy": "rolling"}))
    _, stack = build_stack(spec)
    template = Template.from_stack(stack)
    strategies = {
        name: deployment_of(template, name).get("Strategy") for name in (t.name for t in spec.tasks)
    }
    assert strategies == {"order": "LINEAR", "customer": None, "product": "LINEAR"}
    assert deployment_of(template, "order")["LinearConfiguration"] == {
        "StepPercent": 25,
        "StepBakeTimeInMinutes": 6,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            spec_with({"strategy": "bluegreen"}),
            "deployment.strategy: Input should be 'rolling', 'blue_green', 'linear' or 'canary', "
            "got 'bluegreen'",
        ),
        (
            spec_with(None, {"strategy": "canary", "canary_percent": 200}),
            "tasks[1].deployment.canary_percent: 200 is not a multiple of 0.1 in 0.1-100 percent",
        ),
        (
            spec_with({"strategy": "canary", "rollback_on_alarms": True}),
            "deployment.rollback_on_alarms: needs alarms (the service's alarms are what ECS watches)",
        ),
        (
            spec_with({"strategy": "canary", "bake_time_minutes": 1000, "canary_bake_time_minutes": 1000}),
            "deployment: bake times add up to 2000 minutes; CloudFormation rejects a canary deployment "
            "beyond 1980 (33 h)",
        ),
        (spec_with({"strategy": "linear", "surge": 1}), "deployment.surge: unknown key"),
    ],
    ids=["strategy", "canary percent", "rollback without alarms", "33 h", "unknown key"],
)
def test_spec_errors_name_the_field(data, message):
    with pytest.raises(ValidationError) as caught:
        load_spec(data)
    assert str(caught.value) == message


def test_spec_wordpress_takes_no_deployment_strategy():
    data = load_spec(PARAMS / "wordpress.yaml").to_params()
    with pytest.raises(ValidationError, match=r"^deployment: is for pattern: dualalb"):
        load_spec({**data, "deployment": {"strategy": "canary"}})


def test_the_designer_chooses_the_stack_strategy_and_drops_the_others_options():
    from dualalb_kit.widgets import SpecDesigner

    designer = SpecDesigner(load_spec(PARAMS / "canary-with-alarms.yaml"), preview_delay=0)
    assert designer.deployment_choice.options == ("rolling", "blue_green", "linear", "canary")
    assert designer.deployment_choice.value == "canary"
    designer.deployment_choice.value = "linear"
    assert designer.spec.deployment.model_dump(exclude_none=True) == {
        "strategy": "linear",
        "bake_time_minutes": 10,
    }
    assert designer.spec.tasks[1].deployment.strategy == "blue_green"  # a task's own is kept

    fresh = SpecDesigner(preview_delay=0)
    assert fresh.deployment_choice.value == "rolling" and "deployment" not in fresh.spec.to_params()
    fresh.deployment_choice.value = "blue_green"
    assert fresh.spec.to_params()["deployment"] == {"strategy": "blue_green"}
