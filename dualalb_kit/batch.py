"""Papermill batch runs: one notebook per params file, in parallel, with an HTML rendering each.

``run_batch(params, notebook=..., jobs=None, out_dir="out")`` validates each params file, then
executes the notebook with the file's keys as parameters (what ``papermill -f params/x.yaml``
does) in a pool of worker processes, and returns a summary table. A broken params file fails
alone with its validation message, before any kernel starts; a run that fails in the notebook
keeps its partly executed copy and HTML so the error can be read in place.

Per run, ``<out_dir>/<notebook stem>/`` gets ``<params stem>.ipynb``, ``.html`` and ``.json``
(the notebook's own summary, written to its ``results_path`` parameter when it declares one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from jupyter_client.manager import AsyncKernelManager
from traitlets import CaselessStrEnum, default

from .errors import ValidationError

KERNEL_NAME = "dualalb-kit"
"""The Jupyter kernel the kit's notebooks run on (this environment's Python)."""
REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DEFAULT_NOTEBOOK = NOTEBOOKS_DIR / "01_design_and_synth.ipynb"
SUMMARY_COLUMNS = ["params", "notebook", "status", "duration_s", "result", "executed", "html"]
"""``status`` is ``passed``, ``failed`` (the notebook raised) or ``invalid`` (the params file)."""


class LocalKernelManager(AsyncKernelManager):
    """Kernels on Unix sockets (IPC) rather than TCP: no port opens and no plain-text traffic.

    Each kernel's sockets live under a name of its own in the temporary directory and are
    removed when the kernel shuts down.
    """

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _unique_socket_prefix(self) -> str:
        return os.path.join(tempfile.gettempdir(), f"dualalb-kernel-{uuid.uuid4().hex}")


def ensure_kernel() -> str:
    """Install the kit's kernel spec into this environment unless it is there; returns its name."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(kernel_name=KERNEL_NAME, display_name="Python (dualalb-kit)", prefix=sys.prefix)
    return KERNEL_NAME


def run_batch(
    params: Sequence[str | Path],
    notebook: str | Path = DEFAULT_NOTEBOOK,
    jobs: int | None = None,
    out_dir: str | Path = "out",
    *,
    parameters: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Execute ``notebook`` once per params file, up to ``jobs`` at a time (default: the core count).

    ``parameters`` are extra run options given to every run (e.g. ``{"nag": False}``); the params
    file's keys win over them. Returns one row per params file with ``SUMMARY_COLUMNS``.
    """
    notebook = Path(notebook)
    if not notebook.is_file():
        raise ValidationError("notebook", f"{notebook} does not exist")
    run_dir = Path(out_dir) / notebook.stem
    run_dir.mkdir(parents=True, exist_ok=True)
    ensure_kernel()
    runs = [(Path(path), notebook, run_dir, dict(parameters or {})) for path in params]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(runs) or 1))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        rows = list(pool.map(run_one, *zip(*runs, strict=True))) if runs else []
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def run_one(params_path: Path, notebook: Path, run_dir: Path, extra: dict[str, Any]) -> dict[str, Any]:
    """One run: validate the params file, execute, render HTML; never raises for the run's own failure."""
    started = time.monotonic()
    executed = run_dir / f"{params_path.stem}.ipynb"
    html = executed.with_suffix(".html")
    results_path = executed.with_suffix(".json")
    row = {"params": str(params_path), "notebook": str(notebook), "executed": None, "html": None}
    try:
        values = read_params(params_path)
    except ValidationError as error:
        return {**row, "status": "invalid", "duration_s": _since(started), "result": str(error)}

    import papermill

    declared = set(papermill.inspect_notebook(str(notebook)))
    run_options = {"results_path": str(results_path.resolve())}
    if "outdir" in declared:
        run_options["outdir"] = str((run_dir / f"{params_path.stem}.cdk.out").resolve())
    results_path.unlink(missing_ok=True)
    status, result = "passed", ""
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters={**extra, **{k: v for k, v in run_options.items() if k in declared}, **values},
            kernel_name=KERNEL_NAME,
            kernel_manager_class=LocalKernelManager,
            cwd=str(REPO_ROOT),
            progress_bar=False,
        )
    except papermill.PapermillExecutionError as error:
        status, result = "failed", f"{error.ename}: {error.evalue}".splitlines()[0]
    except Exception as error:  # the kernel died, the notebook is unreadable, ...: this run fails alone
        status, result = "failed", f"{type(error).__name__}: {error}".splitlines()[0]
    if executed.exists():
        html.write_text(render_html(executed))
        row.update(executed=str(executed), html=str(html))
    if status == "passed" and results_path.exists():
        result = summarize_results(json.loads(results_path.read_text()))
    return {**row, "status": status, "duration_s": _since(started), "result": result}


