"""Every command's flags are typed and bounded when parsed (issue 27, item 3): one bad value of
each exits 2 with a one-line message naming the flag, no traceback, before any work starts.
In process: ``main(argv)`` with capsys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dualalb_kit.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = str(ROOT / "params" / "sample.yaml")

# (command line, the flag or value the message names); {tmp} is a fresh folder, {file} a file
# in it, {ro} a folder the user cannot write
CASES = [
    ("synth {tmp}/missing.yaml", "missing.yaml"),
    ("init --container-port 70000", "--container-port"),
    ("init --external-port -1", "--external-port"),
    ("init --internal-port x", "--internal-port"),
    ("init -d {tmp}/missing", "-d/--directory"),
    ("init -d {file}", "-d/--directory"),
    ("init -d {ro}", "-d/--directory"),
    ("init --container-port 0", "--container-port"),
    ("examples {file}", "directory"),
    ("completion --shell csh", "--shell"),
    ("deploy {tmp}/missing.yaml", "missing.yaml"),
    ("deploy " + SAMPLE + " --target nowhere", "--target"),
    ("diff " + SAMPLE + " --target nowhere", "--target"),
    ("destroy " + SAMPLE + " --target nowhere", "--target"),
    ("traffic stack --hours nan", "--hours"),
    ("traffic stack --hours 1e9", "--hours"),
    ("traffic stack --hours 100000", "--hours"),
    ("traffic stack --hours 0", "--hours"),
    ("traffic stack --seed -1", "--seed"),
    ("traffic stack --base-rate inf", "--base-rate"),
    ("metrics stack --hours nan", "--hours"),
    ("metrics stack --hours -3", "--hours"),
    ("metrics stack --period 7", "--period"),
    ("metrics stack -o {tmp}/missing/m.csv", "-o/--output"),
    ("metrics stack -o {tmp}", "-o/--output"),
    ("metrics stack -o {ro}/m.csv", "-o/--output"),
    ("recommend " + SAMPLE + " --hours inf", "--hours"),
    ("recommend " + SAMPLE + " --headroom 1.5", "--headroom"),
    ("recommend " + SAMPLE + " --max-cpu 150", "--max-cpu"),
    ("recommend " + SAMPLE + " --p99-ms 0", "--p99-ms"),
    ("recommend " + SAMPLE + " --max-5xx-per-1k -1", "--max-5xx-per-1k"),
    ("recommend " + SAMPLE + " --capacity {tmp}/missing.csv", "--capacity"),
    ("recommend " + SAMPLE + " -o {tmp}/missing/r.yaml", "-o/--output"),
    ("recommend " + SAMPLE + " -o {ro}/r.yaml", "-o/--output"),
    ("demo --params /nonexistent.yaml", "--params"),
    ("demo -o {file}", "-o/--out-dir"),
    ("demo -o {ro}/out", "-o/--out-dir"),
    ("demo -o {file}/out", "-o/--out-dir"),
    ("loadtest http://127.0.0.1:1/ --max-rps -1", "--max-rps"),
    ("loadtest http://127.0.0.1:1/ --start-rps 0", "--start-rps"),
    ("loadtest http://127.0.0.1:1/ --step-seconds nan", "--step-seconds"),
    ("loadtest http://127.0.0.1:1/ --duration 0", "--duration"),
    ("loadtest http://127.0.0.1:1/ --repeats 0", "--repeats"),
    ("loadtest http://127.0.0.1:1/ --refine-steps -1", "--refine-steps"),
    ("loadtest http://127.0.0.1:1/ --tasks -2", "--tasks"),
    ("loadtest http://127.0.0.1:1/ --max-cpu 0", "--max-cpu"),
    ("sandbox --port 70000", "--port"),
    ("sandbox --port 0", "--port"),
    ("sandbox nowhere", "action"),
    ("batch --set a=[", "--set"),
    ("batch --set novalue", "--set"),
    ("batch --set nag=maybe", "--set"),
    ("batch --notebook {file}", "--notebook"),
    ("batch --notebook {tmp}/missing.ipynb", "--notebook"),
    ("batch --workers 0", "--workers"),
    ("batch -o {ro}/out", "-o/--out-dir"),
    ("batch -o {file}", "-o/--out-dir"),
    ("sample up --port 70000", "--port"),
    ("sample up --timeout -1", "--timeout"),
    ("sample up --timeout nan", "--timeout"),
]


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    """{tmp}, {file} and {ro}: a read-only folder (as root, whom permissions do not stop, one on
    a read-only file system)."""
    file = tmp_path / "x.yaml"
    file.write_text("stack_name: x\n")
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    if os.access(read_only, os.W_OK):
        read_only = Path("/proc/sys")
    assert not os.access(read_only, os.W_OK)
    return {"tmp": str(tmp_path), "file": str(file), "ro": str(read_only)}


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit:  # argparse's error, in the parsers batch and sample own
        return exit.code


@pytest.mark.parametrize(("command", "named"), CASES, ids=[command for command, _ in CASES])
def test_a_bad_flag_value_exits_2_with_one_line_naming_it(command, named, places, capsys, monkeypatch):
    monkeypatch.delenv("DUALALB_SANDBOX_URL", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    argv = [part.format(**places) for part in command.split()]
    code = run(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert named in errors[0], err
    assert out == ""


def test_metrics_json_with_output_writes_json(tmp_path, monkeypatch):
    """``metrics --json -o m.json`` writes JSON, not CSV."""
    import json

    import pandas as pd

    from dualalb_kit.cli import observe

    frame = pd.DataFrame({"time": pd.to_datetime(["2024-01-01T00:00Z"]), "metric": ["m"], "value": [1.0]})
    monkeypatch.setattr(observe, "stack_target", lambda args: None)
    monkeypatch.setattr("dualalb_kit.metrics.load_metrics", lambda *args, **kwargs: frame)
    output = tmp_path / "m.json"
    assert main(["metrics", "stack", "--json", "-o", str(output)]) == 0
    assert json.loads(output.read_text()) == [
        {"time": "2024-01-01T00:00:00.000Z", "metric": "m", "value": 1.0}
    ]
