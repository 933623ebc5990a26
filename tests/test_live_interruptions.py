"""Fargate Spot interruptions in the live sandbox: the event's shape and what the kit's handler
reads from it, the address translation its ELBv2 calls go through, capacity provider placement,
the request channel, ECS's record of the tasks, the CLI's errors, and (slow) a whole interruption
of a Spot task of a deployed stack."""

from __future__ import annotations

import copy
import json
import signal
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from dualalb_kit.cli import main
from dualalb_kit.errors import ValidationError
from dualalb_kit.handlers import spot_termination
from dualalb_kit.sandbox.live.interruptions import (
    REQUEST_PATH,
    SPOT_REASON,
    deliver,
    find_service,
    interruption_event,
    spot_task,
    take_requests,
    translate_targets,
)
from dualalb_kit.sandbox.live.tasks import Container, ServiceState, place, refresh, start_task, warn_stop
from dualalb_kit.sandbox.models.ecs import report_service_task, start_service_task

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/spot-cluster"
TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/spot-cluster/5d3c2b1a0f9e4d8c"
GROUP = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/spot-product/0a1b2c3d4e5f6a7b"
TASK_IP = "10.0.3.17"

DESCRIBED = {
    "attachments": [
        {
            "id": "4f1c",
            "type": "ElasticNetworkInterface",
            "status": "ATTACHED",
            "details": [
                {"name": "subnetId", "value": "subnet-0a1b"},
                {"name": "networkInterfaceId", "value": "eni-0c1d"},
                {"name": "privateIPv4Address", "value": TASK_IP},
            ],
        }
    ],
    "capacityProviderName": "FARGATE_SPOT",
    "clusterArn": CLUSTER,
    "containers": [
        {
            "name": "product",
            "lastStatus": "RUNNING",
            "networkBindings": [{"bindIP": "127.0.0.1", "containerPort": 8080, "hostPort": 41234}],
            "networkInterfaces": [{"attachmentId": "4f1c", "privateIpv4Address": TASK_IP}],
        }
    ],
    "createdAt": datetime(2026, 12, 7, 9, 40, 51, 302000, tzinfo=UTC),
    "desiredStatus": "STOPPED",
    "group": "service:spot-product",
    "lastStatus": "RUNNING",
    "startedAt": datetime(2026, 12, 7, 9, 41, 21, 553000, tzinfo=UTC),
    "stopCode": "SpotInterruption",
    "stoppedReason": SPOT_REASON,
    "stoppingAt": datetime(2026, 12, 7, 14, 2, 10, 947000, tzinfo=UTC),
    "taskArn": TASK,
    "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/spot-product:1",
    "tags": [],
}
"""A Spot task as DescribeTasks shows it once ECS marked it interrupted."""


@pytest.fixture
def stubbed(monkeypatch):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    clients = {name: session.client(name) for name in ("ecs", "elbv2")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    for stub in stubs.values():
        stub.activate()
    yield clients, stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def test_the_event_is_ecs_task_state_change_with_the_task_as_its_detail():
    event = interruption_event(DESCRIBED, ACCOUNT, REGION, "0b1c")
    assert {
        k: event[k] for k in ("version", "id", "detail-type", "source", "account", "region", "resources")
    } == {
        "version": "0",
        "id": "0b1c",
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": ACCOUNT,
        "region": REGION,
        "resources": [TASK],
    }
    detail = event["detail"]
    assert (
        detail["stopCode"] == "SpotInterruption"
        and detail["stoppedReason"] == "Your Spot Task was interrupted."
    )
    assert (detail["group"], detail["clusterArn"], detail["taskArn"]) == (
        "service:spot-product",
        CLUSTER,
        TASK,
    )
    assert (detail["desiredStatus"], detail["lastStatus"]) == ("STOPPED", "RUNNING")
    assert (
        detail["startedAt"] == "2026-12-07T09:41:21.553Z"
        and detail["stoppingAt"] == "2026-12-07T14:02:10.947Z"
    )
    assert "tags" not in detail
    assert event["time"].endswith("Z") and detail["updatedAt"].endswith("Z")
    json.dumps(event)  # EventBridge carries it as JSON: every value serializes
    assert spot_termination.task_addresses(detail) == [TASK_IP]


def test_the_handler_deregisters_the_private_ip_which_reaches_the_loopback_target(stubbed):
    clients, stubs = stubbed
    event = interruption_event(DESCRIBED, ACCOUNT, REGION, "0b1c")
    stubs["ecs"].add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": "spot-product",
                    "loadBalancers": [
                        {"targetGroupArn": GROUP, "containerName": "product", "containerPort": 8080}
                    ],
                }
            ]
        },
        {"cluster": CLUSTER, "services": ["spot-product"]},
    )
    stubs["elbv2"].add_response(
        "deregister_targets", {}, {"TargetGroupArn": GROUP, "Targets": [{"Id": "127.0.0.1", "Port": 41234}]}
    )
    elbv2 = translate_targets(clients["elbv2"], {(TASK_IP, 8080): ("127.0.0.1", 41234)})
    calls = spot_termination.deregister_interrupted_task(event, clients["ecs"], elbv2)
    assert calls == [{"TargetGroupArn": GROUP, "Targets": [{"Id": TASK_IP, "Port": 8080}]}]  # as it asked


