"""deploy / diff / destroy through the real CDK CLI into the session sandbox, and the sandbox's
stack-level behaviour they rely on (outputs, resource events, rollback with the reason)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dualalb_kit  # noqa: F401  (before aws_cdk: points jsii at the kit's Node)
from dualalb_kit.deploy import (
    BootstrapRequired,
    DeployError,
    SandboxNotRunning,
    deploy,
    destroy,
    diff,
    template_diff,
)
from dualalb_kit.progress import parse_event
from dualalb_kit.sandbox.server import SANDBOX_URL_ENV, free_port, sandbox_environment
from dualalb_kit.spec import load_spec
from dualalb_kit.synth import synth
from dualalb_kit.target import as_target

ROOT = Path(__file__).resolve().parent.parent
STACK = "deploy-test"
"""The sample spec under its own stack name: the session sandbox is shared with other tests."""


def cloudformation(sandbox):
    return as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("cloudformation")


def stack_of(sandbox, name: str) -> dict:
    return cloudformation(sandbox).describe_stacks(StackName=name)["Stacks"][0]


def sample_spec(**task_changes):
    """params/sample.yaml as stack ``deploy-test``; ``task_changes`` maps task name -> field updates."""
    spec = load_spec(ROOT / "params" / "sample.yaml").model_copy(update={"stack_name": STACK}, deep=True)
    for task in spec.tasks:
        for field, value in task_changes.get(task.name, {}).items():
            setattr(task, field, value)
    return spec


@pytest.fixture(scope="module")
def deployed_sample(sandbox, tmp_path_factory, monkeypatch_module):
    """The sample spec deployed by ``deploy(spec)`` (synthesized in a scratch directory)."""
    monkeypatch_module.chdir(tmp_path_factory.mktemp("workdir"))
    outputs = deploy(
        sample_spec(), progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)
    )
    return outputs


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.sandbox
def test_deploy_returns_the_stack_outputs(sandbox, deployed_sample):
    stack = stack_of(sandbox, STACK)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    described = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert deployed_sample == described
    assert deployed_sample["ExternalEndpointPrivate"] == "http://external.svc.local"
    assert deployed_sample["InternalEndpointPrivate"] == "http://internal.svc.local"
    assert deployed_sample["ExternalEndpoint"].endswith(".elb.amazonaws.com")


@pytest.mark.sandbox
def test_every_resource_records_create_events(sandbox, deployed_sample):
    template = json.loads((Path("cdk.out") / STACK / f"{STACK}.template.json").read_text())
    events = cloudformation(sandbox).describe_stack_events(StackName=STACK)["StackEvents"]
    completed = {e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"}
    assert set(template["Resources"]) <= completed
    timestamps = [e["Timestamp"] for e in events]
    assert timestamps == sorted(timestamps, reverse=True)  # newest first, none equal
    assert len(set(timestamps)) == len(timestamps)


@pytest.mark.sandbox
def test_diff_of_the_deployed_spec_is_empty(sandbox, deployed_sample):
    changes = diff(sample_spec(), target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    assert list(changes.columns) == ["logical_id", "type", "change", "property_paths"]
    assert changes.empty


def physical_ids(sandbox, stack_name: str, resource_type: str | None = None) -> dict[str, str]:
    """Logical id -> physical id of the stack's resources (of ``resource_type`` if given)."""
    resources = cloudformation(sandbox).list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if resource_type in (None, r["ResourceType"])
    }


