"""``dualalb-kit live-demo`` end to end: the sample in the live sandbox under the same stepped load
twice, before and after the kit's recommendation, judged by what the sandbox measured."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from dualalb_kit.capacity import SLO
from dualalb_kit.errors import ValidationError
from dualalb_kit.spec import load_spec

STEPS = 5


@pytest.mark.live
@pytest.mark.sandbox
@pytest.mark.slow
def test_the_recommended_policy_keeps_the_slo_the_first_run_broke(tmp_path):
    out = tmp_path / "live-demo"
    run = subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", "live-demo", "-o", str(out), "--steps", str(STEPS)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    print(run.stdout[-6000:], run.stderr[-3000:])
    assert run.returncode == 0, run.stderr[-3000:]

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
