"""The sandbox under faults behaves as CloudFormation does: a rolled-back update keeps the
previous physical resources, an interrupted change set leaves no second stack, a zone rename
replaces the zone (or fails on a clash and keeps it).

Each scenario snapshots the describe_* output of the stack's resources before the fault and
compares it afterwards; every reference (security groups, target groups, zones) must resolve.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import stop_tree

import dualalb_kit  # noqa: F401  (before aws_cdk: points jsii at the kit's Node)
from dualalb_kit.deploy import DeployError, deploy, destroy
from dualalb_kit.spec import DeploymentSpec
from dualalb_kit.target import as_target

REGION = "us-east-1"
STACK = "faults"


SERVICE_CONFIGURATION = (
    "serviceArn",
    "taskDefinition",
    "desiredCount",
    "loadBalancers",
    "networkConfiguration",
    "capacityProviderStrategy",
    "deploymentConfiguration",
    "enableExecuteCommand",
)
"""What an ECS service is configured with (its deployments and events record every update)."""


def _client(sandbox, service: str) -> Any:
    return as_target(endpoint_url=sandbox.endpoint_url, region=REGION).client(service)


def _public_vpc(ec2, second_octet: int) -> str:
    """A VPC with two public subnets (a route to an internet gateway), as a lookup finds them."""
    vpc_id = ec2.create_vpc(CidrBlock=f"10.{second_octet}.0.0/16")["Vpc"]["VpcId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc_id)
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    for index, zone in enumerate(["us-east-1a", "us-east-1b"]):
        subnet = ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=f"10.{second_octet}.{index}.0/24", AvailabilityZone=zone
        )
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["Subnet"]["SubnetId"])
    return vpc_id


def _spec(vpc_id: str, zone_name: str = "svc.local") -> DeploymentSpec:
    return DeploymentSpec.model_validate(
        {
            "stack_name": STACK,
            "vpc": vpc_id,
            "subnets": "public",
            "route53": {"zone_name": zone_name},
            "tasks": [
                {"name": "web", "image": "nginx", "external": {"port": 80}, "internal": {"port": 80}},
                {"name": "api", "image": "nginx", "internal": {"port": 8080}},
            ],
        }
    )


def _private_zone(sandbox, name: str, vpc_id: str) -> str:
    zone = _client(sandbox, "route53").create_hosted_zone(
        Name=name,
        CallerReference=f"{name}-{vpc_id}",
        VPC={"VPCRegion": REGION, "VPCId": vpc_id},
        HostedZoneConfig={"PrivateZone": True},
    )
    return zone["HostedZone"]["Id"].split("/")[-1]


def _resources(sandbox, stack_name: str = STACK) -> dict[str, tuple[str, str]]:
    summaries = _client(sandbox, "cloudformation").list_stack_resources(StackName=stack_name)
    return {
        r["LogicalResourceId"]: (r["ResourceType"], r["PhysicalResourceId"])
        for r in summaries["StackResourceSummaries"]
    }


def _ids(resources: dict[str, tuple[str, str]], resource_type: str) -> list[str]:
    return sorted(physical for kind, physical in resources.values() if kind == resource_type)


def snapshot(sandbox) -> dict[str, Any]:
    """The stack as describe_* calls show it: resources, groups, balancers, listeners, target
    groups, services and the private zone with its records."""
    resources = _resources(sandbox)
    ec2, elbv2, ecs, route53 = (_client(sandbox, s) for s in ("ec2", "elbv2", "ecs", "route53"))
    balancers = _ids(resources, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    (cluster,) = _ids(resources, "AWS::ECS::Cluster")
    (zone_id,) = _ids(resources, "AWS::Route53::HostedZone")
    zone = route53.get_hosted_zone(Id=zone_id)
    stack = _client(sandbox, "cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {
        "status": stack["StackStatus"],
        "outputs": sorted((o["OutputKey"], o["OutputValue"]) for o in stack.get("Outputs", [])),
        "resources": resources,
        "security_groups": ec2.describe_security_groups(GroupIds=_ids(resources, "AWS::EC2::SecurityGroup"))[
            "SecurityGroups"
        ],
        "balancers": elbv2.describe_load_balancers(LoadBalancerArns=balancers)["LoadBalancers"],
        "listeners": [elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"] for arn in balancers],
        "target_groups": elbv2.describe_target_groups(
            TargetGroupArns=_ids(resources, "AWS::ElasticLoadBalancingV2::TargetGroup")
        )["TargetGroups"],
        "services": [
            {key: service.get(key) for key in SERVICE_CONFIGURATION}
            for service in ecs.describe_services(
                cluster=cluster, services=_ids(resources, "AWS::ECS::Service")
            )["services"]
        ],
        "zone": (zone["HostedZone"]["Name"], zone["VPCs"]),
        "records": route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"],
    }


def assert_references_resolve(sandbox, state: dict[str, Any]) -> None:
    """Every security group, target group and subnet the stack's parts name exists."""
    ec2, elbv2 = _client(sandbox, "ec2"), _client(sandbox, "elbv2")
    groups = {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    target_groups = {t["TargetGroupArn"] for t in elbv2.describe_target_groups()["TargetGroups"]}
    subnets = {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
    named_groups = {g for b in state["balancers"] for g in b["SecurityGroups"]}
    named_subnets = {z["SubnetId"] for b in state["balancers"] for z in b["AvailabilityZones"]}
    named_target_groups = {lb["targetGroupArn"] for s in state["services"] for lb in s["loadBalancers"]}
    for service in state["services"]:
        network = service["networkConfiguration"]["awsvpcConfiguration"]
        named_groups.update(network["securityGroups"])
        named_subnets.update(network["subnets"])
    for listeners in state["listeners"]:
        for listener in listeners:
            named_target_groups.update(a["TargetGroupArn"] for a in listener["DefaultActions"])
    for group in state["security_groups"]:
        for permission in group["IpPermissions"] + group["IpPermissionsEgress"]:
            named_groups.update(pair["GroupId"] for pair in permission.get("UserIdGroupPairs", []))
    assert named_groups and named_groups <= groups
    assert named_subnets and named_subnets <= subnets
    assert named_target_groups and named_target_groups <= target_groups


def stacks_named(sandbox, name: str) -> list[dict[str, Any]]:
    listed = _client(sandbox, "cloudformation").list_stacks()["StackSummaries"]
    return [s for s in listed if s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE"]


@pytest.fixture(scope="module")
def vpcs(sandbox):
    ec2 = _client(sandbox, "ec2")
    return _public_vpc(ec2, 61), _public_vpc(ec2, 62)


@pytest.fixture(scope="module")
def deployed(sandbox, vpcs, tmp_path_factory):
    """The two-service spec deployed on the first VPC; destroyed after the module."""
    workdir = tmp_path_factory.mktemp("faults")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        deploy(_spec(vpcs[0]), progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
        yield functools.partial(
            deploy, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url), progress=False
        )
        destroy(
            _spec(vpcs[0]), progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)
        )


@pytest.mark.sandbox
def test_a_failed_move_to_another_vpc_keeps_every_physical_resource(sandbox, vpcs, deployed):
    # Another stack's zone of the same name on the target VPC makes the move fail.
    _private_zone(sandbox, "svc.local", vpcs[1])
    before = snapshot(sandbox)
    assert_references_resolve(sandbox, before)

    with pytest.raises(DeployError) as failure:
        deployed(_spec(vpcs[1]))

    assert failure.value.stack_status == "UPDATE_ROLLBACK_COMPLETE"
    assert "(HandlerErrorCode: ConflictingDomainExists)" in str(failure.value)
    log_path = failure.value.log_path
    assert str(failure.value).splitlines()[-1] == f"(the full CDK CLI log: {log_path})"
    assert log_path.read_text() == failure.value.log
    after = snapshot(sandbox)
    assert after == {**before, "status": "UPDATE_ROLLBACK_COMPLETE"}
    assert_references_resolve(sandbox, after)
    assert len(stacks_named(sandbox, STACK)) == 1
    # Nothing the failed update made is left: no group or target group in the second VPC.
    ec2, elbv2 = _client(sandbox, "ec2"), _client(sandbox, "elbv2")
    in_second = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpcs[1]]}])
    assert [g["GroupName"] for g in in_second["SecurityGroups"]] == ["default"]
    assert [t for t in elbv2.describe_target_groups()["TargetGroups"] if t["VpcId"] == vpcs[1]] == []


