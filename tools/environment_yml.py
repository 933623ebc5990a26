"""Print environment.yml for conda users: Python and pip from conda-forge, every package pinned as in uv.lock.

``make lock`` runs it after refreshing the lock; tests/test_packaging.py checks that the
checked-in environment.yml is what it prints.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = """\
# Conda environment for dualalb-kit with every package pinned as in uv.lock (written by `make lock`
# from `uv export`; do not edit by hand). The kit itself is installed with all its extras.
name: dualalb-kit
channels:
  - conda-forge
dependencies:
  - python>=3.11,<3.14
  - pip
  - pip:
"""


def pinned_requirements() -> list[str]:
    """The lock's packages for `[all]` (no dev tools, not the kit), one `name==version ; markers` each."""
    uv = Path(sys.executable).with_name("uv")
    exported = subprocess.run(
        [
            str(uv),
            "export",
            "--frozen",
            "--extra",
            "all",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--no-annotate",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.strip() for line in exported.splitlines() if line.strip() and not line.startswith("#")]


def environment_yml() -> str:
    """The whole file: header, the pins, then the kit with every extra."""
    lines = [f'      - "{requirement}"' for requirement in pinned_requirements()]
    return HEADER + "\n".join([*lines, "      - -e .[all]"]) + "\n"


if __name__ == "__main__":
    sys.stdout.write(environment_yml())
