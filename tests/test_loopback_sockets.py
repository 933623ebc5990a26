"""Every server the kit starts listens on loopback only: the batch's Dask scheduler, its dashboard,
nannies and workers, the sandbox, and the sample app's three services; the load test's Locust
listens on nothing (the live sandbox's HAProxy and task processes: tests/test_live_sandbox.py)."""

from __future__ import annotations

import psutil
from conftest import LOOPBACK, listening

from dualalb_kit.cluster import local_cluster
from dualalb_kit.loadtest import run_loadtest
from dualalb_kit.samples.local import run_local
from dualalb_kit.sandbox import Sandbox


def test_every_server_the_kit_starts_listens_on_loopback_only():
    me = psutil.Process()
    before = listening(me)
    with local_cluster(1) as cluster, Sandbox(), run_local():
        assert cluster.scheduler.services["dashboard"]  # the dashboard is there, on loopback
        sockets = listening(me) - before
    assert len({pid for _, _, pid in sockets}) == 1 + 1 + 3  # this process, the worker, the sample's three
    assert len(sockets) >= 4 + 1 + 3  # scheduler, dashboard, nanny, worker; the sandbox; the sample's three
    assert sorted(socket for socket in sockets if socket[0] not in LOOPBACK) == []


def test_the_load_tests_locust_opens_no_listening_socket():
    """Locust runs as a library in the load generator's process: no web UI, no master port."""
    me = psutil.Process()
    with run_local() as sample:
        servers = listening(me)
        during: list[tuple[bool, set]] = []

        def look(_: dict) -> None:
            locust = any("loadgen.py" in " ".join(child.cmdline()) for child in me.children(recursive=True))
            during.append((locust, listening(me) - servers))

        result = run_loadtest(
            sample.order_url, max_rps=5, step_seconds=2, duration=4, repeats=1, on_step=look
        )
    assert result.curve["requests"].sum() > 0
    assert during == [(True, set()), (True, set())]  # Locust's process ran, listening on nothing
