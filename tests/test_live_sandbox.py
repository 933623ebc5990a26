"""The live sandbox runs what is deployed: the sample's services as local processes behind HAProxy,
order calling customer and product through the internal ALB's private name, measured metrics the
loader reads, and target tracking that changes the task count."""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter
from pathlib import Path

import psutil
import pytest
from conftest import LOOPBACK, listening

from dualalb_kit.deploy import deploy, destroy
from dualalb_kit.sandbox import Sandbox
from dualalb_kit.sandbox.live import tasks as live_tasks
from dualalb_kit.sandbox.live.urls import local_urls, stack_urls
from dualalb_kit.spec import load_spec

pytestmark = [pytest.mark.live, pytest.mark.sandbox]

ROOT = Path(__file__).resolve().parent.parent


def _sample_processes() -> list[psutil.Process]:
    """The sample services running under this process (a task that just exited is not counted)."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if process.status() != psutil.STATUS_ZOMBIE and any(
                p.endswith("service.py") for p in process.cmdline()
            ):
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found


def _get(url: str) -> tuple[int, str]:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=10) as response:
        return response.status, response.read().decode()


@pytest.fixture(scope="module")
def live_sample():
    before = len(_sample_processes())
    with Sandbox(live=True, live_stacks={"dualalb-sample"}) as sandbox:
        spec = load_spec(ROOT / "params" / "sample.yaml")
        deploy(spec, sandbox.target, progress=False)
        assert sandbox.live.wait_settled(120), [(t.service.name, t.status) for t in sandbox.live.tasks()]
        yield sandbox, spec
        destroy(spec, sandbox.target, progress=False)
        deadline = time.monotonic() + 30
        while len(_sample_processes()) > before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_sample_processes()) == before, "destroying the stack stops its task processes"


def test_each_sample_service_runs_its_two_tasks_as_processes(live_sample):
    sandbox, spec = live_sample
    running = Counter(t.service.name for t in sandbox.live.tasks() if t.status == "RUNNING")
    assert sorted(running.values()) == [2, 2, 2], running
    assert len(_sample_processes()) == 6
    ports = [port for t in sandbox.live.tasks() if t.status == "RUNNING" for port in t.ports.values()]
    assert len(set(ports)) == 6


def test_haproxy_and_every_task_listen_on_loopback_only(live_sample):
    sandbox, spec = live_sample
    sockets = listening(psutil.Process())  # the sandbox (this process), HAProxy and the tasks
    haproxy = {pid for _, _, pid in sockets if psutil.Process(pid).name() == "haproxy"}
    tasks = {t.process.pid for t in sandbox.live.tasks() if t.status == "RUNNING"}
    assert haproxy and tasks <= {pid for _, _, pid in sockets}, (haproxy, tasks, sockets)
    assert (
        len([s for s in sockets if s[2] in haproxy]) >= 4
    )  # a frontend per listener: 1 external, 3 internal
    assert sorted(socket for socket in sockets if socket[0] not in LOOPBACK) == []


def test_order_answers_through_the_external_alb_with_customer_and_product_via_the_internal_alb(live_sample):
    sandbox, spec = live_sample
    urls = stack_urls(sandbox.target, spec.stack_name)
    elbv2 = sandbox.target.client("elbv2")
    schemes = {b["LoadBalancerName"]: b["Scheme"] for b in elbv2.describe_load_balancers()["LoadBalancers"]}
    (external,) = [u for u in urls if schemes[u.load_balancer] == "internet-facing" and u.port == 80]
    internal = {u.port: u for u in urls if schemes[u.load_balancer] == "internal"}
    assert sorted(internal) == [80, 8080, 9090]
    assert sorted(local_urls(elbv2)) == sorted(urls)

    seen = len(sandbox.live.recent_requests)
    status, body = _get(external.url + "/")
    assert status == 200, body
    lines = [json.loads(line) for line in body.strip().splitlines()]
    assert [line["service"] for line in lines] == ["order", "product", "customer"]
    assert not any("error" in line for line in lines), lines

    deadline = time.monotonic() + 15
    while len(sandbox.live.recent_requests) < seen + 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    new = list(sandbox.live.recent_requests)[seen:]
    (internal_balancer,) = {u.load_balancer for u in internal.values()}
    crossed = Counter((balancer, port) for balancer, port, _ in new)
    assert crossed == {
        (external.load_balancer, 80): 1,
        (internal_balancer, 9090): 1,
        (internal_balancer, 8080): 1,
    }
    assert all(record.status == 200 and record.server for _, _, record in new)


def test_waiting_until_settled_waits_for_a_raised_desired_count_to_run(live_sample, monkeypatch):
    """``wait_settled`` returns only once each service runs its desired count of RUNNING tasks, so
    a deploy or a test that waits on it sees the new task count, not the one before: here the new
    task's port answers only after 20 s (an app slow to start), reconciliations that change
    nothing else."""
    sandbox, spec = live_sample
    ecs = sandbox.target.client("ecs")
    order = next(t.service for t in sandbox.live.tasks() if "order" in t.service.name.lower())

    def running() -> int:
        return sum(t.status == "RUNNING" and t.service.arn == order.arn for t in sandbox.live.tasks())

    answers, slow_until = live_tasks._answers, time.monotonic() + 20
    monkeypatch.setattr(live_tasks, "_answers", lambda port: time.monotonic() > slow_until and answers(port))
    try:
        ecs.update_service(cluster=order.cluster, service=order.arn, desiredCount=3)
        assert sandbox.live.wait_settled(60)
        assert running() == 3
    finally:
        ecs.update_service(cluster=order.cluster, service=order.arn, desiredCount=2)
        assert sandbox.live.wait_settled(60)
    assert running() == 2
