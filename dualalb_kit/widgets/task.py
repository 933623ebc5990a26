"""One task of the design: a compact row (name, image, desired count, listeners, placement) with
its details (container, listeners, capacity, scaling, environment, health check, deployment) on
expand. Values, defaults and choices come from the spec's models."""

from __future__ import annotations

import copy
from collections.abc import Callable
from html import escape
from typing import Any, NamedTuple

from ..cost import split_tasks
from ..errors import ValidationError
from ..spec import (
    FARGATE_MEMORY_BY_CPU,
    AlbSpec,
    CapacitySpec,
    HealthCheckSpec,
    ScalingSpec,
    TaskSpec,
    stack_capacity,
)
from ..validation import CAPACITY_PROVIDERS, SIDES
from . import text
from .deployment import deployment_fields, enable_deployment
from .forms import (
    WIDE,
    Form,
    FormField,
    Look,
    form_field,
    lock,
    matches,
    spec_fields,
    spec_value,
    widgets,
)

TASK_LABELS = {
    "protocol": "NLB protocol",
    "health_check_grace_period_seconds": "grace period (s)",
    "min_healthy_percent": "min healthy %",
    "max_healthy_percent": "max healthy %",
}
"""The task's own options shown in its details (listeners: protocol; deployment: the rest)."""
CONTAINER_LABELS = {"container_port": "port", "cpu": "cpu", "memory": "memory (MiB)"}
SECTIONS = {
    "container": tuple(CONTAINER_LABELS),
    "listeners": (*SIDES, "protocol"),
    "capacity": ("capacity",),
    "scaling": ("scaling",),
    "environment": ("environment",),
    "health check": ("health_check",),
    "deployment": ("deployment", *(name for name in TASK_LABELS if name != "protocol")),
}
"""The details' sections: title -> the spec paths (and the paths inside them) it shows, in order."""
NEW_LISTENER_PORT = AlbSpec.model_fields["port"].examples[0]
"""The port a listener starts on when it is ticked."""
WEIGHT_SCALE = 10
"""The capacity weight sliders' top (a design's larger weight widens its slider to fit)."""
SUMMARY_LABEL_WIDTH = "36px"
ON_DEMAND, SPOT = CAPACITY_PROVIDERS


class Listener(NamedTuple):
    """The widgets of a task's listener on one load balancer."""

    enabled: widgets.Checkbox
    port: widgets.IntText
    cert: widgets.Text
    conditions: widgets.Text


