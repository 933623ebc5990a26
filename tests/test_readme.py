"""The README's examples run as written, and its analysis section quotes the code's constants."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dualalb_kit import capacity, findings, scaling
from dualalb_kit.sandbox import Sandbox

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example(heading: str) -> str:
    section = README.read_text().split(f"## {heading}\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.sandbox
def test_the_metrics_and_scaling_example_runs(monkeypatch):
    """In a sandbox of its own: the example deploys params/sample.yaml under its real stack name."""
    monkeypatch.chdir(README.parent)
    with Sandbox() as sandbox:
        namespace = {"url": sandbox.endpoint_url}
        exec(compile(readme_example("Metrics and scaling analysis"), "README.md", "exec"), namespace)
    metrics, result, mixes = namespace["metrics"], namespace["result"], namespace["mixes"]
    assert metrics.attrs["synthetic"] is True
    assert set(metrics["service"].dropna()) == {"order", "customer", "product"}
    assert metrics.loc[metrics["metric"] == "RequestCount", "value"].sum() > 0
    assert set(result.tasks["service"]) == {"order", "customer", "product"}
    assert list(mixes["mix"])[0] and (mixes["cost"] > 0).all()
    assert len(namespace["figures"]) == 3


def test_the_construct_example_synthesizes_on_node_24(tmp_path):
    """Run in a fresh interpreter, as a user would: the stack synthesizes and jsii never warns."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text().split("## Quick start\n", 1)[1], re.S)
    construct_example = next(block for block in blocks if "DualAlbFargateService(" in block)
    script = tmp_path / "example.py"
    script.write_text(construct_example)
    environment = {**os.environ, "CDK_OUTDIR": str(tmp_path / "cdk.out")}  # as the CDK CLI sets it
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr
    template = json.loads((tmp_path / "cdk.out" / "demo.template.json").read_text())
    kinds = [r["Type"] for r in template["Resources"].values()]
    assert kinds.count("AWS::ElasticLoadBalancingV2::LoadBalancer") == 2
    assert kinds.count("AWS::ECS::Service") == 1


def test_the_analysis_section_states_the_methods_constants_as_the_code_has_them():
    """Each number the README gives for the capacity method is the constant the code uses."""
    section = (
        README.read_text().split("### Capacity per task and recommendations\n", 1)[1].split("\n### ", 1)[0]
    )
    text = " ".join(section.split())  # line breaks as spaces
    for phrase in (
        f"at most {capacity.BREACH_SHARE * 100:g} % of minutes break the SLO",
        f"grouped into {capacity.BANDS} load bands",
        f"`held_requests_per_task` is the {capacity.HELD_MINUTES}th busiest minute",
        f"with fewer than {capacity.HELD_MINUTES / capacity.HELD_SHARE:,.0f} minutes below it, the busiest "
        f"{capacity.HELD_SHARE * 100:g} % of them",
        f"never more than {capacity.MAX_EXTRAPOLATION * 100:g} % past the held load",
        f"by {capacity.CHANGE_SHIFT * 100:g} % of the limit and {capacity.CHANGE_Z:g} standard errors",
        f"need {capacity.MIN_SIDE_HOURS} hours of data on either side",
        f"repeated on {capacity.BOOTSTRAP_SAMPLES} seeded block-bootstrap resamples",
        f"their {capacity.INTERVAL[0]:g}th and {capacity.INTERVAL[1]:g}th percentiles "
        f"(a {capacity.INTERVAL[1] - capacity.INTERVAL[0]:g} % interval)",
        f"`high` when the interval is within ±{capacity.NARROW * 100:g} % of the capacity, "
        f"`medium` within ±{capacity.MEDIUM * 100:g} %",
        f"with fewer than {capacity.MIN_STRETCH_HOURS} hours of data",
        f"ramped to {scaling.LOADTEST_REACH:g} x the estimate",
        f"already keeps {scaling.SLO_MINUTES * 100:g} % of minutes within the SLO",
        f"merges a service's bands into {findings.BAND_ROWS} load ranges",
    ):
        assert phrase in text, phrase
