"""`dualalb-kit sandbox --live` as a user runs it: deploy prints the local URLs, `sandbox urls`
lists them, and SIGTERM or Ctrl-C stops HAProxy and every task process the sandbox started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import stop_tree

from dualalb_kit.sandbox.server import free_port

pytestmark = [pytest.mark.live, pytest.mark.sandbox, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def _family(process: subprocess.Popen) -> dict[str, list[psutil.Process]]:
    """The sandbox's descendants by kind: HAProxy processes and sample task processes."""
    kinds: dict[str, list[psutil.Process]] = {"haproxy": [], "task": []}
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        if "haproxy" in child.name():
            kinds["haproxy"].append(child)
        elif command.endswith("service.py"):
            kinds["task"].append(child)
    return kinds


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_deploy_prints_local_urls_and_stopping_the_sandbox_stops_everything_it_started(stop_signal):
    port = free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "dualalb_kit.cli", "sandbox", "--live", "--port", str(port)],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert "listening on" in sandbox.stdout.readline()
        url = f"http://localhost:{port}"
        deployed = _cli("deploy", "params/sample.yaml", "--endpoint-url", url, "--no-progress")
        assert deployed.returncode == 0, deployed.stderr
        served = deployed.stdout.split("Served on this machine (live sandbox):\n", 1)[1].splitlines()
        assert len(served) == 4 and all("http://127.0.0.1:" in line for line in served)
        listed = _cli("sandbox", "urls", "--endpoint-url", url)
        assert listed.returncode == 0 and sorted(listed.stdout.split()) == sorted(" ".join(served).split())

        # Tasks started while the stack was still being created are replaced once the private names
        # resolve: wait for six that stay six (the data plane reconciles every 2 s).
        deadline, steady = time.monotonic() + 120, 0
        while steady < 10 and time.monotonic() < deadline:
            steady = steady + 1 if len(_family(sandbox)["task"]) == 6 else 0
            time.sleep(0.5)
        started = _family(sandbox)
        assert len(started["task"]) == 6 and started["haproxy"], started
        sandbox.send_signal(stop_signal)
        assert sandbox.wait(timeout=60) in (0, 130)
        gone, alive = psutil.wait_procs([*started["task"], *started["haproxy"]], timeout=10)
        assert alive == [], alive
    finally:
        stop_tree(sandbox)
