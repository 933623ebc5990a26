"""What users expect of a CLI: --version, --json, init, shell completion, tables that line up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import dualalb_kit
from dualalb_kit.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_LISTENERS = [
    ["external", 80, "HTTP", "forward", "order"],
    ["internal", 80, "HTTP", "forward", "order"],
    ["internal", 8080, "HTTP", "forward", "customer"],
    ["internal", 9090, "HTTP", "forward", "product"],
]


def dualalb_kit_cli(*args: str, cwd: Path = ROOT, **options) -> subprocess.CompletedProcess[str]:
    options.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        **options,
    )


def test_version_is_the_packages():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = dualalb_kit_cli("--version")
    assert (result.returncode, result.stdout) == (0, f"dualalb-kit {pyproject}\n")
    assert dualalb_kit.__version__ == pyproject


def test_synth_json_has_resources_outputs_listeners_placement_and_findings(tmp_path):
    result = dualalb_kit_cli("synth", "params/sample.yaml", "-o", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["stack_name"] == "dualalb-sample"
    assert len(document["resources"]) == sum(row["count"] for row in document["resource_counts"])
    assert {"logical_id", "type", "path"} <= set(document["resources"][0])
    assert document["outputs"] == {
        "ExternalEndpoint": "(known after deploy)",
        "ExternalEndpointPrivate": "http://external.svc.local",
        "InternalEndpoint": "(known after deploy)",
        "InternalEndpointPrivate": "http://internal.svc.local",
    }
    listeners = [
        [row[key] for key in ("alb", "port", "protocol", "action", "service")]
        for row in document["listeners"]
    ]
    assert listeners == SAMPLE_LISTENERS
    assert [
        (p["service"], p["desired_count"], p["on_demand_tasks"], p["spot_tasks"])
        for p in document["placement"]
    ] == [
        ("order", 2, 0, 2),
        ("customer", 2, 0, 2),
        ("product", 2, 0, 2),
    ]
    assert document["findings"], "the sample has cfn-lint warnings"
    assert {(f["checker"], f["level"]) for f in document["findings"]} == {("cfn-lint", "warning")}
    assert all(set(f) == {"checker", "level", "rule", "path", "message"} for f in document["findings"])


def test_synth_prints_listeners_placement_and_findings_with_numbers_right_aligned(tmp_path):
    result = dualalb_kit_cli("synth", "params/sample.yaml", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "(resolved at deploy time)" not in text
    assert "  ExternalEndpoint: (known after deploy)" in text.splitlines()
    listeners = text.split("\nListeners:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert listeners == [
        "alb       port  protocol  action   service",
        "external    80  HTTP      forward  order",
        "internal    80  HTTP      forward  order",
        "internal  8080  HTTP      forward  customer",
        "internal  9090  HTTP      forward  product",
    ]
    placement = text.split("\nWhere ECS places each service's desired tasks:\n", 1)[1].split("\n\n", 1)[0]
    assert placement.splitlines() == [
        "service   desired_count  on_demand_tasks  spot_tasks  strategy",
        "order                 2                0           2  FARGATE_SPOT x1",
        "customer              2                0           2  FARGATE_SPOT x1",
        "product               2                0           2  FARGATE_SPOT x1",
    ]
    findings = text.split("\nFindings (cdk-nag and cfn-lint): ", 1)[1].splitlines()
    count = int(findings[0])
    assert findings[1:3] == ["checker   level    count", f"cfn-lint  warning  {count:>5}"]
    assert len([line for line in findings[4:] if line.startswith("cfn-lint  warning  W")]) == count


def test_init_without_a_terminal_writes_the_defaults_and_they_synthesize(tmp_path):
    from dualalb_kit.synth import synth

    result = dualalb_kit_cli("init", "shop", "-d", str(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    path = tmp_path / "shop.yaml"
    assert result.stdout == f"wrote {path}; next: dualalb-kit synth {path}\n"
    text = path.read_text()
    assert text.startswith("# A dualalb-kit params file")
    spec = load_spec(path)
    assert (spec.stack_name, spec.region, spec.spot) == ("shop", "us-east-1", True)
    task = spec.tasks[0]
    assert (task.image, task.container_port, task.external.port, task.internal.port, task.desired_count) == (
        "public.ecr.aws/nginx/nginx:stable",
        80,
        80,
        80,
        2,
    )
    synthesis = synth(spec, tmp_path / "cdk.out", nag=False)
    assert (synthesis.resources["type"] == "AWS::ECS::Service").sum() == 1

    again = dualalb_kit_cli("init", "shop", "-d", str(tmp_path))
    assert again.returncode == 2
    assert again.stderr == f"error: name: {path} exists; pick another NAME or pass --force to overwrite\n"


def test_init_takes_flags_and_rejects_a_bad_answer_naming_it(tmp_path):
    result = dualalb_kit_cli(
        "init", "api", "-d", str(tmp_path), "--no-spot", "--external-port", "0", "--container-port", "8080"
    )
    assert result.returncode == 0, result.stderr
    spec = load_spec(tmp_path / "api.yaml")
    assert (spec.spot, spec.tasks[0].external, spec.tasks[0].internal.port) == (False, None, 80)
    assert spec.tasks[0].container_port == 8080
    bad = dualalb_kit_cli("init", "api2", "-d", str(tmp_path), "--external-port", "0", "--internal-port", "0")
    assert (bad.returncode, bad.stderr) == (
        2,
        "error: tasks[0]: task 'app' needs external, internal or both\n",
    )
    assert not (tmp_path / "api2.yaml").exists()


def test_init_asks_on_a_terminal(tmp_path):
    controller, terminal = os.openpty()
    try:
        os.write(controller, b"shop\neu-west-1\n\n8080\n0\n\nno\n")
        result = dualalb_kit_cli("init", "-d", str(tmp_path), stdin=terminal)
    finally:
        os.close(controller)
        os.close(terminal)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stack name [dualalb-app]: AWS region [us-east-1]: container image [")
    spec = load_spec(tmp_path / "shop.yaml")
    assert (spec.stack_name, spec.region, spec.spot) == ("shop", "eu-west-1", False)
    assert (spec.tasks[0].container_port, spec.tasks[0].external, spec.tasks[0].internal.port) == (
        8080,
        None,
        80,
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [("dualalb-kit sy", ["synth"]), ("dualalb-kit synth --no", ["--no-nag", "--no-lint"])],
)
def test_shell_completion(tmp_path, line, expected):
    script = dualalb_kit_cli("completion")
    assert script.returncode == 0 and "complete " in script.stdout and "dualalb-kit" in script.stdout
    answers = tmp_path / "completions"
    environment = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answers),
    }
    result = subprocess.run([str(Path(sys.executable).parent / "dualalb-kit")], env=environment, check=False)
    assert result.returncode == 0
    assert answers.read_text().split("\v") == [word + " " * (len(expected) == 1) for word in expected]


@pytest.mark.sandbox
def test_deploy_diff_and_metrics_json_and_a_params_file_for_traffic_and_metrics(sandbox, tmp_path):
    import yaml

    data = yaml.safe_load((ROOT / "params" / "internal-only.yaml").read_text())
    data["stack_name"] = "cli-json"
    params = tmp_path / "cli-json.yaml"
    params.write_text(yaml.safe_dump(data))
    url = ["--endpoint-url", sandbox.endpoint_url]

    deployed = dualalb_kit_cli("deploy", str(params), *url, "--no-progress", "--json")
    assert deployed.returncode == 0, deployed.stderr
    document = json.loads(deployed.stdout)
    assert document["stack_name"] == "cli-json"
    assert document["outputs"]["InternalEndpointPrivate"] == "http://backoffice.corp.internal"
    diff = dualalb_kit_cli("diff", str(params), *url, "--json")
    assert (diff.returncode, json.loads(diff.stdout)) == (0, [])

    window = ["--start", "2026-01-05T00:00:00Z", "--end", "2026-01-05T01:00:00Z", *url]
    traffic = dualalb_kit_cli("traffic", str(params), *window, "--seed", "3")
    assert traffic.returncode == 0, traffic.stderr
    assert traffic.stdout.startswith(
        "SYNTHETIC traffic for cli-json, 2026-01-05 00:00 to 2026-01-05 01:00 UTC"
    )
    metrics = dualalb_kit_cli("metrics", str(params), *window, "--json")
    assert metrics.returncode == 0, metrics.stderr
    rows = json.loads(metrics.stdout)
    assert set(rows[0]) == {"timestamp", "service", "alb", "metric", "stat", "value"}
    requests = [r for r in rows if r["metric"] == "RequestCount" and r["stat"] == "Sum"]
    assert {r["service"] for r in requests} == {"ledger", "reports"} and len(requests) == 2 * 60
    assert requests[0]["timestamp"] == "2026-01-05T00:00:00.000Z"


def test_progress_is_one_line_per_stage_when_stderr_is_not_a_terminal():
    code = """
