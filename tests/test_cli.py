"""The deploy, diff, traffic, metrics and destroy commands: what they print and their exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3
import pandas as pd
import pytest
import yaml
from botocore.stub import Stubber

from dualalb_kit.sandbox.server import free_port
from dualalb_kit.target import as_target

ROOT = Path(__file__).resolve().parent.parent


def dualalb_kit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def params_file(tmp_path: Path, name: str, **changes) -> Path:
    data = yaml.safe_load((ROOT / "params" / "internal-only.yaml").read_text())
    data["stack_name"] = "cli-test"
    for task in data["tasks"]:
        task.update(changes.get(task["name"], {}))
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.sandbox
@pytest.mark.slow
def test_deploy_diff_traffic_metrics_and_destroy_commands(sandbox, tmp_path):
    url = sandbox.endpoint_url
    original = params_file(tmp_path, "original.yaml")
    changed = params_file(tmp_path, "changed.yaml", ledger={"desired_count": 3})

    deployed = dualalb_kit("deploy", str(original), "--endpoint-url", url, "--no-progress")
    assert deployed.returncode == 0, deployed.stderr
    assert "  InternalEndpointPrivate: http://backoffice.corp.internal" in deployed.stdout.splitlines()

    unchanged = dualalb_kit("diff", str(original), "--endpoint-url", url)
    assert (unchanged.returncode, unchanged.stdout) == (0, "no changes\n")

    diff = dualalb_kit("diff", str(changed), "--endpoint-url", url)
    assert diff.returncode == 0, diff.stderr
    header, *rows = diff.stdout.splitlines()
    assert header.split() == ["logical_id", "type", "change", "property_paths"]
    assert [row.split()[1:] for row in rows] == [["AWS::ECS::Service", "modified", "Properties.DesiredCount"]]

    window = ["--start", "2026-01-05T00:00:00Z", "--end", "2026-01-05T02:00:00Z", "--endpoint-url", url]
    traffic = dualalb_kit("traffic", "cli-test", *window, "--seed", "3")
    assert traffic.returncode == 0, traffic.stderr
    assert traffic.stdout.startswith(
        "SYNTHETIC traffic for cli-test, 2026-01-05 00:00 to 2026-01-05 02:00 UTC"
    )
    metrics = dualalb_kit("metrics", "cli-test", *window, "-o", str(tmp_path / "metrics.csv"))
    assert metrics.returncode == 0, metrics.stderr
    assert "SYNTHETIC" in metrics.stderr
    frame = pd.read_csv(tmp_path / "metrics.csv")
    assert list(frame.columns) == ["timestamp", "service", "alb", "metric", "stat", "value"]
    requests = frame[(frame["metric"] == "RequestCount") & (frame["stat"] == "Sum")]
    assert set(requests["service"]) == {"ledger", "reports"}
    assert set(requests["alb"]) == {"internal"}
    assert len(requests) == 2 * 120  # two services, one row a minute
    assert requests["value"].sum() > 0

    destroyed = dualalb_kit("destroy", str(original), "--endpoint-url", url, "--no-progress", "--yes")
    assert (destroyed.returncode, destroyed.stdout) == (0, "destroyed cli-test\n")
    stacks = as_target(endpoint_url=url).client("cloudformation").describe_stacks()["Stacks"]
    assert "cli-test" not in {s["StackName"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"}


def test_no_sandbox_exits_2_and_says_how_to_start_one(tmp_path):
    result = dualalb_kit(
        "deploy", "params/internal-only.yaml", "--endpoint-url", f"http://localhost:{free_port()}"
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: no sandbox answers at http://localhost:")
    assert "dualalb-kit sandbox" in result.stderr


def test_bad_params_exit_2_with_the_field(tmp_path):
    bad = params_file(tmp_path, "bad.yaml", ledger={"desired_count": -1})
    result = dualalb_kit("deploy", str(bad), "--endpoint-url", "http://localhost:1")
    assert result.returncode == 2
    assert result.stderr == "error: tasks[0].desired_count: -1 is negative\n"


class StubbedSession(boto3.Session):
    """boto3's default session for one test: the first client of each service answers from botocore's
    Stubber with that service's queued ``(operation, response or error code, expected params)``;
    nothing leaves the process."""

    def __init__(self, answers: dict[str, list[tuple[str, dict | str, dict]]]) -> None:
        super().__init__(
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="stubbed", region_name="us-east-1"
        )
        self.answers = answers
        self.stubbers: list[Stubber] = []

    def client(self, service_name: str, *args, **options):
        client = super().client(service_name, *args, **options)
        stubber = Stubber(client)
        for operation, answer, expected in self.answers.pop(service_name, []):
            if isinstance(answer, str):
                stubber.add_client_error(
                    operation, "ValidationError", answer, http_status_code=400, expected_params=expected
                )
            else:
                stubber.add_response(operation, answer, expected)
        stubber.activate()
        self.stubbers.append(stubber)
        return client


def test_deploy_to_an_unbootstrapped_aws_account_exits_2_with_the_command(monkeypatch, capsys):
    from dualalb_kit.cli import main

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_ENDPOINT_URL",
        "DUALALB_SANDBOX_URL",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    identity = {
        "Account": "111122223333",
        "Arn": "arn:aws:iam::111122223333:user/dev",
        "UserId": "AIDAEXAMPLE",
    }
    session = StubbedSession(
        {
            "sts": [("get_caller_identity", identity, {})],
            "cloudformation": [
                ("describe_stacks", "Stack with id CDKToolkit does not exist", {"StackName": "CDKToolkit"})
            ],
        }
    )
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)

    code = main(["deploy", str(ROOT / "params" / "internal-only.yaml"), "--target", "aws", "--no-progress"])

    assert (code, capsys.readouterr().err) == (
        2,
        "error: aws://111122223333/us-east-1 is not bootstrapped for the CDK (no CDKToolkit stack): "
        "bootstrap it once with `dualalb-kit cdk bootstrap aws://111122223333/us-east-1`\n",
    )
    assert session.answers == {} and len(session.stubbers) == 2
    for stubber in session.stubbers:
        stubber.assert_no_pending_responses()


@pytest.mark.sandbox
def test_a_failed_deploy_exits_1_with_the_reason(sandbox, tmp_path):
    """The stack's private zone clashes with one already on the default VPC: CloudFormation rolls back."""
    url = sandbox.endpoint_url
    ec2 = as_target(endpoint_url=url).client("ec2")
    (default_vpc,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    route53 = as_target(endpoint_url=url).client("route53")
    taken = route53.create_hosted_zone(
        Name="exit-one.test",
        CallerReference="cli-exit-1",
        VPC={"VPCRegion": "us-east-1", "VPCId": default_vpc["VpcId"]},
        HostedZoneConfig={"PrivateZone": True},
    )["HostedZone"]["Id"].rsplit("/", 1)[-1]
    data = yaml.safe_load((ROOT / "params" / "internal-only.yaml").read_text())
    data.update(
        stack_name="cli-clash", vpc="default", subnets="public", route53={"zone_name": "exit-one.test"}
    )
    params = tmp_path / "clash.yaml"
    params.write_text(yaml.safe_dump(data))
    try:
        failed = dualalb_kit("deploy", str(params), "--endpoint-url", url, "--no-progress")
        assert failed.returncode == 1, failed.stderr
        headline, *details = failed.stderr.splitlines()[-3:]
        assert headline.startswith("error: deploy cli-clash failed (ROLLBACK_COMPLETE")
        assert "ConflictingDomainExists" in "\n".join(details)
        assert f"{taken}" in "\n".join(details)
    finally:
        cloudformation = as_target(endpoint_url=url).client("cloudformation")
        cloudformation.delete_stack(StackName="cli-clash")
        route53.delete_hosted_zone(Id=taken)
