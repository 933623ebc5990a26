"""Dask workers as Fargate tasks (``dask_cloudprovider.aws.FargateCluster``) with the kit's defaults.

:func:`fargate_cluster_options` prepares the network and returns ``FargateCluster`` keyword
arguments; :func:`fargate_client` starts the cluster, yields a client and tears it all down:

* tasks in the VPC's private subnets (a subnet whose route table has no internet gateway
  route), with private IPs only;
* a security group of the kit's own that admits the scheduler's port and dashboard (8786-8787)
  from the VPC's CIDR and ``caller_cidr`` only, and every port between the cluster's tasks
  (dask-cloudprovider's default group admits 0.0.0.0/0);
* TLS between client, scheduler and workers with a throwaway CA made for this cluster
  (``distributed.security.Security.temporary``), handed to the tasks in their environment;
* Fargate Spot workers when ``spot=True`` (the scheduler stays on-demand);
* ``idle_timeout``: the scheduler task exits when no client has been connected that long, and
  the workers follow it, so a forgotten cluster stops costing money.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..cost import load_pricing
from ..errors import ValidationError
from ..target import Target, as_target

SCHEDULER_PORTS = (8786, 8787)
"""The scheduler's port and its dashboard's."""
WORKER_CPU = 1024
"""CPU units per worker task (1 vCPU: one notebook run at a time)."""
WORKER_MEMORY_MIB = 4096
"""Memory per worker task, MiB."""


def fargate_cluster_options(
    *,
    image: str,
    vpc_id: str,
    caller_cidr: str,
    n_workers: int = 2,
    spot: bool = False,
    idle_timeout: str = "10 minutes",
    task_role_policies: Sequence[str] = (),
    target: Target | None = None,
) -> dict[str, Any]:
    """Create the cluster's security group in ``vpc_id`` and return ``FargateCluster`` arguments.

    ``caller_cidr`` (e.g. ``203.0.113.7/32``) is where the client connects from, besides the VPC.
    ``task_role_policies``: IAM policy ARNs for the tasks' role, e.g. one that lets the workers
    write the ``-o`` bucket (default none: workers get no AWS permissions).
    ``target`` is the account and region (default: AWS with the environment's credentials and
    region; a sandbox's for a test). The returned ``security`` carries the client's side of the
    TLS configuration; the other keys go to ``FargateCluster`` as they are.
    """
    from distributed.security import Security

    where = as_target(target)
    ec2 = where.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"]
    if not vpcs:
        raise ValidationError("vpc", f"{vpc_id} does not exist")
    subnets = private_subnets(ec2, vpc_id)
    if not subnets:
        raise ValidationError(
            "vpc", f"{vpc_id} has no private subnet (one without an internet gateway route)"
        )
    name = f"dualalb-dask-{uuid.uuid4().hex[:8]}"
    group = _create_security_group(ec2, vpc_id, vpcs[0]["CidrBlock"], caller_cidr, name)
    security = Security.temporary()
    return {
        "name": name,
        "image": image,
        "n_workers": n_workers,
        "worker_cpu": WORKER_CPU,
        "worker_mem": WORKER_MEMORY_MIB,
        "worker_nthreads": 1,
        "vpc": vpc_id,
        "subnets": subnets,
        "security_groups": [group],
        "fargate_use_private_ip": True,
        "fargate_spot": spot,
        "scheduler_timeout": idle_timeout,
        "scheduler_extra_args": ["--protocol", "tls"],
        "environment": _tls_environment(security),
        "task_role_policies": list(task_role_policies),
        "tags": {"dualalb:purpose": "batch"},
        "region_name": where.region,
        "security": security,
    }


def private_subnets(ec2: Any, vpc_id: str) -> list[str]:
    """The subnets of ``vpc_id`` whose route table (explicit, else the main one) has no route to an
    internet gateway, sorted."""
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    public_tables = {
        table["RouteTableId"]
        for table in tables
        if any(route.get("GatewayId", "").startswith("igw-") for route in table.get("Routes", []))
    }
    table_of = {
        association["SubnetId"]: table["RouteTableId"]
        for table in tables
        for association in table.get("Associations", [])
        if association.get("SubnetId")
    }
    main = next(
        (
            table["RouteTableId"]
            for table in tables
            if any(association.get("Main") for association in table.get("Associations", []))
        ),
        None,
    )
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    return sorted(
        subnet["SubnetId"]
        for subnet in subnets
        if table_of.get(subnet["SubnetId"], main) not in public_tables
    )


def _create_security_group(ec2: Any, vpc_id: str, vpc_cidr: str, caller_cidr: str, name: str) -> str:
    group = ec2.create_security_group(
        GroupName=name, Description="Dask scheduler and workers of dualalb-kit batch", VpcId=vpc_id
    )["GroupId"]
    low, high = SCHEDULER_PORTS
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": low,
                "ToPort": high,
                "IpRanges": [
                    {"CidrIp": vpc_cidr, "Description": "the VPC"},
                    {"CidrIp": caller_cidr, "Description": "the caller"},
                ],
            },
            {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "UserIdGroupPairs": [{"GroupId": group}]},
        ],
    )
    return group


def _tls_environment(security: Any) -> dict[str, str]:
    """Dask configuration variables that give scheduler and workers the cluster's CA and certificates."""
    prefix = "DASK_DISTRIBUTED__COMM__"
    return {
        f"{prefix}REQUIRE_ENCRYPTION": "True",
        f"{prefix}TLS__CA_FILE": security.tls_ca_file,
        f"{prefix}TLS__SCHEDULER__CERT": security.tls_scheduler_cert,
        f"{prefix}TLS__SCHEDULER__KEY": security.tls_scheduler_key,
        f"{prefix}TLS__WORKER__CERT": security.tls_worker_cert,
        f"{prefix}TLS__WORKER__KEY": security.tls_worker_key,
    }


@contextmanager
def fargate_client(**options: Any) -> Iterator[Any]:
    """A client of a new Fargate cluster (``options`` as in :func:`fargate_cluster_options`); the
    cluster and its security group are removed on exit."""
    from dask_cloudprovider.aws import FargateCluster
    from distributed import Client

    kwargs = fargate_cluster_options(**options)
    try:
        with FargateCluster(**kwargs) as cluster, Client(cluster, security=kwargs["security"]) as client:
            yield client
    finally:
        ec2 = as_target(options.get("target")).client("ec2")
        ec2.delete_security_group(GroupId=kwargs["security_groups"][0])


def worker_hour_usd(region: str = "us-east-1", spot: bool = False) -> float:
    """What one worker task (``WORKER_CPU``, ``WORKER_MEMORY_MIB``) costs per hour, from the kit's prices."""
    vcpu_hour, gb_hour = load_pricing().rates(region, "FARGATE_SPOT" if spot else "FARGATE")
    return WORKER_CPU / 1024 * vcpu_hour + WORKER_MEMORY_MIB / 1024 * gb_hour
