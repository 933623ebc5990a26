"""The walkthrough's HTML report: deployed outputs, metrics plots and the simulation tables on one page.

The notebooks' side: ``write_artifacts(folder, figures, tables)`` saves figures as PNG and tables
as HTML fragments and returns their names; ``write_summary(results_path, summary)`` writes the
notebook's JSON summary.
``write_report(path, steps=..., artifacts_dir=...)`` reads what the notebooks left behind (their
JSON summaries, PNG figures and HTML tables) and writes one self-contained page: figures are
embedded, the executed notebooks are linked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .outputs import write_private

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f2f2f2; }
.passed { color: #1b5e20; } .failed, .invalid { color: #b00020; }
.synthetic { background: #fff3cd; padding: 6px 10px; border: 1px solid #e0c36c; }
img { max-width: 100%; border: 1px solid #ddd; margin-bottom: 1em; }
"""

TITLES = {
    "diagram": "ALB → listener → service",
    "resource_counts": "Resources by type",
    "nag_findings": "cdk-nag findings (unacknowledged)",
    "lint_findings": "cfn-lint findings",
    "metrics": "Metrics per service",
    "capacity_curves": "Capacity per task: p99 and CPU against load",
    "capacity": "Capacity per task within the SLO",
    "load_bands": "Load bands: the share of minutes breaking the SLO against load per task",
    "band_table": "Load bands per service (the capacity is read from them)",
    "recommendation": "Recommended scaling per service",
    "reasons": "Why",
    "findings": "What the analysis found, per service, and what to do",
    "changes": "Changes to the params file",
    "schedule": "Scheduled capacity actions (cron, UTC)",
    "tasks": "Tasks under the current policy (replayed)",
    "current_policy": "Target tracking under the current policy (per service)",
    "cost": "Cost per spot mix",
    "spot_mixes": "Cost per spot mix (current policy)",
    "simulation": "What-if simulation: request_per_target × max_capacity (all services)",
    "load": "Load, latency and errors",
}
"""Each artifact's heading; the report shows a step's artifacts in this order (others after)."""


@dataclass(frozen=True)
class Step:
    """One executed notebook of the walkthrough: its summary row from :func:`dualalb_kit.batch.run_one`."""

    title: str
    row: dict[str, Any]

    @property
    def results(self) -> dict[str, Any]:
        """The notebook's JSON summary (empty if it wrote none)."""
        executed = self.row.get("executed")
        path = Path(executed).with_suffix(".json") if executed else None
        return json.loads(path.read_text()) if path and path.exists() else {}


def write_artifacts(
    folder: str | Path,
    figures: Mapping[str, Figure],
    tables: Mapping[str, pd.DataFrame],
    *,
    svgs: Mapping[str, str] | None = None,
    dpi: int = 90,
) -> dict[str, list[str]]:
    """Write each figure as ``<folder>/<name>.png``, each table as ``<name>.html`` and each SVG
    text (such as ``Diagram.svg``) as ``<name>.svg`` for the report.

    ``folder`` is created if missing. A table's named index levels become its first columns (an
    unnamed index is dropped). Returns the file names written, ``{"figures": [...], "tables": [...]}``
    (SVGs count as figures), which is what :func:`write_report` reads from a notebook's JSON
    summary. ``dpi`` defaults to 90.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, figure in figures.items():
        figure.savefig(folder / f"{name}.png", dpi=dpi)
    for name, svg in (svgs or {}).items():
        (folder / f"{name}.svg").write_text(svg)
    for name, table in tables.items():
        named_index = any(level is not None for level in table.index.names)
        flat = table.reset_index() if named_index else table
        (folder / f"{name}.html").write_text(flat.to_html(index=False, border=0))
    return {
        "figures": [f"{name}.svg" for name in svgs or {}] + [f"{name}.png" for name in figures],
        "tables": [f"{name}.html" for name in tables],
    }


def write_summary(results_path: str | Path | None, summary: Mapping[str, Any]) -> None:
    """Write a notebook's run summary as JSON to ``results_path`` (its folder created); ``None``
    writes nothing. Values JSON has no type for (timestamps, paths) are written as text. The file
    is private (0600), as is :func:`write_report`'s page: both hold the spec's values."""
    if results_path:
        path = Path(results_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(summary, indent=2, default=str))


def write_report(path: str | Path, steps: Sequence[Step], artifacts_dir: str | Path) -> Path:
    """Write the report to ``path``: the steps, then each step's section (its stack outputs and
    the figures and tables it left in ``artifacts_dir``, in :data:`TITLES` order); links to the
    executed notebooks are relative to ``path``."""
    path = Path(path)
    artifacts = Path(artifacts_dir)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>dualalb-kit walkthrough</title>",
        f"<style>{_STYLE}</style></head><body><h1>dualalb-kit walkthrough</h1>",
        "<h2>Steps</h2>",
        _steps_table(steps, path.parent),
    ]
    for step in steps:
        results = step.results
        parts.append(f"<h2>{escape(step.title)}</h2>")
        if "stack_outputs" in results:
            outputs = pd.DataFrame(sorted(results["stack_outputs"].items()), columns=["output", "value"])
            parts.append(f"<h3>Deployed stack outputs</h3>{_frame(outputs)}")
        if "window" in results:
            start, end = results["window"]
            parts.append(f"<p>Metrics window {escape(start)} → {escape(end)} (UTC).</p>")
        if results.get("synthetic"):
            parts.append(
                "<p class='synthetic'><b>Synthetic traffic</b>: the sandbox's traffic generator made these "
                "metrics; they show the method, not a real workload.</p>"
            )
        names = results.get("figures", []) + results.get("tables", [])
        order = list(TITLES)
        for name in sorted(
            names, key=lambda item: order.index(Path(item).stem) if Path(item).stem in order else len(order)
        ):
            stem = Path(name).stem
            parts.append(f"<h3>{escape(TITLES.get(stem, stem))}</h3>{_artifact(artifacts / name)}")
    parts.append("</body></html>")
    write_private(path, "\n".join(parts))
    return path


def _steps_table(steps: Sequence[Step], base: Path) -> str:
    rows = []
    for step in steps:
        status = step.row.get("status", "")
        html = step.row.get("html")
        link = f"<a href='{escape(_relative(Path(html), base))}'>notebook</a>" if html else ""
        rows.append(
            f"<tr><td>{escape(step.title)}</td><td class='{escape(status)}'>"
            f"{escape(status)}</td><td>{step.row.get('duration_s', '')} s</td>"
            f"<td>{escape(str(step.row.get('result', '')))}</td><td>{link}</td></tr>"
        )
    header = "<tr><th>step</th><th>status</th><th>duration</th><th>result</th><th></th></tr>"
    return f"<table>{header}{''.join(rows)}</table>"


def _relative(target: Path, base: Path) -> str:
    try:
        return str(target.resolve().relative_to(base.resolve()))
    except ValueError:
        return target.resolve().as_uri()


def _frame(frame: pd.DataFrame) -> str:
    return "<p>none</p>" if frame.empty else frame.to_html(index=False, border=0)


def _artifact(path: Path) -> str:
    """A written artifact for the page: tables and SVGs inline, PNGs embedded as data URLs."""
    if path.suffix == ".png":
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"<img alt='{escape(path.stem)}' src='data:image/png;base64,{encoded}'/>"
    return path.read_text()