def test_targets_of_other_addresses_pass_unchanged(stubbed):
    clients, stubs = stubbed
    other = [{"Id": "10.0.9.9", "Port": 8080}]
    stubs["elbv2"].add_response("register_targets", {}, {"TargetGroupArn": GROUP, "Targets": other})
    elbv2 = translate_targets(clients["elbv2"], {(TASK_IP, 8080): ("127.0.0.1", 41234)})
    elbv2.register_targets(TargetGroupArn=GROUP, Targets=copy.deepcopy(other))


def _service(strategy: tuple[tuple[str, int, int], ...]) -> ServiceState:
    return ServiceState(
        "arn", "cluster", "svc", "td", 4, (), 256, 512, (), capacity_provider_strategy=strategy
    )


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (
            (("FARGATE", 1, 0), ("FARGATE_SPOT", 0, 1)),
            ["FARGATE", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE_SPOT"],
        ),
        (
            (("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 3)),
            ["FARGATE", "FARGATE_SPOT", "FARGATE", "FARGATE_SPOT"],  # split_tasks: 2:2 of 4
        ),
        ((("FARGATE_SPOT", 0, 1),), ["FARGATE_SPOT"] * 4),
        ((), [None] * 4),
    ],
)
def test_tasks_are_placed_base_first_then_by_weight(strategy, expected):
    service, placed = _service(strategy), []
    for _ in range(4):
        placed.append(place(service, placed))
    assert placed == expected


def test_a_replacement_goes_where_the_interrupted_task_was():
    service = _service((("FARGATE", 1, 0), ("FARGATE_SPOT", 0, 1)))
    assert place(service, ["FARGATE", "FARGATE_SPOT"]) == "FARGATE_SPOT"  # 2 of 3 -> the Spot one left
    assert place(service, ["FARGATE_SPOT"]) == "FARGATE"  # the on-demand base first


def _task(tmp_path: Path, program: str):
    container = Container("app", (sys.executable, "-c", program), None, {}, ())
    service = ServiceState(
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c/s", "c", "s", "td", 1, (), 256, 512, (container,)
    )
    task = start_task(service, tmp_path, {}, capacity_provider="FARGATE_SPOT")
    task.status = "RUNNING"
    return task


def _wait_for(ready: Path, task) -> None:
    """Until the task's program has set its SIGTERM handler (it touches ``ready``), at most 20 s."""
    deadline = time.monotonic() + 20
    while not ready.exists() and task.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), task.log_path.read_text()


