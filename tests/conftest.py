"""Shared fixtures: one real sandbox server per test session, on a free loopback port; ``stop_tree``
for tests that start the kit's commands as processes; ``listening`` for the loopback checks."""

from __future__ import annotations

import contextlib
import signal
import subprocess

import psutil
import pytest

from dualalb_kit.sandbox import Sandbox

# A harness that starts the tests in the background (`cmd &` in a non-interactive shell) ignores
# SIGINT, and the ignore passes on to every command the tests start, so Ctrl-C could not stop
# them. Python's own handler instead: a child resets it to the default when it executes.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

LOOPBACK = {"127.0.0.1", "::1"}


def listening(process: psutil.Process) -> set[tuple[str, int, int]]:
    """(address, port, pid) of every TCP socket listening in ``process`` and its descendants."""
    found = set()
    for member in [process, *process.children(recursive=True)]:
        try:
            connections = member.net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        found |= {
            (c.laddr.ip, c.laddr.port, member.pid) for c in connections if c.status == psutil.CONN_LISTEN
        }
    return found


def stop_tree(process: subprocess.Popen) -> None:
    """Kill ``process`` and every process it started, if still running: a test that failed before
    its own Ctrl-C stopped them leaves no server behind. Nothing to do once it has exited."""
    try:
        family = [*psutil.Process(process.pid).children(recursive=True), psutil.Process(process.pid)]
    except psutil.NoSuchProcess:
        return
    for member in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(family, timeout=10)
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def sandbox():
    """A running sandbox (moto's server on 127.0.0.1) shared by the whole session."""
    with Sandbox() as running:
        yield running


@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    """No sandbox and no AWS credentials; nothing probes the network (no instance metadata)."""
    for name in (
        "DUALALB_SANDBOX_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setattr("boto3.DEFAULT_SESSION", None)
