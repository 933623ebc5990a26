"""The sandbox knows its moto: it starts only on a supported version, and every private part of
moto its gap-fills rely on is still there, with the same signature."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

from dualalb_kit.errors import UnsupportedMotoError
from dualalb_kit.sandbox.moto_surface import (
    MOTO_REQUIREMENT,
    SURFACE,
    MotoName,
    check_moto_version,
    difference,
    original_shapes,
    surface_differences,
)
from dualalb_kit.sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parent.parent
UNSUPPORTED = "5.2.6"


@pytest.fixture(scope="module")
def found_shapes() -> dict[str, str]:
    """Every SURFACE name's shape in the installed moto, found once in a fresh process."""
    return original_shapes(entry.name for entry in SURFACE)


@pytest.mark.parametrize("expected", SURFACE, ids=[entry.name for entry in SURFACE])
def test_moto_still_has_what_the_gap_fills_rely_on(expected, found_shapes):
    mismatch = difference(expected, found_shapes[expected.name])
    assert mismatch is None, mismatch


def test_a_changed_or_missing_name_is_reported_by_name():
    differences = surface_differences(
        [
            MotoName("moto.core.request.determine_request_protocol", "(service_model)"),
            MotoName("moto.core.utils.get_service_model", "(service_name)"),
            MotoName("moto.core.request.no_such_function", "(request)"),
        ]
    )
    assert differences == [
        "moto.core.request.determine_request_protocol: expected (service_model), "
        "found (service_model, content_type=None)",
        "moto.core.request.no_such_function: expected (request), found missing",
    ]


def test_the_installed_moto_is_the_supported_one_and_the_pin_says_so():
    assert check_moto_version() == "5.2.5"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert MOTO_REQUIREMENT in pyproject["project"]["optional-dependencies"]["sandbox"]


@pytest.fixture
def unsupported_moto_metadata(tmp_path: Path) -> Path:
    """A folder holding moto 5.2.6's metadata (no code): first on the path, it is what
    ``importlib.metadata`` reports for moto, while the installed moto stays importable."""
    dist_info = tmp_path / f"moto-{UNSUPPORTED}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: moto\nVersion: {UNSUPPORTED}\n")
    return tmp_path


def python_with_first_on_path(folder: Path) -> dict[str, str]:
    """The environment of a child Python that finds ``folder`` first on its path."""
    path = [str(folder), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "AWS_EC2_METADATA_DISABLED": "true"}


def test_the_sandbox_command_refuses_an_unsupported_moto_in_one_line(unsupported_moto_metadata):
    result = subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", "sandbox"],
        capture_output=True,
        text=True,
        env=python_with_first_on_path(unsupported_moto_metadata),
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: the sandbox supports moto 5.2.5, but moto 5.2.6 is installed: ")
    assert "make setup" in line


def test_a_sandbox_on_an_unsupported_moto_stops_before_listening(unsupported_moto_metadata, monkeypatch):
    monkeypatch.syspath_prepend(str(unsupported_moto_metadata))
    threads = set(threading.enumerate())
    sandbox = Sandbox()
    with pytest.raises(UnsupportedMotoError, match=f"but moto {UNSUPPORTED} is installed"):
        sandbox.start()
    assert sandbox._server is None
    assert set(threading.enumerate()) == threads
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", sandbox.port))  # nothing took the port


def test_a_refused_sandbox_imports_no_moto(unsupported_moto_metadata):
    code = (
        "import sys\n"
        "from dualalb_kit.errors import UnsupportedMotoError\n"
        "from dualalb_kit.sandbox import Sandbox\n"
        "try:\n"
        "    Sandbox().start()\n"
        "except UnsupportedMotoError:\n"
        "    print(sorted(name for name in sys.modules if name.split('.')[0] == 'moto'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=python_with_first_on_path(unsupported_moto_metadata),
    )
    assert result.stdout == "[]\n"


def test_importing_the_sandbox_imports_no_moto():
    result = subprocess.run(
        [sys.executable, "-c", "import dualalb_kit.sandbox, sys; print('moto' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true"},
    )
    assert result.stdout == "False\n"
