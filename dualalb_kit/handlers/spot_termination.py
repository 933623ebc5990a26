"""Deregister an interrupted Fargate Spot task from its target groups before it stops.

EventBridge delivers ECS's "ECS Task State Change" event when Spot reclaims a task
(``stopCode: SpotInterruption``, about two minutes before it stops). The service's load
balancers (from ``ecs:DescribeServices``) name each target group (and a blue/green deployment's
alternate) and container port; the task's
private IPs (from its ENI attachment) are the targets. Deregistering them at once lets the ALB
drain the task's connections while it still runs, instead of failing requests when it stops.
"""

from __future__ import annotations

from typing import Any

SPOT_INTERRUPTION = "SpotInterruption"
_ENI_TYPES = ("eni", "ElasticNetworkInterface")


class TargetsStillRegistered(RuntimeError):
    """Some target groups refused to deregister the interrupted task; Lambda retries the event.

    Not a ``DualAlbKitError``: this module runs on Lambda alone, without the kit. The live sandbox
    reports it as the function's failure.
    """


def handler(event: dict[str, Any], context: Any = None) -> list[dict[str, Any]]:
    """Lambda's entry point; returns what :func:`deregister_interrupted_task` did."""
    import boto3

    return deregister_interrupted_task(event, boto3.client("ecs"), boto3.client("elbv2"))


def deregister_interrupted_task(event: dict[str, Any], ecs: Any, elbv2: Any) -> list[dict[str, Any]]:
    """Deregister the task of ``event`` from each target group of its service.

    Returns one ``{"TargetGroupArn", "Targets"}`` per call made; nothing for a task that was not
    interrupted by Spot, belongs to no service, or has no private IP. A group that refuses does
    not stop the others: the error naming every such group is raised after them all.
    """
    detail = event.get("detail", {})
    group = detail.get("group", "")
    if detail.get("stopCode") != SPOT_INTERRUPTION or not group.startswith("service:"):
        return []
    addresses = task_addresses(detail)
    if not addresses:
        return []
    services = ecs.describe_services(cluster=detail["clusterArn"], services=[group.removeprefix("service:")])
    calls, failures = [], []
    for service in services["services"]:
        for balancer in service.get("loadBalancers", []):
            for group in target_groups(balancer):
                call = {
                    "TargetGroupArn": group,
                    "Targets": [{"Id": ip, "Port": balancer["containerPort"]} for ip in addresses],
                }
                try:
                    elbv2.deregister_targets(**call)
                except elbv2.exceptions.ClientError as error:
                    failures.append(f"{group}: {error}")
                    continue
                calls.append(call)
    if failures:  # after trying every group; Lambda retries the event, and a repeat is harmless
        raise TargetsStillRegistered(
            f"the task is still in {len(failures)} target group(s): {'; '.join(failures)}"
        )
    return calls


def target_groups(balancer: dict[str, Any]) -> list[str]:
    """A service load balancer's target group, then its blue/green alternate if it has one.

    During an ECS blue/green, linear or canary deployment a task may be registered in either
    group; deregistering a target a group does not have is a no-op for ELB.
    """
    alternate = balancer.get("advancedConfiguration", {}).get("alternateTargetGroupArn")
    return [group for group in (balancer.get("targetGroupArn"), alternate) if group]


def task_addresses(detail: dict[str, Any]) -> list[str]:
    """The private IPv4 addresses of a task's network interfaces (awsvpc: one ENI)."""
    return [
        item["value"]
        for attachment in detail.get("attachments", [])
        if attachment.get("type") in _ENI_TYPES
        for item in attachment.get("details", [])
        if item.get("name") == "privateIPv4Address"
    ]