class TaskEditor(Form):
    """One task as a compact row (name, image, desired count, listeners, placement) with its details
    (container, listeners with their forward conditions and NLB protocol, capacity, scaling with
    scheduled actions, environment, health check, deployment) on expand.

    ``stack_spot`` tells the stack's ``spot`` flag, the capacity a task without its own mix gets;
    ticking "own capacity mix" starts from that same placement, so opening it changes nothing.
    ``load_balancer`` tells the stack's ``alb`` or ``nlb``: the listener labels and the options that
    apply follow it. Keys the form does not show are kept as they were.
    """

    def __init__(
        self,
        task: TaskSpec | dict[str, Any],
        *,
        on_remove: Callable[[TaskEditor], None],
        stack_spot: Callable[[], bool] = lambda: False,
        load_balancer: Callable[[], str] = lambda: "alb",
    ) -> None:
        data = task.model_dump(mode="json", exclude_none=True) if isinstance(task, TaskSpec) else dict(task)
        self._base = copy.deepcopy(data)
        self._stack_spot = stack_spot
        self._load_balancer = load_balancer
        self._look = Look()
        self._summary_fields = self._summary(data)
        super().__init__(
            [
                *self._summary_fields,
                *self._container_fields(data),
                *self._listener_fields(data),
                *spec_fields("", TaskSpec, data, self._look, TASK_LABELS),
                *self._capacity_fields(data.get("capacity") or []),
                *self._scaling_fields(data.get("scaling", {})),
                self._environment_field(data.get("environment", {})),
                *self._health_check_fields(data),
                *deployment_fields(data.get("deployment"), self._look, inherit=True),
            ]
        )
        self.memory = self.fields["memory"].widget
        self.fields["cpu"].widget.observe(self._cpu_changed, names="value")
        self.split = widgets.HTML("")
        self.listeners = widgets.HTML("")
        self.expand_button = widgets.ToggleButton(
            value=False, description="▸", tooltip="details", layout=self._look.layout("36px")
        )
        self.expand_button.observe(lambda change: self.expand(change["new"]), names="value")
        self.remove_button = widgets.Button(
            description="Remove task", button_style="warning", layout=self._look.layout("120px")
        )
        self.remove_button.on_click(lambda _: on_remove(self))
        self.observe(lambda _: self.refresh())
        self.refresh()
        self.row = self._row()
        self.details = self._details()
        self.box = widgets.VBox(
            [self.row, *(field.error for field in self._summary_fields), self.form_error, self.details],
            layout=widgets.Layout(border_bottom="1px solid #ddd", padding="2px 0"),
        )

    # ---- the fields -------------------------------------------------------------------------

    def _summary(self, data: dict[str, Any]) -> list[FormField]:
        """The row's own fields, narrow: name, image and desired count."""

        def narrow(widget_class: type[widgets.ValueWidget], name: str, width: str, **label: str) -> FormField:
            value = spec_value(data, TaskSpec, name)
            widget = widget_class(
                value="" if value is None else value,
                layout=self._look.layout(width),
                style=self._look.style(widget_class, SUMMARY_LABEL_WIDTH),
                **label,
            )
            return form_field(name, widget, look=self._look)

        return [
            narrow(widgets.Text, "name", "110px", placeholder="name"),
            narrow(widgets.Text, "image", "190px", placeholder="image"),
            narrow(widgets.IntText, "desired_count", "130px", description="tasks"),
        ]

    def _container_fields(self, data: dict[str, Any]) -> list[FormField]:
        """The container's port, and its size: the Fargate CPU sizes and the memory that fits the CPU."""
        cpu = spec_value(data, TaskSpec, "cpu")
        choices = {"cpu": list(FARGATE_MEMORY_BY_CPU), "memory": FARGATE_MEMORY_BY_CPU.get(cpu, ())}
        return spec_fields("", TaskSpec, data, self._look, CONTAINER_LABELS, choices)

    def _listener_fields(self, data: dict[str, Any]) -> list[FormField]:
        """Per load balancer: on or off, the port, certificates and forward conditions."""
        look, fields = self._look, []
        self._sides: dict[str, Listener] = {}
        for side in SIDES:
            given = data.get(side)
            listener = self._sides[side] = Listener(
                look.make(widgets.Checkbox, value=given is not None, description=f"{side} ALB"),
                look.make(
                    widgets.IntText,
                    value=(given or {}).get("port", NEW_LISTENER_PORT),
                    description=f"{side} port",
                ),
                look.make(widgets.Text, value=text.certificates_text(given), description=f"{side} cert ARN"),
                look.make(
                    widgets.Text,
                    WIDE,
                    value=text.conditions_text(given),
                    description=f"{side} conditions",
                    placeholder="host: a.example.com, b.example.com; path: /api/*",
                ),
            )
            fields += [
                form_field(side, listener.enabled, lambda: None, look=look),
                form_field(f"{side}.port", listener.port, look=look),
                form_field(f"{side}.cert_arn", listener.cert, look=look),
                form_field(
                    f"{side}.forward_conditions",
                    listener.conditions,
                    lambda box=listener.conditions: text.conditions(box.value),
                    look=look,
                ),
            ]
        external, internal = (self._sides[side] for side in SIDES)
        self.has_external, self.external_port, self.external_cert, self.external_conditions = external
        self.has_internal, self.internal_port, self.internal_cert, self.internal_conditions = internal
        return fields

    def _capacity_fields(self, strategy: list[dict[str, Any]]) -> list[FormField]:
        """The own capacity mix: on or off, the FARGATE base and both providers' weights."""
        look = self._look
        base, weights = _mix_values(strategy)
        self.custom_mix = look.make(widgets.Checkbox, value=bool(strategy), description="own capacity mix")
        self.custom_mix.observe(self._mix_toggled, names="value")
        self.fargate_base = look.make(widgets.IntText, value=base, description=f"{ON_DEMAND} base")
        self._weights = {
            provider: look.make(
                widgets.IntSlider,
                WIDE,
                value=weight,
                min=0,
                max=max(WEIGHT_SCALE, weight),
                description=f"{provider} weight",
            )
            for provider, weight in weights.items()
        }
        self.fargate_weight, self.spot_weight = self._weights[ON_DEMAND], self._weights[SPOT]
        return [
            form_field("capacity", self.custom_mix, lambda: None, look=look),
            form_field("capacity[0].base", self.fargate_base, look=look),
            form_field("capacity[0].weight", self.fargate_weight, look=look),
            form_field("capacity[1].weight", self.spot_weight, look=look),
        ]

    def _scaling_fields(self, scaling: dict[str, Any]) -> list[FormField]:
        """Target tracking's plain options, then the scheduled actions one a line."""
        scheduled = self._look.make(
            widgets.Textarea,
            WIDE,
            value=text.scheduled_text(scaling.get("scheduled")),
            description="scheduled",
            placeholder="0 8 ? * MON-FRI * min=2 max=10 (cron in UTC), one a line",
        )
        return [
            *spec_fields("scaling", ScalingSpec, scaling, self._look),
            form_field(
                "scaling.scheduled", scheduled, lambda: text.scheduled(scheduled.value), look=self._look
            ),
        ]

    def _environment_field(self, environment: dict[str, str]) -> FormField:
        box = self._look.make(
            widgets.Textarea,
            WIDE,
            value=text.environment_text(environment),
            description="environment",
            placeholder="KEY=value, one a line",
        )
        return form_field("environment", box, lambda: text.environment(box.value), look=self._look)

    def _health_check_fields(self, data: dict[str, Any]) -> list[FormField]:
        """The own health check: on or off, then its options (the model's defaults while off)."""
        self.has_health_check = self._look.make(
            widgets.Checkbox, value="health_check" in data, description="own health check"
        )
        return [
            form_field("health_check", self.has_health_check, lambda: None, look=self._look),
            *spec_fields("health_check", HealthCheckSpec, data.get("health_check", {}), self._look),
        ]

    def _row(self) -> widgets.HBox:
        summary = [field.widget for field in self._summary_fields]
        row = widgets.HBox(
            [self.expand_button, *summary, self.listeners, self.split],
            layout=widgets.Layout(align_items="center", flex_flow="row wrap"),
        )
        for widget, name in (
            (row, "task-row"),
            (self.expand_button, "expand"),
            (self.fields["desired_count"].widget, "desired"),
            (self.split, "placement"),
            (self.custom_mix, "own-mix"),
            (self.fargate_weight, "fargate-weight"),
            (self.spot_weight, "spot-weight"),
        ):
            widget.add_class(f"dualalb-{name}")  # stable handles for the browser test
        return row

    def _details(self) -> widgets.VBox:
        """The sections (:data:`SECTIONS`) and the remove button, hidden until expanded."""
        sections = [
            widgets.VBox(
                [
                    widgets.HTML(f"<b>{title}</b>"),
                    *(
                        field.row
                        for prefix in prefixes
                        for path, field in self.fields.items()
                        if matches(path, prefix)
                    ),
                ],
                layout=self._look.layout(),
            )
            for title, prefixes in SECTIONS.items()
        ]
        return widgets.VBox(
            [*sections, self.remove_button], layout=widgets.Layout(display="none", padding="0 0 0 40px")
        )

    # ---- state ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.fields["name"].widget.value

    @property
    def expanded(self) -> bool:
        return self.expand_button.value

    def expand(self, expanded: bool = True) -> None:
        """Show (or hide) the task's details below its row; nothing in the design changes."""
        self.expand_button.value = expanded
        self.expand_button.description = "▾" if expanded else "▸"
        self.details.layout.display = "flex" if expanded else "none"

    def show_error(self, path: str, message: str) -> None:
        super().show_error(path, message)
        if not any(matches(path, field.path) for field in self._summary_fields):
            self.expand()

    def data(self) -> dict[str, Any]:
        """This task as spec data (the original task's other keys kept)."""
        data = copy.deepcopy(self._base)
        for path in (*CONTAINER_LABELS, "name", "image", "desired_count", "environment", *TASK_LABELS):
            data[path] = self.fields[path].read()
        data["deployment"] = self.fields["deployment"].read()
        for side, listener in self._sides.items():
            data[side] = (
                {
                    **(data.get(side) or {}),  # keys the form does not show
                    "port": listener.port.value,
                    "cert_arn": text.certificates(listener.cert.value),
                    "forward_conditions": self.fields[f"{side}.forward_conditions"].read(),
                }
                if listener.enabled.value
                else None
            )
        data["capacity"] = self._capacity() if self.custom_mix.value else None
        data["scaling"] = {**data.get("scaling", {}), **self._section("scaling.")}
        data["health_check"] = (
            {**(data.get("health_check") or {}), **self._section("health_check.")}
            if self.has_health_check.value
            else None
        )
        return data

    def strategy(self) -> list[dict[str, Any]]:
        """The capacity strategy in force: the task's own mix, else the stack's default."""
        if self.custom_mix.value:
            return self._capacity()
        return [item.model_dump() for item in stack_capacity(self._stack_spot())]

    def _section(self, prefix: str) -> dict[str, Any]:
        return {
            path.removeprefix(prefix): field.read()
            for path, field in self.fields.items()
            if path.startswith(prefix)
        }

    def _capacity(self) -> list[dict[str, Any]]:
        strategy = [
            {"provider": ON_DEMAND, "base": self.fargate_base.value, "weight": self.fargate_weight.value},
            {"provider": SPOT, "base": 0, "weight": self.spot_weight.value},
        ]
        used = [item for item in strategy if item["base"] or item["weight"]]
        return used if used else strategy

    def _mix_toggled(self, change: dict[str, Any]) -> None:
        """Start an own mix from the stack's default, so ticking it keeps the task's placement."""
        if change["new"]:
            base, weights = _mix_values([item.model_dump() for item in stack_capacity(self._stack_spot())])
            self.fargate_base.value = base
            for provider in sorted(weights, key=weights.__getitem__, reverse=True):
                self._weights[provider].value = weights[provider]  # weighted first: never all zero

    def _cpu_changed(self, change: dict[str, Any]) -> None:
        choices = FARGATE_MEMORY_BY_CPU[change["new"]]
        keep = self.memory.value if self.memory.value in choices else choices[0]
        self.memory.options = choices
        self.memory.value = keep

    def refresh(self) -> None:
        """Enable the fields that apply and redraw the listeners and placement of the row."""
        for widget in (self.fargate_base, *self._weights.values()):
            widget.disabled = not self.custom_mix.value
        for path, field in self.fields.items():
            if path.startswith("health_check."):
                field.widget.disabled = not self.has_health_check.value
        balancer = self._load_balancer()
        for side, listener in self._sides.items():
            listener.enabled.description = f"{side} {balancer.upper()}"
            listener.port.disabled = listener.cert.disabled = not listener.enabled.value
            lock(listener.conditions, not listener.enabled.value or balancer == "nlb")
        lock(self.fields["protocol"].widget, balancer != "nlb")
        enable_deployment(self.fields)
        self.listeners.value = " · ".join(
            f"{side[:3]} :{listener.port.value}"
            for side, listener in self._sides.items()
            if listener.enabled.value
        )
        self.split.value = f"<i>{escape(self._placement())}</i>"

    def _placement(self) -> str:
        desired = max(self.fields["desired_count"].widget.value, 0)
        try:
            placed = split_tasks(desired, self.strategy())
        except ValidationError as error:  # e.g. all weights zero; the capacity field shows it too
            return f"capacity: {error.reason}"
        on_demand, spot = placed.get(ON_DEMAND, 0), placed.get(SPOT, 0)
        share = f"{100 * spot / desired:.0f}% spot" if desired else "no tasks"
        source = "" if self.custom_mix.value else ", stack default"
        tasks = "1 task" if desired == 1 else f"{desired} tasks"
        return f"{tasks}: {on_demand} {ON_DEMAND} + {spot} {SPOT} ({share}{source})"


def _mix_values(strategy: list[dict[str, Any]]) -> tuple[int, dict[str, int]]:
    """The FARGATE base and each provider's weight in ``strategy`` (the model's defaults for a key
    an item leaves out; 0 for a provider it leaves out)."""
    items = {item["provider"]: item for item in strategy}
    base = spec_value(items[ON_DEMAND], CapacitySpec, "base") if ON_DEMAND in items else 0
    weights = {
        provider: spec_value(items[provider], CapacitySpec, "weight") if provider in items else 0
        for provider in CAPACITY_PROVIDERS
    }
    return base, weights