def _until_stopped(task, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while task.status != "STOPPED" and time.monotonic() < deadline:
        refresh(task)
        time.sleep(0.05)


@pytest.mark.live
def test_a_warned_task_runs_on_until_its_sigterm_ends_it_and_keeps_the_spot_reason(tmp_path):
    ready = tmp_path / "ready"
    program = (
        "import pathlib, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(60)\n"
    )
    task = _task(tmp_path, program)
    _wait_for(ready, task)
    warn_stop(task, SPOT_REASON, "SpotInterruption", grace_s=30)
    assert (task.status, task.desired_status, task.signalled) == ("RUNNING", "STOPPED", False)
    _until_stopped(task)
    assert (task.status, task.exit_code, task.stop_code, task.stopped_reason) == (
        "STOPPED",
        3,
        "SpotInterruption",
        SPOT_REASON,
    )
    assert task.signalled and task.stopped_at >= task.stopping_at


@pytest.mark.live
def test_a_warned_task_that_ignores_sigterm_is_killed_when_its_grace_period_ends(tmp_path):
    ready = tmp_path / "ready"
    program = (
        "import pathlib, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(60)\n"
    )
    task = _task(tmp_path, program)
    _wait_for(ready, task)
    warn_stop(task, SPOT_REASON, "SpotInterruption", grace_s=1)
    refresh(task)
    assert task.signalled and task.status == "RUNNING"  # SIGTERM ignored: it runs on
    _until_stopped(task)
    assert (task.status, task.exit_code, task.stop_code) == ("STOPPED", -signal.SIGKILL, "SpotInterruption")


def _ecs_service(name: str, strategy: list[dict] | None = None) -> dict:
    described = {
        "serviceName": name,
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/spot-cluster/{name}",
        "clusterArn": CLUSTER,
        "status": "ACTIVE",
        "tags": [{"key": "dualalb:service", "value": name.removeprefix("stack-")}],
    }
    return (
        {**described, "capacityProviderStrategy": strategy}
        if strategy
        else {**described, "launchType": "FARGATE"}
    )


def _expect_services(stubs, services: list[dict]) -> None:
    stubs["ecs"].add_response("list_clusters", {"clusterArns": [CLUSTER]}, {})
    arns = [s["serviceArn"] for s in services]
    stubs["ecs"].add_response("list_services", {"serviceArns": arns}, {"cluster": CLUSTER})
    stubs["ecs"].add_response(
        "describe_services",
        {"services": services},
        {"cluster": CLUSTER, "services": arns, "include": ["TAGS"]},
    )


def test_a_service_is_found_by_its_name_or_its_spec_task_name_else_the_error_lists_them(stubbed):
    clients, stubs = stubbed
    services = [_ecs_service("stack-product"), _ecs_service("stack-order")]
    for _ in range(3):
        _expect_services(stubs, services)
    assert find_service(clients["ecs"], "stack-product")["serviceName"] == "stack-product"
    assert find_service(clients["ecs"], "order")["serviceName"] == "stack-order"
    with pytest.raises(ValidationError) as error:
        find_service(clients["ecs"], "basket")
    assert (
        str(error.value)
        == "service: no ECS service 'basket' in the sandbox (services: stack-order, stack-product)"
    )


def test_a_service_without_a_running_spot_task_names_its_capacity_providers(stubbed):
    clients, stubs = stubbed
    on_demand = _ecs_service("stack-order")
    stubs["ecs"].add_response(
        "list_tasks", {"taskArns": []}, {"cluster": CLUSTER, "serviceName": "stack-order"}
    )
    with pytest.raises(ValidationError) as error:
        spot_task(clients["ecs"], on_demand)
    assert (
        str(error.value) == "service: stack-order has no running FARGATE_SPOT task "
        "(its capacity providers: launch type FARGATE)"
    )

    mixed = _ecs_service(
        "stack-product", [{"capacityProvider": "FARGATE", "base": 1}, {"capacityProvider": "FARGATE_SPOT"}]
    )
    stubs["ecs"].add_response(
        "list_tasks", {"taskArns": [TASK]}, {"cluster": CLUSTER, "serviceName": "stack-product"}
    )
    running = {**DESCRIBED, "desiredStatus": "RUNNING", "tags": []}
    stubs["ecs"].add_response("describe_tasks", {"tasks": [running]}, {"cluster": CLUSTER, "tasks": [TASK]})
    with pytest.raises(ValidationError) as error:
        spot_task(clients["ecs"], mixed, "0000")
    assert (
        str(error.value)
        == "task: '0000' is not a running FARGATE_SPOT task of stack-product (those are: 5d3c2b1a0f9e4d8c)"
    )


@pytest.mark.sandbox
def test_requests_are_taken_once_and_only_for_the_planes_own_tasks(sandbox):
    ssm = sandbox.target.client("ssm")
    mine, other = f"{TASK}-mine", f"{TASK}-other"
    for arn in (mine, other):
        ssm.put_parameter(
            Name=f"{REQUEST_PATH}{arn.rsplit('/', 1)[-1]}", Value=arn, Type="String", Overwrite=True
        )
    assert take_requests(ssm, lambda arn: arn == mine) == [mine]
    assert take_requests(ssm, lambda arn: arn == mine) == []
    left = ssm.get_parameters_by_path(Path=REQUEST_PATH, Recursive=True)["Parameters"]
    assert [p["Value"] for p in left] == [other]
    ssm.delete_parameter(Name=left[0]["Name"])


@pytest.mark.sandbox
def test_the_handlers_rule_matches_the_event_and_put_events_accepts_its_lambda_target(sandbox):
    events = sandbox.target.client("events")
    pattern = {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {"clusterArn": [CLUSTER], "stopCode": ["SpotInterruption"]},
    }
    events.put_rule(Name="spot-interruptions", EventPattern=json.dumps(pattern))
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:spot-handler"
    events.put_targets(Rule="spot-interruptions", Targets=[{"Id": "handler", "Arn": function}])
    event = interruption_event(DESCRIBED, ACCOUNT, REGION, "0b1c")
    other = copy.deepcopy(event)
    other["detail"]["clusterArn"] = CLUSTER.replace("spot-cluster", "other")
    try:
        assert events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"]
        assert not events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(other))[
            "Result"
        ]
        entry = {
            "Source": "aws.ecs",
            "DetailType": "ECS Task State Change",
            "Detail": json.dumps(event["detail"]),
        }
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0  # moto answered 500 before
    finally:
        events.remove_targets(Rule="spot-interruptions", Ids=["handler"])
        events.delete_rule(Name="spot-interruptions")


