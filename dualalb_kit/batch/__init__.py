"""Papermill batch runs on Dask distributed: one notebook per params file, each run one Dask task.

``run_batch(params, notebook=..., workers=None, out_dir="out", client=None)`` validates each
params file once, then executes the notebook with the file's keys as parameters (what ``papermill
-f params/x.yaml`` does) on a Dask cluster: a ``LocalCluster`` of worker processes on 127.0.0.1
by default, or the cluster of a ``dask.distributed.Client`` you pass (a scheduler address, or
Fargate workers from :mod:`dualalb_kit.batch.fargate`). It returns a summary table with the
worker that ran each run. A broken params file fails alone with its validation message, before
any kernel starts; a run that fails in the notebook keeps its partly executed copy and HTML. Each
worker starts its next run's kernel while the current run finishes (``warm_kernels=True``).

Per run, ``<out_dir>/<notebook stem>/`` gets ``<params stem>.ipynb``, ``.html`` and ``.json``
(the notebook's own summary, written to its ``results_path`` parameter when it declares one);
``out_dir`` is a folder or any fsspec URL, e.g. ``s3://bucket/prefix``.

Modules, one concern each: :mod:`.kernel` (the kernel spec, its manager and the pool
of warm kernels), :mod:`.params` (params
files, parsed once), :mod:`.run` (one papermill run and where its files go), :mod:`.render`
(HTML and the one-line result), :mod:`.orchestrate` (Dask), :mod:`.fargate` (Fargate workers),
:mod:`.command` (the command line).
"""

from ..examples import NOTEBOOKS_DIR
from .command import main
from .kernel import KERNEL_NAME, KernelPool, LocalKernelManager, ensure_kernel
from .orchestrate import DEFAULT_NOTEBOOK, execute_on_worker, run_batch
from .params import read_params
from .render import render_html, summarize_results
from .run import SUMMARY_COLUMNS, Run, execute, prepare_run, run_one

__all__ = [
    "DEFAULT_NOTEBOOK",
    "KERNEL_NAME",
    "NOTEBOOKS_DIR",
    "SUMMARY_COLUMNS",
    "KernelPool",
    "LocalKernelManager",
    "Run",
    "ensure_kernel",
    "execute",
    "execute_on_worker",
    "main",
    "prepare_run",
    "read_params",
    "render_html",
    "run_batch",
    "run_one",
    "summarize_results",
]
