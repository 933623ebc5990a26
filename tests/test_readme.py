"""The README's analysis example runs as written against a sandbox."""

from __future__ import annotations

import re
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
