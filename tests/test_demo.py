"""``make demo``: the walkthrough end to end in its own sandbox, and what it leaves in ``out/``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from dualalb_kit.demo import STEPS, run_demo
from dualalb_kit.sandbox import sandbox_environment

pytestmark = pytest.mark.sandbox

SECRET_PATTERNS = [
    re.compile(pattern)
    for pattern in (
        r"AKIA[0-9A-Z]{16}",  # an access key id
        r"(?i)aws_secret_access_key",
        r"(?i)aws_session_token",
        r"(?i)\"?(password|secret|token)\"?\s*[:=]\s*\"?[A-Za-z0-9/+]{8,}",
    )
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DUALALB_SANDBOX_URL", raising=False)
        code = run_demo(out)
    return code, out


def test_the_demo_exits_0_with_every_notebook_free_of_errors(demo):
    code, out = demo
    assert code == 0
    for _, notebook, _ in STEPS:
        executed = nbformat.read(out / Path(notebook).stem / "sample.ipynb", as_version=4)
        errors = [
            o
            for cell in executed.cells
            if cell.cell_type == "code"
            for o in cell.outputs
            if o.output_type == "error"
        ]
        assert errors == [], notebook
        assert (out / Path(notebook).stem / "sample.html").stat().st_size > 10_000


def test_the_report_shows_outputs_plots_and_the_simulation_table(demo):
    _, out = demo
    report = (out / "report.html").read_text()
    deployed = json.loads((out / "02_deploy" / "sample.json").read_text())["stack_outputs"]
    assert set(deployed) == {
        "ExternalEndpoint",
        "ExternalEndpointPrivate",
        "InternalEndpoint",
        "InternalEndpointPrivate",
    }
    assert all(f"<td>{value}</td>" in report for value in deployed.values())
    assert report.count("src='data:image/png;base64,") == 3
    assert "What-if simulation" in report and "<th>request_per_target</th>" in report
    assert "Synthetic traffic" in report
    analysis = json.loads((out / "03_scaling_analysis" / "sample.json").read_text())
    assert analysis["destroyed"] is True and analysis["simulation_rows"] == 12


def test_no_credential_or_secret_in_any_output(demo):
    _, out = demo
    dummy = {
        value
        for key, value in sandbox_environment("http://localhost:1").items()
        if "KEY" in key or "TOKEN" in key
    }
    assert dummy == {"testing"}
    scanned = 0
    for path in out.rglob("*"):
        if not path.is_file() or path.suffix in {".png", ".gz", ".zip"}:
            continue
        text = path.read_text(errors="replace")
        scanned += 1
        assert not any(value in text for value in dummy), path
        assert not [pattern.pattern for pattern in SECRET_PATTERNS if pattern.search(text)], path
    assert scanned >= 10
