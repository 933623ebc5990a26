"""Batch runs on Dask distributed: each papermill run is one task, on a local or remote cluster.

Without a client, :func:`run_batch` starts an in-process ``LocalCluster`` of worker processes on
127.0.0.1 and closes it at the end; with ``client`` (a ``dask.distributed.Client`` connected to
a scheduler address, or to a Fargate cluster) the runs go to that cluster. Params files are read
and validated here, once, before any task is submitted: a broken one fails alone with its
validation message and never reaches a worker.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..extras import missing_extra

try:
    import fsspec
    import nbformat
    from distributed import Client, as_completed, get_worker
except ModuleNotFoundError as error:
    raise missing_extra(error, "notebook batches") from None

import pandas as pd

from ..cluster import local_cluster
from ..errors import ValidationError
from ..examples import NOTEBOOKS_DIR
from ..outputs import remove_orphans
from .kernel import SOCKET_PREFIX, KernelPool
from .run import SCRATCH_PREFIX, SUMMARY_COLUMNS, Run, execute, prepare_run, summary_row

DEFAULT_NOTEBOOK = NOTEBOOKS_DIR / "01_design_and_synth.ipynb"


def run_batch(
    params: Sequence[str | Path],
    notebook: str | Path = DEFAULT_NOTEBOOK,
    workers: int | None = None,
    out_dir: str | Path = "out",
    *,
    parameters: Mapping[str, Any] | None = None,
    client: Client | None = None,
    storage_options: Mapping[str, Any] | None = None,
    progress: bool = True,
    warm_kernels: bool = True,
) -> pd.DataFrame:
    """Execute ``notebook`` once per params file on a Dask cluster; one summary row per file.

    ``workers`` is the number of local worker processes (default: the core count, at most one
    per run) and applies only without ``client``. ``out_dir`` is a folder or any fsspec URL
    (``s3://bucket/prefix``, with ``storage_options`` such as ``{"endpoint_url": ...}``); each run
    writes ``<out_dir>/<notebook stem>/<name>.ipynb``, ``.html`` and ``.json``, ``<name>`` being
    the params file's stem, or ``<folder>-<stem>`` for stems shared (:func:`run_names`).
    ``parameters`` are extra run options for every run (the params file's keys win). ``progress``
    shows a bar that advances as runs finish (a widget in a notebook). ``warm_kernels`` starts
    each worker's next kernel while its current run finishes and stops used ones without waiting
    (:class:`~dualalb_kit.batch.kernel.KernelPool`); False gives every run a kernel of its own,
    started and stopped in the run. Returns ``SUMMARY_COLUMNS``,
    rows in the order of ``params``. Ctrl-C cancels the runs not yet finished and re-raises.
    """
    notebook = Path(notebook)
    if not notebook.is_file():
        raise ValidationError("notebook", f"{notebook} does not exist")
    if workers is not None and workers < 1:
        raise ValidationError("workers", f"{workers} must be at least 1")
    node = nbformat.read(notebook, as_version=4)
    destination = f"{_as_workers_see_it(out_dir)}/{notebook.stem}"
    rows: dict[int, dict[str, Any]] = {}
    runs: dict[int, Run] = {}
    paths = [Path(path) for path in params]
    for index, (path, name) in enumerate(zip(paths, run_names(paths), strict=True)):
        try:
            if name is None:
                raise ValidationError(
                    "params",
                    f"{path}: another params file of this batch writes its outputs under the same name",
                )
            runs[index] = prepare_run(
                path, node, str(notebook), destination, parameters, storage_options, name
            )
        except ValidationError as error:
            rows[index] = summary_row(str(path), str(notebook), "invalid", str(error))
    if runs:
        with _client(client, min(workers or os.cpu_count() or 1, len(runs))) as active:
            rows.update(_gather(active, runs, progress, warm_kernels))
            if warm_kernels:
                _close_kernels(active)
    return pd.DataFrame([rows[index] for index in sorted(rows)], columns=SUMMARY_COLUMNS)


def run_names(paths: Sequence[Path]) -> list[str | None]:
    """The name each params file's outputs get: its stem, or, for a stem that several files share
    (``dev/app.yaml``, ``prod/app.yaml``), ``<folder>-<stem>`` (``dev-app``, ``prod-app``), so no
    run overwrites another's files; ``None`` for a file whose name is still taken (the same file
    given twice)."""
    stems = Counter(path.stem for path in paths)
    names: list[str | None] = []
    for path in paths:
        name = path.stem if stems[path.stem] == 1 else f"{path.resolve().parent.name}-{path.stem}"
        names.append(None if name in names else name)
    return names


def _as_workers_see_it(out_dir: str | Path) -> str:
    """``out_dir`` made absolute when it is a local folder: workers resolve a relative path in their
    own working directory, not the caller's. URLs (``s3://...``, ``file://...``) pass unchanged."""
    protocol, _ = fsspec.core.split_protocol(str(out_dir))
    if protocol is None:
        return str(Path(out_dir).expanduser().resolve())
    return str(out_dir).rstrip("/")


def execute_on_worker(run: Run, warm_kernels: bool = True) -> dict[str, Any]:
    """:func:`~dualalb_kit.batch.run.execute` as a Dask task, on the worker's :class:`KernelPool`
    when ``warm_kernels``: the row names the worker that ran it."""
    kernels = _worker_kernels() if warm_kernels else None
    return {**execute(run, kernels=kernels), "worker": get_worker().address}


_KERNELS: KernelPool | None = None
"""This worker process's kernels (one pool per process, made by its first run)."""


def _worker_kernels() -> KernelPool:
    """The worker's pool; it starts a kernel ahead only while the worker holds another run that
    is ready to execute (the scheduler hands a one-thread worker at most one run ahead)."""
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = KernelPool(more_runs=lambda: bool(get_worker().state.ready))
    return _KERNELS


def close_worker_kernels() -> None:
    """Stop the worker's pooled kernels (run on every worker once a batch's runs are in)."""
    if _KERNELS is not None:
        _KERNELS.close()


def _close_kernels(client: Client) -> None:
    """:func:`close_worker_kernels` as a task on each worker: in the thread its runs used, whose
    event loop the kernels' sockets belong to (``client.run`` would call it from another)."""
    client.gather(
        [
            client.submit(close_worker_kernels, workers=[address], allow_other_workers=False, pure=False)
            for address in client.scheduler_info()["workers"]
        ]
    )


@contextlib.contextmanager
def _client(client: Client | None, n_workers: int) -> Iterator[Client]:
    """``client`` as given, or one of a new LocalCluster of ``n_workers`` processes, closed on exit
    (also on Ctrl-C), with what its exited workers left in the temporary directory."""
    if client is not None:
        yield client
        return
    try:
        with local_cluster(n_workers) as cluster, Client(cluster) as local:
            yield local
    finally:  # workers stopped by Ctrl-C leave their scratch folders and kernel sockets behind
        for prefix in (SCRATCH_PREFIX, SOCKET_PREFIX):
            remove_orphans(Path(tempfile.gettempdir()), prefix)


def _gather(
    client: Client, runs: Mapping[int, Run], progress: bool, warm_kernels: bool
) -> dict[int, dict[str, Any]]:
    """Submit every run, collect rows as they finish; a task that dies (a lost worker) fails alone."""
    from tqdm.auto import tqdm

    futures = {
        client.submit(
            execute_on_worker, run, warm_kernels, key=f"dualalb-run-{index}-{run.name}", pure=False
        ): index
        for index, run in runs.items()
    }
    rows: dict[int, dict[str, Any]] = {}
    bar = tqdm(total=len(futures), desc="notebook runs", unit="run", disable=not progress)
    try:
        for future in as_completed(futures):
            index = futures[future]
            try:
                rows[index] = future.result()
            except Exception as error:  # the worker died or the task could not run there
                message = f"{type(error).__name__}: {error}".splitlines()[0]
                rows[index] = summary_row(runs[index].params, runs[index].notebook_label, "failed", message)
            bar.update()
    except KeyboardInterrupt:
        unfinished = [future for future in futures if not future.done()]
        client.cancel(unfinished)
        print(
            f"\ninterrupted: cancelled {len(unfinished)} of {len(futures)} runs that had not finished",
            file=sys.stderr,
        )
        raise
    finally:
        bar.close()
    return rows
