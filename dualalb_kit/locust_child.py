"""The load test's Locust child process (:mod:`dualalb_kit.loadgen`): start it, run one step at a
time, stop it; and the local process whose CPU a step measures."""

from __future__ import annotations

import ipaddress
import json
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from time import monotonic

import psutil

from .errors import LoadTestError
from .loopback import is_loopback_host

LOADGEN_SCRIPT = Path(__file__).with_name("loadgen.py")


DRAIN_SLACK_SECONDS = 5.0
"""Beyond ``request_timeout``, how long a step may wait for its last answers (loadgen's own)."""


GRACE_SECONDS = 30.0
"""Beyond a step's length and its wait for answers, how long the Locust process may take (starting,
a busy machine) before it counts as stuck and the test fails."""


def cpu_process(target) -> tuple[int | None, str]:
    """The pid listening on a loopback URL's port (and where CPU comes from), or None and why not."""
    if not is_loopback_host(target.hostname):
        return None, "not measured: the URL is not on loopback (on AWS, read the service's CPUUtilization)"
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        for connection in psutil.net_connections(kind="tcp"):
            address = connection.laddr
            listening = connection.status == psutil.CONN_LISTEN and address.port == port
            if listening and connection.pid and reaches_loopback(address.ip):
                name = " ".join(psutil.Process(connection.pid).cmdline()[-2:])
                return connection.pid, f"pid {connection.pid} ({name}), percent of one core"
    except psutil.AccessDenied:
        return None, "not measured: this system does not show which process listens on a port"
    return None, f"not measured: no process of this user listens on port {port}"


def reaches_loopback(listen_ip: str) -> bool:
    """Whether a socket listening on ``listen_ip`` gets loopback traffic (loopback or any address)."""
    address = ipaddress.ip_address(listen_ip.split("%")[0])
    return address.is_loopback or address.is_unspecified


@contextmanager
def locust_child(
    plan: dict, request_timeout: float, cpu_scale: float = 1.0
) -> Iterator[Callable[[float, float], dict]]:
    """Start the Locust child on ``plan``; yield ``measure(rate, seconds)``, which runs one step and
    returns its JSON line as a dict (CPU multiplied by ``cpu_scale``); stop the child on exit."""
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [sys.executable, str(LOADGEN_SCRIPT), json.dumps(plan)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            bufsize=0,  # unbuffered: select() sees every line that is not read yet
        )

        def failed(why: str) -> LoadTestError:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-5:]
            return LoadTestError(f"the Locust process {why}: " + " | ".join(tail))

        def measure(rate: float, seconds: float) -> dict:
            try:
                child.stdin.write((json.dumps({"rate": rate, "seconds": seconds}) + "\n").encode())
            except BrokenPipeError:
                raise failed("has stopped") from None
            deadline = monotonic() + seconds + request_timeout + DRAIN_SLACK_SECONDS + GRACE_SECONDS
            readable, _, _ = select.select([child.stdout], [], [], max(0.0, deadline - monotonic()))
            line = child.stdout.readline() if readable else b""
            if not line:
                raise failed("stopped answering")
            step = json.loads(line)
            if step["cpu_percent"] is not None:
                step["cpu_percent"] *= cpu_scale
            return step

        try:
            yield measure
        finally:
            child.terminate()
            child.wait()
            child.stdin.close()
            child.stdout.close()