@pytest.mark.sandbox
def test_delivery_runs_only_the_kits_handlers_and_says_why_not_the_others(sandbox):
    import io
    import zipfile

    events, functions = sandbox.target.client("events"), sandbox.target.client("lambda")
    role = sandbox.target.client("iam").create_role(
        RoleName="spot-delivery",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("other.py", "def handler(event, context):\n    return 1\n")
    other = functions.create_function(
        FunctionName="spot-other",
        Runtime="python3.12",
        Role=role,
        Handler="other.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    gone = other.replace("spot-other", "spot-gone")
    pattern = {"source": ["aws.ecs"], "detail": {"clusterArn": [CLUSTER]}}
    events.put_rule(Name="spot-delivery", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="spot-delivery", Targets=[{"Id": "other", "Arn": other}, {"Id": "gone", "Arn": gone}]
    )
    try:
        done = deliver(interruption_event(DESCRIBED, ACCOUNT, REGION, "0b1c"), sandbox.target.client)
        assert sorted((d.function, d.ran, d.reason) for d in done) == [
            (gone, False, "no such function"),
            ("spot-other", False, "the sandbox runs only the kit's handlers (spot_termination.handler)"),
        ]
    finally:
        events.remove_targets(Rule="spot-delivery", Ids=["other", "gone"])
        events.delete_rule(Name="spot-delivery")
        functions.delete_function(FunctionName="spot-other")
        sandbox.target.client("iam").delete_role(RoleName="spot-delivery")


@pytest.mark.sandbox
def test_ecs_lists_and_describes_the_tasks_the_plane_records(sandbox):
    ec2, ecs = sandbox.target.client("ec2"), sandbox.target.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    cluster = ecs.create_cluster(clusterName="records")["cluster"]["clusterArn"]
    definition = ecs.register_task_definition(
        family="records",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "web", "image": "sample", "portMappings": [{"containerPort": 8080}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": []}}
    services = {
        name: ecs.create_service(
            cluster=cluster,
            serviceName=name,
            taskDefinition=definition,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration=network,
        )["service"]["serviceArn"]
        for name in ("records-a", "records-b")
    }
    spot = start_service_task(ACCOUNT, REGION, services["records-a"], "FARGATE_SPOT")
    start_service_task(ACCOUNT, REGION, services["records-b"], None)
    assert ecs.list_tasks(cluster=cluster, serviceName="records-a")["taskArns"] == [spot.task_arn]

    (provisioning,) = ecs.describe_tasks(cluster=cluster, tasks=[spot.task_arn])["tasks"]
    assert (provisioning["lastStatus"], provisioning["desiredStatus"]) == ("PROVISIONING", "RUNNING")
    assert (provisioning["capacityProviderName"], provisioning["group"]) == (
        "FARGATE_SPOT",
        "service:records-a",
    )
    (address,) = [
        d["value"] for d in provisioning["attachments"][0]["details"] if d["name"] == "privateIPv4Address"
    ]
    assert address.startswith("10.")

    started = time.time()
    bindings = [{"bindIP": "127.0.0.1", "containerPort": 8080, "hostPort": 40001, "protocol": "tcp"}]
    report_service_task(
        ACCOUNT,
        REGION,
        spot.task_arn,
        last_status="RUNNING",
        desired_status="RUNNING",
        started_at=started,
        network_bindings=bindings,
    )
    for _ in range(3):  # moto would step a task towards STOPPED on each DescribeTasks
        (running,) = ecs.describe_tasks(cluster=cluster, tasks=[spot.task_arn])["tasks"]
    assert running["lastStatus"] == "RUNNING" and running["containers"][0]["networkBindings"] == bindings
    assert "exitCode" not in running["containers"][0]

    report_service_task(
        ACCOUNT,
        REGION,
        spot.task_arn,
        last_status="STOPPED",
        desired_status="STOPPED",
        stopped_reason=SPOT_REASON,
        stop_code="SpotInterruption",
        started_at=started,
        stopping_at=started + 1,
        stopped_at=started + 2,
        exit_code=0,
    )
    (stopped,) = ecs.describe_tasks(cluster=cluster, tasks=[spot.task_arn])["tasks"]
    assert (stopped["lastStatus"], stopped["stopCode"], stopped["stoppedReason"]) == (
        "STOPPED",
        "SpotInterruption",
        SPOT_REASON,
    )
    assert stopped["containers"][0]["exitCode"] == 0
    assert (stopped["stoppedAt"] - stopped["startedAt"]).total_seconds() == pytest.approx(2, abs=0.01)
    eni = next(d["value"] for d in stopped["attachments"][0]["details"] if d["name"] == "networkInterfaceId")
    assert (
        ec2.describe_network_interfaces(Filters=[{"Name": "network-interface-id", "Values": [eni]}])[
            "NetworkInterfaces"
        ]
        == []
    )  # released, as Fargate releases a stopped task's ENI
    for arn in services.values():
        ecs.delete_service(cluster=cluster, service=arn, force=True)


@pytest.mark.sandbox
def test_the_cli_says_in_one_line_why_it_cannot_interrupt(sandbox, capsys):
    assert main(["sandbox", "interrupt"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "error: SERVICE: name the service to interrupt: `dualalb-kit sandbox interrupt SERVICE`"
    )
    assert main(["sandbox", "interrupt", "product", "--endpoint-url", sandbox.endpoint_url]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: sandbox: {sandbox.endpoint_url} runs no live data plane: "
        "start one with `dualalb-kit sandbox --live`"
    )
    assert main(["sandbox", "urls", "product"]) == 2
    assert "only with interrupt" in capsys.readouterr().err


def stopped_view(ecs, task) -> dict:
    """``task`` as DescribeTasks shows it."""
    return ecs.describe_tasks(cluster=task.service.cluster, tasks=[task.arn])["tasks"][0]


# -- the whole interruption ------------------------------------------------------------------------
def _get(url: str) -> int:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as response:
        return response.status


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.sandbox
def test_an_interrupted_spot_task_leaves_haproxy_gets_sigterm_stops_and_is_replaced():
    from dualalb_kit.deploy import deploy, destroy
    from dualalb_kit.sandbox import Sandbox
    from dualalb_kit.sandbox.live.urls import stack_urls
    from dualalb_kit.spec import load_spec

    spec = load_spec(ROOT / "tests" / "params" / "spot-interruption.yaml")
    with Sandbox(live=True, live_stacks={spec.stack_name}) as sandbox:
        plane = sandbox.live
        plane.interruption_grace_s = 30.0
        deploy(spec, sandbox.target, progress=False)
        try:
            assert plane.wait_settled(120), [(t.service.name, t.status) for t in plane.tasks()]
            ecs = sandbox.target.client("ecs")
            product = find_service(ecs, "product")
            (external,) = [u for u in stack_urls(sandbox.target, spec.stack_name) if u.port == 80]
            before = {t.capacity_provider: t for t in plane.tasks() if t.status == "RUNNING"}
            assert sorted(before) == ["FARGATE", "FARGATE_SPOT"]
            spot, on_demand = before["FARGATE_SPOT"], before["FARGATE"]

            catalogue = find_service(ecs, "catalogue")  # not runnable here: ECS says why
            (why,) = ecs.describe_tasks(
                cluster=catalogue["clusterArn"],
                tasks=ecs.list_tasks(cluster=catalogue["clusterArn"], serviceName=catalogue["serviceName"])[
                    "taskArns"
                ],
            )["tasks"]
            assert (why["lastStatus"], why["stopCode"]) == ("STOPPED", "TaskFailedToStart")
            assert why["stoppedReason"].startswith("Not run by the live sandbox: its image is neither")

            assert main(["sandbox", "interrupt", "product", "--endpoint-url", sandbox.endpoint_url]) == 0
            deadline = time.monotonic() + 15
            while not plane.interruptions and time.monotonic() < deadline:
                time.sleep(0.1)
            ((arn, deliveries),) = plane.interruptions
            assert arn == spot.arn
            (delivery,) = deliveries
            assert delivery.ran, delivery
            (call,) = delivery.result  # the handler deregistered the task's private IP and container port
            (address,) = [
                d["value"]
                for d in stopped_view(ecs, spot)["attachments"][0]["details"]
                if d["name"] == "privateIPv4Address"
            ]
            assert call["Targets"] == [{"Id": address, "Port": 8080}]
            health = sandbox.target.client("elbv2").describe_target_health(
                TargetGroupArn=call["TargetGroupArn"]
            )
            assert [d["Target"] for d in health["TargetHealthDescriptions"]] == [
                {"Id": "127.0.0.1", "Port": on_demand.ports[8080]}
            ]  # ... which reached its loopback target: only the on-demand task is left

            seen = len(plane.recent_requests)
            assert [_get(external.url + "/") for _ in range(20)] == [200] * 20  # during the grace period
            deadline = time.monotonic() + 15
            while len(plane.recent_requests) < seen + 20 and time.monotonic() < deadline:
                time.sleep(0.1)
            answered = Counter(record.server for _, _, record in list(plane.recent_requests)[seen:])
            assert answered == {f"127.0.0.1:{on_demand.ports[8080]}": 20}, answered  # HAProxy's server names
            assert spot.process.poll() is not None or spot.signalled  # it got its SIGTERM

            deadline = time.monotonic() + 20
            while spot.status != "STOPPED" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert (
                spot.status == "STOPPED" and spot.exit_code == 0
            )  # its SIGTERM handler exited 0, no SIGKILL
            assert spot.process.poll() == 0

            (stopped,) = ecs.describe_tasks(cluster=product["clusterArn"], tasks=[spot.arn])["tasks"]
            assert (stopped["lastStatus"], stopped["desiredStatus"]) == ("STOPPED", "STOPPED")
            assert (stopped["stopCode"], stopped["stoppedReason"]) == ("SpotInterruption", SPOT_REASON)
            assert stopped["containers"][0]["exitCode"] == 0

            assert plane.wait_settled(60)
            now = {t.capacity_provider: t for t in plane.tasks() if t.status == "RUNNING"}
            assert sorted(now) == ["FARGATE", "FARGATE_SPOT"] and now["FARGATE_SPOT"] is not spot
            running = ecs.list_tasks(
                cluster=product["clusterArn"], serviceName=product["serviceName"], desiredStatus="RUNNING"
            )["taskArns"]
            assert sorted(running) == sorted([on_demand.arn, now["FARGATE_SPOT"].arn])
        finally:
            destroy(spec, sandbox.target, progress=False)