from dualalb_kit.progress import ProgressBar, ResourceEvent
for stage, total in (("bootstrap", 2), ("deploy shop", 3)):
    with ProgressBar(stage, total) as bar:
        for done in range(1, total + 1):
            event = ResourceEvent("shop", "CREATE_COMPLETE", "AWS::ECS::Service", "S", done=done, total=total)
            bar.update(event)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr == "bootstrap: 2/2 resources\ndeploy shop: 3/3 resources\n"


def test_examples_writes_the_notebooks_and_params_files_and_keeps_existing_ones(tmp_path):
    first = dualalb_kit_cli("examples", str(tmp_path / "kit"))
    assert first.returncode == 0, first.stderr
    written = sorted(str(p.relative_to(tmp_path / "kit")) for p in (tmp_path / "kit").rglob("*.*"))
    assert written == sorted(
        [f"params/{p.name}" for p in (ROOT / "params").glob("*.yaml")]
        + [f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")]
    )
    assert (tmp_path / "kit" / "params" / "sample.yaml").read_text() == (
        ROOT / "params" / "sample.yaml"
    ).read_text()
    (tmp_path / "kit" / "params" / "sample.yaml").write_text("mine")
    again = dualalb_kit_cli("examples", str(tmp_path / "kit"))
    assert again.returncode == 2 and "--force" in again.stderr and len(again.stderr.splitlines()) == 1
    assert (tmp_path / "kit" / "params" / "sample.yaml").read_text() == "mine"
    forced = dualalb_kit_cli("examples", str(tmp_path / "kit"), "--force")
    assert forced.returncode == 0
    assert (tmp_path / "kit" / "params" / "sample.yaml").read_text() != "mine"


def test_every_command_has_help_written_for_users():
    top = dualalb_kit_cli("--help")
    assert top.returncode == 0
    for command in ("synth", "init", "examples", "completion", "deploy", "diff", "metrics", "traffic"):
        assert f"    {command}" in top.stdout
    sample = dualalb_kit_cli("sample", "--help")
    assert sample.returncode == 0
    assert "Run the sample's order, customer and product services on 127.0.0.1" in " ".join(
        sample.stdout.split()
    )
    assert "``" not in sample.stdout


def test_batch_json_is_its_summary_table(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "stack_name: bad\ntasks:\n  - {name: a, image: nginx, desired_count: -1, internal: {port: 80}}\n"
    )
    result = dualalb_kit_cli("batch", str(bad), "--json", "--workers", "1", "-o", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["params"], row["status"], row["result"]) == (
        str(bad),
        "invalid",
        "tasks[0].desired_count: -1 is negative",
    )
    assert "Execute a notebook for each params file" in dualalb_kit_cli("batch", "--help").stdout
