"""One batch run: a notebook executed with papermill for one params file, written where ``-o`` says.

A run is plain data (:class:`Run`), so it can travel to a Dask worker on another machine: it
carries the notebook itself and the params file's values, not paths on the caller's disk. The
worker executes in a temporary directory of its own, renders the HTML there, and copies the
executed notebook, its HTML and the notebook's results JSON to the destination, a local folder
or any fsspec URL (``s3://bucket/prefix``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..extras import missing_extra

try:
    import fsspec
    import nbformat
    from fsspec.implementations.local import LocalFileSystem
except ModuleNotFoundError as error:
    raise missing_extra(error, "notebook batches") from None


from ..errors import ValidationError
from ..outputs import PRIVATE_MODE, private_mode, write_private
from ..runtime import PROJECT_ROOT, in_checkout
from .kernel import KERNEL_NAME, KERNEL_SPEC, KernelPool, LocalKernelManager, ensure_kernel
from .params import read_params
from .redact import credential_values, redact
from .render import render_html, summarize_results

SUMMARY_COLUMNS = ["params", "notebook", "status", "duration_s", "result", "executed", "html", "worker"]
"""``status`` is ``passed``, ``failed`` (the notebook raised) or ``invalid`` (the params file);
``worker`` is the Dask worker's address (None for a run that never reached one)."""
IOPUB_TIMEOUT_S = 60
"""How long a cell's output may trail its reply (nbclient's default, 4 s, a busy or remote worker
can exceed). After that the run goes on with a warning in the log instead of failing, as nbclient
does by default (papermill fails it): the cell's reply already said whether it passed, and only
trailing output, such as the kernel's idle message, is missing."""
SCRATCH_PREFIX = "dualalb-run"
"""A run's scratch folder in the temporary directory is ``dualalb-run-<worker pid>-<random>``."""
OUTPUT_SUFFIXES = (".ipynb", ".html", ".json")
"""What each run leaves in its destination: the executed notebook, its HTML, its results."""


@dataclass(frozen=True)
class Run:
    """Everything a worker needs for one run, with no reference to the caller's files.

    ``params`` is the params file as the caller named it (for the summary); ``name`` the stem its
    outputs are named after; ``values`` its validated keys; ``notebook`` the notebook to execute
    and ``notebook_label`` how the summary names it; ``destination`` a folder path or fsspec URL;
    ``parameters`` extra run options (the params file's keys win over them); ``storage_options``
    for fsspec (e.g. an S3 ``endpoint_url``); ``file_mode`` the mode of the files it writes to a
    local destination (the params file's, see :func:`~dualalb_kit.outputs.private_mode`).
    """

    params: str
    name: str
    values: Mapping[str, Any]
    notebook: nbformat.NotebookNode
    notebook_label: str
    destination: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    file_mode: int = PRIVATE_MODE


