"""Malformed params files as a new user writes them: each is one line naming the key, exit 2.

Every case runs ``dualalb-kit synth <file> -o <dir>`` and asserts the exact message on stderr,
exit 2, no traceback and no assembly written. The valid sample still synthesizes.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dualalb_kit.cli import main
from dualalb_kit.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
BASE: dict[str, Any] = {
    "stack_name": "demo",
    "tasks": [
        {"name": "order", "image": "nginx", "external": {"port": 80}, "internal": {"port": 80}},
        {"name": "customer", "image": "nginx", "internal": {"port": 8080}},
    ],
}


def _params(path: str = "", value: Any = None, *, drop: str = "") -> str:
    """BASE as YAML with ``value`` set at the dotted ``path`` (digits index lists), or ``drop`` removed."""
    data = copy.deepcopy(BASE)
    for dotted, setting in ((path, True), (drop, False)):
        if not dotted:
            continue
        *parents, last = dotted.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        if setting:
            node[last] = value
        else:
            del node[last]
    return yaml.safe_dump(data, sort_keys=False)


def _task(**fields: Any) -> str:
    return _params("tasks", [{"name": "order", "image": "nginx", "external": {"port": 80}, **fields}])


DEEP = "stack_name: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_MESSAGE = "stack_name" + "[0]" * 19 + ": is nested deeper than 20 levels"
LONG_NAME = "a" * 200
LATIN_1 = "stack_name: café\n".encode("latin-1")
BINARY = bytes(range(256))

# (case, params file content, exact stderr line; {path} is the params file)
CASES: list[tuple[str, str | bytes, str]] = [
    # Accepted and synthesized before (issue 11).
    (
        "cert_arn not an ARN",
        _params("tasks.0.external", {"port": 443, "cert_arn": "not-an-arn"}),
        "tasks[0].external.cert_arn: 'not-an-arn' is not an ACM certificate ARN "
        "(arn:aws:acm:REGION:ACCOUNT:certificate/ID)",
    ),
    (
        "cert_arn empty list",
        _params("tasks.0.external", {"port": 443, "cert_arn": []}),
        "tasks[0].external.cert_arn: an empty list has no certificate; leave cert_arn out for HTTP",
    ),
    (
        "cert_arn list with a bad ARN",
        _params("tasks.0.external", {"port": 443, "cert_arn": [CERT, "arn:aws:iam::1:x"]}),
        "tasks[0].external.cert_arn[1]: 'arn:aws:iam::1:x' is not an ACM certificate ARN "
        "(arn:aws:acm:REGION:ACCOUNT:certificate/ID)",
    ),
    (
        "port true",
        _params("tasks.0.external.port", True),
        "tasks[0].external.port: Input should be a valid integer, got True",
    ),
    (
        "cpu a float",
        _params("tasks.0.cpu", 256.0),
        "tasks[0].cpu: Input should be a valid integer, got 256.0",
    ),
    (
        "image empty",
        _params("tasks.0.image", ""),
        "tasks[0].image: is empty; give an image such as public.ecr.aws/nginx/nginx:stable",
    ),
    (
        "image with a space",
        _params("tasks.0.image", "nginx latest"),
        "tasks[0].image: 'nginx latest' is not an image reference (it contains whitespace)",
    ),
    (
        "health-check path without /",
        _task(health_check={"path": "health"}),
        "tasks[0].health_check.path: 'health' must start with /",
    ),
    (
        "region unknown",
        _params("region", "mars-1"),
        "region: 'mars-1' is not an AWS region botocore knows (e.g. us-east-1)",
    ),
    (
        "duplicate top-level key",
        "stack_name: first\n" + _params(),
        "stack_name: appears twice; YAML would keep only the last one",
    ),
    (
        "duplicate key in a task",
        "stack_name: demo\ntasks:\n  - name: order\n    image: nginx\n    image: httpd\n"
        "    external: {port: 80}\n",
        "tasks[0].image: appears twice; YAML would keep only the last one",
    ),
    # Tracebacks before (issue 11).
    (
        "stack name not ASCII",
        _params("stack_name", "dëmo"),
        "stack_name: 'dëmo' is not a stack name (an ASCII letter, then ASCII letters, digits, hyphens)",
    ),
    (
        "stack name of 200 characters",
        _params("stack_name", LONG_NAME),
        "stack_name: is 200 characters long; a stack name has at most 128",
    ),
    ("binary bytes", BINARY, "params: {path} is not UTF-8 text (byte 0x80 at offset 128)"),
    ("Latin-1 bytes", LATIN_1, "params: {path} is not UTF-8 text (byte 0xe9 at offset 15)"),
    ("nesting 5000 deep", DEEP, DEEP_MESSAGE),
    (
        "alias that contains itself",
        "stack_name: demo\ntasks: &loop [*loop]\n",
        "tasks[0]: refers to itself through a YAML alias",
    ),
    (
        "health-check timeout longer than its interval",
        _task(health_check={"interval_seconds": 10, "timeout_seconds": 20}),
        "tasks[0].health_check.timeout_seconds: 20 s must be shorter than interval_seconds 10 s",
    ),
    (
        "health-check timeout equal to its interval",
        _task(health_check={"interval_seconds": 10, "timeout_seconds": 10}),
        "tasks[0].health_check.timeout_seconds: 10 s must be shorter than interval_seconds 10 s",
    ),
    (
        "healthy_http_codes abc",
        _task(health_check={"healthy_http_codes": "abc"}),
        "tasks[0].health_check.healthy_http_codes: 'abc' is not a list of codes 200-499 "
        "as 200, 200,202 or 200-299",
    ),
    (
        "healthy_http_codes out of range",
        _task(health_check={"healthy_http_codes": "200,600"}),
        "tasks[0].health_check.healthy_http_codes: '600' is outside 200-499 (or a range backwards)",
    ),
    (
        "health-check interval out of range",
        _task(health_check={"interval_seconds": 1, "timeout_seconds": 2}),
        "tasks[0].health_check.interval_seconds: 1 s is outside 5-300 s",
    ),
    (
        "health-check threshold out of range",
        _task(health_check={"healthy_threshold": 11}),
        "tasks[0].health_check.healthy_threshold: 11 is outside 2-10",
    ),
    ("account 12ab", _params("account", "12ab"), "account: '12ab' is not an AWS account id (12 digits)"),
    (
        "account unquoted",
        _params("account", 123456789012),
        "account: 123456789012 is a number in YAML; quote the account id ('123456789012')",
    ),
    # The wrong message before (issue 11): a lookup needing credentials.
    (
        "subnet id malformed",
        _params("subnets", ["subnet-!!"]) + "vpc: default\n",
        "subnets[0]: 'subnet-!!' is not a subnet id (subnet- and 8 or 17 hex digits)",
    ),
    (
        "vpc id malformed",
        _params("vpc", "vpc-XYZ!!"),
        "vpc: 'vpc-XYZ!!' is not a vpc id (vpc- and 8 or 17 hex digits)",
    ),
    # One line naming the key before issue 11 already.
    ("empty file", "", "params: the top level must be a mapping of spec fields"),
    ("a list at the top", "- stack_name: demo\n", "params: the top level must be a mapping of spec fields"),
    (
        "not YAML",
        "stack_name: [demo\n",
        "params: not YAML: expected ',' or ']', but got '<stream end>' (line 2, column 1)",
    ),
    (
        "a NUL byte",
        b"stack_name: demo\nregion: us-\x00east-1\n",
        "params: not YAML: character U+0000 is not allowed in YAML (line 2, column 12)",
    ),
    ("no stack name", _params(drop="stack_name"), "stack_name: is required"),
    (
        "stack name with an underscore",
        _params("stack_name", "my_stack"),
        "stack_name: 'my_stack' is not a stack name (an ASCII letter, then ASCII letters, digits, hyphens)",
    ),
    (
        "stack name starting with a digit",
        _params("stack_name", "1demo"),
        "stack_name: '1demo' is not a stack name (an ASCII letter, then ASCII letters, digits, hyphens)",
    ),
    ("unknown top-level key", _params("colour", "blue"), "colour: unknown key"),
    ("unknown task key", _params("tasks.1.colour", "blue"), "tasks[1].colour: unknown key"),
    ("unknown nested key", _params("tasks.1.internal.tls", True), "tasks[1].internal.tls: unknown key"),
    ("no tasks", _params("tasks", []), "tasks: at least one task is required"),
    ("tasks not a list", _params("tasks", "order"), "tasks: Input should be a valid list, got 'order'"),
    ("missing image", _params(drop="tasks.0.image"), "tasks[0].image: is required"),
    ("missing task name", _params(drop="tasks.0.name"), "tasks[0].name: is required"),
    (
        "task name not a DNS label",
        _params("tasks.0.name", "Order_1"),
        "tasks[0].name: 'Order_1' is not a DNS name",
    ),
    (
        "duplicate task name",
        _params("tasks.1.name", "order"),
        "tasks[1].name: 'order' is used by another task",
    ),
    (
        "no listener",
        _params(drop="tasks.1.internal"),
        "tasks[1]: task 'customer' needs external, internal or both",
    ),
    (
        "port above range",
        _params("tasks.1.internal.port", 70000),
        "tasks[1].internal.port: 70000 is not a port (1-65535)",
    ),
    ("port zero", _params("tasks.0.external.port", 0), "tasks[0].external.port: 0 is not a port (1-65535)"),
    (
        "port a string",
        _params("tasks.0.external.port", "80"),
        "tasks[0].external.port: Input should be a valid integer, got '80'",
    ),
    (
        "container port out of range",
        _params("tasks.0.container_port", 65536),
        "tasks[0].container_port: 65536 is not a port (1-65535)",
    ),
    (
        "two tasks on one internal port",
        _params("tasks.1.internal.port", 80),
        "tasks[1].internal.port: port 80 of the internal ALB is already used by tasks[0]; "
        "tasks sharing a port need forward_conditions (all but one)",
    ),
    (
        "negative desired count",
        _params("tasks.0.desired_count", -1),
        "tasks[0].desired_count: -1 is negative",
    ),
    (
        "desired count above max",
        _params("tasks.0.desired_count", 11),
        "tasks[0].desired_count: 11 is above scaling.max_capacity 10",
    ),
    (
        "desired count a word",
        _params("tasks.0.desired_count", "two"),
        "tasks[0].desired_count: Input should be a valid integer, got 'two'",
    ),
    (
        "min above max capacity",
        _params("tasks.0.scaling", {"min_capacity": 5, "max_capacity": 2}),
        "tasks[0].scaling.min_capacity: 5 is above max_capacity 2",
    ),
    (
        "cpu target zero",
        _params("tasks.0.scaling", {"target_cpu_utilization": 0}),
        "tasks[0].scaling.target_cpu_utilization: 0.0 is outside (0, 100]",
    ),
    (
        "cpu target above 100",
        _params("tasks.0.scaling", {"target_cpu_utilization": 120}),
        "tasks[0].scaling.target_cpu_utilization: 120.0 is outside (0, 100]",
    ),
    (
        "request per target zero",
        _params("tasks.0.scaling", {"request_per_target": 0}),
        "tasks[0].scaling.request_per_target: 0 must be above 0",
    ),
    (
        "unknown capacity provider",
        _params("tasks.0.capacity", [{"provider": "EC2"}]),
        "tasks[0].capacity[0].provider: 'EC2' is not a capacity provider (FARGATE, FARGATE_SPOT)",
    ),
    (
        "negative base",
        _params("tasks.0.capacity", [{"provider": "FARGATE", "base": -1}]),
        "tasks[0].capacity[0].base: -1 is negative",
    ),
    (
        "base on two providers",
        _params(
            "tasks.0.capacity", [{"provider": "FARGATE", "base": 1}, {"provider": "FARGATE_SPOT", "base": 1}]
        ),
        "tasks[0].capacity: base is set on more than one provider (FARGATE, FARGATE_SPOT)",
    ),
    (
        "all weights zero",
        _params("tasks.0.capacity", [{"provider": "FARGATE", "weight": 0}]),
        "tasks[0].capacity: all weights are zero; at least one provider needs a weight above 0",
    ),
    (
        "memory does not fit cpu",
        _params("tasks.0.memory", 4096),
        "tasks[0].memory: 4096 MiB does not fit cpu 256 (valid: 512, 1024, 2048 MiB)",
    ),
    (
        "cpu not a Fargate size",
        _params("tasks.0.cpu", 300),
        "tasks[0].cpu: 300 is not a Fargate CPU size (256, 512, 1024, 2048, 4096, 8192, 16384)",
    ),
    (
        "unknown sample role",
        _params("tasks.0.image", "sample:billing"),
        "tasks[0].image: 'billing' is not a sample role (order, customer, product)",
    ),
    (
        "protocol version unknown",
        _params("tasks.0.protocol_version", "HTTP3"),
        "tasks[0].protocol_version: Input should be 'HTTP1', 'HTTP2' or 'GRPC', got 'HTTP3'",
    ),
    (
        "environment value a number",
        _params("tasks.0.environment", {"PORT": 8080}),
        "tasks[0].environment.PORT: Input should be a valid string, got 8080",
    ),
    ("spot a word", _params("spot", "yes"), "spot: Input should be a valid boolean, got 'yes'"),
    (
        "bad zone name",
        _params("route53", {"zone_name": "svc_local"}),
        "route53.zone_name: 'svc_local' is not a DNS name",
    ),
    (
        "record name with a dot",
        _params("route53", {"internal_record": "in.ternal"}),
        "route53.internal_record: 'in.ternal' must be one DNS label (letters, digits, hyphens)",
    ),
    (
        "subnet keyword",
        _params("subnets", "isolated"),
        "subnets: 'isolated' is not one of private, public, public-one-per-az or a list of ids",
    ),
    ("empty subnet list", _params("subnets", []), "subnets: an empty subnet list selects nothing"),
    (
        "subnet ids with a new VPC",
        _params("subnets", ["subnet-0123abcd"]),
        "subnets: specific subnet ids need vpc: default or vpc-..., not a new VPC",
    ),
    ("vpc keyword", _params("vpc", "mine"), "vpc: 'mine' is not new, default or a vpc-... id"),
    (
        "log retention not a CloudWatch period",
        _params("log_retention_days", 8),
        "log_retention_days: 8 is not a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, "
        "150, 180, 365, 400, 545, 731, 1096, 1827, 3653)",
    ),
    (
        "pattern unknown",
        _params("pattern", "drupal"),
        "pattern: Input should be 'dualalb', 'wordpress' or 'laravel', got 'drupal'",
    ),
    ("wordpress section on dualalb", _params("wordpress", {}), "wordpress: is for pattern: wordpress"),
    (
        "wordpress in public subnets",
        "stack_name: wp\npattern: wordpress\nsubnets: public\n",
        "subnets: the wordpress pattern runs in private subnets",
    ),
    (
        "wordpress serverless min above max",
        "stack_name: wp\npattern: wordpress\nwordpress: {aurora_serverless: true, "
        "serverless_min_capacity: 8, serverless_max_capacity: 4}\n",
        "wordpress.serverless_min_capacity: 8 is above serverless_max_capacity (4)",
    ),
]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_params_are_one_line_exit_2_and_write_nothing(tmp_path, capsys, content, message):
    params = tmp_path / "params.yaml"
    if isinstance(content, bytes):
        params.write_bytes(content)
    else:
        params.write_text(content)
    outdir = tmp_path / "assembly"
    assert main(["synth", str(params), "-o", str(outdir), "--no-nag"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: {message.format(path=params)}\n"
    assert not outdir.exists()


def test_a_missing_params_file_is_one_line(tmp_path, capsys):
    missing = tmp_path / "missing.yaml"
    assert main(["synth", str(missing), "-o", str(tmp_path / "assembly")]) == 2
    assert capsys.readouterr().err == f"error: params: {missing} is not a file\n"


def test_an_oversized_params_file_is_one_line(tmp_path, capsys):
    params = tmp_path / "big.yaml"
    params.write_text(_params() + "# padding\n" * 120_000)
    assert main(["synth", str(params), "-o", str(tmp_path / "assembly")]) == 2
    size = params.stat().st_size
    assert capsys.readouterr().err == (
        f"error: params: {params} is {size:,} bytes; a params file is at most 1,048,576 bytes\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [(DEEP, DEEP_MESSAGE), (BINARY, "params: {path} is not UTF-8 text (byte 0x80 at offset 128)")],
    ids=["deep nesting", "binary"],
)
def test_the_cli_process_prints_one_line_and_no_traceback(tmp_path, content, message):
    params = tmp_path / "params.yaml"
    if isinstance(content, bytes):
        params.write_bytes(content)
    else:
        params.write_text(content)
    run = subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", "synth", str(params), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert (run.returncode, run.stdout, run.stderr) == (2, "", f"error: {message.format(path=params)}\n")
    assert not (tmp_path / "out").exists()


# -- credential-looking environment values: warned by key, their values never shown -------------

CREDENTIAL_ENVIRONMENT = {
    "DB_PASSWORD": "hunter2hunter2",
    "UPSTREAM": "https://admin:s3cr3t@example.com/",
    "KEY_ID": "AKIAABCDEFGHIJKLMNOP",
    "PRODUCT_SVC_URL": "http://internal.svc.local:9090",
}
SECRET_VALUES = ["hunter2hunter2", "s3cr3t", "AKIAABCDEFGHIJKLMNOP", "https://admin:s3cr3t@example.com/"]
SAFER = (
    "looks like a credential; environment values are stored in plain text in the template and "
    "tree.json. Keep it in Secrets Manager (or SSM SecureString) and pass it to the container as "
    "an ECS secret"
)
CREDENTIAL_WARNINGS = [
    f"warning: tasks[0].environment.DB_PASSWORD: {SAFER}",
    f"warning: tasks[0].environment.UPSTREAM: {SAFER}",
    f"warning: tasks[0].environment.KEY_ID: {SAFER}",
]


def secrets_in(text: str, secrets: list[str] = SECRET_VALUES) -> list[str]:
    """The secret values that appear anywhere in ``text``."""
    return [secret for secret in secrets if secret in text]


def test_credential_looking_environment_values_are_warned_by_key_never_by_value(tmp_path, capfd):
    """``synth`` and ``synth --json`` warn once per key; no value appears anywhere in what they
    print, on any line, nor in what their child processes (cfn-lint's workers, jsii's Node) print."""
    params = tmp_path / "params.yaml"
    params.write_text(_params("tasks.0.environment", CREDENTIAL_ENVIRONMENT))
    assert main(["synth", str(params), "-o", str(tmp_path / "assembly"), "--no-nag"]) == 0
    human = capfd.readouterr()
    warnings = [line for line in human.err.splitlines() if line.startswith("warning: tasks")]
    assert warnings == CREDENTIAL_WARNINGS
    assert human.out.startswith("Synthesized demo into ")
    assert secrets_in(human.out) == []
    assert secrets_in(human.err) == []

    # cfn-lint's findings printed above are the rows of the document's "findings"
    assert main(["synth", str(params), "-o", str(tmp_path / "json"), "--no-nag", "--no-lint", "--json"]) == 0
    document = capfd.readouterr()
    assert json.loads(document.out)["stack_name"] == "demo"
    assert [
        line for line in document.err.splitlines() if line.startswith("warning: tasks")
    ] == CREDENTIAL_WARNINGS
    assert secrets_in(document.out) == []
    assert secrets_in(document.err) == []
    # The values are in the template (the warning says so): the scan above would see them if printed.
    assert secrets_in((tmp_path / "json" / "demo.template.json").read_text()) == SECRET_VALUES


CREDENTIAL_STACK = "credential-env"  # this module's own stack in the session's sandbox
CHANGED_ENVIRONMENT = {
    **CREDENTIAL_ENVIRONMENT,
    "DB_PASSWORD": "n3wpassw0rd99",
    "KEY_ID": "AKIAQRSTUVWXYZ234567",
}
CHANGED_SECRETS = [*SECRET_VALUES, "n3wpassw0rd99", "AKIAQRSTUVWXYZ234567"]
COMMANDS = ["deploy", "deploy --json", "diff", "diff --json", "destroy --yes"]


@pytest.fixture(scope="module")
def credential_commands(sandbox, tmp_path_factory):
    """The CLI's commands on a params file with credential-looking environment values, as
    processes against the session's sandbox: deploy, deploy again with ``--json``, diff and
    ``diff --json`` against the same file with two values changed, and the destroy that cleans
    up (run even if an earlier one failed). Returns {command: CompletedProcess}."""
    folder = tmp_path_factory.mktemp("credential-env")
    params, changed = folder / "params.yaml", folder / "changed.yaml"
    for path, environment in ((params, CREDENTIAL_ENVIRONMENT), (changed, CHANGED_ENVIRONMENT)):
        data = yaml.safe_load(_params("tasks.0.environment", environment))
        path.write_text(yaml.safe_dump({**data, "stack_name": CREDENTIAL_STACK}, sort_keys=False))
    where = ["--endpoint-url", sandbox.endpoint_url]
    runs = {}

    def run(command: str, path: Path, *options: str) -> None:
        runs[command] = subprocess.run(
            [sys.executable, "-m", "dualalb_kit.cli", *command.split()[:1], str(path), *where, *options],
            cwd=folder,
            env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true"},
            capture_output=True,
            text=True,
            check=False,
        )

    try:
        run("deploy", params, "--no-progress")
        run("deploy --json", params, "--no-progress", "--json")
        run("diff", changed)
        run("diff --json", changed, "--json")
    finally:
        run("destroy --yes", params, "--no-progress", "--yes")
    return runs


@pytest.mark.slow  # five CLI runs against one stack: the CLI's deploy loop, as the marker says
@pytest.mark.sandbox
@pytest.mark.parametrize("command", COMMANDS)
def test_no_credential_looking_value_in_what_deploy_diff_and_destroy_print(credential_commands, command):
    ran = credential_commands[command]
    assert ran.returncode == 0, ran.stderr
    assert [
        line for line in ran.stderr.splitlines() if line.startswith("warning: tasks")
    ] == CREDENTIAL_WARNINGS
    assert secrets_in(ran.stdout, CHANGED_SECRETS) == []
    assert secrets_in(ran.stderr, CHANGED_SECRETS) == []
    expected = {
        "deploy": lambda out: out.startswith("Outputs:\n  ExternalEndpoint: "),
        "deploy --json": lambda out: json.loads(out)["stack_name"] == CREDENTIAL_STACK,
        # the task definition's environment changed: the diff names the resource, not the values
        "diff": lambda out: (
            ["AWS::ECS::TaskDefinition", "modified"] in [r.split()[1:3] for r in out.splitlines()]
        ),
        "diff --json": lambda out: "AWS::ECS::TaskDefinition" in {row["type"] for row in json.loads(out)},
        "destroy --yes": lambda out: out == f"destroyed {CREDENTIAL_STACK}\n",
    }[command]
    assert expected(ran.stdout), ran.stdout


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory):
    """Notebook 01 run by the batch (``run_one``, in this process) for a params file with
    credential-looking environment values; cdk-nag and cfn-lint off, to be quick (their findings
    name rules and paths; ``synth`` prints cfn-lint's above). Returns (summary row, run folder)."""
    from dualalb_kit.batch import DEFAULT_NOTEBOOK, run_one

    folder = tmp_path_factory.mktemp("credential-batch")
    params = folder / "credential-env.yaml"
    params.write_text(_params("tasks.0.environment", CREDENTIAL_ENVIRONMENT))
    row = run_one(params, DEFAULT_NOTEBOOK, folder / "out", {"nag": False, "lint": False})
    assert row["status"] == "passed", row["result"]
    return row, folder / "out"


@pytest.mark.slow
def test_the_batch_run_of_notebook_01_passes_and_its_results_hold_no_credential_looking_value(batch_run):
    row, out = batch_run
    assert row["executed"] == f"{out}/credential-env.ipynb" and row["html"] == f"{out}/credential-env.html"
    results = (out / "credential-env.json").read_text()
    assert json.loads(results)["stack_name"] == "demo"
    assert secrets_in(results) == []


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".ipynb", ".html"])
def test_the_batch_run_of_notebook_01_leaves_no_credential_looking_value_in_its_notebook(batch_run, suffix):
    _, out = batch_run
    assert secrets_in((out / f"credential-env{suffix}").read_text()) == []


