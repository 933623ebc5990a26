"""Executed notebooks as standalone HTML whose widgets draw without the internet.

nbconvert's ``lab`` template loads the widget manager from a CDN, so offline the designer and the
progress bars are empty boxes. :func:`notebook_html` uses the ``offline`` template instead
(``data/nbconvert/offline``: the ``lab`` template with the manager's ``embed.js`` inlined, as
``make setup`` unpacked it from npm); each widget shows the last state the run saved.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ToolchainError
from .extras import missing_extra

try:
    import nbformat
except ModuleNotFoundError as error:
    raise missing_extra(error, "notebook HTML export") from None

from .runtime import widget_manager_js

TEMPLATES = Path(__file__).parent / "data" / "nbconvert"


def notebook_html(notebook: str | Path | nbformat.NotebookNode) -> str:
    """A notebook (a path or a node, executed with its widget state saved) as one HTML page."""
    from nbconvert import HTMLExporter

    script = widget_manager_js()
    if not script.exists():
        raise ToolchainError(f"widget manager not found at {script}: run `make setup`")
    node = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(notebook, as_version=4)
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(TEMPLATES)])
    body, _ = exporter.from_notebook_node(node, resources={"widget_manager_js": script.read_text()})
    return body
