"""The designer's actions: Synth, Diff, Deploy and Destroy with their status line, progress bar,
log and result tables. Each button makes one library call (``synth``, ``deploy.diff``,
``deploy.deploy``, ``deploy.destroy``); its result lands in a plain attribute and an HTML widget."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import pandas as pd

from ..diagram import Diagram
from ..errors import ValidationError
from .forms import ERROR_STYLE, error_html, widgets

DONE_STYLE = "color:#1b5e20"


class DesignActions:
    """The action part of the designer (a mixin): the buttons, ``status``, ``progress``, ``log``,
    the result widgets and attributes (``synthesis``, ``diff_table``, ``deployed_outputs``,
    ``last_action_error``). The designer gives ``spec``, ``outdir``, ``nag``, ``current_target()``,
    ``_reachable_target()``, ``_advice(error)`` and ``target_problem``."""

    def _init_actions(self) -> None:
        self.synth_button = widgets.Button(description="Synth", button_style="primary")
        self.diff_button = widgets.Button(description="Diff")
        self.deploy_button = widgets.Button(description="Deploy", button_style="success")
        self.destroy_button = widgets.Button(description="Destroy", button_style="danger")
        self.synth_button.on_click(lambda _: self._run("Synth", self.run_synth))
        self.diff_button.on_click(lambda _: self._run("Diff", self.run_diff))
        self.deploy_button.on_click(lambda _: self._run("Deploy", self.run_deploy))
        self.destroy_button.on_click(lambda _: self._destroy_clicked())
        self.sandbox_button = widgets.Button(
            description="Start sandbox",
            tooltip="a local AWS endpoint in this kernel, for Diff, Deploy and Destroy",
        )
        self.sandbox_button.on_click(lambda _: self._run("Start sandbox", self.start_sandbox))
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="", bar_style="")
        self.status = widgets.HTML("")
        self.resources_html = widgets.HTML("")
        self.outputs_html = widgets.HTML("")
        self.warnings_html = widgets.HTML("")
        self.diagram_html = widgets.HTML("")
        self.diff_html = widgets.HTML("")
        self.log = widgets.Output()
        self.synthesis = None
        self.diff_table: pd.DataFrame | None = None
        self.deployed_outputs: dict[str, Any] | None = None
        self.last_action_error: Exception | None = None
        self._destroy_armed = False

    def _show_state(self, error: ValidationError | None) -> None:
        """Enable the buttons that can run and say why the others cannot in the status line."""
        self._disarm_destroy()
        self.synth_button.disabled = error is not None
        for button in (self.diff_button, self.deploy_button, self.destroy_button):
            button.disabled = error is not None or self.target_problem is not None
        self.sandbox_button.layout.display = (
            None if self.target_problem and self.target.value == "sandbox" else "none"
        )
        if error:
            self.status.value = f'<span style="{ERROR_STYLE}">✗ {escape(str(error))}</span>'
        elif self.target_problem:
            self.status.value = (
                f'<span style="{DONE_STYLE}">✓ valid</span> · Diff, Deploy and Destroy wait: '
                f"{escape(self.target_problem)}"
            )
        else:
            self.status.value = f'<span style="{DONE_STYLE}">✓ valid</span>'

    def run_synth(self):
        """Synthesize the design; fills the resource table, outputs, warnings and diagram. Lookups go
        to the chosen target when it answers, else to AWS (:func:`.synth.lookups_target_at_hand`)."""
        from ..synth import lookups_target_at_hand, synth

        spec = self.spec
        lookups = lookups_target_at_hand(spec, self._reachable_target())
        synthesis = self.synthesis = synth(spec, self.outdir, target=lookups, nag=self.nag)
        counts = synthesis.resource_counts()
        self.resources_html.value = f"<h4>Resources ({len(synthesis.resources)})</h4>" + counts.to_html(
            index=False, classes="dualalb-resources", border=0
        )
        self.outputs_html.value = "<h4>Outputs</h4>" + _table(synthesis.outputs_table())
        warnings = synthesis.warnings + [
            f"cdk-nag {row.rule}: {row.path}" for row in synthesis.findings.itertuples()
        ]
        self.warnings_html.value = "<h4>Warnings</h4>" + (
            "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in warnings) + "</ul>"
            if warnings
            else "<p>none</p>"
        )
        self.diagram_html.value = "<h4>ALBs → listeners → services</h4>" + Diagram(synthesis.template).svg
        return synthesis

    def run_diff(self) -> pd.DataFrame:
        """Diff the design against the deployed stack; fills ``diff_table``."""
        from .. import deploy

        self.diff_table = deploy.diff(self.spec, self.current_target())
        self.diff_html.value = "<h4>Diff</h4>" + _table(self.diff_table)
        return self.diff_table

    def run_deploy(self) -> dict[str, Any]:
        """Deploy the design (progress in the log area); fills ``deployed_outputs``."""
        from .. import deploy

        outputs = self._logged(lambda: deploy.deploy(self.spec, self.current_target(), progress=True))
        self.deployed_outputs = dict(outputs)
        self.outputs_html.value = "<h4>Deployed outputs</h4>" + _table(deploy.outputs_table(outputs))
        return self.deployed_outputs

    def run_destroy(self) -> None:
        """Destroy the deployed stack (the button asks for a second click first; this does not)."""
        from .. import deploy

        self._logged(lambda: deploy.destroy(self.spec, self.current_target()))
        self.deployed_outputs = None

    def _logged(self, call: Callable[[], Any]) -> Any:
        """``call()`` with its progress in the log area. Its exception is raised here: in a kernel the
        ``Output`` widget would show the traceback in the log and swallow it."""
        failure: Exception | None = None
        with self.log:
            try:
                return call()
            except Exception as error:
                failure = error
        raise failure

    def _destroy_clicked(self) -> None:
        """The first click arms Destroy and says what it would delete; the second destroys."""
        if not self._destroy_armed:
            if self.error is not None:
                return
            self._destroy_armed = True
            self.destroy_button.description = "Confirm destroy"
            where = f"{self.spec.stack_name} ({self.target.value}, {self.spec.region})"
            self.status.value = error_html(f"Click Destroy again to delete stack {where}")
            return
        self._run("Destroy", self.run_destroy)

    def _disarm_destroy(self) -> None:
        self._destroy_armed = False
        self.destroy_button.description = "Destroy"

    def _run(self, name: str, action: Callable[[], Any]) -> None:
        """Run a button's action with the progress bar and status line; errors are shown, not raised
        (the last one is ``last_action_error``, also when the form is invalid and nothing ran).
        An interrupt (the notebook's stop button) says the action was stopped, then goes on up."""
        if self.error is not None:
            self.last_action_error = self.error
            return
        self._disarm_destroy()
        self.last_action_error = None
        self.progress.bar_style, self.progress.value, self.progress.description = "info", 0, name
        self.status.value = f"<i>{name} running…</i>"
        try:
            action()
        except KeyboardInterrupt:
            self.progress.bar_style = "warning"
            self.status.value = error_html(f"■ {name} stopped (interrupted)")
            raise
        except Exception as exc:  # a button has no caller to raise to: show the reason
            self.last_action_error = exc
            self.progress.bar_style = "danger"
            self.status.value = error_html(f"{name} failed: {self._advice(exc)}")
            return
        self.progress.bar_style, self.progress.value = "success", 1
        self.status.value = f'<span style="{DONE_STYLE}">✓ {name} done</span>'

    def action_widgets(self) -> list[widgets.Widget]:
        """The actions' part of the designer's box: heading, status line, buttons, bar, results."""
        buttons = [self.synth_button, self.diff_button, self.deploy_button, self.destroy_button]
        results = [
            self.resources_html,
            self.outputs_html,
            self.warnings_html,
            self.diagram_html,
            self.diff_html,
            self.log,
        ]
        return [
            widgets.HTML("<h3>Actions</h3>"),
            self.status,
            widgets.HBox([*buttons, self.target, self.sandbox_button]),
            self.progress,
            widgets.VBox(results),
        ]


def _table(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table; URLs (an endpoint output) whole and clickable, opening a new tab."""
    return "<p>none</p>" if frame.empty else frame.to_html(index=False, border=0, render_links=True)
