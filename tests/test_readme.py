"""The README's analysis example runs as written against a sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
