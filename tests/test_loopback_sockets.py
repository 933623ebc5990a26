"""Every server the kit starts listens on loopback only: the batch's Dask scheduler, its dashboard,
nannies and workers, the sandbox, and the sample app's three services."""

from __future__ import annotations

import psutil

from dualalb_kit.cluster import local_cluster
from dualalb_kit.samples.local import run_local
from dualalb_kit.sandbox import Sandbox

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


def test_every_server_the_kit_starts_listens_on_loopback_only():
    me = psutil.Process()
    before = listening(me)
    with local_cluster(1) as cluster, Sandbox(), run_local():
        assert cluster.scheduler.services["dashboard"]  # the dashboard is there, on loopback
        sockets = listening(me) - before
    assert len({pid for _, _, pid in sockets}) == 1 + 1 + 3  # this process, the worker, the sample's three
    assert len(sockets) >= 4 + 1 + 3  # scheduler, dashboard, nanny, worker; the sandbox; the sample's three
    assert sorted(socket for socket in sockets if socket[0] not in LOOPBACK) == []