@pytest.mark.sandbox
def test_a_zone_rename_that_clashes_fails_and_keeps_the_zone(sandbox, vpcs, deployed):
    clash_id = _private_zone(sandbox, "clash.local", vpcs[0])
    before = snapshot(sandbox)

    with pytest.raises(DeployError) as failure:
        deployed(_spec(vpcs[0], zone_name="clash.local"))

    assert failure.value.stack_status == "UPDATE_ROLLBACK_COMPLETE"
    assert (
        f"The VPC {vpcs[0]} in region us-east-1 has already been associated with the hosted zone "
        f"{clash_id} with the same domain name." in str(failure.value)
    )
    after = snapshot(sandbox)
    assert after == {**before, "status": "UPDATE_ROLLBACK_COMPLETE"}
    assert_references_resolve(sandbox, after)
    on_vpc = _client(sandbox, "route53").list_hosted_zones_by_vpc(VPCId=vpcs[0], VPCRegion=REGION)
    assert sorted(z["Name"] for z in on_vpc["HostedZoneSummaries"]) == ["clash.local.", "svc.local."]


@pytest.mark.sandbox
def test_a_zone_rename_replaces_the_zone_and_moves_its_records(sandbox, vpcs, deployed):
    before = snapshot(sandbox)

    outputs = deployed(_spec(vpcs[0], zone_name="api.local"))

    after = snapshot(sandbox)
    assert after["status"] == "UPDATE_COMPLETE"
    assert after["zone"] == ("api.local.", [{"VPCRegion": REGION, "VPCId": vpcs[0]}])
    assert _ids(after["resources"], "AWS::Route53::HostedZone") != _ids(
        before["resources"], "AWS::Route53::HostedZone"
    )
    (old_zone,) = _ids(before["resources"], "AWS::Route53::HostedZone")
    zones = {z["Id"].split("/")[-1] for z in _client(sandbox, "route53").list_hosted_zones()["HostedZones"]}
    assert old_zone not in zones
    aliases = sorted(r["Name"] for r in after["records"] if r["Type"] == "A")
    assert aliases == ["external.api.local.", "internal.api.local."]
    assert outputs["InternalEndpointPrivate"] == "http://internal.api.local"
    # The rest of the stack is untouched.
    for part in ("security_groups", "balancers", "listeners", "target_groups", "services"):
        assert after[part] == before[part], part
    assert_references_resolve(sandbox, after)
    on_vpc = _client(sandbox, "route53").list_hosted_zones_by_vpc(VPCId=vpcs[0], VPCRegion=REGION)
    assert "svc.local." not in {z["Name"] for z in on_vpc["HostedZoneSummaries"]}


