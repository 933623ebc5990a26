"""DualAlbFargateService: every behaviour of the original pattern, checked on the template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Match, Template

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit import (
    DualAlbFargateService,
    FargateTaskProps,
    LoadBalancerAccessibility,
    Route53Options,
    ScheduledScaling,
    ServiceScalingPolicy,
    ValidationError,
)

CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def make_stack(**context) -> Stack:
    return Stack(App(context=context), "Test")


def task(stack: Stack, name: str, port: int = 80) -> ecs.FargateTaskDefinition:
    definition = ecs.FargateTaskDefinition(stack, f"{name}Task")
    definition.add_container(
        name,
        image=ecs.ContainerImage.from_registry("nginx"),
        port_mappings=[ecs.PortMapping(container_port=port)],
    )
    return definition


def seed_sample(stack: Stack, **kwargs) -> DualAlbFargateService:
    """The seed README's 3-service sample."""
    cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    return DualAlbFargateService(
        stack,
        "Service",
        spot=True,
        tasks=[
            FargateTaskProps(
                task=task(stack, "order", 8080),
                desired_count=2,
                internal=LoadBalancerAccessibility(port=443, cert=cert),
                external=LoadBalancerAccessibility(port=80),
                scaling_policy=ServiceScalingPolicy(
                    max_capacity=20, request_per_target=1000, target_cpu_utilization=50
                ),
            ),
            FargateTaskProps(
                task=task(stack, "customer"), desired_count=2, internal=LoadBalancerAccessibility(port=8080)
            ),
            FargateTaskProps(
                task=task(stack, "product"), desired_count=2, internal=LoadBalancerAccessibility(port=9090)
            ),
        ],
        **{"route53_ops": Route53Options(zone_name="svc.local"), **kwargs},
    )


def listeners(template: Template) -> list[dict]:
    return [
        r["Properties"] for r in template.find_resources("AWS::ElasticLoadBalancingV2::Listener").values()
    ]


def services(template: Template) -> list[dict]:
    return [r["Properties"] for r in template.find_resources("AWS::ECS::Service").values()]


def test_seed_sample_builds_both_albs_listeners_and_target_groups():
    stack = make_stack()
    construct = seed_sample(stack)
    template = Template.from_stack(stack)
    albs = template.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert sorted(a["Properties"]["Scheme"] for a in albs.values()) == ["internal", "internet-facing"]
    assert sorted((p["Port"], p["Protocol"]) for p in listeners(template)) == [
        (80, "HTTP"),
        (443, "HTTPS"),
        (8080, "HTTP"),
        (9090, "HTTP"),
    ]
    https = next(p for p in listeners(template) if p["Port"] == 443)
    assert https["Certificates"] == [{"CertificateArn": CERT_ARN}]
    template.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 4)
    assert [s.node.id for s in construct.services] == ["orderService", "customerService", "productService"]
    assert construct.external_alb is not None and construct.internal_alb is not None
    assert construct.zone is not None


def test_target_groups_are_tagged_with_service_and_side():
    stack = make_stack()
    seed_sample(stack)
    tags = sorted(
        tuple(sorted((t["Key"], t["Value"]) for t in g["Properties"]["Tags"]))
        for g in Template.from_stack(stack)
        .find_resources("AWS::ElasticLoadBalancingV2::TargetGroup")
        .values()
    )
    assert tags == [
        (("dualalb:alb", "external"), ("dualalb:service", "order")),
        (("dualalb:alb", "internal"), ("dualalb:service", "customer")),
        (("dualalb:alb", "internal"), ("dualalb:service", "order")),
        (("dualalb:alb", "internal"), ("dualalb:service", "product")),
    ]


def test_only_internal_tasks_create_no_external_alb():
    stack = make_stack()
    construct = DualAlbFargateService(
        stack,
        "Service",
        tasks=[FargateTaskProps(task=task(stack, "a"), internal=LoadBalancerAccessibility(port=80))],
    )
    template = Template.from_stack(stack)
    albs = template.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert [a["Properties"]["Scheme"] for a in albs.values()] == ["internal"]
    assert construct.external_alb is None
    assert set(template.to_json()["Outputs"]) == {"InternalEndpoint", "InternalEndpointPrivate"}
    template.resource_count_is("AWS::Route53::RecordSet", 1)


def test_only_external_tasks_create_no_internal_alb():
    stack = make_stack()
    construct = DualAlbFargateService(
        stack,
        "Service",
        tasks=[FargateTaskProps(task=task(stack, "a"), external=LoadBalancerAccessibility(port=8081))],
    )
    albs = Template.from_stack(stack).find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert [a["Properties"]["Scheme"] for a in albs.values()] == ["internet-facing"]
    assert construct.internal_alb is None


