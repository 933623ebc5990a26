"""Spec -> CDK app and stack, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_cdk import App, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs

from .constructs import (
    DualAlbFargateService,
    DualNlbFargateService,
    FargateTaskProps,
    LoadBalancerAccessibility,
    LocalCommand,
    Route53Options,
    ScheduledScaling,
    ServiceScalingPolicy,
)
from .constructs.deployment import DeploymentOptions
from .constructs.findings import acknowledge
from .spec import (
    SAMPLE_IMAGE_PREFIX,
    AlbSpec,
    DatabaseOptionsSpec,
    DeploymentSpec,
    DeploymentStrategySpec,
    ForwardConditionSpec,
    TaskSpec,
    WordPressSpec,
)

if TYPE_CHECKING:
    from .constructs.laravel import Laravel
    from .constructs.wordpress import WordPress


def build_stack(
    spec: DeploymentSpec,
    *,
    account: str | None = None,
    context: Mapping[str, Any] | None = None,
    app: App | None = None,
) -> tuple[App, Stack]:
    """The CDK app and stack for ``spec``.

    The stack is bound to ``spec.region`` (the assembly's environment names it).

    :param account: the stack's account (needed by ``vpc: default`` / ``vpc-...`` lookups).
        Default: ``spec.account``; without either, the account is left to deploy time.
    :param context: CDK context values (lookups already answered, feature flags).
    :param app: an app to add the stack to. Default: a new ``App``.
    """
    app = app or App(context=dict(context or {}))
    account = account or spec.account
    env = Environment(account=account, region=spec.region)
    stack = Stack(app, spec.stack_name, env=env, description=f"dualalb-kit: {spec.stack_name}")
    if spec.pattern == "wordpress":
        _wordpress(stack, spec)
        return app, stack
    if spec.pattern == "laravel":
        _laravel(stack, spec)
        return app, stack
    if spec.load_balancer == "nlb":
        DualNlbFargateService(stack, "Service", **_service_options(stack, spec))
        return app, stack
    DualAlbFargateService(
        stack,
        "Service",
        **_service_options(stack, spec),
        access_logs=spec.access_logs,
        external_alb_idle_timeout=_seconds(spec.external_alb_idle_timeout_seconds),
        internal_alb_idle_timeout=_seconds(spec.internal_alb_idle_timeout_seconds),
    )
    return app, stack


def _service_options(stack: Stack, spec: DeploymentSpec) -> dict[str, Any]:
    """The keyword arguments both dual patterns take (:class:`BaseFargateService`'s)."""
    vpc = _vpc(stack, spec)
    return {
        "tasks": [_task_props(stack, spec, task) for task in spec.tasks],
        "vpc": vpc,
        "vpc_subnets": _subnets(stack, spec),
        "spot": spec.spot,
        "enable_execute_command": spec.enable_execute_command,
        "circuit_breaker": spec.circuit_breaker,
        "spot_termination_handler": spec.spot_termination_handler,
        "alarms": spec.alarms,
        "deployment": _deployment(spec.deployment),
        "route53_ops": Route53Options(
            zone_name=spec.route53.zone_name,
            external_alb_record_name=spec.route53.external_record,
            internal_alb_record_name=spec.route53.internal_record,
            enable_load_balancer_alias=spec.route53.alias,
        ),
        "cluster_props": ecs.ClusterProps(cluster_name=spec.cluster_name) if spec.cluster_name else None,
        "cluster": ecs.Cluster.from_cluster_attributes(
            stack, "ExistingCluster", cluster_name=spec.existing_cluster, vpc=vpc
        )
        if spec.existing_cluster
        else None,
    }


def _seconds(seconds: int | None) -> Duration | None:
    return None if seconds is None else Duration.seconds(seconds)


def _deployment(deployment: DeploymentStrategySpec | None) -> DeploymentOptions | None:
    return None if deployment is None else DeploymentOptions.from_rules(deployment.rules())


def _wordpress(stack: Stack, spec: DeploymentSpec) -> WordPress:
    from .constructs.wordpress import WordPress

    return WordPress(
        stack,
        "WordPress",
        service_props=_task_props(stack, spec, spec.tasks[0]) if spec.tasks else None,
        **_app_options(stack, spec, spec.wordpress or WordPressSpec()),
    )


def _laravel(stack: Stack, spec: DeploymentSpec) -> Laravel:
    from .constructs.laravel import Laravel

    options = spec.laravel
    assert options is not None  # the spec requires it for pattern: laravel
    return Laravel(
        stack,
        "Laravel",
        code=options.code_directory,
        loadbalancer=_access(stack, "laravel", "external", options.loadbalancer),
        container_port=options.container_port,
        efs_file_system=options.efs_file_system,
        default_database_name=options.default_database_name,
        **_app_options(stack, spec, options),
    )


def _app_options(stack: Stack, spec: DeploymentSpec, options: DatabaseOptionsSpec) -> dict[str, Any]:
    """The options WordPress and Laravel share (``DatabaseApp``'s), from the spec."""
    return {
        "vpc": _vpc(stack, spec),
        "aurora_serverless": options.aurora_serverless,
        "single_db_instance": options.single_db_instance,
        "database_instance_type": ec2.InstanceType(options.database_instance_type)
        if options.database_instance_type
        else None,
        "backup_retention": Duration.days(options.backup_retention_days),
        "serverless_min_capacity": options.serverless_min_capacity,
        "serverless_max_capacity": options.serverless_max_capacity,
        "spot": spec.spot,
        "spot_termination_handler": spec.spot_termination_handler,
        "enable_execute_command": spec.enable_execute_command,
        "removal_policy": RemovalPolicy[options.removal_policy.upper()] if options.removal_policy else None,
    }


def _vpc(stack: Stack, spec: DeploymentSpec) -> ec2.IVpc | None:
    if spec.vpc == "default":
        return ec2.Vpc.from_lookup(stack, "Vpc", is_default=True)
    if spec.vpc.startswith("vpc-"):
        return ec2.Vpc.from_lookup(stack, "Vpc", vpc_id=spec.vpc)
    return None


def _subnets(stack: Stack, spec: DeploymentSpec) -> ec2.SubnetSelection | None:
    if spec.subnets == "public":
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
    if spec.subnets == "public-one-per-az":
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC, one_per_az=True)
    if isinstance(spec.subnets, list):
        return ec2.SubnetSelection(
            subnets=[
                ec2.Subnet.from_subnet_id(stack, f"Subnet{i}", sid) for i, sid in enumerate(spec.subnets)
            ]
        )
    return None


def _task_props(stack: Stack, spec: DeploymentSpec, task: TaskSpec) -> FargateTaskProps:
    return FargateTaskProps(
        task=_task_definition(stack, spec, task),
        desired_count=task.desired_count,
        external=_access(stack, task.name, "external", task.external),
        internal=_access(stack, task.name, "internal", task.internal),
        scaling_policy=ServiceScalingPolicy(
            max_capacity=task.scaling.max_capacity,
            min_capacity=task.scaling.min_capacity,
            request_per_target=task.scaling.request_per_target,
            target_cpu_utilization=task.scaling.target_cpu_utilization,
            target_memory_utilization=task.scaling.target_memory_utilization,
            scheduled=[
                ScheduledScaling(cron=a.cron, min_capacity=a.min_capacity, max_capacity=a.max_capacity)
                for a in task.scaling.scheduled or ()
            ],
        ),
        capacity_provider_strategy=[
            ecs.CapacityProviderStrategy(capacity_provider=c.provider, base=c.base or None, weight=c.weight)
            for c in task.capacity
        ]
        if task.capacity
        else None,
        health_check=_health_check(task),
        protocol_version=elbv2.ApplicationProtocolVersion[task.protocol_version]
        if task.protocol_version
        else None,
        protocol=elbv2.Protocol[task.protocol] if task.protocol else None,
        health_check_grace_period=_seconds(task.health_check_grace_period_seconds),
        **task.deployment_percents(),
        deployment=_deployment(task.deployment),
        local=LocalCommand(command=task.local.command, cwd=task.local.cwd) if task.local else None,
    )


def _task_definition(stack: Stack, spec: DeploymentSpec, task: TaskSpec) -> ecs.FargateTaskDefinition:
    definition = ecs.FargateTaskDefinition(
        stack,
        f"{task.name}Task",
        cpu=task.cpu,
        memory_limit_mib=task.memory,
        family=f"{spec.stack_name}-{task.name}",
    )
    log_group = logs.LogGroup(stack, f"{task.name}Logs", removal_policy=RemovalPolicy.DESTROY)
    # RetentionDays is an enum of names; the spec holds days, which CloudFormation takes as they are.
    log_group.node.default_child.retention_in_days = spec.log_retention_days  # type: ignore[union-attr]
    definition.add_container(
        task.name,
        image=_image(task.image),
        port_mappings=[ecs.PortMapping(container_port=task.container_port)],
        environment=task.environment or None,
        logging=ecs.LogDrivers.aws_logs(stream_prefix=task.name, log_group=log_group),
    )
    if task.image.startswith(SAMPLE_IMAGE_PREFIX):
        acknowledge(
            definition.obtain_execution_role().node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "pulling an image asset needs ecr:GetAuthorizationToken, which AWS grants only on *",
        )
    if task.environment:
        acknowledge(
            definition,
            "AwsSolutions-ECS2",
            "plain configuration (service URLs); credentials go in as ECS secrets",
        )
    return definition


def _image(image: str) -> ecs.ContainerImage:
    if image.startswith(SAMPLE_IMAGE_PREFIX):
        from .samples.images import sample_image

        return sample_image(image.removeprefix(SAMPLE_IMAGE_PREFIX))
    return ecs.ContainerImage.from_registry(image)


def _access(stack: Stack, name: str, side: str, alb: AlbSpec | None) -> LoadBalancerAccessibility | None:
    """``name``'s listener on ``side``; its certificates' construct ids start with ``name``."""
    if alb is None:
        return None
    certificates = [
        acm.Certificate.from_certificate_arn(stack, f"{name}{side.title()}Cert{i}", arn)
        for i, arn in enumerate(alb.cert_arns)
    ]
    return LoadBalancerAccessibility(
        port=alb.port,
        cert=certificates or None,
        forward_conditions=[_listener_condition(c) for c in alb.forward_conditions]
        if alb.forward_conditions
        else None,
    )


def _listener_condition(condition: ForwardConditionSpec) -> elbv2.ListenerCondition:
    if condition.host_header is not None:
        return elbv2.ListenerCondition.host_headers(condition.host_header)
    return elbv2.ListenerCondition.path_patterns(condition.path_pattern or [])


def _health_check(task: TaskSpec) -> elbv2.HealthCheck | None:
    check = task.health_check
    if check is None:
        return None
    return elbv2.HealthCheck(
        path=check.path,
        healthy_http_codes=check.healthy_http_codes,
        interval=Duration.seconds(check.interval_seconds),
        timeout=Duration.seconds(check.timeout_seconds),
        healthy_threshold_count=check.healthy_threshold,
        unhealthy_threshold_count=check.unhealthy_threshold,
    )