@pytest.mark.sandbox
def test_a_listener_port_change_updates_the_security_groups_in_place(sandbox, vpcs, deployed):
    spec = _spec(vpcs[0], zone_name="api.local")  # as the rename test left it
    before = snapshot(sandbox)
    spec.tasks[0].external.port = 8080

    deployed(spec)

    after = snapshot(sandbox)
    assert [g["GroupId"] for g in after["security_groups"]] == [
        g["GroupId"] for g in before["security_groups"]
    ]
    ingress = {
        (g["GroupId"], p["FromPort"])
        for g in after["security_groups"]
        for p in g["IpPermissions"]
        if any(r["CidrIp"] == "0.0.0.0/0" for r in p.get("IpRanges", []))
    }
    (external_group,) = {group for group, _ in ingress}
    assert ingress == {(external_group, 8080)}
    assert_references_resolve(sandbox, after)


def _queue_app(outdir: Path, stack_name: str) -> Path:
    """A raw aws-cdk-lib app: one queue, its URL as an output."""
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, stack_name, env=cdk.Environment(account="123456789012", region=REGION))
    queue = sqs.CfnQueue(stack, "Queue")
    cdk.CfnOutput(stack, "QueueUrl", value=queue.ref)
    app.synth()
    return outdir


@pytest.mark.sandbox
def test_a_deploy_interrupted_before_its_change_set_ran_leaves_no_second_stack(sandbox, tmp_path):
    name = "interrupted"
    assembly = _queue_app(tmp_path / "assembly", name)
    cloudformation = _client(sandbox, "cloudformation")
    template = json.loads((assembly / f"{name}.template.json").read_text())
    # What the CDK CLI leaves when interrupted between creating and executing its change set.
    review = cloudformation.create_change_set(
        StackName=name,
        ChangeSetName="cdk-deploy-change-set",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
    )
    assert [s["StackStatus"] for s in stacks_named(sandbox, name)] == ["REVIEW_IN_PROGRESS"]

    outputs = deploy(assembly, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))

    (stack,) = stacks_named(sandbox, name)
    assert (stack["StackId"], stack["StackStatus"]) == (review["StackId"], "CREATE_COMPLETE")
    (described,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    assert described["Outputs"] == [{"OutputKey": "QueueUrl", "OutputValue": outputs["QueueUrl"]}]
    assert _resources(sandbox, name) == {"Queue": ("AWS::SQS::Queue", outputs["QueueUrl"])}
    # A second CREATE on a live stack is refused, as CloudFormation does.
    with pytest.raises(cloudformation.exceptions.AlreadyExistsException):
        cloudformation.create_change_set(
            StackName=name, ChangeSetName="again", ChangeSetType="CREATE", TemplateBody=json.dumps(template)
        )
    assert len(stacks_named(sandbox, name)) == 1
    destroy(assembly, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    assert stacks_named(sandbox, name) == []


def _sandbox_command(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", "sandbox", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_sandbox_command_on_a_port_in_use_is_one_line_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = _sandbox_command(port)
    assert (run.returncode, run.stdout, run.stderr) == (
        2,
        "",
        f"error: --port: {port} is not free on 127.0.0.1 (Address already in use)\n",
    )


def test_the_sandbox_command_on_a_port_out_of_range_is_one_line_exit_2():
    run = _sandbox_command(80000)
    assert (run.returncode, run.stdout, run.stderr) == (
        2,
        "",
        "error: --port: 80000 is not a port (1-65535)\n",
    )


def _signal_pending(pid: int, signum: int) -> bool:
    """Whether ``signum`` waits, undelivered, for process ``pid`` (as it does while it is stopped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # the process has exited meanwhile
        return False
    pending = (
        int(line.split()[1], 16) for line in status.splitlines() if line.startswith(("SigPnd", "ShdPnd"))
    )
    return any(mask & (1 << (signum - 1)) for mask in pending)


@pytest.mark.sandbox
@pytest.mark.slow
def test_sigterm_during_a_deploy_stops_the_cdk_cli_says_where_the_stack_is_and_exits_130(sandbox, tmp_path):
    name = "sigterm"
    params = tmp_path / "params.yaml"
    params.write_text(
        f"stack_name: {name}\ntasks:\n  - {{name: web, image: nginx, external: {{port: 80}}}}\n"
    )
    log_path = tmp_path / "cdk.out" / f"{name}.cdk.log"
    command = ["deploy", str(params), "--endpoint-url", sandbox.endpoint_url, "--no-progress"]
    process = subprocess.Popen(
        [sys.executable, "-m", "dualalb_kit.cli", *command],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not (log_path.exists() and log_path.stat().st_size) and process.poll() is None:
        assert time.monotonic() < deadline, "the CDK CLI never started"
        time.sleep(0.05)

    def cdk_clis() -> list[psutil.Process]:
        found = []
        for child in psutil.Process(process.pid).children(recursive=True):
            try:
                if "deploy" in child.cmdline():
                    found.append(child)
            except psutil.NoSuchProcess:  # a short-lived helper that has exited (or is a zombie)
                continue
        return found

    while not cdk_clis():  # the log can appear a moment before the CLI's process shows its command line
        assert process.poll() is None and time.monotonic() < deadline, "the CDK CLI never started"
        time.sleep(0.01)
    cdk_cli = cdk_clis()[0]
    cli_processes = [cdk_cli, *cdk_cli.children(recursive=True)]
    # Hold the CDK CLI still, so the deploy cannot finish before the signal lands however
    # loaded the machine is; let it go once the kit has asked it to stop (SIGINT pending).
    cdk_cli.suspend()
    process.send_signal(signal.SIGTERM)
    while cdk_cli.is_running() and not _signal_pending(cdk_cli.pid, signal.SIGINT):
        assert process.poll() is None and time.monotonic() < deadline, "the kit never stopped the CDK CLI"
        time.sleep(0.05)
    # Gone already: the kit killed it once its SIGINT went unanswered for the grace period (a
    # starved test process can miss the moment); exit 130 and the words below still prove the path.
    with contextlib.suppress(psutil.NoSuchProcess):
        cdk_cli.resume()
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 130
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in cli_processes)
    statuses = [s["StackStatus"] for s in stacks_named(sandbox, name)]
    assert len(statuses) <= 1
    status = statuses[0] if statuses else None
    again = f"run `dualalb-kit {shlex.join(command)}` again"
    state, next_step = {
        None: (f"stack {name} does not exist", again),
        "REVIEW_IN_PROGRESS": (
            f"stack {name} is REVIEW_IN_PROGRESS: its change set never ran, it holds no resources",
            again,
        ),
        "CREATE_IN_PROGRESS": (
            f"stack {name} is CREATE_IN_PROGRESS: CloudFormation carries on without the CLI",
            f"once the stack settles, {again}",
        ),
    }.get(status, (f"stack {name} is {status}", again))
    assert stderr.splitlines()[-2:] == [
        f"interrupted: deploy {name} interrupted; the CDK CLI was stopped and {state}",
        f"next: {next_step} (CDK CLI log: {log_path})",
    ]
    assert f"{name}: start: Building {name} Template" in log_path.read_text()  # the CLI's own log

    # What to run next works: one stack of the name, deployed.
    rerun = subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", *command], cwd=tmp_path, capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert [s["StackStatus"] for s in stacks_named(sandbox, name)] in (
        ["CREATE_COMPLETE"],
        ["UPDATE_COMPLETE"],
    )
    destroy(
        tmp_path / "cdk.out" / name,
        progress=False,
        target=as_target("sandbox", endpoint_url=sandbox.endpoint_url),
    )


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_sandbox_that_dies_during_a_deploy_is_named_with_the_stacks_last_state(tmp_path):
    """The sandbox is killed while the CDK CLI deploys (the CLI held still so it cannot finish
    first): the deploy stops the CLI and says the sandbox stopped answering and what the stack was,
    after the probes (3, 2 s apart), not the CDK's 60 s of retries."""
    from dualalb_kit.deploy import SANDBOX_MISSES, SANDBOX_PROBE_SECONDS
    from dualalb_kit.sandbox.server import free_port

    port = free_port()
    url = f"http://localhost:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "dualalb_kit.cli", "sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    params = tmp_path / "params.yaml"
    params.write_text("stack_name: lost\ntasks:\n  - {name: web, image: nginx, external: {port: 80}}\n")
    process = None
    try:
        assert "listening" in server.stdout.readline()
        command = ["deploy", str(params), "--endpoint-url", url, "--no-progress"]
        process = subprocess.Popen(
            [sys.executable, "-m", "dualalb_kit.cli", *command],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 300
        cdk_cli = None
        while cdk_cli is None:
            assert process.poll() is None and time.monotonic() < deadline, "the CDK CLI never deployed"
            for child in psutil.Process(process.pid).children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    if "deploy" in child.cmdline():
                        cdk_cli = child
            time.sleep(0.05)
        cloudformation = as_target(endpoint_url=url, region=REGION).client("cloudformation")
        while "lost" not in [stack["StackName"] for stack in cloudformation.list_stacks()["StackSummaries"]]:
            assert process.poll() is None and time.monotonic() < deadline, "the stack never appeared"
            time.sleep(0.05)
        cdk_cli.suspend()
        time.sleep(2.5 * SANDBOX_PROBE_SECONDS)  # a probe of the kit's has seen the stack
        server.kill()
        server.wait()
        killed = time.monotonic()
        with contextlib.suppress(psutil.NoSuchProcess):
            cdk_cli.resume()
        _, stderr = process.communicate(timeout=120)
        print(f"named {time.monotonic() - killed:.1f} s after the kill; {stderr}")
    finally:
        for running in (server, process):
            if running is not None:
                stop_tree(running)
    assert process.returncode == 1, stderr
    assert (
        f"the sandbox at {url} stopped answering ({SANDBOX_MISSES} probes {SANDBOX_PROBE_SECONDS:g} s apart)"
        in stderr
    )
    assert "so the CDK CLI was stopped; stack lost was " in stderr and "_IN_PROGRESS when last seen" in stderr
    assert not cdk_cli.is_running() or cdk_cli.status() == psutil.STATUS_ZOMBIE