def test_external_https_on_443_adds_a_redirect_from_80():
    stack = make_stack()
    cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    DualAlbFargateService(
        stack,
        "Service",
        tasks=[
            FargateTaskProps(task=task(stack, "a"), external=LoadBalancerAccessibility(port=443, cert=[cert]))
        ],
    )
    redirect = next(p for p in listeners(Template.from_stack(stack)) if p["Port"] == 80)
    assert redirect["DefaultActions"] == [
        {"Type": "redirect", "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}}
    ]
    assert (
        Template.from_stack(stack).to_json()["Outputs"]["ExternalEndpoint"]["Value"]["Fn::Join"][1][0]
        == "https://"
    )


def test_no_redirect_when_a_task_already_uses_external_80():
    stack = make_stack()
    cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    DualAlbFargateService(
        stack,
        "Service",
        tasks=[
            FargateTaskProps(task=task(stack, "a"), external=LoadBalancerAccessibility(port=443, cert=cert)),
            FargateTaskProps(task=task(stack, "b"), external=LoadBalancerAccessibility(port=80)),
        ],
    )
    ports = sorted((p["Port"], p["DefaultActions"][0]["Type"]) for p in listeners(Template.from_stack(stack)))
    assert ports == [(80, "forward"), (443, "forward")]


def test_cluster_has_both_fargate_providers_and_container_insights():
    stack = make_stack()
    seed_sample(stack)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        {"CapacityProviders": ["FARGATE", "FARGATE_SPOT"]},
    )
    template.has_resource_properties(
        "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]}
    )


@pytest.mark.parametrize(
    ("spot", "strategy", "expected"),
    [
        (False, None, [{"CapacityProvider": "FARGATE", "Weight": 1}]),
        (True, None, [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]),
        (
            True,
            [
                ecs.CapacityProviderStrategy(capacity_provider="FARGATE", base=1, weight=1),
                ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=3),
            ],
            [
                {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 1},
                {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
            ],
        ),
    ],
    ids=["default on-demand", "spot", "task override"],
)
def test_capacity_provider_strategy(spot, strategy, expected):
    stack = make_stack()
    DualAlbFargateService(
        stack,
        "Service",
        spot=spot,
        tasks=[
            FargateTaskProps(
                task=task(stack, "a"),
                internal=LoadBalancerAccessibility(port=80),
                capacity_provider_strategy=strategy,
            )
        ],
    )
    (service,) = services(Template.from_stack(stack))
    assert service["CapacityProviderStrategy"] == expected
    assert "LaunchType" not in service


def test_exec_circuit_breaker_and_zero_downtime_deployments():
    stack = make_stack()
    seed_sample(stack, enable_execute_command=True)
    for service in services(Template.from_stack(stack)):
        assert service["EnableExecuteCommand"] is True
        deployment = service["DeploymentConfiguration"]
        assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
        assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == (100, 200)
    stack = make_stack()
    seed_sample(stack, circuit_breaker=False)
    for service in services(Template.from_stack(stack)):
        assert "DeploymentCircuitBreaker" not in service["DeploymentConfiguration"]
        assert service["EnableExecuteCommand"] is False


def test_default_subnets_are_private_without_public_ip():
    stack = make_stack()
    seed_sample(stack)
    template = Template.from_stack(stack)
    private = {k for k, v in template.find_resources("AWS::EC2::Subnet").items() if "Private" in k}
    for service in services(template):
        network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        assert {s["Ref"] for s in network["Subnets"]} <= private


@pytest.mark.parametrize("one_per_az", [False, True])
def test_public_subnets_assign_public_ips(one_per_az):
    stack = make_stack()
    seed_sample(
        stack, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC, one_per_az=one_per_az)
    )
    template = Template.from_stack(stack)
    public = {k for k in template.find_resources("AWS::EC2::Subnet") if "Public" in k}
    for service in services(template):
        network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "ENABLED"
        assert {s["Ref"] for s in network["Subnets"]} <= public


def imported_vpc(stack: Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Imported",
        vpc_id="vpc-1",
        vpc_cidr_block="10.1.0.0/16",
        availability_zones=["us-east-1a", "us-east-1b"],
        public_subnet_ids=["subnet-pub1", "subnet-pub2"],
        private_subnet_ids=["subnet-prv1", "subnet-prv2"],
        isolated_subnet_ids=["subnet-iso1", "subnet-iso2"],
    )