@pytest.mark.sandbox
def test_desired_count_change_diffs_to_one_property_and_updates_in_place(sandbox, deployed_sample, tmp_path):
    stack_id = stack_of(sandbox, STACK)["StackId"]
    changed = synth(
        sample_spec(customer={"desired_count": 3}),
        tmp_path,
        nag=False,
        target=as_target(endpoint_url=sandbox.endpoint_url),
    )

    changes = diff(changed, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    assert len(changes) == 1
    row = changes.iloc[0]
    assert (row["type"], row["change"], row["property_paths"]) == (
        "AWS::ECS::Service",
        "modified",
        ["Properties.DesiredCount"],
    )

    outputs = deploy(changed, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    stack = stack_of(sandbox, STACK)
    assert (stack["StackId"], stack["StackStatus"]) == (stack_id, "UPDATE_COMPLETE")
    assert outputs == deployed_sample
    ids = physical_ids(sandbox, STACK)
    cluster = next(
        ids[name] for name, r in changed.template["Resources"].items() if r["Type"] == "AWS::ECS::Cluster"
    )
    ecs = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("ecs")
    service = ecs.describe_services(cluster=cluster, services=[ids[row["logical_id"]]])["services"][0]
    assert service["desiredCount"] == 3
    assert diff(changed, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)).empty


@pytest.mark.sandbox
def test_a_health_check_change_updates_the_target_groups_in_place(sandbox, deployed_sample, tmp_path):
    spec = sample_spec(customer={"desired_count": 3})
    customer = next(task for task in spec.tasks if task.name == "customer")
    customer.health_check = customer.health_check.model_copy(update={"path": "/ready"})
    before = physical_ids(sandbox, STACK)

    deploy(spec, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))

    assert stack_of(sandbox, STACK)["StackStatus"] == "UPDATE_COMPLETE"
    assert physical_ids(sandbox, STACK) == before  # CloudFormation keeps the names it generated
    groups = physical_ids(sandbox, STACK, "AWS::ElasticLoadBalancingV2::TargetGroup")
    elbv2 = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("elbv2")
    paths = {
        group["TargetGroupArn"]: group["HealthCheckPath"]
        for group in elbv2.describe_target_groups(TargetGroupArns=list(groups.values()))["TargetGroups"]
    }
    customer_groups = {arn for logical_id, arn in groups.items() if "customer" in logical_id}
    assert len(customer_groups) == 1
    assert {arn: path for arn, path in paths.items() if path == "/ready"} == dict.fromkeys(
        customer_groups, "/ready"
    )


def zone_app(outdir: Path, stack_name: str, vpc_id: str, zone_name: str = "svc.local") -> Path:
    """A raw aws-cdk-lib app: a queue and a private hosted zone on an existing VPC."""
    import aws_cdk as cdk
    from aws_cdk import aws_route53 as route53
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, stack_name, env=cdk.Environment(account="123456789012", region="us-east-1"))
    queue = sqs.CfnQueue(stack, "Queue")
    zone = route53.CfnHostedZone(
        stack,
        "Zone",
        name=zone_name,
        vpcs=[route53.CfnHostedZone.VPCProperty(vpc_id=vpc_id, vpc_region="us-east-1")],
    )
    zone.node.add_dependency(queue)  # the queue exists when the zone fails, so the rollback deletes it
    cdk.CfnOutput(stack, "ZoneId", value=zone.ref)
    app.synth()
    return outdir


