"""The toolchain: dependency lists agree, jsii runs on the kit's Node 24, setup is idempotent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_the_lock_agrees_with_pyproject():
    """``uv lock --check`` fails when pyproject.toml changed without ``make lock``."""
    uv = Path(sys.executable).with_name("uv")
    result = subprocess.run(
        [str(uv), "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_setup_installs_exactly_the_lock_with_the_pinned_uv():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(UV) sync --frozen --extra all --group dev" in makefile
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    (uv_pin,) = [requirement for requirement in dev if requirement.startswith("uv==")]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {package["name"]: package["version"] for package in lock["package"]}
    assert uv_pin == f"uv=={locked['uv']}"
    assert locked["moto"] == "5.2.5", "the sandbox's gap-fills are tested with moto 5.2.5"


def test_environment_yml_pins_what_the_lock_pins():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from environment_yml import environment_yml, pinned_requirements
    finally:
        sys.path.remove(str(ROOT / "tools"))
    assert (ROOT / "environment.yml").read_text() == environment_yml(), "run `make lock`"
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert "moto==5.2.5 ; sys_platform == 'darwin' or sys_platform == 'linux'" in pip_section
    assert all("==" in requirement for requirement in pinned_requirements())


JSII_NODES = (
    "import dualalb_kit, json, os, aws_cdk, psutil\n"
    "nodes = [child.cmdline() for child in psutil.Process().children(recursive=True)]\n"
    "print(json.dumps({'JSII_NODE': os.environ['JSII_NODE'], 'nodes': nodes}))"
)
"""Python that starts jsii and prints ``JSII_NODE`` and the command lines of jsii's Node processes."""


def jsii_nodes(env: dict[str, str]) -> tuple[dict[str, Any], str]:
    result = subprocess.run(
        [sys.executable, "-c", JSII_NODES], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(result.stdout), result.stderr


def test_jsii_runs_on_the_kits_node_24_with_v8_on_one_thread(tmp_path):
    from dualalb_kit.runtime import node_executable

    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"} | {"XDG_CACHE_HOME": str(tmp_path)}
    started, stderr = jsii_nodes(env)
    launcher = Path(started["JSII_NODE"])
    assert launcher.parent == tmp_path / "dualalb-kit"
    assert [node[:2] for node in started["nodes"]] == [[str(node_executable()), "--single-threaded"]] * 2
    version = subprocess.run([launcher, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v24.")
    assert "end-of-life" not in stderr


def test_jsii_gets_plain_node_where_the_launcher_cannot_be_written_and_the_users_node_when_set(tmp_path):
    from dualalb_kit.runtime import node_executable

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"} | {"XDG_CACHE_HOME": str(not_a_folder)}
    started, _ = jsii_nodes(env)
    assert started["JSII_NODE"] == str(node_executable())
    plain = [str(node_executable()), "--max-old-space-size=4069"]
    assert [node[:2] for node in started["nodes"]] == [plain] * 2

    chosen, _ = jsii_nodes(env | {"JSII_NODE": str(node_executable())})
    assert chosen["JSII_NODE"] == str(node_executable())


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


def test_setup_compiled_the_installed_packages_and_the_kit_to_bytecode():
    import importlib.util

    import aws_cdk.aws_ec2
    import pandas

    import dualalb_kit.spec

    for module in (aws_cdk.aws_ec2, pandas, dualalb_kit.spec):
        assert Path(importlib.util.cache_from_source(module.__file__)).is_file(), module.__name__
