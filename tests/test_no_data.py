"""Faults say what happened (issue 27, item 6): metrics and recommend on a stack without
datapoints say so and exit 2 writing nothing; destroying a stack that does not exist says so."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dualalb_kit.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = str(ROOT / "params" / "sample.yaml")


@pytest.fixture
def no_datapoints(monkeypatch):
    """load_metrics answers a stack whose every metric has no datapoint (as a fresh stack's)."""
    from dualalb_kit.cli import observe

    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(["2024-01-01T00:00Z", "2024-01-01T00:01Z"]),
            "service": ["order", "order"],
            "metric": ["RequestCount", "CPUUtilization"],
            "value": [float("nan"), float("nan")],
        }
    )
    monkeypatch.setattr(
        observe, "stack_target", lambda args: type("Where", (), {"in_region": lambda self, r: self})()
    )
    monkeypatch.setattr("dualalb_kit.metrics.load_metrics", lambda *args, **kwargs: frame)


@pytest.mark.parametrize(
    "command",
    [["metrics", "dualalb-sample", "-o", "{out}/m.csv"], ["recommend", SAMPLE, "-o", "{out}/r.yaml"]],
    ids=["metrics", "recommend"],
)
def test_no_datapoints_is_exit_2_and_writes_nothing(command, no_datapoints, tmp_path, capsys):
    code = main([part.format(out=tmp_path) for part in command])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("error: no datapoints for dualalb-sample from ")
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_destroying_a_stack_that_does_not_exist_says_so(sandbox, tmp_path, capsys):
    params = tmp_path / "never-deployed.yaml"
    params.write_text(
        Path(SAMPLE).read_text().replace("stack_name: dualalb-sample", "stack_name: never-deployed")
    )
    code = main(["destroy", str(params), "--endpoint-url", sandbox.endpoint_url, "--yes", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("no stack never-deployed on ")
    assert "nothing to destroy" in out
    assert "destroyed" not in out