def test_specific_subnets_by_id():
    stack = make_stack()
    vpc = imported_vpc(stack)
    chosen = [
        ec2.Subnet.from_subnet_id(stack, f"S{i}", sid) for i, sid in enumerate(["subnet-pub1", "subnet-pub2"])
    ]
    seed_sample(stack, vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnets=chosen))
    for service in services(Template.from_stack(stack)):
        network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["Subnets"] == ["subnet-pub1", "subnet-pub2"]
        assert network["AssignPublicIp"] == "ENABLED"


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (
            lambda s: ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            "vpc_subnets: isolated subnets have no route to pull images; use private or public",
        ),
        (
            lambda s: ec2.SubnetSelection(
                subnets=[
                    ec2.Subnet.from_subnet_id(s, "A", "subnet-pub1"),
                    ec2.Subnet.from_subnet_id(s, "B", "subnet-prv1"),
                ]
            ),
            "vpc_subnets.subnets: mixes public and private subnets; choose one kind",
        ),
        (
            lambda s: ec2.SubnetSelection(subnets=[ec2.Subnet.from_subnet_id(s, "A", "subnet-elsewhere")]),
            "vpc_subnets.subnets: subnet-elsewhere is not a subnet of vpc-1",
        ),
        (
            lambda s: ec2.SubnetSelection(subnets=[ec2.Subnet.from_subnet_id(s, "A", "subnet-iso1")]),
            "vpc_subnets.subnets: subnet-iso1 is an isolated subnet",
        ),
    ],
    ids=["isolated type", "mixed", "not in vpc", "isolated id"],
)
def test_subnet_errors(selection, message):
    stack = make_stack()
    with pytest.raises(ValidationError) as caught:
        seed_sample(stack, vpc=imported_vpc(stack), vpc_subnets=selection(stack))
    assert str(caught.value) == message


def test_new_vpc_has_one_nat_gateway_and_flow_logs():
    stack = Stack(App(), "Test", env=Environment(account="123456789012", region="us-east-1"))
    seed_sample(stack)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::FlowLog", 1)
    assert len(template.find_resources("AWS::EC2::Subnet")) <= 6  # public + private in at most 3 AZs


@pytest.mark.parametrize(
    ("context", "env", "expected_filter"),
    [
        ({"use_default_vpc": "1"}, {}, {"isDefault": "true"}),
        ({}, {"CDK_USE_DEFAULT_VPC": "1"}, {"isDefault": "true"}),
        ({"use_vpc_id": "vpc-0abc"}, {}, {"vpc-id": "vpc-0abc"}),
    ],
    ids=["context default", "env default", "context vpc id"],
)
def test_vpc_lookup_from_context(monkeypatch, context, env, expected_filter):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = App(context=context)
    stack = Stack(app, "Test", env=Environment(account="123456789012", region="us-east-1"))
    seed_sample(stack)
    manifest = json.loads((Path(app.synth().directory) / "manifest.json").read_text())
    assert [m["provider"] for m in manifest["missing"]] == ["vpc-provider"]
    assert manifest["missing"][0]["props"]["filter"] == expected_filter


def test_autoscaling_policies_per_service():
    stack = make_stack()
    seed_sample(stack)
    template = Template.from_stack(stack)
    targets = sorted(
        (t["Properties"]["MinCapacity"], t["Properties"]["MaxCapacity"])
        for t in template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").values()
    )
    assert targets == [(1, 10), (1, 10), (1, 20)]
    policies = [
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        for p in template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    ]
    kinds = sorted(
        (c["PredefinedMetricSpecification"]["PredefinedMetricType"], c["TargetValue"]) for c in policies
    )
    # CPU on each of 3 services; requests per target on each of 4 target groups (order has two).
    assert kinds == [("ALBRequestCountPerTarget", 1000)] * 4 + [("ECSServiceAverageCPUUtilization", 50)] * 3


def test_private_zone_with_both_aliases_and_outputs():
    stack = make_stack()
    seed_sample(stack)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Route53::HostedZone", {"Name": "svc.local.", "VPCs": Match.any_value()}
    )
    names = sorted(
        r["Properties"]["Name"] for r in template.find_resources("AWS::Route53::RecordSet").values()
    )
    assert names == ["external.svc.local.", "internal.svc.local."]
    outputs = template.to_json()["Outputs"]
    assert outputs["InternalEndpointPrivate"]["Value"] == "https://internal.svc.local"
    assert outputs["ExternalEndpointPrivate"]["Value"] == "http://external.svc.local"
    assert set(outputs) == {
        "ExternalEndpoint",
        "InternalEndpoint",
        "ExternalEndpointPrivate",
        "InternalEndpointPrivate",
    }


