"""The synth path imports only what synthesis needs: pandas, numpy, boto3, botocore's loader and
matplotlib load when a table, a lookup or a plot asks for them, not with the modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFERRED = ["pandas", "numpy", "boto3", "botocore.loaders", "matplotlib"]


def loaded_after(code: str) -> list[str]:
    """Which of :data:`DEFERRED` a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_synth_path_and_loading_a_spec_leaves_the_heavy_libraries_unloaded():
    code = (
        "import dualalb_kit.cli, dualalb_kit.synth, dualalb_kit.build, dualalb_kit.diagram\n"
        "import dualalb_kit.context, dualalb_kit.lint, dualalb_kit.template\n"
        "from dualalb_kit.spec import load_spec\n"
        "load_spec('params/sample.yaml')"
    )
    assert loaded_after(code) == []


def test_a_table_loads_pandas_when_asked():
    code = (
        "from dualalb_kit.diagram import topology\n"
        "assert list(topology({'Resources': {}}).columns)[:2] == ['alb', 'scheme']"
    )
    assert loaded_after(code) == ["pandas", "numpy"]


def test_a_synthesis_leaves_pandas_to_its_tables(tmp_path):
    """``synth`` returns before pandas loads, so the CLI hands the template to cfn-lint first."""
    code = (
        "from dualalb_kit.spec import load_spec\nfrom dualalb_kit.synth import synth\n"
        f"result = synth(load_spec('params/sample.yaml'), {str(tmp_path / 'out')!r}, nag=False)\n"
        "assert result.finding_rows == []"
    )
    assert loaded_after(code) == []
