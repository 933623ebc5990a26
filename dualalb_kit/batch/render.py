"""What a finished run shows: its notebook as HTML, and a one-line result for the summary table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def render_html(executed: Path) -> str:
    """An executed notebook as standalone HTML whose widgets draw offline (see ``notebook_html``)."""
    from ..notebook_html import notebook_html

    return notebook_html(executed)


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