def test_alias_off_leaves_the_zone_out_but_keeps_endpoints():
    stack = make_stack()
    cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    construct = DualAlbFargateService(
        stack,
        "Service",
        tasks=[
            FargateTaskProps(task=task(stack, "a"), external=LoadBalancerAccessibility(port=443, cert=cert)),
            FargateTaskProps(task=task(stack, "b"), internal=LoadBalancerAccessibility(port=80)),
        ],
        route53_ops=Route53Options(enable_load_balancer_alias=False),
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Route53::HostedZone", 0)
    template.resource_count_is("AWS::Route53::RecordSet", 0)
    assert construct.zone is None
    assert set(template.to_json()["Outputs"]) == {"ExternalEndpoint", "InternalEndpoint"}


def test_least_privilege_security_groups():
    stack = make_stack()
    seed_sample(stack)
    template = Template.from_stack(stack).to_json()
    groups = {
        k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == "AWS::EC2::SecurityGroup"
    }
    (external_id,) = (k for k in groups if k.startswith("ServiceExternalAlbSecurityGroup"))
    (internal_id,) = (k for k in groups if k.startswith("ServiceInternalAlbSecurityGroup"))
    external, internal = groups[external_id], groups[internal_id]
    assert [(r["CidrIp"], r["FromPort"]) for r in external["SecurityGroupIngress"]] == [("0.0.0.0/0", 80)]
    assert sorted((r["CidrIp"], r["FromPort"]) for r in internal["SecurityGroupIngress"]) == [
        ("10.0.0.0/16", 443),
        ("10.0.0.0/16", 8080),
        ("10.0.0.0/16", 9090),
    ]
    # Services accept traffic only from their own ALBs' security groups, on the container port.
    service_group = {
        name: next(k for k in groups if k.startswith(f"Service{name}ServiceSecurityGroup"))
        for name in ("order", "customer", "product")
    }
    service_ingress = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
    ]
    assert sorted(
        (
            r["GroupId"]["Fn::GetAtt"][0],
            r["SourceSecurityGroupId"]["Fn::GetAtt"][0],
            r["IpProtocol"],
            r["FromPort"],
            r["ToPort"],
            "CidrIp" in r,
        )
        for r in service_ingress
    ) == sorted(
        [
            (service_group["order"], external_id, "tcp", 8080, 8080, False),
            (service_group["order"], internal_id, "tcp", 8080, 8080, False),
            (service_group["customer"], internal_id, "tcp", 80, 80, False),
            (service_group["product"], internal_id, "tcp", 80, 80, False),
        ]
    )
    service_groups = [p for k, p in groups.items() if "Alb" not in k]
    assert all("SecurityGroupIngress" not in p for p in service_groups)


def service_with(stack: Stack, **props) -> None:
    props.setdefault("internal", LoadBalancerAccessibility(port=80))
    DualAlbFargateService(stack, "Service", tasks=[FargateTaskProps(task=task(stack, "a"), **props)])


CONSTRUCT_ERRORS = [
    (
        "port",
        {"internal": LoadBalancerAccessibility(port=0)},
        "tasks[0].internal.port: 0 is not a port (1-65535)",
    ),
    ("negative desired", {"desired_count": -1}, "tasks[0].desired_count: -1 is negative"),
    (
        "desired above max",
        {"desired_count": 5, "scaling_policy": ServiceScalingPolicy(max_capacity=4)},
        "tasks[0].desired_count: 5 is above scaling.max_capacity 4",
    ),
    (
        "cpu target",
        {"scaling_policy": ServiceScalingPolicy(target_cpu_utilization=101)},
        "tasks[0].scaling.target_cpu_utilization: 101 is outside (0, 100]",
    ),
    (
        "requests per target",
        {"scaling_policy": ServiceScalingPolicy(request_per_target=-5)},
        "tasks[0].scaling.request_per_target: -5 must be above 0",
    ),
    (
        "unknown provider",
        {"capacity_provider_strategy": [ecs.CapacityProviderStrategy(capacity_provider="EC2", weight=1)]},
        "tasks[0].capacity_provider_strategy[0].provider: "
        "'EC2' is not a capacity provider (FARGATE, FARGATE_SPOT)",
    ),
    (
        "all weights zero",
        {"capacity_provider_strategy": [ecs.CapacityProviderStrategy(capacity_provider="FARGATE", base=2)]},
        "tasks[0].capacity_provider_strategy: "
        "all weights are zero; at least one provider needs a weight above 0",
    ),
    ("no listener", {"internal": None}, "tasks[0]: needs external, internal or both"),
]


@pytest.mark.parametrize(
    ("props", "message"), [c[1:] for c in CONSTRUCT_ERRORS], ids=[c[0] for c in CONSTRUCT_ERRORS]
)
def test_construct_rejects_bad_props_before_building(props, message):
    stack = make_stack()
    with pytest.raises(ValidationError) as caught:
        service_with(stack, **props)
    assert str(caught.value) == message
    assert stack.node.try_find_child("Service") is None


