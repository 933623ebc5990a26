"""The live demo end to end: the sample in the live sandbox under the same stepped load twice,
before and after the kit's recommendation, judged by what the sandbox measured. The slow test runs
it as a user does in JupyterLab, through notebook 05 (``run_live_demo``, the function behind
``dualalb-kit live-demo``, whose flags the fast test follows into that call)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from dualalb_kit import batch, cli
from dualalb_kit.capacity import SLO
from dualalb_kit.errors import ValidationError
from dualalb_kit.spec import SAMPLE_PARAMS, load_spec

ROOT = Path(__file__).resolve().parents[1]
STEPS = 5


@pytest.mark.live
@pytest.mark.sandbox
@pytest.mark.slow
def test_the_recommended_policy_keeps_the_slo_the_first_run_broke(tmp_path):
    out = tmp_path / "live-demo"
    batch.ensure_kernel()
    executed = tmp_path / "05_live.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "05_live.ipynb"),
        str(executed),
        parameters={"out_dir": str(out), "steps": STEPS, "results_path": str(tmp_path / "live.json")},
        kernel_name=batch.KERNEL_NAME,
        kernel_manager_class=batch.LocalKernelManager,
        cwd=str(ROOT),
        progress_bar=False,
    )
    notebook = nbformat.read(executed, as_version=4)
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    print(printed[-6000:])
    # The scale-out shows as it happens: each step's line names the order service's tasks.
    assert printed.count("requests/s: p99") >= 2 * STEPS and "running" in printed
    plot_cell = next(cell for cell in notebook.cells if "plot_live_runs(" in cell.source)
    assert any("image/png" in output.get("data", {}) for output in plot_cell.outputs)
    assert [run["run"] for run in json.loads((tmp_path / "live.json").read_text())["runs"]] == [
        "today's policy",
        "recommended",
    ]

    summary = pd.read_csv(out / "summary.csv").set_index("run")
    minutes = pd.read_csv(out / "minutes.csv")
    assert list(summary.index) == ["today's policy", "recommended"]
    for label, run_minutes in minutes.groupby("run"):
        assert len(run_minutes) >= STEPS - 1, (label, run_minutes)  # every complete minute measured
        assert summary.loc[label, "minutes"] == len(run_minutes)
    before, after = summary.loc["today's policy"], summary.loc["recommended"]
    # The first run starts at one task: the ramp takes it past its capacity (SLO broken).
    assert before["minutes_over_slo"] >= 1, before
    # The recommendation holds the SLO on the same load, measured (not replayed): 99 % of minutes.
    assert after["p99_within_slo_percent"] >= 99.0, after
    assert after["worst_p99_ms"] <= SLO().p99_ms, after
    # What holding it costs is said: more tasks than one, priced.
    assert after["average_tasks"] > before["average_tasks"] - 1e-9 and after["cost_per_month_usd"] > 0

    report = (out / "report.md").read_text()
    for heading in (
        "## Side by side",
        "## today's policy",
        "## Capacity per task",
        "## What the analysis found",
        "## The load test",
        "## The recommendation",
    ):
        assert heading in report
    first, second = (load_spec(out / name) for name in ("live-demo.yaml", "recommended.yaml"))
    assert _order(second).scaling != _order(first).scaling  # the second run deployed a change


def test_the_live_demo_command_passes_its_flags_to_the_demo(monkeypatch, tmp_path):
    """Fast: ``dualalb-kit live-demo``'s flags reach :func:`run_live_demo` (which the slow test runs)."""
    calls = []
    monkeypatch.setattr(
        "dualalb_kit.live_demo.run_live_demo", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    argv = ["live-demo", "-o", str(tmp_path / "demo"), "--steps", "3", "--start-rps", "2", "--max-rps", "9"]
    assert cli.main([*argv, "--work-ms", "7"]) == 0
    assert calls == [
        ((tmp_path / "demo", SAMPLE_PARAMS), {"start_rps": 2.0, "max_rps": 9.0, "steps": 3, "work_ms": 7.0})
    ]
    refused = subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", "live-demo", "--max-rps", "500", "-o", str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2 and "max_rps" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "x").exists()


def _order(spec):
    (task,) = [task for task in spec.tasks if task.name == "order"]
    return task


def test_the_demos_params_start_the_order_service_at_one_task_doing_its_work(tmp_path):
    """Fast: the first run's params (what today's policy means in the demo) and the bounds."""
    from dualalb_kit.live_demo import STACK_NAME, demo_params, run_live_demo

    params = demo_params(work_ms=12)
    (order,) = [task for task in params["tasks"] if task["name"] == "order"]
    assert params["stack_name"] == STACK_NAME
    assert (order["desired_count"], order["scaling"]["min_capacity"]) == (1, 1)
    assert order["environment"]["WORK_MS"] == "12"
    assert order["scaling"]["request_per_target"] == 1000  # the rest as in params/sample.yaml
    for bad in ({"max_rps": 500.0}, {"start_rps": 30.0}, {"steps": 0}):
        with pytest.raises(ValidationError, match="max_rps|steps"):
            run_live_demo(tmp_path, **bad)
    assert list(tmp_path.iterdir()) == []  # refused before anything was written or started
