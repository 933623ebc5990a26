"""The kit's embedded Dask cluster: a ``LocalCluster`` that needs no service and stays on loopback."""

from __future__ import annotations

from .extras import missing_extra

try:
    from distributed import LocalCluster
except ModuleNotFoundError as error:
    raise missing_extra(error, "a Dask cluster") from None


def local_cluster(n_workers: int) -> LocalCluster:
    """``n_workers`` worker processes of one thread each; scheduler, workers and the scheduler's
    HTTP endpoint (dashboard, health) listen on 127.0.0.1 only, the latter on a free port."""
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