def test_construct_rejects_two_tasks_on_one_port_and_bad_names():
    stack = make_stack()
    with pytest.raises(ValidationError, match=r"^tasks\[1\]\.external\.port: port 80 of the external ALB"):
        DualAlbFargateService(
            stack,
            "Service",
            tasks=[
                FargateTaskProps(task=task(stack, "a"), external=LoadBalancerAccessibility(port=80)),
                FargateTaskProps(task=task(stack, "b"), external=LoadBalancerAccessibility(port=80)),
            ],
        )
    with pytest.raises(ValidationError, match=r"^route53_ops\.zone_name: 'not a zone' is not a DNS name$"):
        seed_sample(make_stack(), route53_ops=Route53Options(zone_name="not a zone"))
    with pytest.raises(ValidationError, match=r"^tasks: at least one task is required$"):
        DualAlbFargateService(make_stack(), "Service", tasks=[])


# -- the original's later props: deployment bounds, grace period, cluster, idle timeouts ---------


def test_deployment_percents_and_grace_period_per_task():
    stack = make_stack()
    DualAlbFargateService(
        stack,
        "Service",
        tasks=[
            FargateTaskProps(
                task=task(stack, "a"),
                internal=LoadBalancerAccessibility(port=80),
                health_check_grace_period=Duration.seconds(120),
                min_healthy_percent=50,
                max_healthy_percent=150,
            ),
            FargateTaskProps(task=task(stack, "b"), internal=LoadBalancerAccessibility(port=81)),
        ],
    )
    tuned, default = services(Template.from_stack(stack))
    assert tuned["HealthCheckGracePeriodSeconds"] == 120
    assert tuned["DeploymentConfiguration"]["MinimumHealthyPercent"] == 50
    assert tuned["DeploymentConfiguration"]["MaximumPercent"] == 150
    assert default["HealthCheckGracePeriodSeconds"] == 60
    assert default["DeploymentConfiguration"]["MinimumHealthyPercent"] == 100
    assert default["DeploymentConfiguration"]["MaximumPercent"] == 200


def test_alb_idle_timeouts_are_set_per_side_and_absent_by_default():
    def idle_timeouts(**kwargs) -> dict[str, list]:
        stack = make_stack()
        seed_sample(stack, **kwargs)
        albs = Template.from_stack(stack).find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
        return {
            a["Properties"]["Scheme"]: [
                x
                for x in a["Properties"]["LoadBalancerAttributes"]
                if x["Key"] == "idle_timeout.timeout_seconds"
            ]
            for a in albs.values()
        }

    assert idle_timeouts() == {"internet-facing": [], "internal": []}
    assert idle_timeouts(
        external_alb_idle_timeout=Duration.seconds(300), internal_alb_idle_timeout=Duration.minutes(2)
    ) == {
        "internet-facing": [{"Key": "idle_timeout.timeout_seconds", "Value": "300"}],
        "internal": [{"Key": "idle_timeout.timeout_seconds", "Value": "120"}],
    }


def test_cluster_props_name_the_new_cluster_and_keep_both_providers():
    stack = make_stack()
    seed_sample(stack, cluster_props=ecs.ClusterProps(cluster_name="shop"))
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterName": "shop", "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
    )
    template.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations", {"CapacityProviders": ["FARGATE", "FARGATE_SPOT"]}
    )


def test_existing_cluster_is_used_and_its_vpc_hosts_the_albs():
    stack = make_stack()
    vpc = imported_vpc(stack)
    cluster = ecs.Cluster.from_cluster_attributes(stack, "Existing", cluster_name="shared", vpc=vpc)
    construct = seed_sample(stack, cluster=cluster)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ECS::Cluster", 0)
    assert {s["Cluster"] for s in services(template)} == {"shared"}
    assert construct.vpc.vpc_id == vpc.vpc_id == "vpc-1"
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    assert {g["Properties"]["VpcId"] for g in groups.values()} == {"vpc-1"}


OPTION_ERRORS = [
    (
        "min healthy",
        {"min_healthy_percent": 101},
        "tasks[0].min_healthy_percent: 101 is outside 0-100",
    ),
    (
        "max healthy",
        {"max_healthy_percent": 2001},
        "tasks[0].max_healthy_percent: 2001 is outside 100-2000",
    ),
    (
        "max not above min",
        {"min_healthy_percent": 100, "max_healthy_percent": 100},
        "tasks[0].max_healthy_percent: 100 must be above min_healthy_percent 100 "
        "or a deployment cannot start a new task",
    ),
]


@pytest.mark.parametrize(
    ("props", "message"), [c[1:] for c in OPTION_ERRORS], ids=[c[0] for c in OPTION_ERRORS]
)
def test_deployment_percent_errors(props, message):
    stack = make_stack()
    with pytest.raises(ValidationError) as caught:
        service_with(stack, **props)
    assert str(caught.value) == message


