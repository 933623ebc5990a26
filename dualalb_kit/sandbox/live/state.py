"""Read what is deployed into the sandbox through its own AWS API (boto3, paginated), as the
live data plane's plain values: load balancers and their listeners, rules and target groups
(:class:`~.model.DataPlaneConfig`), and the private Route 53 names that point at them.

The data plane is an AWS client like any other: it reads the same state a user's
``describe_*`` calls see, so it follows every deploy, update and delete.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .model import Action, Condition, DataPlaneConfig, HealthCheck, Listener, Rule, Target, TargetGroup

LocalPort = Callable[[str], int]
"""Listener ARN -> the loopback port the data plane serves it on (stable across reloads)."""


def pages(client: Any, operation: str, key: str, **arguments: Any) -> Iterator[Any]:
    """Every item under ``key`` of every page of ``operation`` (botocore's paginator)."""
    for page in client.get_paginator(operation).paginate(**arguments):
        yield from page.get(key, [])


def _action(actions: list[dict]) -> Action:
    """The action a listener or rule ends in (authenticate actions are not modelled)."""
    action = next(
        a for a in sorted(actions, key=lambda a: a.get("Order", 0)) if a["Type"] != "authenticate-oidc"
    )
    kind = action["Type"]
    if kind == "forward":
        groups = action.get("ForwardConfig", {}).get("TargetGroups") or [
            {"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}
        ]
        return Action(
            "forward", forwards=tuple((g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups)
        )
    if kind == "redirect":
        return Action("redirect", redirect=dict(action["RedirectConfig"]))
    return Action("fixed-response", fixed_response=dict(action["FixedResponseConfig"]))


def _conditions(rule: dict) -> tuple[Condition, ...]:
    conditions = []
    for condition in rule.get("Conditions", []):
        field = condition["Field"]
        config = condition.get("HostHeaderConfig" if field == "host-header" else "PathPatternConfig", {})
        values = tuple(config.get("Values") or condition.get("Values") or ())
        if field in ("host-header", "path-pattern"):
            conditions.append(Condition(field, values))
    return tuple(conditions)


def _health_check(group: dict) -> HealthCheck:
    matcher = group.get("Matcher", {})
    return HealthCheck(
        path=group.get("HealthCheckPath") or "/",
        protocol=group.get("HealthCheckProtocol") or "HTTP",
        interval_s=int(group.get("HealthCheckIntervalSeconds") or 30),
        timeout_s=int(group.get("HealthCheckTimeoutSeconds") or 5),
        healthy_threshold=int(group.get("HealthyThresholdCount") or 5),
        unhealthy_threshold=int(group.get("UnhealthyThresholdCount") or 2),
        matcher=matcher.get("HttpCode") or "200",
    )


def _deregistration_delay(elbv2: Any, arn: str) -> int:
    attributes = elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    values = {item["Key"]: item["Value"] for item in attributes}
    return int(values.get("deregistration_delay.timeout_seconds", 300))


def read_config(
    elbv2: Any, local_port: LocalPort, *, log_port: int, certificate_pem: str | None
) -> DataPlaneConfig:
    """Every load balancer's listeners (with their rules) and every target group (with its
    registered targets), as HAProxy should serve them."""
    listeners = []
    for balancer in pages(elbv2, "describe_load_balancers", "LoadBalancers"):
        for listener in pages(
            elbv2, "describe_listeners", "Listeners", LoadBalancerArn=balancer["LoadBalancerArn"]
        ):
            rules = [
                rule
                for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
                if not rule.get("IsDefault")
            ]
            listeners.append(
                Listener(
                    arn=listener["ListenerArn"],
                    load_balancer=balancer["LoadBalancerName"],
                    port=int(listener["Port"]),
                    protocol=listener["Protocol"],
                    local_port=local_port(listener["ListenerArn"]),
                    default_action=_action(listener["DefaultActions"]),
                    rules=tuple(
                        sorted(
                            (
                                Rule(int(rule["Priority"]), _conditions(rule), _action(rule["Actions"]))
                                for rule in rules
                            ),
                            key=lambda rule: rule.priority,
                        )
                    ),
                )
            )
    groups = []
    for group in pages(elbv2, "describe_target_groups", "TargetGroups"):
        health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
            "TargetHealthDescriptions"
        ]
        groups.append(
            TargetGroup(
                arn=group["TargetGroupArn"],
                name=group["TargetGroupName"],
                protocol=group.get("Protocol") or "HTTP",
                health_check=_health_check(group),
                deregistration_delay_s=_deregistration_delay(elbv2, group["TargetGroupArn"]),
                targets=tuple(sorted(Target(d["Target"]["Id"], int(d["Target"]["Port"])) for d in health)),
            )
        )
    return DataPlaneConfig(tuple(listeners), tuple(groups), log_port, certificate_pem)


def private_names(route53: Any, elbv2: Any) -> dict[str, str]:
    """Record name (lower case, no trailing dot) -> the load balancer name its alias (or CNAME)
    points at, for every record that names a load balancer's DNS name."""
    balancer_of_dns = {
        balancer["DNSName"].lower().rstrip("."): balancer["LoadBalancerName"]
        for balancer in pages(elbv2, "describe_load_balancers", "LoadBalancers")
    }
    names = {}
    for zone in pages(route53, "list_hosted_zones", "HostedZones"):
        for record in pages(
            route53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=zone["Id"]
        ):
            pointed = record.get("AliasTarget", {}).get("DNSName") or next(
                (r["Value"] for r in record.get("ResourceRecords", []) if record["Type"] == "CNAME"), ""
            )
            balancer = balancer_of_dns.get(pointed.lower().rstrip(".").removeprefix("dualstack."))
            if balancer:
                names[record["Name"].lower().rstrip(".")] = balancer
    return names


_URL = re.compile(r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>\d+))?")


def rewrite_private_urls(
    environment: Mapping[str, str], names: Mapping[str, str], listeners: tuple[Listener, ...]
) -> dict[str, str]:
    """``environment`` with every URL whose host is a private record name (``internal.svc.local``)
    pointed at the loopback port that serves that load balancer's listener on the URL's port, so a
    task's call to ``http://internal.svc.local:8080`` crosses the internal ALB's listener 8080 as
    on AWS. Other values are kept as they are."""
    served = {(listener.load_balancer, listener.port): listener.local_port for listener in listeners}

    def local(match: re.Match) -> str:
        balancer = names.get(match["host"].lower())
        port = int(match["port"] or (443 if match["scheme"] == "https" else 80))
        local_port = served.get((balancer, port)) if balancer else None
        return f"{match['scheme']}://127.0.0.1:{local_port}" if local_port else match[0]

    return {key: _URL.sub(local, value) for key, value in environment.items()}