def read_params(path: Path) -> dict[str, Any]:
    """A params file's keys, after checking they form a valid spec (``ValidationError`` if not)."""
    from .spec import load_spec

    if not path.is_file():
        raise ValidationError("params", f"{path} does not exist")
    load_spec(path)
    return yaml.safe_load(path.read_text())


def summarize_results(results: Mapping[str, Any]) -> str:
    """The stack outputs of a run (deployed values if the notebook deployed, else output names);
    for a notebook that reports no outputs, its plain values (``recommended``, ``destroyed``...)."""
    outputs = results.get("stack_outputs") or results.get("outputs")
    if isinstance(outputs, Mapping):
        return "; ".join(f"{name}={value}" for name, value in sorted(outputs.items()))
    if outputs:
        return ", ".join(map(str, outputs))
    return "; ".join(
        f"{key}={value}"
        for key, value in results.items()
        if isinstance(value, str | int | float | bool) or (isinstance(value, Mapping) and len(value) <= 3)
    )


def render_html(executed: Path) -> str:
    """An executed notebook as standalone HTML (JupyterLab's look)."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(executed, as_version=4))
    return body


def _since(started: float) -> float:
    return round(time.monotonic() - started, 1)


def main(argv: Sequence[str] | None = None) -> int:
    """``dualalb-kit batch [PARAMS ...] [--notebook N] [--jobs J] [-o DIR] [--set KEY=VALUE ...]``.

    Exit codes: 0 every run passed, 1 some run failed or was invalid, 2 bad usage.
    """
    parser = argparse.ArgumentParser(prog="dualalb-kit batch", description=main.__doc__.splitlines()[0])
    parser.add_argument("params", nargs="*", help="params files (default: params/*.yaml)")
    parser.add_argument(
        "--notebook", default=str(DEFAULT_NOTEBOOK), help="notebook to run (default: %(default)s)"
    )
    parser.add_argument("--jobs", type=int, default=None, help="parallel runs (default: the core count)")
    parser.add_argument("-o", "--out-dir", default="out", help="output directory (default: %(default)s)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="extra run option (YAML value)"
    )
    args = parser.parse_args(argv)
    params = args.params or sorted(str(path) for path in (REPO_ROOT / "params").glob("*.yaml"))
    try:
        extra = dict(_option(item) for item in args.set)
        if args.jobs is not None and args.jobs < 1:
            raise ValidationError("--jobs", f"{args.jobs} must be at least 1")
        summary = run_batch(
            params, notebook=args.notebook, jobs=args.jobs, out_dir=args.out_dir, parameters=extra
        )
    except ValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(summary[["params", "status", "duration_s", "result"]].to_string(index=False))
    print(f"\nexecuted notebooks and HTML: {Path(args.out_dir) / Path(args.notebook).stem}/")
    return 0 if (summary["status"] == "passed").all() else 1


def _option(item: str) -> tuple[str, Any]:
    key, separator, value = item.partition("=")
    if not separator or not key.isidentifier():
        raise ValidationError("--set", f"{item!r} is not KEY=VALUE")
    return key, yaml.safe_load(value)


if __name__ == "__main__":
    sys.exit(main())