def test_idle_timeout_and_cluster_errors_name_the_prop():
    with pytest.raises(ValidationError) as caught:
        seed_sample(make_stack(), internal_alb_idle_timeout=Duration.seconds(4001))
    assert str(caught.value) == "internal_alb_idle_timeout: 4001 s is outside 1-4000 s"
    stack = make_stack()
    cluster = ecs.Cluster.from_cluster_attributes(
        stack, "Existing", cluster_name="shared", vpc=imported_vpc(stack)
    )
    with pytest.raises(ValidationError) as caught:
        seed_sample(stack, cluster=cluster, cluster_props=ecs.ClusterProps(cluster_name="x"))
    assert str(caught.value) == "cluster_props: cannot be combined with an existing cluster"
    assert stack.node.try_find_child("Service") is None


# -- shared listener ports: forward conditions ----------------------------------------------------


def host(*names: str) -> elbv2.ListenerCondition:
    return elbv2.ListenerCondition.host_headers(list(names))


def shared_port_stack(*accesses: tuple[str, LoadBalancerAccessibility]) -> Template:
    stack = make_stack()
    DualAlbFargateService(
        stack,
        "Service",
        tasks=[FargateTaskProps(task=task(stack, name), external=access) for name, access in accesses],
    )
    return Template.from_stack(stack)


def rules(template: Template) -> dict[str, tuple[int, list]]:
    """Each listener rule by its target group's task: priority and conditions."""
    found = {}
    for rule in template.find_resources("AWS::ElasticLoadBalancingV2::ListenerRule").values():
        props = rule["Properties"]
        group = props["Actions"][0]["TargetGroupArn"]["Ref"]
        task_name = next(n for n in ("shop", "blog", "api", "web") if f"Listener443{n}Target" in group)
        found[task_name] = (props["Priority"], props["Conditions"])
    return found


def test_tasks_share_an_https_port_by_host_name():
    stack = make_stack()
    shop_cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    blog_cert = acm.Certificate.from_certificate_arn(stack, "BlogCert", CERT_ARN + "-blog")
    DualAlbFargateService(
        stack,
        "Service",
        tasks=[
            FargateTaskProps(
                task=task(stack, "shop"),
                external=LoadBalancerAccessibility(
                    port=443, cert=shop_cert, forward_conditions=[host("shop.example.com")]
                ),
            ),
            FargateTaskProps(
                task=task(stack, "blog"),
                external=LoadBalancerAccessibility(
                    port=443, cert=blog_cert, forward_conditions=[host("blog.example.com")]
                ),
            ),
        ],
    )
    template = Template.from_stack(stack)
    https = next(p for p in listeners(template) if p["Port"] == 443)
    assert https["Certificates"] == [{"CertificateArn": CERT_ARN}]
    assert https["DefaultActions"] == [
        {
            "Type": "fixed-response",
            "FixedResponseConfig": {
                "StatusCode": "404",
                "ContentType": "text/plain",
                "MessageBody": "no service matches this request",
            },
        }
    ]
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::ListenerCertificate",
        {"Certificates": [{"CertificateArn": CERT_ARN + "-blog"}]},
    )
    assert rules(template) == {
        "shop": (47587, [{"Field": "host-header", "HostHeaderConfig": {"Values": ["shop.example.com"]}}]),
        "blog": (22532, [{"Field": "host-header", "HostHeaderConfig": {"Values": ["blog.example.com"]}}]),
    }
    # One listener on 443 plus the redirect from 80; each task scales on its own target group.
    assert sorted(p["Port"] for p in listeners(template)) == [80, 443]
    template.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 2)
    request_policies = [
        p
        for p in template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if "RequestScaling" in json.dumps(p)
    ]
    assert len(request_policies) == 2


def test_one_task_is_the_default_and_a_path_rule_takes_the_rest():
    template = shared_port_stack(
        ("web", LoadBalancerAccessibility(port=80)),
        (
            "api",
            LoadBalancerAccessibility(
                port=80, forward_conditions=[elbv2.ListenerCondition.path_patterns(["/api/*"])]
            ),
        ),
    )
    (listener,) = listeners(template)
    assert listener["DefaultActions"][0]["Type"] == "forward"
    assert "webTarget" in listener["DefaultActions"][0]["TargetGroupArn"]["Ref"]
    ((priority, conditions),) = [v for k, v in rules_any(template).items()]
    assert conditions == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}]
    assert priority == 41360


def rules_any(template: Template) -> dict[str, tuple[int, list]]:
    return {
        key: (r["Properties"]["Priority"], r["Properties"]["Conditions"])
        for key, r in template.find_resources("AWS::ElasticLoadBalancingV2::ListenerRule").items()
    }


