"""The README stays short, its links resolve, and its examples run as written."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import dualalb_kit
from dualalb_kit.sandbox.server import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_LINES = 250

SETUP_COMMANDS = {"make demo", "make test", "make setup"}
"""The README's set-up commands, which the shell test does not rerun: ``make test`` is this suite,
``make demo`` runs in ``tests/test_demo.py``, and ``make setup`` made the environment the test runs
in (the kit's ``.venv``)."""

README_SANDBOX_PORT = "4599"  # the quick start's sandbox port; the test serves on a free one instead


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced code block of ``text`` as (language, body)."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)


def shell_commands(text: str) -> tuple[list[str], list[str]]:
    """The lines of ``text``'s bash blocks: those run as written, and the set-up commands skipped."""
    run, skipped = [], []
    for language, body in fenced_blocks(text):
        if language != "bash":
            continue
        for line in body.splitlines():
            command = line.split(" #", 1)[0].strip()
            (skipped if command in SETUP_COMMANDS else run).append(line)
    return run, skipped


def test_the_readme_is_at_most_250_lines():
    assert len(README.read_text().splitlines()) <= MAX_LINES


def test_the_readmes_links_point_at_files_of_the_checkout():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert "docs/install.md" in local and "docs/guides/analysis.md" in local
    assert [link for link in local if not (ROOT / link).is_file()] == []


def test_the_readmes_code_blocks_are_bash_or_python():
    """So that no shell command hides in a block the shell test does not read."""
    assert {language for language, _ in fenced_blocks(README.read_text())} == {"bash", "python"}


@pytest.mark.slow
@pytest.mark.sandbox
def test_every_shell_command_in_the_readme_runs_as_written(tmp_path):
    """Every bash block, in order, in one shell (``-euo pipefail``) in a fresh folder holding the
    kit's venv at ``.venv`` and the shipped ``params/``; only the set-up commands are left out, and
    the quick start's sandbox serves on a free port instead of 4599."""
    commands, skipped = shell_commands(README.read_text())
    assert sorted(line.split(" #", 1)[0].strip() for line in skipped) == sorted(SETUP_COMMANDS)
    script = "\n".join(commands)
    assert f"--port {README_SANDBOX_PORT}" in script
    port = free_port()
    script = script.replace(README_SANDBOX_PORT, str(port))
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "params").symlink_to(ROOT / "params")
    environment = {key: value for key, value in os.environ.items() if key != "DUALALB_SANDBOX_URL"}
    shell = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the sandbox it starts in the background is in its process group
    )
    try:
        stdout, stderr = shell.communicate(timeout=900)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the README stops it; a failed run may not
            os.killpg(shell.pid, signal.SIGKILL)
    assert shell.returncode == 0, stderr
    assert f"listening on http://localhost:{port}" in (tmp_path / "sandbox.log").read_text()
    assert "ExternalEndpoint" in stdout
    assert (tmp_path / "shop.yaml").exists()
    assert (tmp_path / "mykit" / "params" / "sample.yaml").is_file()
    assert f"dualalb-kit {dualalb_kit.__version__}\n" in stdout
    document, _ = json.JSONDecoder().raw_decode(stdout[stdout.index("{\n") :])
    assert document["stack_name"] == "shop" and document["listeners"]


def test_the_construct_example_synthesizes_on_node_24(tmp_path):
    """Run in a fresh interpreter, as a user would: the stack synthesizes and jsii never warns."""
    blocks = [body for language, body in fenced_blocks(README.read_text()) if language == "python"]
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
