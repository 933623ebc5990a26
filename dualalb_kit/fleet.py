"""Fleet-scale analysis on Dask distributed: a per-service frame function mapped over a cluster.

Services are independent in the replay and in every per-service summary, so a fleet's metrics
split by service into partitions, each partition goes to a worker, and only the function's
summary table comes back. A worker holds the partitions it is working on and no more: at most
``in_flight`` partitions (default two per worker thread) are on the cluster at once.

:func:`map_services` splits a tidy metrics frame (a ``service`` column) and is what
``simulate_grid(..., client=client)`` uses; :func:`map_partitions` takes any partitions, e.g.
lightweight descriptions from which each worker loads or generates its own data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd

from .extras import missing_extra

try:
    from distributed import Client, as_completed
except ModuleNotFoundError as error:
    raise missing_extra(error, "the fleet simulation") from None


PARTITIONS_PER_THREAD = 4
"""Default partitions per worker thread for :func:`map_services`: small enough to balance load."""


def map_services(
    client: Client,
    metrics: pd.DataFrame,
    function: Callable[..., pd.DataFrame],
    *args: Any,
    partitions: int | None = None,
    keep_order_of: Sequence[str] = (),
    **kwargs: Any,
) -> pd.DataFrame:
    """``function(part, *args, **kwargs)`` for each part of ``metrics`` split by ``service``, on the
    cluster of ``client``; the returned frames concatenated.

    ``partitions`` defaults to ``PARTITIONS_PER_THREAD`` per worker thread (at most one per
    service); services are assigned in sorted order, so each part holds a contiguous run of names.
    Rows come back part by part; with ``keep_order_of`` (column names) they are then stably ordered
    by the first appearance of those columns' values, e.g. the grid points of ``simulate_grid``, so
    the result matches a single-process call's order when ``function`` orders services by name.
    Each part keeps the whole frame's ``attrs``. Rows without a service are left out.
    """
    services = np.sort(metrics["service"].dropna().unique().astype(str))
    count = partitions or PARTITIONS_PER_THREAD * sum(client.nthreads().values())
    groups = np.array_split(services, max(1, min(count, len(services))))
    result = pd.concat(
        map_partitions(client, _split(metrics, groups), function, *args, **kwargs), ignore_index=True
    )
    if keep_order_of:
        points = result.groupby(list(keep_order_of), sort=False, dropna=False).ngroup().to_numpy()
        result = result.iloc[np.argsort(points, kind="stable")].reset_index(drop=True)
    return result


def map_partitions(
    client: Client,
    partitions: Iterable[Any],
    function: Callable[..., pd.DataFrame],
    *args: Any,
    in_flight: int | None = None,
    **kwargs: Any,
) -> list[pd.DataFrame]:
    """``function(partition, *args, **kwargs)`` per partition on the cluster, results in partition order.

    ``partitions`` is consumed lazily: at most ``in_flight`` (default two per worker thread) are
    submitted at a time, and each result is fetched and released as soon as it is done, so neither
    the caller nor any worker holds more than that many partitions. A failure raises at once.
    """
    limit = in_flight or 2 * sum(client.nthreads().values())
    results: dict[int, pd.DataFrame] = {}
    pending = as_completed()
    numbered = enumerate(partitions)
    for index, partition in _take(numbered, limit):
        pending.add(_submit(client, function, index, partition, args, kwargs))
    for future in pending:
        index, frame = future.result()
        results[index] = frame
        future.release()
        for index, partition in _take(numbered, 1):
            pending.add(_submit(client, function, index, partition, args, kwargs))
    return [results[index] for index in sorted(results)]


def _submit(client: Client, function: Callable, index: int, partition: Any, args: tuple, kwargs: dict) -> Any:
    return client.submit(_numbered, function, index, partition, args, kwargs, pure=False)


def _numbered(function: Callable, index: int, partition: Any, args: tuple, kwargs: dict) -> tuple[int, Any]:
    return index, function(partition, *args, **kwargs)


def _take(items: Iterator[Any], count: int) -> list[Any]:
    return list(islice(items, count))


def _split(metrics: pd.DataFrame, groups: list[np.ndarray]) -> Iterator[pd.DataFrame]:
    """The rows of each group of services, one frame per group, made as they are asked for."""
    names = metrics["service"]
    if isinstance(names.dtype, pd.CategoricalDtype):  # by its codes: no string per row
        names = names.cat.rename_categories([str(name) for name in names.cat.categories])
    else:
        names = names.astype(str)
    positions = metrics.groupby(names, sort=False, observed=True).indices
    for group in groups:
        part = metrics.take(np.sort(np.concatenate([positions[service] for service in group])))
        part.attrs = dict(metrics.attrs)
        yield part
