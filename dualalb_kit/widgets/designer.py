"""The designer: one form for the stack, one per task and one per app pattern, the live preview
beside them and the actions below; every edit re-validates the whole spec."""

from __future__ import annotations

import copy
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..scaffold import Answers
from ..spec import (
    APP_PATTERNS,
    NLB_ONLY_ALB_OPTIONS,
    SUBNET_CHOICES,
    DeploymentSpec,
    Route53Spec,
    TaskSpec,
)
from ..target import Target
from .actions import DesignActions
from .apps import AppOptionsEditor
from .deployment import deployment_fields, enable_deployment
from .forms import Form, FormField, Look, error_html, form_field, lock, set_path, spec_fields, widgets
from .preview import LivePreview
from .target_choice import TargetChoice
from .task import TaskEditor
from .text import comma_list

SPECIFIC_SUBNETS = "specific ids"
"""The subnets dropdown choice that enables the comma-separated subnet id field."""
STACK_LABELS = {
    "stack_name": "stack name",
    "region": "region",
    "pattern": "pattern",
    "vpc": "vpc (new|default|vpc-…)",
    "cluster_name": "cluster name",
    "existing_cluster": "existing cluster",
    "load_balancer": "load balancer",
    "external_alb_idle_timeout_seconds": "external idle (s)",
    "internal_alb_idle_timeout_seconds": "internal idle (s)",
    "access_logs": "ALB access logs",
    "spot": "spot by default",
    "spot_termination_handler": "Spot interruption handler",
    "enable_execute_command": "ECS exec",
    "circuit_breaker": "circuit breaker",
    "alarms": "alarms + dashboard",
}
"""The stack's plain options, in the form's order (the subnets and deployment have their own)."""
ROUTE53_LABELS = {
    "zone_name": "zone name",
    "external_record": "external record",
    "internal_record": "internal record",
    "alias": "alias records",
}
DEFAULT_IMAGE = Answers.image
"""The image of the starting design and of an added task (``dualalb-kit init``'s default)."""
NEW_TASK_PORT = 8000
"""A task the designer adds listens on the internal ALB at ``NEW_TASK_PORT`` + its number, or the
next free port above."""


def default_spec() -> DeploymentSpec:
    """A one-task starting design: nginx behind both ALBs on port 80."""
    return DeploymentSpec(
        stack_name="dualalb-design",
        tasks=[{"name": "web", "image": DEFAULT_IMAGE, "external": {"port": 80}, "internal": {"port": 80}}],
    )


