"""Each optional part of the kit, missing: the command or import that needs it fails with one line
naming the extra (exit 2 from the CLI), and the core (synth) goes on without cfn-lint.

A module is "missing" here because the test blocks its import (``sys.modules[name] = None``) in
a fresh interpreter; the wheel test (test_wheel.py) checks a real core-only install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dualalb_kit.errors import MissingExtraError
from dualalb_kit.extras import EXTRA_OF_MODULE, missing_extra

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}


def _run_blocked(module: str, code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, cwd=cwd, env=ENV, timeout=120
    )


def _cli_blocked(module: str, args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return _run_blocked(module, f"from dualalb_kit.cli import main; sys.exit(main({args!r}))", cwd)


def test_every_extra_named_for_a_module_exists_in_pyproject():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(EXTRA_OF_MODULE.values()) <= set(extras)
    assert set(extras) == {"sandbox", "analysis", "notebook", "scale", "loadtest", "lint", "all"}
    everything = " ".join(extras["all"])
    assert all(name in everything for name in extras if name != "all")


@pytest.mark.parametrize(
    ("module", "args", "extra"),
    [
        ("moto", ["sandbox"], "sandbox"),
        ("nbformat", ["batch", "params/sample.yaml"], "notebook"),
        ("distributed", ["batch", "params/sample.yaml"], "scale"),
        ("fsspec", ["batch", "params/sample.yaml"], "scale"),
        ("locust", ["loadtest", "http://127.0.0.1:9/"], "loadtest"),
        ("matplotlib", ["demo", "-o", "out/never-written"], "analysis"),
        ("papermill", ["demo", "-o", "out/never-written"], "notebook"),
    ],
)
def test_a_command_without_its_extra_exits_2_naming_the_extra(module, args, extra):
    result = _cli_blocked(module, args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"[{extra}]" in lines[0] and f"pip install 'dualalb-kit[{extra}]'" in lines[0]
    assert not (ROOT / "out" / "never-written").exists()


@pytest.mark.parametrize(
    ("module", "library", "extra"),
    [
        ("matplotlib", "dualalb_kit.plots", "analysis"),
        ("ipywidgets", "dualalb_kit.widgets", "notebook"),
        ("ipykernel", "dualalb_kit.kernel_app", "notebook"),
        ("nbformat", "dualalb_kit.notebook_html", "notebook"),
        ("distributed", "dualalb_kit.fleet", "scale"),
        ("distributed", "dualalb_kit.cluster", "scale"),
        ("locust", "dualalb_kit.loadgen", "loadtest"),
        ("jupyter_client", "dualalb_kit.batch", "notebook"),
    ],
)
def test_a_library_module_without_its_extra_raises_missing_extra(module, library, extra):
    code = (
        "from dualalb_kit.errors import MissingExtraError\n"
        f"try:\n    import {library}\nexcept MissingExtraError as error:\n    print(error.extra, error)\n"
    )
    result = _run_blocked(module, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{extra} ") and f"[{extra}]" in result.stdout


def test_synth_without_cfn_lint_synthesizes_and_says_how_to_lint(tmp_path):
    result = _cli_blocked("cfnlint", ["synth", "params/sample.yaml", "--no-nag", "-o", str(tmp_path / "a")])
    assert result.returncode == 0, result.stderr
    assert "pip install 'dualalb-kit[lint]'" in result.stderr
    assert "Findings: not checked (--no-nag --no-lint)" in result.stdout
    assert (tmp_path / "a" / "manifest.json").is_file()


def test_a_broken_install_is_not_reported_as_a_missing_extra():
    broken = ModuleNotFoundError("No module named 'six'", name="six")
    assert missing_extra(broken, "plots") is broken
    missing = missing_extra(ModuleNotFoundError("x", name="matplotlib.dates"), "plots")
    assert isinstance(missing, MissingExtraError) and missing.extra == "analysis"
    assert str(missing) == (
        "plots needs the [analysis] extra (matplotlib is not installed): pip install 'dualalb-kit[analysis]'"
    )