@pytest.mark.sandbox
def test_a_second_stack_claiming_the_same_zone_on_the_vpc_rolls_back_with_the_reason(
    sandbox, deployed_sample, tmp_path
):
    (vpc_id,) = physical_ids(sandbox, STACK, "AWS::EC2::VPC").values()
    (zone_id,) = physical_ids(sandbox, STACK, "AWS::Route53::HostedZone").values()

    claim = zone_app(tmp_path / "claim", "zone-claim", vpc_id)
    with pytest.raises(DeployError) as failure:
        deploy(claim, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))

    error = failure.value
    assert error.stack_status == "ROLLBACK_COMPLETE"
    assert [(f["logical_id"], f["type"], f["status"]) for f in error.failures] == [
        ("Zone", "AWS::Route53::HostedZone", "CREATE_FAILED")
    ]
    assert (
        f'"The VPC {vpc_id} in region us-east-1 has already been associated with the hosted zone '
        f'{zone_id} with the same domain name." (HandlerErrorCode: ConflictingDomainExists)'
    ) in str(error)
    assert stack_of(sandbox, "zone-claim")["StackStatusReason"] == (
        "The following resource(s) failed to create: [Zone]."
    )
    assert physical_ids(sandbox, "zone-claim") == {}  # the queue it created was deleted by the rollback
    route53 = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("route53")
    on_vpc = route53.list_hosted_zones_by_vpc(VPCId=vpc_id, VPCRegion="us-east-1")["HostedZoneSummaries"]
    assert [(zone["HostedZoneId"], zone["Name"]) for zone in on_vpc] == [(zone_id, "svc.local.")]

    # The same name on another VPC is no conflict.
    ec2 = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("ec2")
    other_vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    elsewhere = zone_app(tmp_path / "elsewhere", "zone-elsewhere", other_vpc)
    other = deploy(elsewhere, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    assert stack_of(sandbox, "zone-elsewhere")["StackStatus"] == "CREATE_COMPLETE"
    assert other["ZoneId"] != zone_id
    destroy(elsewhere, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    ec2.delete_vpc(VpcId=other_vpc)


@pytest.mark.sandbox
def test_destroy_removes_the_stack(sandbox, deployed_sample):
    stack_id = stack_of(sandbox, STACK)["StackId"]
    (vpc_id,) = physical_ids(sandbox, STACK, "AWS::EC2::VPC").values()
    (cluster,) = physical_ids(sandbox, STACK, "AWS::ECS::Cluster").values()
    (zone_id,) = physical_ids(sandbox, STACK, "AWS::Route53::HostedZone").values()
    balancers = set(physical_ids(sandbox, STACK, "AWS::ElasticLoadBalancingV2::LoadBalancer").values())
    assert len(balancers) == 2 and len(physical_ids(sandbox, STACK, "AWS::ECS::Service")) == 3

    destroy(
        sample_spec(customer={"desired_count": 3}),
        progress=False,
        target=as_target("sandbox", endpoint_url=sandbox.endpoint_url),
    )

    assert stack_of(sandbox, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    names = {s["StackName"] for s in cloudformation(sandbox).describe_stacks()["Stacks"]}
    assert STACK not in names
    client = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client
    assert vpc_id not in {vpc["VpcId"] for vpc in client("ec2").describe_vpcs()["Vpcs"]}
    assert client("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"] == []
    listed_balancers = client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert balancers.isdisjoint(item["LoadBalancerArn"] for item in listed_balancers)
    assert client("ecs").list_services(cluster=cluster)["serviceArns"] == []
    zones = client("route53").list_hosted_zones()["HostedZones"]
    assert zone_id not in {zone["Id"].split("/")[-1] for zone in zones}
    after = diff(sample_spec(), target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    assert set(after["change"]) == {"added"}


# --- failures roll back and say why --------------------------------------------------------


def bucket_app(
    outdir: Path, stack_name: str, bucket_name: str, queue_delay: int = 0, region: str = "us-east-1"
) -> Path:
    """A raw aws-cdk-lib app: a named bucket and a queue, with both as outputs."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, stack_name, env=cdk.Environment(account="123456789012", region=region))
    bucket = s3.CfnBucket(stack, "Bucket", bucket_name=bucket_name)
    queue = sqs.CfnQueue(stack, "Queue", delay_seconds=queue_delay)
    cdk.CfnOutput(stack, "BucketName", value=bucket.ref)
    cdk.CfnOutput(stack, "QueueUrl", value=queue.ref)
    app.synth()
    return outdir


@pytest.mark.sandbox
def test_a_second_stack_claiming_the_same_bucket_rolls_back_with_the_reason(sandbox, tmp_path):
    first = deploy(
        bucket_app(tmp_path / "a", "claim-a", "claimed-bucket"),
        target=as_target("sandbox", endpoint_url=sandbox.endpoint_url),
    )
    assert first["BucketName"] == "claimed-bucket"

    with pytest.raises(DeployError) as failure:
        deploy(
            bucket_app(tmp_path / "b", "claim-b", "claimed-bucket"),
            target=as_target("sandbox", endpoint_url=sandbox.endpoint_url),
        )

    error = failure.value
    assert error.stack_status == "ROLLBACK_COMPLETE"
    assert [(f["logical_id"], f["type"], f["status"]) for f in error.failures] == [
        ("Bucket", "AWS::S3::Bucket", "CREATE_FAILED")
    ]
    message = str(error)
    assert message.splitlines()[0].startswith("deploy claim-b failed (ROLLBACK_COMPLETE")
    assert '"claimed-bucket already exists"' in message
    assert len(message.splitlines()) == 3  # headline, the failed resource, where the log is
    assert "claim-b" in error.log
    stack = stack_of(sandbox, "claim-b")
    assert stack["StackStatusReason"] == "The following resource(s) failed to create: [Bucket]."
    resources = cloudformation(sandbox).list_stack_resources(StackName="claim-b")["StackResourceSummaries"]
    assert resources == []  # the queue it created was deleted by the rollback
    assert stack_of(sandbox, "claim-a")["StackStatus"] == "CREATE_COMPLETE"
    destroy(tmp_path / "a", progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    remaining = {s["StackName"] for s in cloudformation(sandbox).describe_stacks()["Stacks"]}
    assert "claim-a" not in remaining
    assert "claimed-bucket" not in {
        b["Name"]
        for b in as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1")
        .client("s3")
        .list_buckets()["Buckets"]
    }


@pytest.mark.sandbox
def test_a_failed_update_rolls_back_to_the_previous_stack(sandbox, tmp_path):
    s3 = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("s3")
    s3.create_bucket(Bucket="someone-elses-bucket")
    before = deploy(
        bucket_app(tmp_path / "v1", "update-rollback", "my-own-bucket"),
        target=as_target("sandbox", endpoint_url=sandbox.endpoint_url),
    )
    template_before = cloudformation(sandbox).get_template(StackName="update-rollback")["TemplateBody"]

    changed = bucket_app(tmp_path / "v2", "update-rollback", "someone-elses-bucket", queue_delay=7)
    with pytest.raises(DeployError) as failure:
        deploy(changed, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))

    assert failure.value.stack_status == "UPDATE_ROLLBACK_COMPLETE"
    assert "the previous stack is intact" in str(failure.value)
    assert '"someone-elses-bucket already exists"' in str(failure.value)
    stack = stack_of(sandbox, "update-rollback")
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == before
    assert (
        cloudformation(sandbox).get_template(StackName="update-rollback")["TemplateBody"] == template_before
    )
    sqs = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=before["QueueUrl"], AttributeNames=["DelaySeconds"])
    assert attributes["Attributes"]["DelaySeconds"] == "0"
    bucket_names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert "my-own-bucket" in bucket_names
    changes = diff(changed, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    assert sorted(changes["logical_id"]) == ["Bucket", "Queue"]
    destroy(changed, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))


# --- no sandbox, no bootstrap, parsing, template diff (no CLI) --------------------------------


def test_aws_target_without_bootstrap_stack_names_the_command(sandbox, tmp_path, monkeypatch):
    # The sandbox stands in for an AWS account whose eu-west-1 was never bootstrapped.
    for name, value in sandbox_environment(sandbox.endpoint_url).items():
        monkeypatch.setenv(name, value)  # credentials the stand-in accepts
    assembly = bucket_app(tmp_path, "unbootstrapped", "never-created", region="eu-west-1")
    with pytest.raises(BootstrapRequired) as failure:
        deploy(assembly, target=as_target("aws", endpoint_url=sandbox.endpoint_url))
    assert failure.value.command == "dualalb-kit cdk bootstrap aws://123456789012/eu-west-1"
    assert failure.value.command in str(failure.value)
    eu = as_target(endpoint_url=sandbox.endpoint_url, region="eu-west-1").client("cloudformation")
    assert eu.describe_stacks()["Stacks"] == []


def test_no_answering_sandbox_says_how_to_start_one(monkeypatch, tmp_path):
    monkeypatch.delenv(SANDBOX_URL_ENV, raising=False)
    with pytest.raises(SandboxNotRunning, match="dualalb-kit sandbox") as unset:
        deploy(tmp_path)
    assert SANDBOX_URL_ENV in str(unset.value)

    silent = f"http://localhost:{free_port()}"
    with pytest.raises(SandboxNotRunning, match=f"no sandbox answers at {silent}"):
        diff(tmp_path, target=as_target("sandbox", endpoint_url=silent))


@pytest.mark.parametrize("succeeded", [True, False])
def test_the_notebook_bar_ends_green_and_full_on_success_red_where_it_stopped_on_failure(
    monkeypatch, succeeded
):
    """The CLI printed 12 of bootstrap's 15 events: a finished stage is still 15/15 and green."""
    from tqdm.notebook import tqdm as notebook_tqdm

    from dualalb_kit import progress

    monkeypatch.setattr(progress, "tqdm", notebook_tqdm)  # as tqdm.auto is in a kernel
    with progress.ProgressBar("bootstrap sandbox", 15) as bar:
        bar.update(
            parse_event("CDKToolkit | 12/15 | 3:13:34 AM | CREATE_COMPLETE | AWS::S3::Bucket | Staging")
        )
        if succeeded:
            bar.finish()
    shown = bar._bar.container.children[1]  # tqdm.notebook's IntProgress
    expected = ("success", 15) if succeeded else ("danger", 12)
    assert (shown.bar_style, shown.value) == expected and shown.max == 15


def test_the_notebook_bars_label_keeps_its_width_and_the_event_is_cut_not_wrapped(monkeypatch):
    """In JupyterLab the label shrank and wrapped at the stack name's hyphen beside a long event."""
    from tqdm.notebook import tqdm as notebook_tqdm

    from dualalb_kit import progress

    monkeypatch.setattr(progress, "tqdm", notebook_tqdm)
    with progress.ProgressBar("deploy dualalb-sample", 25) as bar:
        bar.update(parse_event("dualalb-sample | 3/25 | 3:13:28 AM | CREATE_COMPLETE | AWS::EC2::VPC | Vpc"))
        label, _, event = bar._bar.container.children
        assert label.value.startswith("deploy\u2007dualalb-sample")
        assert label.layout.flex == "0 0 auto"  # never shrinks, so never wraps
        assert (event.layout.flex, event.layout.min_width, event.layout.overflow) == ("1 1 0", "0", "hidden")
        bar.finish()


def test_cli_event_lines_parse_into_resource_events():
    deploying = parse_event(
        "dualalb-sample |  3/25 | 3:13:28 AM | CREATE_COMPLETE      | AWS::EC2::VPC              | Vpc "
    )
    assert (deploying.stack, deploying.done, deploying.total) == ("dualalb-sample", 3, 25)
    assert (deploying.status, deploying.resource_type, deploying.logical_id) == (
        "CREATE_COMPLETE",
        "AWS::EC2::VPC",
        "Vpc",
    )
    failed = parse_event(
        'claim-b | 1/3 | 3:13:34 AM | CREATE_FAILED | AWS::S3::Bucket | Bucket Resource handler said: "x"'
    )
    assert failed.reason == 'Resource handler said: "x"'
    destroying = parse_event("ExpStack |   2 | 3:27:58 AM | DELETE_COMPLETE | AWS::S3::Bucket | Bucket")
    assert (destroying.done, destroying.total) == (2, None)
    summary = parse_event("claim-b | 3:13:34 AM | CREATE_FAILED | AWS::S3::Bucket | Bucket why")
    assert summary.done is None and summary.reason == "why"
    assert parse_event("ExpStack: creating CloudFormation changeset...") is None
    assert parse_event("Outputs:") is None


def test_template_diff_names_added_removed_and_property_paths():
    before = {
        "Resources": {
            "Kept": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 0}},
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "DesiredCount": 2,
                    "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
                },
            },
            "Gone": {"Type": "AWS::S3::Bucket"},
        }
    }
    after = {
        "Resources": {
            "Kept": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 0}},
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "DesiredCount": 3,
                    "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "9"}],
                    "EnableExecuteCommand": True,
                },
            },
            "New": {"Type": "AWS::SNS::Topic"},
        }
    }
    changes = template_diff(before, after)
    assert changes.to_dict("records") == [
        {"logical_id": "New", "type": "AWS::SNS::Topic", "change": "added", "property_paths": []},
        {
            "logical_id": "Service",
            "type": "AWS::ECS::Service",
            "change": "modified",
            "property_paths": [
                "Properties.DesiredCount",
                "Properties.EnableExecuteCommand",
                "Properties.Tags[1].Value",
            ],
        },
        {"logical_id": "Gone", "type": "AWS::S3::Bucket", "change": "removed", "property_paths": []},
    ]
    assert template_diff(after, after).empty
