"""Target tracking that happens in the live sandbox: load above the order service's request-count
target scales it out (desired count and running processes), a trickle below it scales it back in.

AWS's rules apply (3 datapoints above the target to scale out); the scale-in needs 15 datapoints
below 90 % of the target on AWS, shortened here to 3 through the documented sandbox setting
``DUALALB_SANDBOX_SCALE_IN_DATAPOINTS``. A trickle rather than silence ends the load, through both
of order's load balancers: order has a request-count policy per ALB, a service scales in only when
every policy agrees, and with no requests an ALB publishes no RequestCount, which AWS does not read
as low (so a service nobody calls through its internal ALB never scales in on AWS either).
"""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from dualalb_kit.deploy import deploy, destroy
from dualalb_kit.sandbox import Sandbox
from dualalb_kit.sandbox.live.autoscaling import SCALE_IN_ENV
from dualalb_kit.sandbox.live.urls import stack_urls
from dualalb_kit.spec import load_spec

pytestmark = [pytest.mark.live, pytest.mark.sandbox, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_TASK = 60
STACK = "live-scaling"
"""Requests per minute per task the order service's policy tracks."""


class SteadyLoad:
    """GET ``urls`` in turn at ``rate`` requests per second (both changeable) from a thread until stopped."""

    def __init__(self, urls: list[str], rate: float) -> None:
        self.urls, self.rate, self.sent, self.failed = urls, rate, 0, 0
        self._stop = threading.Event()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            try:
                with self._opener.open(self.urls[self.sent % len(self.urls)], timeout=10) as response:
                    response.read()
            except OSError:
                self.failed += 1
            self.sent += 1
            due += 1 / self.rate
            self._stop.wait(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _order(sandbox: Sandbox) -> dict:
    """The order service as ECS describes it. The cluster is found through the stack: sandboxes
    started in one process share moto's state, so an earlier test's clusters may still be listed."""
    ecs = sandbox.target.client("ecs")
    resources = sandbox.target.client("cloudformation").describe_stack_resources(StackName=STACK)
    (cluster,) = [
        r["PhysicalResourceId"]
        for r in resources["StackResources"]
        if r["ResourceType"] == "AWS::ECS::Cluster"
    ]
    arns = ecs.list_services(cluster=cluster)["serviceArns"]
    services = ecs.describe_services(cluster=cluster, services=arns)["services"]
    (order,) = [service for service in services if "order" in service["serviceName"]]
    return order


def _order_tasks(sandbox: Sandbox) -> tuple[int, int]:
    """(desired count, RUNNING local tasks) of the order service."""
    order = _order(sandbox)
    running = [
        t for t in sandbox.live.tasks() if t.service.arn == order["serviceArn"] and t.status == "RUNNING"
    ]
    return order["desiredCount"], len(running)


def _wait_for(condition, timeout_s: float) -> float | None:
    """Seconds until ``condition()`` held (polled every 2 s), or None after ``timeout_s``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if condition():
            return time.monotonic() - started
        time.sleep(2)
    return None


def test_load_above_the_target_scales_out_and_a_trickle_scales_back_in(tmp_path, monkeypatch):
    monkeypatch.setenv(SCALE_IN_ENV, "3")
    params = yaml.safe_load((ROOT / "params" / "sample.yaml").read_text())
    order = params["tasks"][0]
    order.update(
        desired_count=1,
        scaling={
            "min_capacity": 1,
            "max_capacity": 3,
            "request_per_target": TARGET_PER_TASK,
            "target_cpu_utilization": 90,
        },
    )
    (tmp_path / "scaling.yaml").write_text(yaml.safe_dump({**params, "stack_name": STACK}))
    spec = load_spec(tmp_path / "scaling.yaml")
    with Sandbox(live=True, live_stacks={STACK}) as sandbox:
        deploy(spec, sandbox.target, progress=False)
        try:
            assert sandbox.live.wait_settled(120)
            tasks = [(t.service.name, t.status, t.stopped_reason) for t in sandbox.live.tasks()]
            assert _order_tasks(sandbox) == (1, 1), tasks
            elbv2 = sandbox.target.client("elbv2")
            schemes = {
                b["LoadBalancerName"]: b["Scheme"] for b in elbv2.describe_load_balancers()["LoadBalancers"]
            }
            urls = stack_urls(sandbox.target, spec.stack_name)
            (external,) = [u for u in urls if schemes[u.load_balancer] == "internet-facing"]
            (internal,) = [u for u in urls if schemes[u.load_balancer] == "internal" and u.port == 80]
            load = SteadyLoad([external.url + "/"], rate=4.0)  # 240 requests/min on one task: 4x the target
            try:
                out = _wait_for(lambda: _order_tasks(sandbox) == (3, 3), timeout_s=300)
                print(f"scaled out to 3 after {out} s; activities: {sandbox.live.autoscaler.activities()}")
                assert out is not None and out <= 240, _order_tasks(sandbox)
                order = _order(sandbox)
                resource_id = f"service/{order['clusterArn'].rsplit('/', 1)[1]}/{order['serviceName']}"
                (activity,) = sandbox.live.autoscaler.activities(resource_id)
                assert "AlarmHigh" in activity.cause and activity.new_capacity == 3
                load.urls = [external.url + "/", internal.url + "/"]  # order's two ALBs, in turn
                load.rate = 0.4  # 12 requests/min per ALB over 3 tasks: far below 90 % of the target
                back = _wait_for(lambda: _order_tasks(sandbox) == (1, 1), timeout_s=480)
                print(f"scaled back in to 1 after {back} s")
                assert back is not None, _order_tasks(sandbox)
            finally:
                load.stop()
            newest = sandbox.live.autoscaler.activities(resource_id)[0]
            assert "AlarmLow" in newest.cause and (newest.old_capacity, newest.new_capacity) == (3, 1)
            assert load.failed == 0
        finally:
            destroy(spec, sandbox.target, progress=False)
