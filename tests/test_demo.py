"""``make demo``: the walkthrough end to end in its own sandbox, and what it leaves in ``out/``."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from dualalb_kit.demo import STEPS, run_demo
from dualalb_kit.sandbox import sandbox_environment

pytestmark = pytest.mark.sandbox

KEY = r"(?:password|secret|token)"
PASSWORD_WITH_PUNCTUATION = (
    r"(?i)"
    # a JSON key and value, also escaped inside a notebook's JSON: "password": "8+ characters"
    rf"""(?<![\w.$\\])\\*"{KEY}\\*"\s*:\s*\\*"(?:\\.|[^"\\\s]){{8,}}"""
    # a Python dict's repr: 'password': '8+ characters' (or "..." when the value holds a ')
    rf"""|(?<![\w.$\\])'{KEY}'\s*:\s*(?:'(?:\\.|[^'\\\s]){{8,}}|"(?:\\.|[^"\\\s]){{8,}})"""
    # a line of YAML, an env file or a log: password: 8+ characters / PASSWORD=8+ characters
    rf"""|(?m:^\s*{KEY}(?::\s+|\s*=\s*)\S{{8,}})"""
)
"""A secret's value with any punctuation, where a key names it (minified JavaScript in the HTML,
``password:!0`` or ``o.password=t``, is not a value)."""

SECRET_PATTERNS = [
    re.compile(pattern)
    for pattern in (
        r"AKIA[0-9A-Z]{16}",  # an access key id
        r"(?i)aws_secret_access_key",
        r"(?i)aws_session_token",
        # a key (not part of a longer name: getToken=getToken in the page's JavaScript) and 8+ letters
        r"(?i)(?<![\w.$])\"?(password|secret|token)\"?\s*[:=]\s*\"?[A-Za-z0-9/+]{8,}",
        PASSWORD_WITH_PUNCTUATION,
    )
]


def secret_patterns_in(text: str) -> list[str]:
    """The SECRET_PATTERNS that match somewhere in ``text``."""
    return [pattern.pattern for pattern in SECRET_PATTERNS if pattern.search(text)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DUALALB_SANDBOX_URL", raising=False)
        code = run_demo(out)
    return code, out


@pytest.mark.slow
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


PLOT_CALL = re.compile(r"\bplot_\w+\(")


@pytest.mark.slow
def test_every_plotting_cell_draws_an_image_in_the_notebook_and_its_html(demo):
    """A figure shows as a PNG, never as ``<Figure size ... with N Axes>``."""
    _, out = demo
    plotting_cells = 0
    for _, notebook, _ in STEPS:
        executed = nbformat.read(out / Path(notebook).stem / "sample.ipynb", as_version=4)
        html = (out / Path(notebook).stem / "sample.html").read_text()
        cells = [
            cell for cell in executed.cells if cell.cell_type == "code" and PLOT_CALL.search(cell.source)
        ]
        for cell in cells:
            images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            assert len(images) == 1, cell.source
            png = images[0].data["image/png"].replace("\n", "")
            assert f"data:image/png;base64,{png[:200]}" in html, cell.source
        plotting_cells += len(cells)
    assert plotting_cells == 5  # 03: metrics, capacity curves, load bands, tasks, cost


@pytest.mark.slow
def test_the_report_shows_the_design_outputs_metrics_capacity_and_recommendations_in_order(demo):
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
    headings = [
        "ALB → listener → service",
        "Resources by type",
        "cdk-nag findings (unacknowledged)",
        "Deployed stack outputs",
        "Metrics per service",
        "Capacity per task: p99 and CPU against load",
        "Capacity per task within the SLO",
        "Load bands: the share of minutes breaking the SLO against load per task",
        "Load bands per service (the capacity is read from them)",
        "Recommended scaling per service",
        "Why",
        "What the analysis found, per service, and what to do",
        "Changes to the params file",
        "What-if simulation",
    ]
    positions = [report.index(f"<h3>{heading}") for heading in headings]
    assert positions == sorted(positions)
    assert report.count("<svg") == 1  # the diagram, inline
    assert report.count("src='data:image/png;base64,") == 5  # metrics, capacity, bands, tasks, cost
    assert "<th>USD/month</th>" in report and "<th>requests/min per task at SLO</th>" in report
    assert "Synthetic traffic" in report
    assert report.count("<td>capacity</td>") == 3 and report.count("High: the 90 % interval") == 3
    analysis = json.loads((out / "03_scaling_analysis" / "sample.json").read_text())
    assert analysis["destroyed"] is True and analysis["simulation_rows"] == 12
    start, end = (pd.Timestamp(moment) for moment in analysis["window"])
    assert end - start == pd.Timedelta(days=7)
    assert [row["service"] for row in analysis["capacity"]] == ["customer", "order", "product"]
    assert all(row["confidence"] == "high" for row in analysis["capacity"])
    assert [row["service"] for row in analysis["recommendations"]] == ["customer", "order", "product"]


@pytest.mark.slow
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
        assert not secret_patterns_in(text), path
    assert scanned >= 10


def test_the_secret_scan_finds_a_generated_password_with_punctuation(sandbox):
    """Passwords as Secrets Manager generates them (punctuation included), however an output holds them."""
    from dualalb_kit.target import as_target

    secrets = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("secretsmanager")
    for _ in range(20):
        password = secrets.get_random_password(PasswordLength=16, RequireEachIncludedType=True)[
            "RandomPassword"
        ]
        plain = secrets.get_random_password(
            PasswordLength=16, RequireEachIncludedType=True, ExcludeCharacters='"\\'
        )["RandomPassword"]
        assert set(password) & set(string.punctuation) and set(plain) & set(string.punctuation)
        secret_json = json.dumps({"username": "admin", "password": password})
        for text in (
            f"password: {plain}",
            f"PASSWORD={plain}",
            secret_json,  # a secret's value as printed
            json.dumps({"text": secret_json}),  # ... and inside a notebook's JSON
        ):
            assert PASSWORD_WITH_PUNCTUATION in secret_patterns_in(text), text
    for harmless in (
        '"password": "(short)", "secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"',
        "password:!0,image:!0",
        "o.password=t.slice(a+1)",
    ):
        assert secret_patterns_in(harmless) == [], harmless
