"""CloudFormation models that fill moto's gaps; :func:`install` registers them.

Each module covers one AWS service. A model either adds a resource type moto lacks
(Application Auto Scaling, ECS capacity provider associations, security group egress, S3 bucket
policies, Lambda permissions, CloudWatch alarms, RDS clusters, Secrets Manager, ELBv2 listener
certificates) or replaces moto's model for a type whose properties or physical id moto drops
(ECS, ELBv2, IAM roles' managed policies, Route 53 zones, RDS instances and subnet groups, EFS
access points, security group ingress) or that moto cannot update or delete (a VPC's subnets,
route tables, routes, gateways, Elastic IPs and flow logs; log groups). Every model calls moto's
own service backend, so the service APIs describe what CloudFormation created; no state is kept
here. A few modules also mend a moto backend method the sandbox relies on (ECS tasks of a
service, EventBridge rules with Lambda targets), each saying so in its docstring.
"""

from importlib import import_module

SERVICES = (
    "applicationautoscaling",
    "cloudwatch",
    "ec2",
    "ecs",
    "efs",
    "elbv2",
    "events",
    "iam",
    "lambda_",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
)
"""One module per service; defining a module's models adds them to moto's model list."""


def install() -> None:
    """Define every service's models and make moto rebuild its type -> model map (idempotent)."""
    for service in SERVICES:
        import_module(f"{__name__}.{service}")
    from ._base import refresh_model_map

    refresh_model_map()