def test_the_valid_sample_still_synthesizes(tmp_path, capsys):
    outdir = tmp_path / "assembly"
    assert main(["synth", str(ROOT / "params" / "sample.yaml"), "-o", str(outdir), "--no-nag"]) == 0
    assert (outdir / "dualalb-sample.template.json").is_file()
    assert load_spec(ROOT / "params" / "sample.yaml").warnings == []


def test_an_unwritable_output_directory_is_one_line_exit_2(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(_params())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    outdir = blocker / "assembly"
    assert main(["synth", str(params), "-o", str(outdir), "--no-nag"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: outdir: {outdir} cannot be written ({blocker} is not a directory)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "params.yaml"]


def test_a_failed_synthesis_leaves_no_assembly_behind(sandbox, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(_params("vpc", "vpc-0123abcd"))
    outdir = tmp_path / "out" / "assembly"
    argv = ["synth", str(params), "-o", str(outdir), "--no-nag", "--endpoint-url", sandbox.endpoint_url]
    assert main(argv) == 2
    last_line = capsys.readouterr().err.splitlines()[-1]  # CDK's own template warnings come first
    assert last_line == (
        'error: vpc: Could not find any VPCs matching {"vpc-id": "vpc-0123abcd"} in aws://123456789012/us-east-1'
    )
    assert list((tmp_path / "out").iterdir()) == []  # neither the assembly nor its staging directory
