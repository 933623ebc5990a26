"""The sample application behind the dual ALBs: the kit's counterpart of the original's ``integ.default``.

As a CDK app::

    cdk --app "python -m dualalb_kit.samples.default" deploy [-c use_default_vpc=1] [-c ACM_CERT_ARN=arn:...]

Order is on the external ALB (HTTP 80, or HTTPS 443 plus the port-80 redirect with ``ACM_CERT_ARN``)
and on the internal ALB (80); customer (8080) and product (9090) are internal only. All three run
on FARGATE_SPOT, two tasks each, from the Docker image assets built from ``sample_app/``, in the
VPC's private subnets (public ones, with public IPs, in a VPC without private subnets such as the
default VPC). Order finds the others at ``http://internal.svc.local:8080`` and ``:9090``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..constructs import (
    DualAlbFargateService,
    FargateTaskProps,
    LoadBalancerAccessibility,
    Route53Options,
    ServiceScalingPolicy,
)
from ..constructs.network import resolve_vpc
from ..errors import ValidationError
from . import SAMPLE_CONTAINER_PORT, SAMPLE_HEALTH_CHECK_PATH
from .images import sample_image

STACK_NAME = "dualalb-sample-default"
ROUTE53 = Route53Options(
    zone_name="svc.local", external_alb_record_name="external", internal_alb_record_name="internal"
)
INTERNAL_PORTS = {"order": 80, "customer": 8080, "product": 9090}
"""Each role's listener port on the internal ALB."""

_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
_HEALTH_CHECK = elbv2.HealthCheck(
    path=SAMPLE_HEALTH_CHECK_PATH, healthy_http_codes="200", interval=Duration.seconds(15)
)


def build_app(
    context: Mapping[str, Any] | None = None,
    *,
    account: str | None = None,
    region: str | None = None,
    outdir: str | None = None,
) -> App:
    """A CDK app holding the sample stack (``dualalb-sample-default``).

    :param context: CDK context (``use_default_vpc``, ``use_vpc_id``, ``ACM_CERT_ARN``, lookups);
        the CDK CLI's own context (``CDK_CONTEXT_JSON``) is read as well. Default: none.
    :param account: the stack's account. Default: ``CDK_DEFAULT_ACCOUNT`` (unset: environment-agnostic).
    :param region: the stack's region. Default: ``CDK_DEFAULT_REGION``.
    :param outdir: where ``app.synth()`` writes the assembly. Default: the CLI's, or a temporary one.
    """
    app = App(context=dict(context or {}), outdir=outdir)
    environment = Environment(
        account=account or os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=region or os.environ.get("CDK_DEFAULT_REGION"),
    )
    sample_stack(app, STACK_NAME, env=environment)
    return app


def sample_stack(scope: Construct, stack_id: str = STACK_NAME, *, env: Environment | None = None) -> Stack:
    """The three sample services on one :class:`DualAlbFargateService` (spot, svc.local zone)."""
    stack = Stack(scope, stack_id, env=env, description="dualalb-kit sample: order, customer and product")
    internal_url = f"http://{ROUTE53.internal_alb_record_name}.{ROUTE53.zone_name}"
    order_task = _sample_task(
        stack,
        "order",
        {
            "PRODUCT_SVC_URL": f"{internal_url}:{INTERNAL_PORTS['product']}",
            "CUSTOMER_SVC_URL": f"{internal_url}:{INTERNAL_PORTS['customer']}",
        },
    )
    tasks = [
        FargateTaskProps(
            task=order_task,
            desired_count=2,
            external=_external_listener(stack),
            internal=LoadBalancerAccessibility(port=INTERNAL_PORTS["order"]),
            scaling_policy=ServiceScalingPolicy(
                max_capacity=20, request_per_target=1000, target_cpu_utilization=50
            ),
            health_check=_HEALTH_CHECK,
        ),
        *(
            FargateTaskProps(
                task=_sample_task(stack, role),
                desired_count=2,
                internal=LoadBalancerAccessibility(port=INTERNAL_PORTS[role]),
                health_check=_HEALTH_CHECK,
            )
            for role in ("customer", "product")
        ),
    ]
    vpc = resolve_vpc(stack, None)
    DualAlbFargateService(
        stack, "Service", tasks=tasks, vpc=vpc, vpc_subnets=_task_subnets(vpc), spot=True, route53_ops=ROUTE53
    )
    return stack


def _task_subnets(vpc: ec2.IVpc) -> ec2.SubnetSelection | None:
    """Private subnets (the construct's default) where the VPC has them, else public ones.

    A default VPC has public subnets only; there the tasks get public IPs to pull their images.
    """
    return None if vpc.private_subnets else ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)


def _external_listener(stack: Stack) -> LoadBalancerAccessibility:
    """HTTP 80; HTTPS 443 with the certificate from context ``ACM_CERT_ARN`` when given."""
    cert_arn = stack.node.try_get_context("ACM_CERT_ARN")
    if not cert_arn:
        return LoadBalancerAccessibility(port=80)
    if not _ACM_ARN.match(str(cert_arn)):
        raise ValidationError("ACM_CERT_ARN", f"{cert_arn!r} is not an ACM certificate ARN")
    return LoadBalancerAccessibility(
        port=443, cert=[acm.Certificate.from_certificate_arn(stack, "Cert", cert_arn)]
    )


def _sample_task(
    stack: Stack, role: str, environment: Mapping[str, str] | None = None
) -> ecs.FargateTaskDefinition:
    """A 0.25 vCPU / 512 MiB task running the ``role`` image, logging to CloudWatch for a week."""
    task = ecs.FargateTaskDefinition(stack, f"{role}Task", cpu=256, memory_limit_mib=512)
    task.add_container(
        role,
        image=sample_image(role),
        port_mappings=[ecs.PortMapping(container_port=SAMPLE_CONTAINER_PORT)],
        environment={"serviceName": role, "versionNum": "1.0", **(environment or {})},
        logging=ecs.LogDrivers.aws_logs(stream_prefix=role, log_retention=logs.RetentionDays.ONE_WEEK),
    )
    return task


def main() -> None:
    """Synthesize into the directory the CDK CLI gives (``CDK_OUTDIR``)."""
    build_app().synth()


if __name__ == "__main__":
    main()
