"""The CLI ends as soon as its command returned (``runtime.exit_now``): the exit status, what it
printed and the files it wrote are all there, and jsii's Node leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "params" / "sample.yaml"


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(scratch)},
    )


def _left_in(folder: Path, timeout: float = 15.0) -> list[str]:
    """What stays in ``folder`` once jsii's Node (no longer waited for) had time to exit."""
    deadline = time.monotonic() + timeout
    while (left := sorted(path.name for path in folder.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_a_synth_exits_0_with_its_whole_output_and_assembly_and_node_cleans_up(tmp_path):
    out = tmp_path / "assembly"
    run = _cli(tmp_path, "synth", str(SAMPLE), "--no-nag", "--no-lint", "-o", str(out), "--json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)  # the whole document reached the pipe before the process ended
    assert document["assembly_dir"] == str(out)
    manifest = json.loads((out / "manifest.json").read_text())
    template = json.loads((out / f"{document['stack_name']}.template.json").read_text())
    assert document["stack_name"] in manifest["artifacts"]
    assert sorted(template["Resources"]) == sorted(row["logical_id"] for row in document["resources"])
    assert _left_in(tmp_path / "tmp") == []  # jsii's kernel and runtime folders are gone


def test_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path):
    params = tmp_path / "bad.yaml"
    data = yaml.safe_load(SAMPLE.read_text())
    data["tasks"][0]["cpu"] = 300
    params.write_text(yaml.safe_dump(data))
    run = _cli(tmp_path, "synth", str(params), "--no-nag", "--no-lint", "-o", str(tmp_path / "never"))
    assert run.returncode == 2
    assert run.stderr.startswith("invalid") or "cpu" in run.stderr.splitlines()[-1]
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "never").exists()


def test_in_process_callers_get_the_status_back_and_keep_their_interpreter(tmp_path):
    from dualalb_kit.cli import main

    assert main(["synth", str(tmp_path / "missing.yaml")]) == 2
