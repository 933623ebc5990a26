"""`dualalb-kit recommend`: metrics from a deployed stack in the sandbox -> a params file with the
recommended scaling, the per-value diff, and the same answer as the library."""

from __future__ import annotations

import json
import stat

import boto3
import pytest
from test_metrics import hand_template

from dualalb_kit.cli import main
from dualalb_kit.metrics import load_metrics
from dualalb_kit.scaling import recommend_policies
from dualalb_kit.spec import SAMPLE_PARAMS, load_spec
from dualalb_kit.target import as_target
from dualalb_kit.traffic import LoadProfile, generate_traffic

STACK = "recommend-hand"
START, END = "2025-02-03", "2025-02-05"  # Monday and Tuesday


@pytest.fixture(scope="module")
def busy_stack(sandbox) -> str:
    """The hand-made stack (order, customer, product on both ALBs) with two busy synthetic days."""
    cloudformation = boto3.client(
        "cloudformation",
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(hand_template()))
    cloudformation.get_waiter("stack_create_complete").wait(StackName=STACK, WaiterConfig={"Delay": 1})
    profile = LoadProfile(base_rate=60, task_capacity_rps=50, seed=11)
    generate_traffic(STACK, profile, START, END, target=as_target(endpoint_url=sandbox.endpoint_url))
    return STACK


def run(sandbox, *extra: str) -> int:
    window = ["--start", START, "--end", END, "--endpoint-url", sandbox.endpoint_url]
    return main(["recommend", str(SAMPLE_PARAMS), "--stack", STACK, *window, *extra])


@pytest.mark.sandbox
def test_recommend_writes_the_recommended_params_file_and_prints_each_change(
    sandbox, busy_stack, tmp_path, capsys
):
    output = tmp_path / "sample-recommended.yaml"
    assert run(sandbox, "-o", str(output)) == 0
    printed = capsys.readouterr().out

    spec = load_spec(SAMPLE_PARAMS)
    metrics = load_metrics(STACK, START, END, target=as_target(endpoint_url=sandbox.endpoint_url))
    expected = recommend_policies(metrics, spec).set_index("service")
    written = load_spec(output)
    for task in written.tasks:
        row = expected.loc[task.name]
        assert task.scaling.request_per_target == row["request_per_target"]
        assert task.scaling.min_capacity == row["min_capacity"]
        assert task.scaling.max_capacity == row["max_capacity"]
        assert task.scaling.target_cpu_utilization == row["target_cpu_utilization"]
    assert (expected["confidence"] == "high").all()  # the generator's load reaches capacity
    order = expected.loc["order"]
    assert f"tasks[0].scaling.request_per_target: 1000 -> {order['request_per_target']}" in printed
    assert "SLO: p99 500 ms, CPU 70 %, 1 5xx per 1,000 requests" in printed
    assert f"order: {order['why']}" in printed
    assert f"wrote {output}" in printed
    assert written.model_dump(exclude={"tasks"}) == spec.model_dump(exclude={"tasks"})


@pytest.mark.sandbox
def test_recommend_json_has_the_recommendations_and_the_changes(sandbox, busy_stack, capsys):
    assert run(sandbox, "--json", "--p99-ms", "250") == 0
    document = json.loads(capsys.readouterr().out)
    assert [row["service"] for row in document["recommendations"]] == ["customer", "order", "product"]
    changed = {row["field"] for row in document["changes"]}
    for index, row in enumerate(document["recommendations"]):
        task = ["order", "customer", "product"].index(row["service"])  # the params file's order
        field = f"tasks[{task}].scaling.request_per_target"
        assert (field in changed) == (row["request_per_target"] != row["current_request_per_target"]), index
    assert all(row["limited_by"] == "latency" for row in document["recommendations"])
    for row in document["recommendations"]:  # the capacity's interval and the input's own breaches
        assert row["capacity_low"] <= row["requests_per_task_at_slo"] <= row["capacity_high"], row["why"]
        assert row["observed_minutes_over_slo"] > 0 and row["change_at"] is None


@pytest.mark.sandbox
def test_recommend_rejects_a_region_other_than_the_params_files(sandbox, busy_stack, capsys):
    assert run(sandbox, "--region", "eu-west-1") == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "region: the params file says us-east-1 but --region (region=) says eu-west-1; "
            "use one region: drop --region or change the params file"
        )
    )


@pytest.mark.sandbox
def test_the_recommended_params_file_keeps_a_private_params_files_mode(sandbox, busy_stack, tmp_path):
    private = tmp_path / "sample.yaml"
    private.write_text(SAMPLE_PARAMS.read_text())
    private.chmod(0o600)
    output = tmp_path / "recommended.yaml"
    window = ["--start", START, "--end", END, "--endpoint-url", sandbox.endpoint_url]
    assert main(["recommend", str(private), "--stack", STACK, *window, "-o", str(output)]) == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
