"""DualNlbFargateService and ``load_balancer: nlb``: the template's values, defaults and errors,
the diagram, what reads a deployed NLB stack, and a deploy to the sandbox and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Template
from test_construct import task as construct_task

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit import DualAlbFargateService, ValidationError
from dualalb_kit.build import build_stack
from dualalb_kit.constructs import (
    BaseFargateService,
    DualNlbFargateService,
    FargateTaskProps,
    LoadBalancerAccessibility,
    Route53Options,
    ServiceScalingPolicy,
)
from dualalb_kit.diagram import Diagram, spec_topology, topology
from dualalb_kit.discovery import LoadBalancer, StackResources
from dualalb_kit.spec import load_spec
from dualalb_kit.target import as_target

ROOT = Path(__file__).resolve().parents[1]
NLB_PARAMS = ROOT / "params" / "nlb.yaml"
CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
LB = "AWS::ElasticLoadBalancingV2::LoadBalancer"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"


def make_stack() -> Stack:
    return Stack(App(), "Nlb", env=Environment(account="123456789012", region="us-east-1"))


def task(stack: Stack, name: str, port: int = 8080) -> ecs.FargateTaskDefinition:
    """test_construct's nginx task definition, on these tests' default container port 8080."""
    return construct_task(stack, name, port)


def two_services(stack: Stack, **kwargs) -> DualNlbFargateService:
    """``web`` on external TLS 443 and internal TCP 80; ``api`` on internal TCP 9090."""
    cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    return DualNlbFargateService(
        stack,
        "Service",
        tasks=[
            FargateTaskProps(
                task=task(stack, "web"),
                desired_count=2,
                external=LoadBalancerAccessibility(port=443, cert=cert),
                internal=LoadBalancerAccessibility(port=80),
                scaling_policy=ServiceScalingPolicy(max_capacity=6, target_cpu_utilization=60),
            ),
            FargateTaskProps(
                task=task(stack, "api", 9000),
                internal=LoadBalancerAccessibility(port=9090),
                health_check=elbv2.HealthCheck(path="/health", healthy_http_codes="200"),
            ),
        ],
        **kwargs,
    )


def props_of(template: Template, kind: str) -> dict[str, dict]:
    return {logical_id: r.get("Properties", {}) for logical_id, r in template.find_resources(kind).items()}


@pytest.fixture(scope="module")
def built():
    stack = make_stack()
    construct = two_services(stack)
    return construct, Template.from_stack(stack)


def test_an_internet_facing_and_an_internal_nlb_with_security_groups(built):
    construct, template = built
    balancers = props_of(template, LB)
    assert sorted((b["Type"], b["Scheme"]) for b in balancers.values()) == [
        ("network", "internal"),
        ("network", "internet-facing"),
    ]
    assert all(len(b["SecurityGroups"]) == 1 for b in balancers.values())
    assert construct.external_nlb is not None and construct.internal_nlb is not None
    assert isinstance(construct, BaseFargateService)
    assert set(construct.load_balancers) == {"external", "internal"}
    groups = {
        props["GroupDescription"]: props.get("SecurityGroupIngress", [])
        for props in props_of(template, "AWS::EC2::SecurityGroup").values()
    }
    external = groups["external NLB of Nlb/Service"]
    internal = groups["internal NLB of Nlb/Service"]
    assert [(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in external] == [("0.0.0.0/0", 443, 443)]
    assert sorted((r["CidrIp"], r["FromPort"]) for r in internal) == [
        ("10.0.0.0/16", 80),
        ("10.0.0.0/16", 9090),
    ]


def test_listeners_are_tls_with_a_certificate_else_tcp(built):
    _, template = built
    listeners = sorted(props_of(template, LISTENER).values(), key=lambda p: p["Port"])
    assert [(p["Port"], p["Protocol"]) for p in listeners] == [(80, "TCP"), (443, "TLS"), (9090, "TCP")]
    tls = listeners[1]
    assert tls["Certificates"] == [{"CertificateArn": CERT_ARN}]
    assert tls["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert all("SslPolicy" not in p and "Certificates" not in p for p in (listeners[0], listeners[2]))
    assert all(p["DefaultActions"][0]["Type"] == "forward" for p in listeners)


def test_target_groups_are_tcp_with_a_tcp_or_the_tasks_health_check(built):
    construct, template = built
    groups = props_of(template, TARGET_GROUP)
    by_service = {
        (tags["dualalb:service"], tags["dualalb:alb"]): props
        for props in groups.values()
        if (tags := {t["Key"]: t["Value"] for t in props["Tags"]})
    }
    assert set(by_service) == {("web", "external"), ("web", "internal"), ("api", "internal")}
    assert set(construct.target_groups) == set(by_service)
    for (name, _), props in by_service.items():
        assert (props["Protocol"], props["TargetType"]) == ("TCP", "ip")
        assert props["Port"] == (8080 if name == "web" else 9000)
        assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in props[
            "TargetGroupAttributes"
        ]
    assert by_service[("web", "external")]["HealthCheckProtocol"] == "TCP"
    assert "HealthCheckPath" not in by_service[("web", "external")]
    api = by_service[("api", "internal")]
    assert (api["HealthCheckProtocol"], api["HealthCheckPath"], api["Matcher"]) == (
        "HTTP",
        "/health",
        {"HttpCode": "200"},
    )


def test_services_admit_their_nlbs_on_the_container_port(built):
    _, template = built
    ingress = [
        (r["FromPort"], r["Description"])
        for r in props_of(template, "AWS::EC2::SecurityGroupIngress").values()
        if "NLB" in r["Description"]
    ]
    assert sorted(ingress) == [
        (8080, "from the external NLB"),
        (8080, "from the internal NLB"),
        (9000, "from the internal NLB"),
    ]


def test_scaling_tracks_cpu_only(built):
    _, template = built
    policies = props_of(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    tracked = sorted(
        (
            p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
                "PredefinedMetricType"
            ],
            p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        )
        for p in policies
    )
    assert tracked == [("ECSServiceAverageCPUUtilization", 50), ("ECSServiceAverageCPUUtilization", 60)]
    targets = sorted(
        (t["MinCapacity"], t["MaxCapacity"])
        for t in props_of(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    )
    assert targets == [(1, 6), (1, 10)]


def test_aliases_and_outputs_name_the_nlbs(built):
    _, template = built
    records = props_of(template, "AWS::Route53::RecordSet")
    assert sorted(records) == sorted(
        logical_id
        for logical_id in records
        if "ExternalNlbAlias" in logical_id or "InternalNlbAlias" in logical_id
    )
    assert sorted(r["Name"] for r in records.values()) == ["external.svc.local.", "internal.svc.local."]
    outputs = template.to_json()["Outputs"]
    assert outputs["ExternalEndpointPrivate"]["Value"] == "tls://external.svc.local:443"
    assert outputs["InternalEndpointPrivate"]["Value"] == "tcp://internal.svc.local:80"
    joined = outputs["ExternalEndpoint"]["Value"]["Fn::Join"][1]
    assert joined[0] == "tls://" and joined[-1] == ":443"


def test_defaults_without_aliases_and_one_side():
    stack = make_stack()
    construct = DualNlbFargateService(
        stack,
        "Service",
        tasks=[FargateTaskProps(task=task(stack, "web"), internal=LoadBalancerAccessibility(port=80))],
        route53_ops=Route53Options(enable_load_balancer_alias=False),
    )
    template = Template.from_stack(stack)
    assert construct.external_nlb is None and construct.zone is None
    assert [b["Scheme"] for b in props_of(template, LB).values()] == ["internal"]
    assert set(template.to_json()["Outputs"]) == {"InternalEndpoint"}
    assert props_of(template, "AWS::Route53::HostedZone") == {}
    assert construct.spot_termination_handler is None and construct.monitoring is None


def test_alarms_watch_cpu_and_unhealthy_targets_on_the_nlb_namespace():
    stack = make_stack()
    construct = two_services(stack, alarms=True)
    template = Template.from_stack(stack)
    assert sorted(construct.monitoring.alarms) == [
        ("api", "cpu"),
        ("api", "internal-unhealthy-hosts"),
        ("web", "cpu"),
        ("web", "external-unhealthy-hosts"),
        ("web", "internal-unhealthy-hosts"),
    ]
    alarms = props_of(template, "AWS::CloudWatch::Alarm").values()
    namespaces = sorted({a["Namespace"] for a in alarms})
    assert namespaces == ["AWS/ECS", "AWS/NetworkELB"]
    assert {a["MetricName"] for a in alarms if a["Namespace"] == "AWS/NetworkELB"} == {"UnHealthyHostCount"}
    assert len(props_of(template, "AWS::CloudWatch::Dashboard")) == 1


def test_the_spot_termination_handler_covers_nlb_target_groups():
    stack = make_stack()
    construct = two_services(stack, spot=True, spot_termination_handler=True)
    assert construct.spot_termination_handler is not None
    template = Template.from_stack(stack)
    statements = [
        s
        for policy in props_of(template, "AWS::IAM::Policy").values()
        for s in policy["PolicyDocument"]["Statement"]
        if s["Action"] == "elasticloadbalancing:DeregisterTargets"
    ]
    (statement,) = statements
    assert len(statement["Resource"]) == 3


def nlb_task(stack: Stack, **props) -> FargateTaskProps:
    access = {"internal": LoadBalancerAccessibility(port=80)}
    return FargateTaskProps(task=task(stack, "web"), **{**access, **props})


@pytest.mark.parametrize(
    ("props", "field", "reason"),
    [
        (
            {"scaling_policy": ServiceScalingPolicy(request_per_target=500)},
            "tasks[0].scaling.request_per_target",
            "500: request-count scaling needs an ALB",
        ),
        ({"protocol": elbv2.Protocol.UDP}, "tasks[0].protocol", "'UDP' is not an NLB listener protocol here"),
        ({"protocol": elbv2.Protocol.TLS}, "tasks[0].internal.cert", "protocol TLS needs a certificate"),
        (
            {"protocol_version": elbv2.ApplicationProtocolVersion.HTTP2},
            "tasks[0].protocol_version",
            "is an ALB target-group setting",
        ),
        (
            {
                "internal": LoadBalancerAccessibility(
                    port=80, forward_conditions=[elbv2.ListenerCondition.path_patterns(["/a/*"])]
                )
            },
            "tasks[0].internal.forward_conditions",
            "an NLB listener has no rules",
        ),
    ],
)
def test_what_an_nlb_cannot_do_is_a_validation_error_naming_the_field(props, field, reason):
    stack = make_stack()
    with pytest.raises(ValidationError) as caught:
        DualNlbFargateService(stack, "Service", tasks=[nlb_task(stack, **props)])
    assert caught.value.field == field and caught.value.reason.startswith(reason)
    assert stack.node.try_find_child("Service") is None


def test_the_default_request_per_target_is_accepted_and_unused():
    stack = make_stack()
    DualNlbFargateService(
        stack,
        "Service",
        tasks=[nlb_task(stack, scaling_policy=ServiceScalingPolicy(request_per_target=1000))],
    )
    policies = props_of(Template.from_stack(stack), "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    assert [
        p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]
        for p in policies
    ] == ["ECSServiceAverageCPUUtilization"]


def test_tcp_with_a_certificate_and_two_tasks_on_one_port_are_errors():
    stack = make_stack()
    cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    with pytest.raises(
        ValidationError, match=r"^tasks\[0\]\.external\.cert: a certificate needs protocol TLS"
    ):
        DualNlbFargateService(
            stack,
            "Service",
            tasks=[
                nlb_task(
                    stack,
                    external=LoadBalancerAccessibility(port=443, cert=cert),
                    protocol=elbv2.Protocol.TCP,
                )
            ],
        )
    stack = make_stack()
    with pytest.raises(ValidationError) as caught:
        DualNlbFargateService(
            stack,
            "Shared",
            tasks=[
                nlb_task(stack),
                FargateTaskProps(task=task(stack, "api"), internal=LoadBalancerAccessibility(port=80)),
            ],
        )
    assert str(caught.value) == (
        "tasks[1].internal.port: port 80 of the internal NLB is already used by tasks[0]; "
        "an NLB listener forwards to one task"
    )


def test_the_alb_variant_rejects_an_nlb_protocol():
    stack = make_stack()
    with pytest.raises(ValidationError, match=r"^tasks\[0\]\.protocol: is for DualNlbFargateService"):
        DualAlbFargateService(stack, "Service", tasks=[nlb_task(stack, protocol=elbv2.Protocol.TCP)])


# -- the spec ------------------------------------------------------------------------------------


def nlb_spec(task: dict | None = None, **fields):
    return load_spec(
        {
            "stack_name": "nlb-options",
            "load_balancer": "nlb",
            "tasks": [{"name": "web", "image": "nginx", "internal": {"port": 80}, **(task or {})}],
            **fields,
        }
    )


def test_the_spec_defaults_to_alb_and_round_trips_nlb():
    assert (
        load_spec(
            {"stack_name": "x", "tasks": [{"name": "w", "image": "nginx", "external": {"port": 80}}]}
        ).load_balancer
        == "alb"
    )
    spec = load_spec(NLB_PARAMS)
    assert spec.load_balancer == "nlb" and [t.protocol for t in spec.tasks] == [None, "TCP", None]
    again = load_spec(spec.to_yaml())
    assert again == spec and again.tasks[0].scaling.request_per_target == 1000


@pytest.mark.parametrize(
    ("task", "fields", "message"),
    [
        (
            {"scaling": {"request_per_target": 200}},
            {},
            "tasks[0].scaling.request_per_target: 200: request-count scaling needs an ALB",
        ),
        (
            {"internal": {"port": 80, "forward_conditions": [{"path_pattern": ["/a/*"]}]}},
            {},
            "tasks[0].internal.forward_conditions: an NLB listener has no rules",
        ),
        ({"protocol": "TLS"}, {}, "tasks[0].internal.cert_arn: protocol TLS needs a certificate"),
        ({"protocol": "UDP"}, {}, "tasks[0].protocol: Input should be 'TCP' or 'TLS'"),
        ({"protocol_version": "HTTP2"}, {}, "tasks[0].protocol_version: is an ALB target-group setting"),
        (
            {},
            {"external_alb_idle_timeout_seconds": 120},
            "external_alb_idle_timeout_seconds: is an ALB option",
        ),
        ({}, {"access_logs": True}, "access_logs: is an ALB option; load_balancer: nlb does not take it"),
        ({}, {"load_balancer": "gwlb"}, "load_balancer: Input should be 'alb' or 'nlb'"),
    ],
)
def test_spec_errors_name_the_field(task, fields, message):
    with pytest.raises(ValidationError) as caught:
        nlb_spec(task, **fields)
    assert str(caught.value).startswith(message)


def test_spec_protocol_is_for_nlb_and_wordpress_stays_on_alb():
    with pytest.raises(ValidationError, match=r"^tasks\[0\]\.protocol: is for load_balancer: nlb$"):
        nlb_spec({"protocol": "TCP"}, load_balancer="alb")
    with pytest.raises(ValidationError, match="^load_balancer: the wordpress pattern runs behind an ALB$"):
        load_spec({"stack_name": "wp", "pattern": "wordpress", "load_balancer": "nlb"})


def test_build_stack_makes_nlbs_and_the_same_tasks_on_alb_make_albs():
    spec = nlb_spec({"external": {"port": 443, "cert_arn": CERT_ARN}})
    _, stack = build_stack(spec)
    template = Template.from_stack(stack)
    assert sorted(b["Type"] for b in props_of(template, LB).values()) == ["network", "network"]
    assert sorted((p["Port"], p["Protocol"]) for p in props_of(template, LISTENER).values()) == [
        (80, "TCP"),
        (443, "TLS"),
    ]
    _, alb_stack = build_stack(load_spec({**spec.to_params(), "load_balancer": "alb"}))
    alb_template = Template.from_stack(alb_stack)
    assert sorted(b["Type"] for b in props_of(alb_template, LB).values()) == ["application", "application"]
    assert sorted((p["Port"], p["Protocol"]) for p in props_of(alb_template, LISTENER).values()) == [
        (80, "HTTP"),
        (80, "HTTP"),
        (443, "HTTPS"),
    ]


def test_the_stacks_rolling_deployment_reaches_every_nlb_service():
    data = {
        **load_spec(NLB_PARAMS).to_params(),
        "deployment": {"strategy": "rolling", "bake_time_minutes": 7, "rollback_on_alarms": True},
    }
    _, stack = build_stack(load_spec(data))
    services = Template.from_stack(stack).find_resources("AWS::ECS::Service").values()
    deployments = [service["Properties"]["DeploymentConfiguration"] for service in services]
    assert len(deployments) == 3
    assert [d["BakeTimeInMinutes"] for d in deployments] == [7, 7, 7]
    assert [(d["Alarms"]["Enable"], d["Alarms"]["Rollback"]) for d in deployments] == [(True, True)] * 3
    assert all(len(d["Alarms"]["AlarmNames"]) >= 2 for d in deployments)


# -- reading an NLB stack ------------------------------------------------------------------------


def test_the_diagram_shows_nlbs_as_the_spec_predicts(tmp_path):
    from dualalb_kit.synth import synth

    spec = load_spec(NLB_PARAMS)
    synthesized = topology(synth(spec, tmp_path, nag=False).template)
    assert set(synthesized["load_balancer"]) == {"NLB"}
    assert synthesized[["alb", "port", "protocol", "service"]].values.tolist() == [
        ["external", 443, "TLS", "order"],
        ["internal", 80, "TCP", "order"],
        ["internal", 8080, "TCP", "customer"],
        ["internal", 9090, "TCP", "product"],
    ]
    assert spec_topology(spec).astype(str).values.tolist() == synthesized.astype(str).values.tolist()
    svg = Diagram.from_spec(spec).svg
    assert ">external NLB</tspan>" in svg and ">internal NLB</tspan>" in svg and "ALB" not in svg


def test_discovery_tells_an_nlb_and_the_metrics_refuse_it_clearly():
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/{}/x/0123456789abcdef"
    network, application = (
        LoadBalancer("external", arn.format("net")),
        LoadBalancer("external", arn.format("app")),
    )
    assert (network.kind, network.dimension) == ("network", "net/x/0123456789abcdef")
    assert application.kind == "application"
    StackResources("alb-stack", (application,), (), ()).require_albs("the analysis")
    with pytest.raises(ValidationError) as caught:
        StackResources("nlb-stack", (network,), (), ()).require_albs("the metrics and scaling analysis")
    assert str(caught.value) == (
        "stack_name: 'nlb-stack' is behind Network Load Balancers; the metrics and scaling analysis needs "
        "ALB request metrics (AWS/ApplicationELB), which NLBs do not publish (NLB stacks are not supported)"
    )


@pytest.mark.sandbox
def test_the_nlb_params_file_deploys_is_described_and_destroyed(sandbox, tmp_path):
    import boto3

    from dualalb_kit.deploy import deploy, destroy
    from dualalb_kit.discovery import discover
    from dualalb_kit.metrics import load_metrics
    from dualalb_kit.synth import synth

    spec = load_spec(NLB_PARAMS).model_copy(update={"stack_name": "nlb-round-trip"})
    synthesis = synth(spec, tmp_path / "assembly", target=as_target(endpoint_url=sandbox.endpoint_url))
    deploy(synthesis, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=spec.region
    )
    cloudformation = session.client("cloudformation", endpoint_url=sandbox.endpoint_url)
    elbv2_client = session.client("elbv2", endpoint_url=sandbox.endpoint_url)
    ids = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.describe_stack_resources(StackName=spec.stack_name)["StackResources"]
    }
    template = synthesis.template["Resources"]
    balancer_ids = [lid for lid, body in template.items() if body["Type"] == LB]
    balancers = elbv2_client.describe_load_balancers(LoadBalancerArns=[ids[lid] for lid in balancer_ids])[
        "LoadBalancers"
    ]
    assert sorted((b["Type"], b["Scheme"]) for b in balancers) == [
        ("network", "internal"),
        ("network", "internet-facing"),
    ]
    assert all(
        ":loadbalancer/net/" in b["LoadBalancerArn"] and len(b["SecurityGroups"]) == 1 for b in balancers
    )
    listeners = {
        (lst["Port"], lst["Protocol"]): lst
        for b in balancers
        for lst in elbv2_client.describe_listeners(LoadBalancerArn=b["LoadBalancerArn"])["Listeners"]
    }
    assert sorted(listeners) == [(80, "TCP"), (443, "TLS"), (8080, "TCP"), (9090, "TCP")]
    assert listeners[(443, "TLS")]["Certificates"][0]["CertificateArn"] == spec.tasks[0].external.cert_arn
    assert listeners[(443, "TLS")]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    group_ids = [lid for lid, body in template.items() if body["Type"] == TARGET_GROUP]
    groups = elbv2_client.describe_target_groups(TargetGroupArns=[ids[lid] for lid in group_ids])[
        "TargetGroups"
    ]
    expected = {
        ids[lid]: (
            body["Properties"]["Protocol"],
            body["Properties"]["Port"],
            body["Properties"]["HealthCheckProtocol"],
            body["Properties"].get("HealthCheckPath"),
        )
        for lid, body in template.items()
        if body["Type"] == TARGET_GROUP
    }
    assert {
        g["TargetGroupArn"]: (g["Protocol"], g["Port"], g["HealthCheckProtocol"], g.get("HealthCheckPath"))
        for g in groups
    } == expected
    assert sorted(v[2] for v in expected.values()) == ["HTTP", "HTTP", "TCP", "TCP"]
    resources = discover(spec.stack_name, target=as_target(endpoint_url=sandbox.endpoint_url))
    assert {b.kind for b in resources.load_balancers} == {"network"}
    assert sorted((g.service, g.alb) for g in resources.target_groups) == [
        ("customer", "internal"),
        ("order", "external"),
        ("order", "internal"),
        ("product", "internal"),
    ]
    with pytest.raises(ValidationError, match="is behind Network Load Balancers"):
        load_metrics(
            spec.stack_name,
            "2026-01-01T00:00",
            "2026-01-01T01:00",
            target=as_target(endpoint_url=sandbox.endpoint_url),
        )
    destroy(synthesis, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    remaining = {b["LoadBalancerArn"] for b in elbv2_client.describe_load_balancers()["LoadBalancers"]}
    assert not remaining & {b["LoadBalancerArn"] for b in balancers}
    remaining_groups = {g["TargetGroupArn"] for g in elbv2_client.describe_target_groups()["TargetGroups"]}
    assert not remaining_groups & set(expected)
