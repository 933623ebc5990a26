"""The kit outside its checkout: the wheel, installed from the lock into a new environment in a
folder of its own, writes its examples, synthesizes one without any extra, and with [sandbox]
deploys and destroys it against its own sandbox."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dualalb_kit.sandbox.server import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).with_name("uv")
NOT_IN_CORE = {"jupyterlab", "moto", "dask", "distributed", "locust", "s3fs", "cfn-lint", "matplotlib"}


def _run(*args: object, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, check=check, timeout=900, **kwargs
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(UV, "build", "--out-dir", out, ROOT, cwd=ROOT)  # the sdist, then the wheel built from it
    (built,) = out.glob("dualalb_kit-*.whl")
    return built


def _environment(folder: Path, wheel: Path, *extras: str) -> dict[str, str]:
    """A new virtual environment in ``folder`` with the lock's pins for ``extras`` and the wheel;
    returns the environment variables that use it (its bin first on PATH, a private cache)."""
    venv = folder / "venv"
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    requirements = folder / "requirements.txt"
    extra_flags = [flag for extra in extras for flag in ("--extra", extra)]
    _run(
        UV, "export", "--frozen", "--no-dev", "--no-emit-project", *extra_flags, "-o", requirements, cwd=ROOT
    )
    python = venv / "bin" / "python"
    _run(UV, "pip", "install", "--quiet", "--python", python, "--require-hashes", "-r", requirements)
    _run(UV, "pip", "install", "--quiet", "--python", python, "--no-deps", wheel)
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "JSII_NODE"}
    }
    return {
        **environment,
        "PATH": f"{venv / 'bin'}{os.pathsep}{environment['PATH']}",
        "XDG_CACHE_HOME": str(folder / "cache"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _distributions(env: dict[str, str]) -> set[str]:
    listed = _run(UV, "pip", "list", "--python", Path(env["PATH"].split(os.pathsep)[0]) / "python", env=env)
    return {line.split()[0].lower() for line in listed.stdout.splitlines()[2:] if line.strip()}


def test_core_install_synthesizes_without_any_extra(tmp_path, wheel):
    env = _environment(tmp_path, wheel)
    installed = _distributions(env)
    assert "dualalb-kit" in installed and "aws-cdk-lib" in installed
    assert not installed & NOT_IN_CORE, installed & NOT_IN_CORE

    work = tmp_path / "work"
    written = _run("dualalb-kit", "examples", work, env=env, cwd=tmp_path)
    assert "wrote 14 files" in written.stdout  # 5 notebooks and 9 params files
    assert (work / "notebooks" / "03_scaling_analysis.ipynb").is_file()

    synth = _run("dualalb-kit", "synth", "params/sample.yaml", env=env, cwd=work, check=False)
    assert synth.returncode == 0, synth.stderr
    assert "pip install 'dualalb-kit[lint]'" in synth.stderr
    assert (work / "cdk.out" / "dualalb-sample" / "manifest.json").is_file()
    imported = _run("python", "-c", "from dualalb_kit import DualAlbFargateService; print('ok')", env=env)
    assert imported.stdout.strip() == "ok"

    for command in (["deploy", "params/sample.yaml"], ["sandbox"]):
        refused = _run("dualalb-kit", *command, env=env, cwd=work, check=False)
        assert refused.returncode == 2, refused.stderr
        assert "pip install 'dualalb-kit[sandbox]'" in refused.stderr
        assert "Traceback" not in refused.stderr


def test_sandbox_extra_deploys_and_destroys_outside_the_checkout(tmp_path, wheel):
    env = _environment(tmp_path, wheel, "sandbox")
    work = tmp_path / "work"
    _run("dualalb-kit", "examples", work, env=env, cwd=tmp_path)
    port = free_port()
    server = subprocess.Popen(
        ["dualalb-kit", "sandbox", "--port", str(port)], env=env, cwd=work, stdout=subprocess.PIPE, text=True
    )
    try:
        first_line = server.stdout.readline()
        assert f"listening on http://localhost:{port}" in first_line
        url = f"http://localhost:{port}"
        deployed = _run(
            "dualalb-kit",
            "deploy",
            "params/sample.yaml",
            "--endpoint-url",
            url,
            "--no-progress",
            env=env,
            cwd=work,
            check=False,
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert re.search(r"dualalb-sample", deployed.stdout)
        assert list((tmp_path / "cache" / "dualalb-kit").glob("toolchain-*/node_modules/aws-cdk/bin/cdk"))
        destroyed = _run(
            "dualalb-kit",
            "destroy",
            "params/sample.yaml",
            "--endpoint-url",
            url,
            "--yes",
            "--no-progress",
            env=env,
            cwd=work,
            check=False,
        )
        assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
