"""One ``Target`` from synthesis to metrics: the spec's region everywhere, credentials and
connections checked before any synthesis, the CDK CLI's environment, destroy's confirmation.

What only AWS can answer (an account, a bootstrap stack, expired or denied credentials) comes
from botocore's Stubber; everything else runs on the real sandbox and the real CDK CLI.
"""

from __future__ import annotations

import ast
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from botocore.stub import Stubber

import dualalb_kit  # noqa: F401  (before aws_cdk: points jsii at the kit's Node)
from dualalb_kit import cli
from dualalb_kit.assembly import read_assembly
from dualalb_kit.deploy import BootstrapRequired, check_target, deploy, stack_status
from dualalb_kit.discovery import discover
from dualalb_kit.errors import ValidationError
from dualalb_kit.sandbox.server import free_port
from dualalb_kit.spec import load_spec
from dualalb_kit.target import SANDBOX_URL_ENV, Target, TargetError, as_target

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dualalb_kit"
ACCOUNT = "210987654321"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
IDENTITY = {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/dev", "UserId": "AIDAEXAMPLE"}
TOOLKIT = {"Stacks": [{"StackName": "CDKToolkit", "StackStatus": "CREATE_COMPLETE", "CreationTime": NOW}]}


def params_file(tmp_path: Path, stack_name: str, region: str) -> Path:
    """params/internal-only.yaml as ``stack_name`` in ``region``."""
    data = yaml.safe_load((ROOT / "params" / "internal-only.yaml").read_text())
    data.update(stack_name=stack_name, region=region)
    path = tmp_path / f"{stack_name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_cli(*args: str, env: dict[str, str] | None = None, stdin=subprocess.DEVNULL):
    return subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        stdin=stdin,
    )


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """AWS as botocore's Stubber plays it: ``aws[service]`` queues one answer per client made
    (``(method, response)``, or ``(method, error code)`` / ``(method, (code, message))`` for a
    client error), in call order.

    Dummy keys and no instance metadata, so nothing reaches a real endpoint."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN", SANDBOX_URL_ENV):
        monkeypatch.delenv(name, raising=False)
    answers: dict[str, list[tuple[str, object]]] = {}
    stubbers: list[Stubber] = []
    real_client = Target.client

    def stubbed_client(self, service, **options):
        client = real_client(self, service, **options)
        stubber = Stubber(client)
        method, answer = answers[service].pop(0)
        if isinstance(answer, str | tuple):
            code, message = (answer, f"{answer} here") if isinstance(answer, str) else answer
            stubber.add_client_error(method, service_error_code=code, service_message=message)
        else:
            stubber.add_response(method, answer)
        stubber.activate()
        stubbers.append(stubber)
        return client

    monkeypatch.setattr(Target, "client", stubbed_client)
    yield answers
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
    assert all(not queued for queued in answers.values()), answers


# --- what only AWS answers (Stubber) ----------------------------------------------------------


def test_the_account_comes_from_sts_and_the_bootstrap_stack_is_checked(aws):
    aws["sts"] = [("get_caller_identity", IDENTITY)]
    aws["cloudformation"] = [("describe_stacks", TOOLKIT)]
    assert check_target(Target.aws(region="eu-west-1"), bootstrap=True) == ACCOUNT


def test_an_account_without_the_bootstrap_stack_gets_the_command(aws):
    aws["sts"] = [("get_caller_identity", IDENTITY)]
    aws["cloudformation"] = [
        ("describe_stacks", ("ValidationError", "Stack with id CDKToolkit does not exist"))
    ]
    with pytest.raises(BootstrapRequired) as raised:
        check_target(Target.aws(region="eu-west-1"), bootstrap=True)
    assert raised.value.command == f"dualalb-kit cdk bootstrap aws://{ACCOUNT}/eu-west-1"
    assert str(raised.value) == (
        f"aws://{ACCOUNT}/eu-west-1 is not bootstrapped for the CDK (no CDKToolkit stack): "
        f"bootstrap it once with `dualalb-kit cdk bootstrap aws://{ACCOUNT}/eu-west-1`"
    )


def test_an_expired_token_says_how_to_refresh_it(aws):
    aws["sts"] = [("get_caller_identity", "ExpiredToken")]
    with pytest.raises(TargetError) as raised:
        Target.aws(region="eu-west-1").account  # noqa: B018
    assert str(raised.value) == (
        "the AWS credentials for AWS (eu-west-1) have expired (ExpiredToken): refresh them "
        "(`aws sso login` or new keys) and retry"
    )


def test_access_denied_names_the_code_and_the_message(aws):
    aws["sts"] = [("get_caller_identity", "AccessDenied")]
    with pytest.raises(TargetError) as raised:
        check_target(Target.aws(region="ap-south-1"), bootstrap=True)
    assert str(raised.value) == (
        "AWS denied the credentials for AWS (ap-south-1) (AccessDenied: AccessDenied here): use "
        "credentials or a --profile allowed in this account"
    )


def test_a_region_that_disagrees_with_the_spec_is_an_error_before_any_call(aws, tmp_path):
    spec = load_spec(params_file(tmp_path, "target-mismatch", "eu-west-1"))
    with pytest.raises(ValidationError) as raised:
        deploy(spec, Target.aws(region="us-east-1"))
    assert str(raised.value) == (
        "region: the params file says eu-west-1 but --region (region=) says us-east-1; "
        "use one region: drop --region or change the params file"
    )
    # Without an explicit region the spec's wins over the environment's.
    assert Target.aws().in_region("eu-west-1").region == "eu-west-1"
    assert not (tmp_path / "cdk.out").exists()


def test_the_cli_refuses_a_disagreeing_region_with_exit_2(aws, tmp_path, capsys):
    params = params_file(tmp_path, "target-mismatch", "eu-west-1")
    assert cli.main(["deploy", str(params), "--target", "aws", "--region", "us-east-1"]) == 2
    assert capsys.readouterr().err == (
        "error: region: the params file says eu-west-1 but --region (region=) says us-east-1; "
        "use one region: drop --region or change the params file\n"
    )


def test_the_cdk_cli_gets_the_profile_and_region_and_no_sandbox_variable(aws, tmp_path, monkeypatch, capsys):
    """``deploy --target aws --profile p --region eu-west-1``: what the CDK CLI is started with."""
    (tmp_path / "config").write_text("[profile p]\nregion = us-west-2\n")
    (tmp_path / "credentials").write_text("[p]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = x\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    # Leftovers of a sandbox session in the caller's environment:
    for name, value in {
        "AWS_ENDPOINT_URL": "http://localhost:4599",
        "AWS_ENDPOINT_URL_S3": "http://localhost:4599",
        SANDBOX_URL_ENV: "http://localhost:4599",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "CDK_DEFAULT_ACCOUNT": "123456789012",
    }.items():
        monkeypatch.setenv(name, value)
    fake_cli = tmp_path / "fake-cdk.js"
    fake_cli.write_text(
        "require('fs').writeFileSync(process.env.DUMP_TO,"
        " JSON.stringify({argv: process.argv.slice(2), env: process.env}));\n"
    )
    monkeypatch.setenv("DUALALB_CDK_CLI", str(fake_cli))
    monkeypatch.setenv("DUMP_TO", str(tmp_path / "started.json"))
    monkeypatch.chdir(tmp_path)
    # The CLI checks the target once; deploy() finds that Target checked (no second call).
    aws["sts"] = [("get_caller_identity", IDENTITY)]
    aws["cloudformation"] = [("describe_stacks", TOOLKIT)]
    params = params_file(tmp_path, "target-env", "eu-west-1")

    argv = [
        "deploy",
        str(params),
        "--target",
        "aws",
        "--profile",
        "p",
        "--region",
        "eu-west-1",
        "--no-progress",
    ]
    assert cli.main(argv) == 0
    assert capsys.readouterr().err == "target-env on AWS (profile p, eu-west-1)\n"
    started = json.loads((tmp_path / "started.json").read_text())
    env = started["env"]
    assert {
        name: env.get(name)
        for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "CDK_DEFAULT_REGION")
    } == {
        "AWS_PROFILE": "p",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "CDK_DEFAULT_REGION": "eu-west-1",
    }
    leaked = [
        name
        for name in env
        if name.startswith("AWS_ENDPOINT_URL") or name in (SANDBOX_URL_ENV, "CDK_DEFAULT_ACCOUNT")
    ]
    assert leaked == []
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & env.keys()
    assembly = read_assembly(tmp_path / "cdk.out" / "target-env")
    assert started["argv"][:4] == ["deploy", "target-env", "--app", str(assembly.directory)]
    assert (assembly.region, assembly.account) == ("eu-west-1", None)


# --- no credentials, no answer: one line, exit 2, nothing synthesized ----------------------------


def test_deploy_to_aws_without_credentials_exits_2_in_one_line_before_synthesis(tmp_path):
    params = params_file(tmp_path, "target-no-credentials", "us-east-1")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "CDK_DEFAULT_")) and name != SANDBOX_URL_ENV
    }
    env.update(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    result = run_cli("deploy", str(params), "--target", "aws", env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: no AWS credentials for AWS (us-east-1): run `aws configure` or `aws sso login`, "
        "or pass --profile NAME, then retry\n"
    )
    assert not (ROOT / "cdk.out" / "target-no-credentials").exists()


def test_an_endpoint_that_does_not_answer_is_one_line_for_every_command(tmp_path):
    silent = f"http://localhost:{free_port()}"
    with pytest.raises(TargetError) as raised:
        as_target("aws", endpoint_url=silent).account  # noqa: B018
    assert str(raised.value) == (
        f"cannot reach AWS ({silent}, us-east-1) (EndpointConnectionError): check the network or the endpoint"
    )
    metrics = run_cli("metrics", "anything", "--endpoint-url", silent)
    assert metrics.returncode == 2
    assert metrics.stderr.startswith(f"error: no sandbox answers at {silent}. Start one with")
    assert len(metrics.stderr.splitlines()) == 1


# --- the design: no import cycle, one manifest reader ----------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The kit's modules ``path`` imports anywhere (module level or in a function), parents excluded."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m for m in found & modules if m != name and not name.startswith(m + ".")}


def test_no_import_cycle_in_the_kit():
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: _imported_modules(path, set(paths)) for name, path in paths.items()}
    assert "dualalb_kit.sandbox.server" in graph["dualalb_kit.deploy"] | graph["dualalb_kit.sandbox"]

    def cycle_from(start: str, trail: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in sorted(graph[start]):
            if nxt in trail:
                return (*trail[trail.index(nxt) :], nxt)
            found = cycle_from(nxt, (*trail, nxt)) if nxt not in done else None
            if found:
                return found
        done.add(start)
        return None

    done: set[str] = set()
    assert [cycle_from(name, (name,)) for name in sorted(graph)] == [None] * len(graph)


def test_manifest_json_is_read_in_one_module():
    readers = sorted(
        str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py") if "manifest.json" in path.read_text()
    )
    assert readers == ["dualalb_kit/assembly.py"]


def test_importing_the_sandbox_installs_nothing():
    code = (
        "import moto.cloudformation.models as m, dualalb_kit.sandbox.server as s;"
        "before = m.CloudFormationBackend.delete_stack; s.install_gap_fills();"
        "print(before is not m.CloudFormationBackend.delete_stack)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "True\n"


# --- the spec's region in the sandbox, end to end (real CDK CLI) ----------------------------------


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_params_file_in_eu_west_1_lives_in_the_sandboxs_eu_west_1(sandbox, tmp_path):
    url = sandbox.endpoint_url
    params = params_file(tmp_path, "target-eu", "eu-west-1")
    deployed = run_cli("deploy", str(params), "--endpoint-url", url, "--no-progress")
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stderr.splitlines()[0] == f"target-eu on the sandbox at {url} (eu-west-1)"
    assert read_assembly(ROOT / "cdk.out" / "target-eu").region == "eu-west-1"

    eu, us = Target("sandbox", "eu-west-1", url), Target("sandbox", "us-east-1", url)
    assert stack_status("target-eu", eu) == "CREATE_COMPLETE"
    assert stack_status("target-eu", us) is None
    found = discover("target-eu", target=eu)
    assert sorted(s.service for s in found.services) == ["ledger", "reports"]
    assert {lb.arn.split(":")[3] for lb in found.load_balancers} == {"eu-west-1"}
    assert {s.arn.split(":")[3] for s in found.services} == {"eu-west-1"}

    window = ["--start", "2026-01-05T00:00:00Z", "--end", "2026-01-05T01:00:00Z", "--endpoint-url", url]
    traffic = run_cli("traffic", "target-eu", *window, "--region", "eu-west-1")
    assert traffic.returncode == 0, traffic.stderr
    metrics = run_cli("metrics", "target-eu", *window, "--region", "eu-west-1", "-o", str(tmp_path / "m.csv"))
    assert metrics.returncode == 0, metrics.stderr
    rows = (tmp_path / "m.csv").read_text().splitlines()
    assert rows[0] == "timestamp,service,alb,metric,stat,value" and len(rows) > 1
    elsewhere = run_cli("metrics", "target-eu", *window)  # us-east-1: no such stack there
    assert elsewhere.returncode == 2 and "target-eu" in elsewhere.stderr

    refused = run_cli("destroy", str(params), "--endpoint-url", url)  # stdin is not a terminal
    assert (refused.returncode, refused.stderr) == (
        2,
        "error: --yes: stdin is not a terminal, so destroy cannot ask; pass --yes to delete\n",
    )
    assert stack_status("target-eu", eu) == "CREATE_COMPLETE"

    destroyed = run_cli("destroy", str(params), "--endpoint-url", url, "--yes", "--no-progress")
    assert (destroyed.returncode, destroyed.stdout) == (0, "destroyed target-eu\n"), destroyed.stderr
    assert stack_status("target-eu", eu) is None


def test_check_credentials_says_none_are_at_hand_without_a_call(nowhere):
    from dualalb_kit.synth import lookups_target_at_hand

    aws = Target.aws(region="eu-west-1")
    with pytest.raises(TargetError) as raised:
        aws.check_credentials()
    assert raised.value.reason == "no AWS credentials for AWS (eu-west-1)"
    Target("sandbox", "eu-west-1", "http://localhost:1").check_credentials()  # dummy ones, always

    web = {"name": "web", "image": "public.ecr.aws/nginx/nginx:stable", "internal": {"port": 80}}
    spec = load_spec({"stack_name": "lookups", "vpc": "default", "tasks": [web]})
    with pytest.raises(TargetError) as raised:
        lookups_target_at_hand(spec)
    assert raised.value.reason == (
        "vpc 'default' is looked up in a sandbox or an AWS account, and neither is at hand"
    )
    sandbox = Target("sandbox", "us-east-1", "http://localhost:1")
    assert lookups_target_at_hand(spec, sandbox) is sandbox
    assert lookups_target_at_hand(spec.model_copy(update={"vpc": "new"}), sandbox) is None