def prepare_run(
    params_path: Path,
    notebook: nbformat.NotebookNode,
    notebook_label: str,
    destination: str,
    parameters: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> Run:
    """A :class:`Run` for ``params_path`` whose outputs are named ``name`` (default: the file's
    stem); raises ``ValidationError`` for a missing or invalid file."""
    return Run(
        params=str(params_path),
        name=name or params_path.stem,
        values=read_params(params_path),
        notebook=notebook,
        notebook_label=notebook_label,
        destination=destination,
        parameters=dict(parameters or {}),
        storage_options=dict(storage_options or {}),
        file_mode=private_mode(params_path),
    )


def run_one(
    params_path: Path, notebook: Path, run_dir: str | Path, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate ``params_path`` and execute ``notebook`` for it in this process, into ``run_dir``.

    Returns one summary row (``SUMMARY_COLUMNS``); never raises for the run's own failure.
    """
    try:
        run = prepare_run(
            params_path, nbformat.read(notebook, as_version=4), str(notebook), str(run_dir), extra
        )
    except ValidationError as error:
        return summary_row(str(params_path), str(notebook), "invalid", str(error))
    return execute(run)


def execute(run: Run, kernels: KernelPool | None = None) -> dict[str, Any]:
    """Execute ``run`` in a temporary directory, then copy its outputs to ``run.destination``.

    The notebook runs on the kit's kernel whatever its metadata names (Python): one of ``kernels``
    when given (released as soon as the notebook has executed, so the next run's kernel starts
    while this one renders and publishes), else a kernel of its own. Credential-looking
    values are hidden in every file the run leaves (:mod:`.redact`); a local destination's files
    get ``run.file_mode`` in a folder created 0700.
    """
    import papermill

    started = time.monotonic()
    fs, root = fsspec.core.url_to_fs(run.destination, **run.storage_options)
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}-{os.getpid()}-") as scratch:
        executed = Path(scratch) / f"{run.name}.ipynb"
        results_path = executed.with_suffix(".json")
        notebook = on_kit_kernel(run.notebook)
        declared = set(papermill.inspect_notebook(notebook))
        run_options = {"results_path": str(results_path)}
        if "outdir" in declared:  # the CDK assembly stays beside a local destination, else in scratch
            assembly_dir = Path(root) if isinstance(fs, LocalFileSystem) else Path(scratch)
            run_options["outdir"] = str((assembly_dir / f"{run.name}.cdk.out").resolve())
        parameters = {
            **run.parameters,
            **{key: value for key, value in run_options.items() if key in declared},
            **run.values,
        }
        status, result = _papermill(notebook, executed, parameters, kernels)
        secrets = credential_values({**run.parameters, **run.values})
        if results_path.exists():
            results = redact(json.loads(results_path.read_text()), secrets)
            results_path.write_text(json.dumps(results, indent=1))
            if status == "passed":
                result = summarize_results(results)
        row = summary_row(run.params, run.notebook_label, status, redact(result, secrets))
        if executed.exists():
            executed.write_text(json.dumps(redact(json.loads(executed.read_text()), secrets), indent=1))
            executed.with_suffix(".html").write_text(render_html(executed))
            row.update(_publish(fs, root, run.destination, executed, status == "passed", run.file_mode))
    row["duration_s"] = _since(started)
    return row


def _papermill(
    notebook: nbformat.NotebookNode, executed: Path, parameters: dict[str, Any], kernels: KernelPool | None
) -> tuple[str, str]:
    """Execute ``notebook`` into ``executed`` with papermill on the kit's kernel (one of ``kernels``,
    released as soon as the notebook has executed, else its own): ``("passed", "")``, or
    ``("failed", the error's first line)`` whatever went wrong."""
    import papermill

    cwd = str(PROJECT_ROOT if in_checkout() else Path.cwd())
    kernel = None
    try:
        kernel = kernels.take(cwd) if kernels is not None else None
        papermill.execute_notebook(
            notebook,
            str(executed),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            kernel_manager_class=LocalKernelManager,
            km=kernel,
            cwd=cwd,
            progress_bar=False,
            iopub_timeout=IOPUB_TIMEOUT_S,
            raise_on_iopub_timeout=False,
        )
    except papermill.PapermillExecutionError as error:
        return "failed", f"{error.ename}: {error.evalue}".splitlines()[0]
    except Exception as error:  # the kernel died, the notebook is unreadable, ...: this run fails alone
        return "failed", f"{type(error).__name__}: {error}".splitlines()[0]
    finally:
        if kernel is not None:
            kernels.release(kernel)
    return "passed", ""


def on_kit_kernel(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose kernelspec is the kit's (installed here if missing), whatever
    its own metadata names, or when it names none."""
    copied = deepcopy(notebook)
    copied.metadata["kernelspec"] = nbformat.from_dict(
        {"name": ensure_kernel(), "display_name": KERNEL_SPEC["display_name"], "language": "python"}
    )
    return copied


def _publish(
    fs: fsspec.AbstractFileSystem, root: str, destination: str, executed: Path, with_results: bool, mode: int
) -> dict[str, str]:
    """Copy a run's files to the destination: the results JSON only for a passed run (a stale one
    from an earlier run is removed); local files with ``mode``, never through a symbolic link.
    Returns the ``executed`` and ``html`` locations."""
    local_destination = isinstance(fs, LocalFileSystem)
    if local_destination:
        Path(root).mkdir(mode=0o700, parents=True, exist_ok=True)
    else:
        fs.makedirs(root, exist_ok=True)
    stale = f"{root}/{executed.stem}.json"
    if not with_results and fs.exists(stale):
        fs.rm(stale)
    for suffix in OUTPUT_SUFFIXES:
        local = executed.with_suffix(suffix)
        if local.exists() and (suffix != ".json" or with_results):
            if local_destination:
                write_private(Path(root) / local.name, local.read_bytes(), mode)
            else:
                fs.put_file(str(local), f"{root}/{local.name}")
    base = destination.rstrip("/")
    return {"executed": f"{base}/{executed.name}", "html": f"{base}/{executed.stem}.html"}


def summary_row(params: str, notebook: str, status: str, result: str) -> dict[str, Any]:
    """A row of ``SUMMARY_COLUMNS`` before its files, duration and worker are known."""
    return {
        "params": params,
        "notebook": notebook,
        "status": status,
        "duration_s": 0.0,
        "result": result,
        "executed": None,
        "html": None,
        "worker": None,
    }


def _since(started: float) -> float:
    return round(time.monotonic() - started, 1)
