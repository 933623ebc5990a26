"""Papermill batch runs on a small notebook: parallel runs, per-run files, failures kept apart."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from dualalb_kit import batch

SAMPLE = Path(__file__).parents[1] / "params" / "sample.yaml"


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    """Reads its spec parameters, fails on ``fail_on`` and writes ``stack_outputs`` to ``results_path``."""
    parameters = new_code_cell(
        'stack_name = "x"\nspot = False\ntasks = []\nresults_path = None\nfail_on = None'
    )
    parameters.metadata["tags"] = ["parameters"]
    body = new_code_cell(
        "import json\n"
        "if stack_name == fail_on:\n"
        "    raise RuntimeError(f'{stack_name} was told to fail')\n"
        "outputs = {'Services': ','.join(task['name'] for task in tasks), 'Spot': str(spot)}\n"
        "json.dump({'stack_outputs': outputs}, open(results_path, 'w'))\n"
        "print('password' not in outputs)"
    )
    notebook = new_notebook(cells=[parameters, body])
    notebook.metadata["kernelspec"] = {
        "name": batch.KERNEL_NAME,
        "display_name": "dualalb-kit",
        "language": "python",
    }
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    return path


def _params(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_runs_every_params_file_and_one_failure_does_not_stop_the_others(tmp_path, notebook):
    failing = _params(tmp_path, "failing", SAMPLE.read_text().replace("dualalb-sample", "boom"))
    broken = _params(
        tmp_path, "broken", "stack_name: broken\ntasks: [{name: web, image: nginx, internal: {port: 0}}]\n"
    )
    summary = batch.run_batch(
        [SAMPLE, failing, broken],
        notebook=notebook,
        workers=2,
        out_dir=tmp_path / "out",
        parameters={"fail_on": "boom"},
    )
    assert list(summary.columns) == batch.SUMMARY_COLUMNS
    rows = summary.set_index("params")
    assert rows["status"].to_dict() == {str(SAMPLE): "passed", str(failing): "failed", str(broken): "invalid"}
    assert rows.loc[str(SAMPLE), "result"] == "Services=order,customer,product; Spot=True"
    assert rows.loc[str(failing), "result"] == "RuntimeError: boom was told to fail"
    assert rows.loc[str(broken), "result"] == "tasks[0].internal.port: 0 is not a port (1-65535)"
    assert pd.isna(rows.loc[str(broken), "executed"])

    run_dir = tmp_path / "out" / "tiny"
    for name in ("sample", "failing"):
        executed = nbformat.read(run_dir / f"{name}.ipynb", as_version=4)
        assert any("injected-parameters" in cell.metadata.get("tags", []) for cell in executed.cells)
        assert "<html" in (run_dir / f"{name}.html").read_text()[:500].lower()
    assert "was told to fail" in (run_dir / "failing.html").read_text()
    assert json.loads((run_dir / "sample.json").read_text())["stack_outputs"]["Spot"] == "True"
    assert not (run_dir / "failing.json").exists() and not (run_dir / "broken.ipynb").exists()
    assert (summary["duration_s"] >= 0).all()


def test_the_cli_prints_the_summary_and_exits_1_when_a_run_fails(tmp_path, notebook, capsys):
    missing = tmp_path / "missing.yaml"
    code = batch.main(
        [str(SAMPLE), str(missing), "--notebook", str(notebook), "--jobs", "1", "-o", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert code == 1
    assert "passed" in printed and "invalid" in printed and f"{missing} does not exist" in printed
    assert f"{tmp_path / 'tiny'}/" in printed


def test_the_cli_exits_0_when_all_pass_and_2_on_bad_usage(tmp_path, notebook, capsys):
    assert (
        batch.main([str(SAMPLE), "--notebook", str(notebook), "-o", str(tmp_path), "--set", "spot=false"])
        == 0
    )
    assert json.loads((tmp_path / "tiny" / "sample.json").read_text())["stack_outputs"]["Spot"] == "True"
    assert batch.main([str(SAMPLE), "--notebook", str(tmp_path / "nope.ipynb")]) == 2
    assert batch.main([str(SAMPLE), "--notebook", str(notebook), "--jobs", "0"]) == 2
    assert batch.main([str(SAMPLE), "--notebook", str(notebook), "--set", "novalue"]) == 2
    assert "is not KEY=VALUE" in capsys.readouterr().err


def test_the_kernel_spec_is_installed():
    from jupyter_client.kernelspec import KernelSpecManager

    assert batch.ensure_kernel() == "dualalb-kit"
    spec = KernelSpecManager().get_kernel_spec("dualalb-kit")
    assert Path(spec.argv[0]).parent == Path(sys.executable).parent


def test_the_summary_shows_outputs_or_else_the_runs_plain_values():
    from dualalb_kit.batch import summarize_results

    deployed = {"stack_outputs": {"B": "http://b", "A": "http://a"}, "destroyed": False}
    assert summarize_results(deployed) == "A=http://a; B=http://b"
    assert summarize_results({"outputs": ["ExternalEndpoint", "InternalEndpoint"]}) == (
        "ExternalEndpoint, InternalEndpoint"
    )
    analysed = {"figures": ["load.png"], "recommended": {"max_capacity": 4}, "destroyed": True}
    assert summarize_results(analysed) == "recommended={'max_capacity': 4}; destroyed=True"
