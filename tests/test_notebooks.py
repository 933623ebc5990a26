"""The notebooks: parameters cells that take a params file, 01 executed per params file, 03 run
twice in one kernel, and how each ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import papermill
import pytest

from dualalb_kit import batch
from dualalb_kit.deploy import destroy
from dualalb_kit.diagram import topology
from dualalb_kit.spec import DeploymentSpec, load_spec
from dualalb_kit.target import as_target

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [
    ROOT / "notebooks" / name
    for name in ("01_design_and_synth.ipynb", "02_deploy.ipynb", "03_scaling_analysis.ipynb")
]
ALL_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PARAMS = sorted((ROOT / "params").glob("*.yaml"))
RUN_OPTIONS = {"target", "endpoint_url", "start", "end", "results_path"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_parameters_cell_declares_every_spec_field_and_the_run_options(notebook):
    declared = set(papermill.inspect_notebook(str(notebook)))
    assert declared >= set(DeploymentSpec.model_fields) | RUN_OPTIONS


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=lambda path: path.stem)
def test_notebooks_are_committed_without_outputs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert sum("parameters" in cell["metadata"].get("tags", []) for cell in code) == 1
    assert sum(cell["cell_type"] == "markdown" for cell in cells) >= 5


@pytest.mark.parametrize(
    ("notebook", "following"),
    [
        ("01_design_and_synth", "02_deploy"),
        ("02_deploy", "03_scaling_analysis"),
        ("03_scaling_analysis", "04_wordpress"),
        ("04_wordpress", "05_live"),
        ("05_live", "01_design_and_synth"),
    ],
)
def test_each_notebook_ends_with_a_printed_summary_and_a_link_to_the_next(notebook, following):
    cells = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    title = json.loads((ROOT / "notebooks" / f"{following}.ipynb").read_text())["cells"][0]["source"][0]
    assert cells[-1]["cell_type"] == "markdown"
    assert f"[{title.removeprefix('# ').strip()}]({following}.ipynb)" in "".join(cells[-1]["source"])
    code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    summary_cell = next(source for source in code if "write_summary(results_path, summary)" in source)
    assert summary_cell.rstrip().splitlines()[-1] != "summary"  # a sentence, not the dict's repr
    assert "print(" in summary_cell


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """01 executed with ``papermill -f params/X.yaml`` for every params file, two at a time."""
    batch.ensure_kernel()
    out = tmp_path_factory.mktemp("notebooks")
    env = {key: value for key, value in os.environ.items() if key != "DUALALB_SANDBOX_URL"}
    results, pending = {}, []
    for params in PARAMS:
        result = out / f"{params.stem}.json"
        command = [
            sys.executable,
            "-m",
            "papermill",
            str(NOTEBOOKS[0]),
            str(out / f"{params.stem}.ipynb"),
            "-f",
            str(params),
            "-p",
            "results_path",
            str(result),
            "-p",
            "outdir",
            str(out / params.stem),
            "-p",
            "nag",
            "False",
            "--cwd",
            str(out),
            "--no-progress-bar",
        ]
        pending.append(
            (
                params,
                result,
                subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
            )
        )
        if len(pending) == 2 or params == PARAMS[-1]:
            for name, path, process in pending:
                log = process.communicate()[0].decode(errors="replace")
                assert process.returncode == 0, f"{name.name}:\n{log[-3000:]}"
                results[name.name] = json.loads(path.read_text())
            pending = []
    return results


@pytest.mark.slow
@pytest.mark.parametrize("params", PARAMS, ids=lambda path: path.name)
def test_the_template_reflects_the_params_file(executed, params):
    spec = load_spec(params)
    summary = executed[params.name]
    template = json.loads(Path(summary["template_path"]).read_text())
    resources = template["Resources"].values()
    assert summary["stack_name"] == spec.stack_name and summary["lint_errors"] == 0
    if spec.pattern == "wordpress":
        types = {r["Type"] for r in resources}
        assert {"AWS::RDS::DBCluster", "AWS::EFS::FileSystem", "AWS::ECS::Service"} <= types
        return
    if spec.pattern == "laravel":
        types = {r["Type"] for r in resources}
        database = "AWS::RDS::DBInstance" if spec.laravel.single_db_instance else "AWS::RDS::DBCluster"
        assert {database, "AWS::ECS::Service", "AWS::SecretsManager::Secret"} <= types
        assert ("AWS::EFS::FileSystem" in types) is spec.laravel.efs_file_system
        return
    zones = [r["Properties"]["Name"] for r in resources if r["Type"] == "AWS::Route53::HostedZone"]
    assert zones == [spec.route53.zone_name + "."]
    services = {
        next(tag["Value"] for tag in r["Properties"]["Tags"] if tag["Key"] == "dualalb:service"): r[
            "Properties"
        ]
        for r in resources
        if r["Type"] == "AWS::ECS::Service"
    }
    assert sorted(services) == sorted(task.name for task in spec.tasks)
    for task in spec.tasks:
        props = services[task.name]
        assert props["DesiredCount"] == task.desired_count
        assert [
            (item["CapacityProvider"], item.get("Base", 0), item["Weight"])
            for item in props["CapacityProviderStrategy"]
        ] == [(item.provider, item.base, item.weight) for item in task.capacity_strategy(spec.spot)]
        assert props["EnableExecuteCommand"] is spec.enable_execute_command
    listeners = topology(template)
    for side in ("external", "internal"):
        expected = sorted((getattr(t, side).port, t.name) for t in spec.tasks if getattr(t, side) is not None)
        rows = listeners[(listeners["alb"] == side) & (listeners["action"] == "forward")]
        assert sorted(zip(rows["port"], rows["service"], strict=True)) == expected
    records = sorted(r["Properties"]["Name"] for r in resources if r["Type"] == "AWS::Route53::RecordSet")
    expected_records = [
        f"{getattr(spec.route53, f'{side}_record')}.{spec.route53.zone_name}."
        for side in ("external", "internal")
        if any(getattr(t, side) for t in spec.tasks)
    ]
    assert records == sorted(expected_records)


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_wordpress_notebook_deploys_and_shows_the_secret_arn_never_its_value(sandbox, tmp_path):
    batch.ensure_kernel()
    result = tmp_path / "wordpress.json"
    executed = tmp_path / "04_wordpress.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "04_wordpress.ipynb"),
        str(executed),
        parameters={
            "stack_name": "notebook-wordpress",
            "endpoint_url": sandbox.endpoint_url,
            "outdir": str(tmp_path / "cdk.out"),
            "results_path": str(result),
            "destroy_at_end": False,  # the test reads the secret's value first, then destroys
        },
        kernel_name=batch.KERNEL_NAME,
        kernel_manager_class=batch.LocalKernelManager,
        cwd=str(ROOT),
        progress_bar=False,
    )
    summary = json.loads(result.read_text())
    assert summary["pattern"] == "wordpress"
    assert summary["nag_findings"] == 0
    assert summary["secret_arn"].startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:")
    assert summary["database_instance_classes"] == ["db.serverless"]
    assert summary["file_system_encrypted"] is True
    assert set(summary["outputs"]) == {
        "DatabaseEndpoint",
        "DatabaseSecretArn",
        "ExternalEndpoint",
        "FileSystemId",
    }
    secrets = as_target(endpoint_url=sandbox.endpoint_url).client("secretsmanager")
    password = json.loads(secrets.get_secret_value(SecretId=summary["secret_arn"])["SecretString"])[
        "password"
    ]
    assert password and password not in executed.read_text()
    destroy(
        tmp_path / "cdk.out", progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)
    )


@pytest.mark.slow
@pytest.mark.sandbox
def test_rerunning_notebook_03_in_the_same_kernel_gives_the_same_numbers(sandbox, tmp_path):
    """Run All twice in one kernel: the second run neither publishes the week again nor doubles it."""
    from nbclient import NotebookClient
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    batch.ensure_kernel()
    results = tmp_path / "summary.json"
    parameters = {
        "stack_name": "rerun-03",
        "target": "sandbox",
        "endpoint_url": sandbox.endpoint_url,
        "start": "2026-01-05T00:00:00Z",
        "end": "2026-01-12T00:00:00Z",
        "results_path": str(results),
        "outdir": str(tmp_path / "assembly"),
    }
    notebook = parameterize_notebook(load_notebook_node(str(NOTEBOOKS[2])), parameters)
    client = NotebookClient(
        notebook, kernel_name=batch.KERNEL_NAME, timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    )
    runs = []
    try:
        with client.setup_kernel():
            for _ in range(2):
                for index, cell in enumerate(notebook.cells):
                    client.execute_cell(cell, index)
                runs.append(json.loads(results.read_text()))
    finally:
        destroy(
            load_spec(ROOT / "params" / "sample.yaml").model_copy(update={"stack_name": "rerun-03"}),
            progress=False,
            target=as_target("sandbox", endpoint_url=sandbox.endpoint_url),
        )
    first, second = runs
    assert first["synthetic"] and sum(first["requests"].values()) > 1_000_000
    assert second["requests"] == first["requests"]
    capacity = [[row["requests_per_task_at_slo"] for row in run["capacity"]] for run in runs]
    assert capacity[1] == capacity[0]
    recommended = [
        [(row["request_per_target"], row["cost_per_month_usd"]) for row in run["recommendations"]]
        for run in runs
    ]
    assert recommended[1] == recommended[0]