def test_rule_priorities_stay_when_a_task_is_added():
    def priorities(names: list[str]) -> dict[str, int]:
        template = shared_port_stack(
            *(
                (name, LoadBalancerAccessibility(port=80, forward_conditions=[host(f"{name}.example.com")]))
                for name in names
            )
        )
        return {
            r[1][0]["HostHeaderConfig"]["Values"][0].split(".")[0]: r[0] for r in rules_any(template).values()
        }

    two = priorities(["shop", "blog"])
    three = priorities(["api", "shop", "blog"])
    assert two == {"shop": 47587, "blog": 22532}
    assert three == {**two, "api": 41360}


def path(*patterns: str) -> elbv2.ListenerCondition:
    return elbv2.ListenerCondition.path_patterns(list(patterns))


SHARED_PORT_ERRORS = [
    (
        "two defaults",
        [LoadBalancerAccessibility(port=80), LoadBalancerAccessibility(port=80)],
        "tasks[1].external.port: port 80 of the external ALB is already used by tasks[0]; "
        "tasks sharing a port need forward_conditions (all but one)",
    ),
    (
        "overlapping hosts",
        [
            LoadBalancerAccessibility(port=80, forward_conditions=[host("*.example.com")]),
            LoadBalancerAccessibility(port=80, forward_conditions=[host("Shop.example.com")]),
        ],
        "tasks[1].external.forward_conditions: host-header Shop.example.com overlaps tasks[0]'s "
        "host-header *.example.com on port 80 of the external ALB; one request would match both",
    ),
    (
        "host and path may match one request",
        [
            LoadBalancerAccessibility(port=80, forward_conditions=[host("shop.example.com")]),
            LoadBalancerAccessibility(port=80, forward_conditions=[path("/api/*")]),
        ],
        "tasks[1].external.forward_conditions: path-pattern /api/* overlaps tasks[0]'s "
        "host-header shop.example.com on port 80 of the external ALB; one request would match both",
    ),
    (
        "http and https",
        [
            LoadBalancerAccessibility(port=443, forward_conditions=[host("a.example.com")]),
            "https",
        ],
        "tasks[1].external: port 443 of the external ALB is shared with tasks[0]; "
        "give both certificates or neither",
    ),
    (
        "not a host or path",
        [
            LoadBalancerAccessibility(
                port=80, forward_conditions=[elbv2.ListenerCondition.http_request_methods(["GET"])]
            )
        ],
        "tasks[0].external.forward_conditions[0]: 'http-request-method' conditions cannot tell tasks "
        "apart; use host-header or path-pattern",
    ),
    (
        "too many values",
        [
            LoadBalancerAccessibility(
                port=80,
                forward_conditions=[
                    host("a.example.com", "b.example.com", "c.example.com"),
                    path("/1", "/2", "/3"),
                ],
            )
        ],
        "tasks[0].external.forward_conditions: 6 values; a listener rule takes at most 5",
    ),
]


@pytest.mark.parametrize(
    ("accesses", "message"), [c[1:] for c in SHARED_PORT_ERRORS], ids=[c[0] for c in SHARED_PORT_ERRORS]
)
def test_shared_port_errors_name_both_tasks(accesses, message):
    stack = make_stack()
    if "https" in accesses:
        cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
        accesses = [
            accesses[0],
            LoadBalancerAccessibility(port=443, cert=cert, forward_conditions=[host("b.example.com")]),
        ]
    with pytest.raises(ValidationError) as caught:
        DualAlbFargateService(
            stack,
            "Service",
            tasks=[
                FargateTaskProps(task=task(stack, f"t{i}"), external=access)
                for i, access in enumerate(accesses)
            ],
        )
    assert str(caught.value) == message
    assert stack.node.try_find_child("Service") is None


def test_memory_tracking_and_scheduled_scaling():
    stack = make_stack()
    service_with(
        stack,
        scaling_policy=ServiceScalingPolicy(
            target_memory_utilization=65,
            scheduled=[ScheduledScaling(cron="30 6 ? * * *", min_capacity=3)],
        ),
    )
    template = Template.from_stack(stack)
    (target,) = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert target["Properties"]["ScheduledActions"] == [
        {
            "ScalableTargetAction": {"MinCapacity": 3},
            "Schedule": "cron(30 6 ? * * *)",
            "ScheduledActionName": "Scheduled0",
        }
    ]
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageMemoryUtilization"
                },
                "TargetValue": 65,
            }
        },
    )
    with pytest.raises(ValidationError) as caught:
        service_with(
            make_stack(),
            scaling_policy=ServiceScalingPolicy(scheduled=[ScheduledScaling(cron="bad", max_capacity=2)]),
        )
    assert str(caught.value).startswith("tasks[0].scaling.scheduled[0].cron: 'bad' is not six cron fields")


# -- alarms and dashboard ----------------------------------------------------------------------


def alarms_of(template: Template) -> dict[str, dict]:
    return {
        r["Properties"]["AlarmDescription"]: r["Properties"]
        for r in template.find_resources("AWS::CloudWatch::Alarm").values()
    }


