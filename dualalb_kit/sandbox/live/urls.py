"""Where a live sandbox serves each load balancer's listeners, readable from any process.

The data plane writes it into the sandbox's own state, so a CLI or notebook in another process
reads it through the AWS API: each load balancer carries the tag ``dualalb-kit:local-urls``
(``PORT=URL`` pairs, space-separated), the SSM parameter ``/dualalb-kit/sandbox/live`` says a
data plane runs and ``/dualalb-kit/sandbox/live/ca-file`` names the file (PEM) that verifies its
HTTPS listeners.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

URL_TAG = "dualalb-kit:local-urls"
LIVE_PARAMETER = "/dualalb-kit/sandbox/live"
CA_FILE_PARAMETER = "/dualalb-kit/sandbox/live/ca-file"


@dataclass(frozen=True, order=True)
class ListenerUrl:
    """Where a listener is served on this machine: ``url`` on 127.0.0.1."""

    load_balancer: str
    port: int
    url: str


def mark_live(ssm: Any, ca_file: Path) -> None:
    """Record in the sandbox that a data plane runs (read by :func:`is_live`) and the certificate
    file that verifies its HTTPS listeners (read by :func:`sandbox_ca_file`)."""
    ssm.put_parameter(Name=LIVE_PARAMETER, Value="true", Type="String", Overwrite=True)
    ssm.put_parameter(Name=CA_FILE_PARAMETER, Value=str(ca_file), Type="String", Overwrite=True)


def is_live(ssm: Any) -> bool:
    """Whether the sandbox behind ``ssm`` runs a data plane."""
    try:
        return ssm.get_parameter(Name=LIVE_PARAMETER)["Parameter"]["Value"] == "true"
    except ssm.exceptions.ParameterNotFound:
        return False


def sandbox_ca_file(target: Any) -> Path | None:
    """The certificate file (PEM) that verifies the HTTPS listeners of the live sandbox ``target``
    (``requests.get(url, verify=sandbox_ca_file(target))``); None when no data plane runs there."""
    if target.kind != "sandbox":
        return None
    ssm = target.client("ssm")
    if not is_live(ssm):
        return None
    try:
        return Path(ssm.get_parameter(Name=CA_FILE_PARAMETER)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def publish_urls(elbv2: Any, balancer_arns: dict[str, str], urls: Iterable[ListenerUrl]) -> None:
    """Tag each load balancer (name -> ARN in ``balancer_arns``) with its listeners' local URLs."""
    by_balancer: dict[str, list[ListenerUrl]] = {}
    for url in urls:
        by_balancer.setdefault(url.load_balancer, []).append(url)
    for name, arn in balancer_arns.items():
        value = " ".join(f"{u.port}={u.url}" for u in sorted(by_balancer.get(name, []), key=lambda u: u.port))
        elbv2.add_tags(ResourceArns=[arn], Tags=[{"Key": URL_TAG, "Value": value}])


def local_urls(elbv2: Any, balancer_arns: Iterable[str] | None = None) -> list[ListenerUrl]:
    """Every listener's local URL the data plane published (for ``balancer_arns`` only, if given),
    by load balancer name and port."""
    balancers = {
        b["LoadBalancerArn"]: b["LoadBalancerName"]
        for page in elbv2.get_paginator("describe_load_balancers").paginate()
        for b in page["LoadBalancers"]
    }
    arns = [arn for arn in (balancer_arns or balancers) if arn in balancers]
    found = []
    for start in range(0, len(arns), 20):
        for description in elbv2.describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]:
            tags = {tag["Key"]: tag["Value"] for tag in description.get("Tags", [])}
            for pair in tags.get(URL_TAG, "").split():
                port, _, url = pair.partition("=")
                found.append(ListenerUrl(balancers[description["ResourceArn"]], int(port), url))
    return sorted(found, key=lambda u: (u.load_balancer, u.port))


def stack_urls(target: Any, stack_name: str, *, wait_s: float = 20.0) -> list[ListenerUrl]:
    """The local URLs of ``stack_name``'s load balancers when ``target`` is a live sandbox (waiting
    up to ``wait_s`` seconds for the data plane to serve a stack just deployed); [] otherwise."""
    import time

    if target.kind != "sandbox" or not is_live(target.client("ssm")):
        return []
    resources = target.client("cloudformation").get_paginator("list_stack_resources")
    arns = [
        resource["PhysicalResourceId"]
        for page in resources.paginate(StackName=stack_name)
        for resource in page["StackResourceSummaries"]
        if resource["ResourceType"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    ]
    elbv2 = target.client("elbv2")
    deadline = time.monotonic() + wait_s
    while True:
        urls = local_urls(elbv2, arns)
        if len({url.load_balancer for url in urls}) == len(arns) or time.monotonic() > deadline:
            return urls
        time.sleep(0.5)