class SpecDesigner(TargetChoice, DesignActions, Form):
    """Edit a deployment spec with widgets; Synth, Diff, Deploy and Destroy it.

    ``spec`` is the starting design (default: one nginx task on both ALBs). ``outdir`` is where
    synthesis writes the assembly (default ``cdk.out/<stack_name>``); ``nag`` runs cdk-nag's
    AwsSolutions pack on Synth (default on). ``target`` (a ``Target``, or ``sandbox`` / ``aws``)
    and ``endpoint_url`` (default: the running sandbox in ``DUALALB_SANDBOX_URL``) are where
    Deploy, Diff and Destroy go, in the spec's region; Destroy asks for a second click. They are
    disabled, with the reason and what to do in the status line, while that target cannot be
    reached (:meth:`check_target`); **Start sandbox** then starts one in this kernel.
    Beside the form (and in view while it scrolls), a diagram and the monthly cost of the design
    follow every valid edit, ``preview_delay`` seconds after the last one (default 0.3; 0: at
    once); while the form is invalid they are greyed out under the reason.
    """

    def __init__(
        self,
        spec: DeploymentSpec | None = None,
        *,
        outdir: str | Path | None = None,
        nag: bool = True,
        target: Target | str = "sandbox",
        endpoint_url: str | None = None,
        preview_delay: float = 0.3,
    ) -> None:
        spec = spec or default_spec()
        self._base = spec.to_params()
        self.outdir = outdir
        self.nag = nag
        self._error: ValidationError | None = None
        self._spec: DeploymentSpec | None = None
        super().__init__(self._stack_fields(Look()))
        self.observe(self._changed)
        self.apps = {pattern: AppOptionsEditor(pattern, getattr(spec, pattern)) for pattern in APP_PATTERNS}
        """The options editor of each app pattern, shown while it is the chosen pattern."""
        for app in self.apps.values():
            app.observe(self._changed)
        self.tasks: list[TaskEditor] = []
        self.tasks_box = widgets.VBox([])
        self.add_task_button = widgets.Button(description="Add task")
        self.add_task_button.on_click(lambda _: self.add_task())
        self.tasks_section = widgets.VBox([widgets.HTML("<h3>Tasks</h3>"), self.tasks_box])
        self._init_target(target, endpoint_url)
        self._init_actions()
        self._preview = LivePreview(preview_delay)
        self.preview = self._preview.column
        """The diagram and the monthly cost, beside the form and kept in view while it scrolls."""
        self.diagram_preview = self._preview.diagram
        self.cost_preview = self._preview.cost
        self.preview_paused = self._preview.paused
        """Empty while the form is valid; else why the (greyed) preview shows the last valid design."""
        for task in spec.tasks:
            self._append_task(task)
        self.check_target()
        self.refresh_preview()  # at once, so an executed notebook records it

    def _stack_fields(self, look: Look) -> list[FormField]:
        """The stack's options, the subnets before the load balancer, then the deployment and Route 53."""
        subnets = self._base["subnets"]
        self.subnet_choice = look.make(
            widgets.Dropdown,
            options=[*SUBNET_CHOICES, SPECIFIC_SUBNETS],
            value=subnets if isinstance(subnets, str) else SPECIFIC_SUBNETS,
            description="subnets",
        )
        self.subnet_ids = look.make(
            widgets.Text,
            value="" if isinstance(subnets, str) else ", ".join(subnets),
            description="subnet ids",
            placeholder="subnet-..., subnet-...",
        )
        deployment = deployment_fields(self._base.get("deployment"), look, inherit=False)
        self.deployment_choice = deployment[0].widget
        stack = spec_fields("", DeploymentSpec, self._base, look, STACK_LABELS)
        at = [field.path for field in stack].index("load_balancer")  # the subnets go before it
        stack[at].widget.tooltip = "alb: HTTP/HTTPS listeners; nlb: TCP/TLS listeners, CPU scaling only"
        return [
            *stack[:at],
            form_field("subnets", self.subnet_choice, self._subnets, look=look),
            form_field("subnet_ids", self.subnet_ids, lambda: None, look=look),
            *stack[at:],
            *deployment,
            *spec_fields("route53", Route53Spec, self._base["route53"], look, ROUTE53_LABELS),
        ]

    # ---- the design -------------------------------------------------------------------------

    @property
    def spec(self) -> DeploymentSpec:
        """The current design; raises the :class:`ValidationError` the form shows if it is invalid."""
        if self._error is not None:
            raise self._error
        assert self._spec is not None
        return self._spec

    @property
    def error(self) -> ValidationError | None:
        """What is wrong with the current input (``None`` when valid)."""
        return self._error

    @property
    def preview_delay(self) -> float:
        """Seconds between the last edit and the preview's redraw (0: at once)."""
        return self._preview.delay

    @preview_delay.setter
    def preview_delay(self, seconds: float) -> None:
        self._preview.delay = seconds

    def to_yaml(self) -> str:
        """The current design as a params file's text."""
        return self.spec.to_yaml()

    def save(self, path: str | Path) -> Path:
        """Write the design as a params file at ``path``."""
        path = Path(path)
        path.write_text(self.to_yaml())
        return path

    def widget(self, path: str) -> widgets.ValueWidget:
        """The widget editing spec ``path``, e.g. ``stack_name`` or ``tasks[1].external.port``."""
        if path.startswith("tasks["):
            index, rest = path[len("tasks[") :].split("].", 1)
            return self.tasks[int(index)].fields[rest].widget
        if path.split(".")[0] in self.apps:
            return self.apps[path.split(".")[0]].fields[path].widget
        return self.fields[path].widget

    def add_task(self, task: TaskSpec | dict[str, Any] | None = None) -> TaskEditor:
        """Add a task (default: an nginx task on a free internal port) and return its editor."""
        editor = self._append_task(task or self._new_task())
        self._changed()
        return editor

    def remove_task(self, editor: TaskEditor) -> None:
        self.tasks.remove(editor)
        self.tasks_box.children = [task.box for task in self.tasks]
        self._changed()

    def data(self) -> dict[str, Any]:
        """The current input as spec data (before validation)."""
        data = copy.deepcopy(self._base)
        for path, field in self.fields.items():
            if path != "subnet_ids" and not path.startswith("deployment."):  # read by subnets, deployment
                set_path(data, path, field.read())
        data["tasks"] = [editor.data() for editor in self.tasks]
        for pattern, app in self.apps.items():
            section = app.data() if data["pattern"] == pattern else None
            if section is None:
                data.pop(pattern, None)
            else:
                data[pattern] = section
        if data["pattern"] == "laravel":
            data["tasks"] = []  # its service is built from laravel.code; the task editors wait hidden
        return data

    def _subnets(self) -> str | list[str]:
        self.subnet_ids.disabled = self.subnet_choice.value != SPECIFIC_SUBNETS
        if self.subnet_choice.value == SPECIFIC_SUBNETS:
            return comma_list(self.subnet_ids.value)
        return self.subnet_choice.value

    def _new_task(self) -> dict[str, Any]:
        """An nginx task named ``task<N>`` (the first free N from the task count up) on the internal
        ALB at the first free port from ``NEW_TASK_PORT`` + N."""
        names = {editor.name for editor in self.tasks}
        number = len(self.tasks) + 1
        while f"task{number}" in names:
            number += 1
        used = {editor.internal_port.value for editor in self.tasks if editor.has_internal.value}
        port = NEW_TASK_PORT + number
        while port in used:
            port += 1
        return {"name": f"task{number}", "image": DEFAULT_IMAGE, "internal": {"port": port}}

    def _append_task(self, task: TaskSpec | dict[str, Any]) -> TaskEditor:
        editor = TaskEditor(
            task,
            on_remove=self.remove_task,
            stack_spot=lambda: self.fields["spot"].read(),
            load_balancer=lambda: self.fields["load_balancer"].read(),
        )
        editor.observe(self._changed)
        self.tasks.append(editor)
        self.tasks_box.children = [task.box for task in self.tasks]
        return editor

    def _changed(self, _change: Any = None) -> None:
        """Validate the whole input, show the error beside its field, enable what applies."""
        if not hasattr(self, "_preview"):
            return  # still being built
        for form in (self, *self.tasks, *self.apps.values()):
            form.clear_errors()
        self._show_pattern()
        enable_deployment(self.fields)
        for path in NLB_ONLY_ALB_OPTIONS:
            lock(self.fields[path].widget, self.fields["load_balancer"].read() == "nlb")
        try:
            self._spec, self._error = DeploymentSpec.model_validate(self.data()), None
        except ValidationError as exc:
            self._spec, self._error = None, exc
            self._show(exc)
        self._show_state(self._error)
        for editor in self.tasks:
            editor.refresh()  # the stack's spot flag decides the placement of tasks without a mix
        self._preview.show(self._spec, self._error)

    def refresh_preview(self) -> None:
        """Redraw the diagram and the monthly cost of the current (valid) design, without synthesis."""
        self._preview.refresh()

    def _show_pattern(self) -> None:
        """Show the chosen app pattern's options; the laravel pattern has no tasks to edit."""
        pattern = self.fields["pattern"].read()
        for name, app in self.apps.items():
            app.box.layout.display = None if name == pattern else "none"
        for part in (self.tasks_section, self.add_task_button):
            part.layout.display = "none" if pattern == "laravel" else None

    def _show(self, error: ValidationError) -> None:
        """Show ``error`` beside the field it names: a task's, an app pattern's or the stack's."""
        path = error.field
        if path.startswith("tasks["):
            index, _, rest = path[len("tasks[") :].partition("]")
            self.tasks[int(index)].show_error(rest.lstrip("."), error.reason)
        elif path == "tasks":
            self.form_error.value = error_html(error.reason)
        elif path.split(".")[0] in self.apps:
            self.apps[path.split(".")[0]].show_error(path, error.reason)
        else:
            self.show_error(path, error.reason)

    # ---- display ----------------------------------------------------------------------------

    @cached_property
    def box(self) -> widgets.VBox:
        """The whole designer as one widget: the form and the preview side by side, the actions below."""
        form = widgets.VBox(
            [
                widgets.HTML("<h3>Stack</h3>"),
                widgets.VBox([field.row for field in self.fields.values()]),
                *(app.box for app in self.apps.values()),
                self.tasks_section,
                self.form_error,
                self.add_task_button,
            ],
            layout=widgets.Layout(flex="1 1 440px", min_width="0"),
        )
        return widgets.VBox(
            [
                widgets.HBox(
                    [form, self.preview], layout=widgets.Layout(flex_flow="row wrap", overflow="visible")
                ),
                *self.action_widgets(),
            ],
            layout=widgets.Layout(overflow="visible"),  # not a scrolling box: the preview sticks
        ).add_class("dualalb-designer")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)
