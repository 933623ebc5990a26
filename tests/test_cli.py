"""The deploy, diff, traffic, metrics and destroy commands: what they print and their exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dualalb_kit.aws import aws_client
from dualalb_kit.sandbox.server import free_port

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
    stacks = aws_client("cloudformation", endpoint_url=url).describe_stacks()["Stacks"]
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
