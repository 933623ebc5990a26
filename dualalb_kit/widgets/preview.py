"""The designer's live preview: the diagram and the monthly cost of the design, beside the form and
in view while it scrolls, redrawn a moment after the last valid edit and greyed out while the
form is invalid. No synthesis: both come from the spec (``Diagram.from_spec``, ``monthly_cost``)."""

from __future__ import annotations

import asyncio
from html import escape

import pandas as pd

from ..cost import load_pricing, monthly_cost
from ..diagram import Diagram
from ..errors import ValidationError
from ..spec import DeploymentSpec
from .forms import ERROR_STYLE, widgets

PREVIEW_INVALID = "dualalb-preview-invalid"
"""The preview column's class while the form is invalid."""
PREVIEW_STYLE = (
    "<style>.dualalb-preview svg{max-width:100%;height:auto}"
    ".dualalb-cost td,.dualalb-cost th{padding:1px 8px}.dualalb-cost .n{text-align:right}"
    ".dualalb-preview-column .widget-html-content{line-height:1.4}"
    # beside the form and in view while it scrolls: JupyterLab's output area scrolls (and clips) on
    # its own unless told not to, and a scrolling ancestor would hold the column in place
    ".jp-Cell-outputArea:has(.dualalb-designer),.jp-OutputArea-child:has(.dualalb-designer),"
    ".jp-OutputArea-output:has(.dualalb-designer){overflow:visible;min-width:0}"
    ".dualalb-preview-column{position:sticky;top:0;z-index:1;max-height:100vh;overflow-y:auto;"
    "background:var(--jp-layout-color0,#fff)}"
    f".{PREVIEW_INVALID} .dualalb-diagram-preview,.{PREVIEW_INVALID} .dualalb-cost-preview"
    "{opacity:.35;filter:grayscale(1)}</style>"
)


class LivePreview:
    """The preview column (``column``): a line saying why it is paused (``paused``), the diagram
    (``diagram``) and the monthly cost (``cost``). ``delay`` is the seconds between the last edit
    and the redraw (default 0.3; 0: at once, as outside a running event loop)."""

    def __init__(self, delay: float = 0.3) -> None:
        self.delay = delay
        self.diagram = widgets.HTML("").add_class("dualalb-diagram-preview")
        self.cost = widgets.HTML("").add_class("dualalb-cost-preview")
        self.paused = widgets.HTML("", layout=widgets.Layout(display="none")).add_class(
            "dualalb-preview-paused"
        )
        """Empty while the form is valid; else why the (greyed) preview shows the last valid design."""
        self.column = widgets.VBox(
            [
                widgets.HTML(PREVIEW_STYLE, layout=widgets.Layout(display="none")),  # applies unseen
                self.paused,
                self.diagram,
                self.cost,
            ],
            layout=widgets.Layout(
                flex="1 1 420px", min_width="0", padding="0 0 0 16px", align_self="flex-start"
            ),
        ).add_class("dualalb-preview-column")
        self._pricing = load_pricing()
        self._handle: asyncio.TimerHandle | None = None
        self._spec: DeploymentSpec | None = None

    def show(self, spec: DeploymentSpec | None, error: ValidationError | None) -> None:
        """Follow an edit: ``spec`` is the valid design, else ``error`` says why there is none.
        A valid design is drawn ``delay`` seconds after the last edit; an invalid one greys out
        the last drawing under the reason."""
        self._spec = spec
        self._pause(error)
        if error is None:
            self._schedule()

    def refresh(self) -> None:
        """Redraw the diagram and the monthly cost of the last valid design now."""
        self._handle = None
        if self._spec is None:
            return
        self.diagram.value = (
            "<h4>ALBs → listeners → services</h4>"
            f'<div class="dualalb-preview">{Diagram.from_spec(self._spec).svg}</div>'
        )
        try:
            costs = monthly_cost(self._spec, self._pricing)
        except ValidationError as error:  # a region without prices
            self.cost.value = f"<h4>Monthly cost</h4><p><i>{escape(error.reason)}</i></p>"
            return
        self.cost.value = "<h4>Monthly cost</h4>" + cost_html(costs)

    def _pause(self, error: ValidationError | None) -> None:
        """Grey the preview out under ``error``'s reason while the form is invalid; undo when valid."""
        paused = error is not None
        self.paused.layout.display = None if paused else "none"
        self.paused.value = (
            f'<p style="{ERROR_STYLE}">Preview paused, it shows the last valid design: '
            f"{escape(str(error))}</p>"
            if paused
            else ""
        )
        (self.column.add_class if paused else self.column.remove_class)(PREVIEW_INVALID)

    def _schedule(self) -> None:
        """Refresh ``delay`` seconds after the last edit (at once outside a running event loop)."""
        if self._handle is not None:
            self._handle.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.delay <= 0:
            self.refresh()
        else:
            self._handle = loop.call_later(self.delay, self.refresh)


def cost_html(costs: pd.DataFrame) -> str:
    """The monthly cost table: one row per task and a total, numbers right-aligned, in USD."""
    rows = [
        (
            task.task,
            f"{task.on_demand_tasks} + {task.spot_tasks}",
            task.usd_month,
            task.all_on_demand_usd_month,
        )
        for task in costs.itertuples()
    ]
    rows.append(("total", "", costs["usd_month"].sum(), costs["all_on_demand_usd_month"].sum()))
    body = "".join(
        f"<tr><td>{escape(name)}</td><td class='n'>{placed}</td>"
        f"<td class='n'>${usd:,.2f}</td><td class='n'>${full:,.2f}</td></tr>"
        for name, placed, usd, full in rows
    )
    return (
        "<table class='dualalb-cost'><tr><th>task</th><th>on-demand + spot</th><th>USD / month</th>"
        f"<th>all on-demand</th></tr>{body}</table>"
    )