def test_no_alarms_or_dashboard_by_default():
    stack = make_stack()
    construct = seed_sample(stack)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    assert construct.monitoring is None


def test_alarms_per_service_and_target_group_and_one_dashboard():
    stack = make_stack()
    construct = seed_sample(stack, alarms=True)
    template = Template.from_stack(stack)
    alarms = alarms_of(template)
    # order: CPU + 3 per target group (external, internal); customer and product: CPU + 3.
    assert len(alarms) == 7 + 4 + 4
    assert sorted(kind for name, kind in construct.monitoring.alarms if name == "order") == [
        "cpu",
        "external-5xx-rate",
        "external-p99-latency",
        "external-unhealthy-hosts",
        "internal-5xx-rate",
        "internal-p99-latency",
        "internal-unhealthy-hosts",
    ]
    cpu = alarms["order cpu: average CPU percent beyond 90 for 3 minutes"]
    assert (
        cpu["MetricName"],
        cpu["Namespace"],
        cpu["Threshold"],
        cpu["EvaluationPeriods"],
        cpu["Period"],
    ) == (
        "CPUUtilization",
        "AWS/ECS",
        90,
        3,
        60,
    )
    rate = alarms_of(template)["customer internal-5xx-rate: target 5xx percent beyond 5 for 3 minutes"]
    assert rate["Metrics"][0]["Expression"] == "100 * errors / requests"
    assert sorted(
        (m["Id"], m["MetricStat"]["Metric"]["MetricName"], m["MetricStat"]["Stat"])
        for m in rate["Metrics"][1:]
    ) == [("errors", "HTTPCode_Target_5XX_Count", "Sum"), ("requests", "RequestCount", "Sum")]
    latency = alarms["product internal-p99-latency: p99 target response time, seconds beyond 2 for 3 minutes"]
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Threshold"]) == (
        "TargetResponseTime",
        "p99",
        2,
    )
    unhealthy = alarms["product internal-unhealthy-hosts: unhealthy targets beyond 1 for 3 minutes"]
    assert (unhealthy["MetricName"], unhealthy["ComparisonOperator"]) == (
        "UnHealthyHostCount",
        "GreaterThanOrEqualToThreshold",
    )
    assert all(a["TreatMissingData"] == "notBreaching" and "AlarmActions" not in a for a in alarms.values())
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    body = json.dumps(next(iter(template.find_resources("AWS::CloudWatch::Dashboard").values())))
    assert all(
        title in body for title in ("order: p99 latency (s)", "customer: CPU and memory (%)", "Alarms")
    )


def test_alarm_thresholds_of_your_own():
    from dualalb_kit.constructs.monitoring import AlarmThresholds

    stack = make_stack()
    seed_sample(stack, alarms=AlarmThresholds(cpu_percent=75, evaluation_periods=5))
    cpu = alarms_of(Template.from_stack(stack))["order cpu: average CPU percent beyond 75 for 5 minutes"]
    assert (cpu["Threshold"], cpu["EvaluationPeriods"]) == (75, 5)


# -- access logs ------------------------------------------------------------------------------------


def test_access_logs_go_to_an_encrypted_expiring_bucket_per_side_prefix():
    stack = Stack(App(), "Test", env=Environment(region="eu-west-1"))
    construct = seed_sample(stack, access_logs=True, access_log_retention_days=30)
    template = Template.from_stack(stack)
    (bucket,) = template.find_resources("AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert props["LifecycleConfiguration"] == {"Rules": [{"ExpirationInDays": 30, "Status": "Enabled"}]}
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert bucket["DeletionPolicy"] == "Retain"
    prefixes = {}
    for alb in template.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer").values():
        attributes = {a["Key"]: a["Value"] for a in alb["Properties"]["LoadBalancerAttributes"]}
        assert attributes["access_logs.s3.enabled"] == "true"
        prefixes[alb["Properties"]["Scheme"]] = attributes["access_logs.s3.prefix"]
    assert prefixes == {"internet-facing": "external", "internal": "internal"}
    (policy,) = template.find_resources("AWS::S3::BucketPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # eu-west-1's ELB log-delivery account writes under each prefix.
    assert "arn:" in json.dumps(statements[1]) and ":iam::156460612806:root" in json.dumps(statements[1])
    assert construct.access_log_bucket is not None


def test_access_logs_off_by_default_and_need_a_region():
    stack = make_stack()
    assert seed_sample(stack).access_log_bucket is None
    Template.from_stack(stack).resource_count_is("AWS::S3::Bucket", 0)
    with pytest.raises(ValidationError) as caught:
        seed_sample(make_stack(), access_logs=True)
    assert str(caught.value) == (
        "access_logs: needs the stack's region (Stack(env=Environment(region=...))): "
        "ELB delivers the logs from an account of that region"
    )
