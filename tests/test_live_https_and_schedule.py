"""The live sandbox end to end, on the sample with its order service public over HTTPS only: the
HTTPS listener answers with the certificate the sandbox issued (a client verifies it against the
CA file the sandbox publishes), port 80 redirects to it, and a scheduled action put a minute ahead
raises the order service's desired count at that minute, starting a task."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import yaml

from dualalb_kit.cli import main
from dualalb_kit.deploy import deploy, destroy
from dualalb_kit.sandbox import Sandbox
from dualalb_kit.sandbox.live.urls import sandbox_ca_file, stack_urls
from dualalb_kit.spec import load_spec

pytestmark = [pytest.mark.live, pytest.mark.sandbox, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
STACK = "live-https"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def live_https(tmp_path_factory):
    """The sample, one task per service, order's external listener HTTPS on 443, in a live sandbox."""
    params = yaml.safe_load((ROOT / "params" / "sample.yaml").read_text())
    for task in params["tasks"]:
        task["desired_count"] = 1
    order = params["tasks"][0]
    order["external"] = {"port": 443, "cert_arn": CERTIFICATE}
    order["scaling"] = {"min_capacity": 1, "max_capacity": 3, "target_cpu_utilization": 90}
    path = tmp_path_factory.mktemp("https") / "https.yaml"
    path.write_text(yaml.safe_dump({**params, "stack_name": STACK}))
    spec = load_spec(path)
    with Sandbox(live=True, live_stacks={STACK}) as sandbox:
        deploy(spec, sandbox.target, progress=False)
        try:
            assert sandbox.live.wait_settled(120), [(t.service.name, t.status) for t in sandbox.live.tasks()]
            yield sandbox
        finally:
            destroy(spec, sandbox.target, progress=False)


def _external(sandbox: Sandbox) -> dict[int, str]:
    """Port -> local URL of the internet-facing ALB's listeners."""
    elbv2 = sandbox.target.client("elbv2")
    schemes = {b["LoadBalancerName"]: b["Scheme"] for b in elbv2.describe_load_balancers()["LoadBalancers"]}
    return {
        url.port: url.url
        for url in stack_urls(sandbox.target, STACK)
        if schemes[url.load_balancer] == "internet-facing"
    }


def test_https_is_served_with_the_sandbox_certificate_and_port_80_redirects_to_it(live_https, capsys):
    external = _external(live_https)
    assert sorted(external) == [80, 443] and external[443].startswith("https://127.0.0.1:")
    ca_file = sandbox_ca_file(live_https.target)
    assert ca_file == live_https.live.certificate.ca_file and ca_file.is_file()
    session = requests.Session()
    session.trust_env = False  # no proxy for loopback
    answer = session.get(external[443] + "/", verify=str(ca_file), timeout=10)
    assert answer.status_code == 200, answer.text
    assert [line["service"] for line in map(yaml.safe_load, answer.text.strip().splitlines())] == [
        "order",
        "product",
        "customer",
    ]
    with pytest.raises(requests.exceptions.SSLError):
        session.get(external[443] + "/", timeout=10)  # not trusted without the sandbox's CA file
    redirect = session.get(external[80] + "/health?x=1", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == external[443] + "/health?x=1"
    followed = session.get(external[80] + "/health", verify=str(ca_file), timeout=10)
    assert (followed.status_code, followed.url) == (200, external[443] + "/health")
    assert main(["sandbox", "urls", "--endpoint-url", live_https.endpoint_url]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert f" :443  {external[443]}" in "\n".join(listed)
    assert listed[-1] == f"HTTPS certificate authority (verify with it): {ca_file}"


def test_a_scheduled_action_a_minute_ahead_raises_the_desired_count_at_that_minute(live_https):
    ecs = live_https.target.client("ecs")
    autoscaling = live_https.target.client("application-autoscaling")
    (order,) = {
        t.service.arn: t.service for t in live_https.live.tasks() if "order" in t.service.name
    }.values()
    resource_id = f"service/{order.cluster}/{order.name}"
    now = datetime.now(UTC)
    fire = now.replace(second=0, microsecond=0) + timedelta(minutes=1 if now.second < 50 else 2)
    autoscaling.put_scheduled_action(
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        ScheduledActionName="lunch-rush",
        Schedule=f"cron({fire.minute} {fire.hour} {fire.day} {fire.month} ? {fire.year})",
        ScalableTargetAction={"MinCapacity": 2},
    )

    def counts() -> tuple[int, int]:
        (service,) = ecs.describe_services(cluster=order.cluster, services=[order.name])["services"]
        running = [t for t in live_https.live.tasks() if t.service.arn == order.arn and t.status == "RUNNING"]
        return service["desiredCount"], len(running)

    assert counts() == (1, 1)
    deadline = fire + timedelta(seconds=60)
    while counts() != (2, 2) and datetime.now(UTC) < deadline:
        time.sleep(1)
    print(f"scheduled for {fire:%H:%M}, desired and running {counts()} at {datetime.now(UTC):%H:%M:%S}")
    assert counts() == (2, 2)
    (target,) = autoscaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 3)
    newest, bounds = live_https.live.autoscaler.activities(resource_id)[:2]
    assert bounds.cause == "scheduled action name lunch-rush was triggered"
    assert newest.cause.endswith(
        "minimum capacity was set to 2 by scheduled action name lunch-rush, "
        "increasing the capacity from 1 to 2."
    )
    assert newest.time >= fire
