"""The widget designer: edit a :class:`DeploymentSpec` in a notebook, then synth, diff, deploy, destroy.

``SpecDesigner(spec)`` shows one form for the stack and one per task. Every edit re-validates the
whole spec; a :class:`ValidationError` is shown next to the field it names (and in the status line),
and the action buttons stay disabled until the spec is valid. ``designer.spec`` and
``designer.to_yaml()`` give the design back, so it can be saved as a params file.

The designer is thin: it turns widget values into spec data and calls ``synth``, ``deploy.diff``,
``deploy.deploy`` and ``deploy.destroy``. Results land in plain attributes (``synthesis``,
``diff_table``, ``deployed_outputs``) and in HTML widgets, so tests can drive it with
``widget.value = ...`` and ``button.click()`` without a browser.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from html import escape
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pandas as pd
from pydantic import BaseModel

from .extras import missing_extra

try:
    import ipywidgets as widgets
except ModuleNotFoundError as error:
    raise missing_extra(error, "the notebook designer") from None

from .cost import load_pricing, monthly_cost, split_tasks
from .diagram import Diagram
from .errors import ValidationError
from .spec import (
    APP_PATTERNS,
    FARGATE_MEMORY_BY_CPU,
    LARAVEL_SAMPLE_CODE,
    NLB_ONLY_ALB_OPTIONS,
    SUBNET_CHOICES,
    DeploymentSpec,
    DeploymentStrategySpec,
    HealthCheckSpec,
    LaravelSpec,
    Route53Spec,
    ScalingSpec,
    TaskSpec,
    WordPressSpec,
)
from .target import KINDS, Target, TargetError
from .validation import DEPLOYMENT_STRATEGIES

SPECIFIC_SUBNETS = "specific ids"
"""The subnets dropdown choice that enables the comma-separated subnet id field."""
TARGETS = KINDS
_LABEL_WIDTH = "150px"
_WIDE = "440px"
_ERROR_STYLE = "color:#b00020"


class _Look:
    """The layouts and styles a form's widgets share: each is one widget model (one IOPub message)
    instead of one per widget. Never change a shared one in place."""

    def __init__(self) -> None:
        self._layouts: dict[str | None, widgets.Layout] = {}
        self._styles: dict[type, widgets.Widget] = {}

    def layout(self, width: str | None = None) -> widgets.Layout:
        if width not in self._layouts:
            self._layouts[width] = widgets.Layout(width=width)
        return self._layouts[width]

    def style(self, widget_class: type[widgets.Widget]) -> widgets.Widget:
        """The labelled style of ``widget_class`` (its description ``_LABEL_WIDTH`` wide)."""
        style_class = widget_class.class_traits()["style"].klass
        if style_class not in self._styles:
            self._styles[style_class] = style_class(description_width=_LABEL_WIDTH)
        return self._styles[style_class]

    def make(self, widget_class: type[widgets.Widget], width: str | None = None, **kwargs: Any) -> Any:
        """A ``widget_class`` with the shared layout of ``width`` and the shared labelled style."""
        return widget_class(layout=self.layout(width), style=self.style(widget_class), **kwargs)

    def error(self) -> widgets.HTML:
        return self.make(widgets.HTML, value="")


@dataclass
class _Field:
    """One editable value: its spec path (relative to its form), widget and error label."""

    path: str
    widget: widgets.ValueWidget
    error: widgets.HTML
    read: Callable[[], Any]
    row_layout: widgets.Layout

    @property
    def row(self) -> widgets.HBox:
        return widgets.HBox([self.widget, self.error], layout=self.row_layout)


def _field(
    path: str, widget: widgets.ValueWidget, read: Callable[[], Any] | None = None, *, look: _Look
) -> _Field:
    widget.style = look.style(type(widget))
    return _Field(path, widget, look.error(), read or (lambda: widget.value), look.layout())


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[leaf] = value


def _matches(error_path: str, field_path: str) -> bool:
    return error_path == field_path or error_path.startswith((field_path + ".", field_path + "["))


class _Form:
    """Fields plus a form-level error label; routes an error path to the closest field."""

    def __init__(self, fields: list[_Field]) -> None:
        self.fields = {field.path: field for field in fields}
        self.form_error = widgets.HTML("")

    def show_error(self, path: str, message: str) -> None:
        matches = [field for field in self.fields.values() if _matches(path, field.path)]
        label = max(matches, key=lambda field: len(field.path)).error if matches else self.form_error
        label.value = f'<span style="{_ERROR_STYLE}">{escape(message)}</span>'

    def clear_errors(self) -> None:
        self.form_error.value = ""
        for field in self.fields.values():
            field.error.value = ""

    def observe(self, callback: Callable[[Any], None]) -> None:
        for field in self.fields.values():
            field.widget.observe(callback, names="value")


class TaskEditor(_Form):
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
        look = self._look = _Look()
        external, internal = data.get("external"), data.get("internal")
        cpu = data.get("cpu", 256)
        capacity = {item["provider"]: item for item in data.get("capacity") or []}
        on_demand, spot = capacity.get("FARGATE", {}), capacity.get("FARGATE_SPOT", {})

        self.has_external = look.make(
            widgets.Checkbox, value=external is not None, description="external ALB"
        )
        self.has_internal = look.make(
            widgets.Checkbox, value=internal is not None, description="internal ALB"
        )
        self.custom_mix = look.make(widgets.Checkbox, value=bool(capacity), description="own capacity mix")
        self.custom_mix.observe(self._mix_toggled, names="value")
        self.external_port = look.make(
            widgets.IntText, value=(external or {}).get("port", 80), description="external port"
        )
        self.internal_port = look.make(
            widgets.IntText, value=(internal or {}).get("port", 80), description="internal port"
        )
        self.external_cert = look.make(
            widgets.Text, value=_cert_text(external), description="external cert ARN"
        )
        self.internal_cert = look.make(
            widgets.Text, value=_cert_text(internal), description="internal cert ARN"
        )
        self.memory = look.make(
            widgets.Dropdown,
            options=FARGATE_MEMORY_BY_CPU.get(cpu, ()),
            value=data.get("memory", 512),
            description="memory (MiB)",
        )
        self.fargate_base = look.make(
            widgets.IntText, value=on_demand.get("base", 0), description="FARGATE base"
        )
        self.fargate_weight, self.spot_weight = (
            look.make(
                widgets.IntSlider,
                _WIDE,
                value=item.get("weight", 0),
                min=0,
                max=10,
                description=f"{name} weight",
            )
            for name, item in (("FARGATE", on_demand), ("FARGATE_SPOT", spot))
        )
        self.has_health_check = look.make(
            widgets.Checkbox, value="health_check" in data, description="own health check"
        )
        compact = {
            "name": widgets.Text(value=data.get("name", ""), placeholder="name", layout=look.layout("110px")),
            "image": widgets.Text(
                value=data.get("image", ""), placeholder="image", layout=look.layout("190px")
            ),
            "desired_count": widgets.IntText(
                value=data.get("desired_count", 1), description="tasks", layout=look.layout("130px")
            ),
        }
        for widget in compact.values():
            widget.style = {"description_width": "36px"}
        self._summary_fields = [
            _Field(path, widget, look.error(), lambda w=widget: w.value, look.layout())
            for path, widget in compact.items()
        ]
        conditions = {
            side: look.make(
                widgets.Text,
                _WIDE,
                value=_conditions_text(alb),
                description=f"{side} conditions",
                placeholder="host: a.example.com, b.example.com; path: /api/*",
            )
            for side, alb in (("external", external), ("internal", internal))
        }
        self.external_conditions, self.internal_conditions = conditions.values()
        scheduled = look.make(
            widgets.Textarea,
            _WIDE,
            value=_scheduled_text(data.get("scaling", {}).get("scheduled")),
            description="scheduled",
            placeholder="0 8 ? * MON-FRI * min=2 max=10 (cron in UTC), one a line",
        )
        fields = [
            *self._summary_fields,
            _field(
                "container_port",
                look.make(widgets.IntText, value=data.get("container_port", 80), description="port"),
                look=look,
            ),
            _field(
                "cpu",
                look.make(
                    widgets.Dropdown, options=list(FARGATE_MEMORY_BY_CPU), value=cpu, description="cpu"
                ),
                look=look,
            ),
            _field("memory", self.memory, look=look),
            _field("external", self.has_external, lambda: None, look=look),
            _field("external.port", self.external_port, look=look),
            _field("external.cert_arn", self.external_cert, look=look),
            *(
                _field(
                    f"{side}.forward_conditions", text, lambda text=text: _conditions(text.value), look=look
                )
                for side, text in conditions.items()
            ),
            _field("internal", self.has_internal, lambda: None, look=look),
            _field("internal.port", self.internal_port, look=look),
            _field("internal.cert_arn", self.internal_cert, look=look),
            *_model_fields("", TaskSpec, data, look, TASK_LABELS),
            _field("capacity", self.custom_mix, lambda: None, look=look),
            _field("capacity[0].base", self.fargate_base, look=look),
            _field("capacity[0].weight", self.fargate_weight, look=look),
            _field("capacity[1].weight", self.spot_weight, look=look),
            *_model_fields("scaling", ScalingSpec, data.get("scaling", {}), look),
            _field("scaling.scheduled", scheduled, lambda: _scheduled(scheduled.value), look=look),
            _field(
                "environment",
                look.make(
                    widgets.Textarea,
                    _WIDE,
                    value="\n".join(f"{key}={value}" for key, value in data.get("environment", {}).items()),
                    description="environment",
                    placeholder="KEY=value, one a line",
                ),
                lambda: _environment(self.fields["environment"].widget.value),
                look=look,
            ),
            _field("health_check", self.has_health_check, lambda: None, look=look),
            *_model_fields("health_check", HealthCheckSpec, data.get("health_check", {}), look),
            *_deployment_fields(data.get("deployment"), look, inherit=True),
        ]
        super().__init__(fields)
        self.fields["cpu"].widget.observe(self._cpu_changed, names="value")
        self.split = widgets.HTML("")
        self.listeners = widgets.HTML("")
        self.expand_button = widgets.ToggleButton(
            value=False, description="▸", tooltip="details", layout=look.layout("36px")
        )
        self.expand_button.observe(lambda change: self.expand(change["new"]), names="value")
        self.remove_button = widgets.Button(
            description="Remove task", button_style="warning", layout=look.layout("120px")
        )
        self.remove_button.on_click(lambda _: on_remove(self))
        self.observe(lambda _: self.refresh())
        self.refresh()
        summary = [field.widget for field in self._summary_fields]
        self.row = widgets.HBox(
            [self.expand_button, *summary, self.listeners, self.split],
            layout=widgets.Layout(align_items="center", flex_flow="row wrap"),
        )
        for widget, name in (
            (self.row, "task-row"),
            (self.expand_button, "expand"),
            (self.fields["desired_count"].widget, "desired"),
            (self.split, "placement"),
            (self.custom_mix, "own-mix"),
            (self.fargate_weight, "fargate-weight"),
            (self.spot_weight, "spot-weight"),
        ):
            widget.add_class(f"dualalb-{name}")  # stable handles for the browser test
        sections = {
            "container": ("container_port", "cpu", "memory"),
            "listeners": (
                "external",
                "external.port",
                "external.cert_arn",
                "external.forward_conditions",
                "internal",
                "internal.port",
                "internal.cert_arn",
                "internal.forward_conditions",
                "protocol",
            ),
            "capacity": ("capacity", "capacity[0].base", "capacity[0].weight", "capacity[1].weight"),
            "scaling": tuple(path for path in self.fields if path.startswith("scaling.")),
            "environment": ("environment",),
            "health check": tuple(path for path in self.fields if path.startswith("health_check")),
            "deployment": (
                *(path for path in self.fields if path.startswith("deployment")),
                *(name for name in TASK_LABELS if name != "protocol"),
            ),
        }
        self.details = widgets.VBox(
            [
                *(
                    widgets.VBox(
                        [widgets.HTML(f"<b>{title}</b>"), *(self.fields[path].row for path in paths)],
                        layout=look.layout(),
                    )
                    for title, paths in sections.items()
                ),
                self.remove_button,
            ],
            layout=widgets.Layout(display="none", padding="0 0 0 40px"),
        )
        self.box = widgets.VBox(
            [self.row, *(field.error for field in self._summary_fields), self.form_error, self.details],
            layout=widgets.Layout(border_bottom="1px solid #ddd", padding="2px 0"),
        )

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
        if not any(_matches(path, field.path) for field in self._summary_fields):
            self.expand()

    def data(self) -> dict[str, Any]:
        """This task as spec data (the original task's other keys kept)."""
        data = copy.deepcopy(self._base)
        for path in (
            "name",
            "image",
            "container_port",
            "cpu",
            "memory",
            "desired_count",
            "environment",
            *TASK_LABELS,
            "deployment",
        ):
            data[path] = self.fields[path].read()
        for side, enabled, port, cert in (
            ("external", self.has_external, self.external_port, self.external_cert),
            ("internal", self.has_internal, self.internal_port, self.internal_cert),
        ):
            certs = _comma_list(cert.value)
            data[side] = (
                {
                    **(data.get(side) or {}),  # keys the form does not show
                    "port": port.value,
                    "cert_arn": certs[0] if len(certs) == 1 else certs or None,
                    "forward_conditions": self.fields[f"{side}.forward_conditions"].read(),
                }
                if enabled.value
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
        return [{"provider": "FARGATE_SPOT" if self._stack_spot() else "FARGATE", "base": 0, "weight": 1}]

    def _section(self, prefix: str) -> dict[str, Any]:
        return {
            path.removeprefix(prefix): field.read()
            for path, field in self.fields.items()
            if path.startswith(prefix)
        }

    def _capacity(self) -> list[dict[str, Any]]:
        strategy = [
            {"provider": "FARGATE", "base": self.fargate_base.value, "weight": self.fargate_weight.value},
            {"provider": "FARGATE_SPOT", "base": 0, "weight": self.spot_weight.value},
        ]
        used = [item for item in strategy if item["base"] or item["weight"]]
        return used if used else strategy

    def _mix_toggled(self, change: dict[str, Any]) -> None:
        """Start an own mix from the stack's default, so ticking it keeps the task's placement."""
        if change["new"]:
            self.fargate_base.value = 0
            stays, goes = (
                (self.spot_weight, self.fargate_weight)
                if self._stack_spot()
                else (self.fargate_weight, self.spot_weight)
            )
            stays.value, goes.value = 1, 0  # in this order, so no step has all weights zero

    def _cpu_changed(self, change: dict[str, Any]) -> None:
        choices = FARGATE_MEMORY_BY_CPU[change["new"]]
        keep = self.memory.value if self.memory.value in choices else choices[0]
        self.memory.options = choices
        self.memory.value = keep

    def refresh(self) -> None:
        """Enable the fields that apply and redraw the listeners and placement of the row."""
        for widget in (self.fargate_base, self.fargate_weight, self.spot_weight):
            widget.disabled = not self.custom_mix.value
        for path, field in self.fields.items():
            if path.startswith("health_check."):
                field.widget.disabled = not self.has_health_check.value
        balancer = self._load_balancer()
        for side, enabled, *options in (
            ("external", self.has_external, self.external_port, self.external_cert),
            ("internal", self.has_internal, self.internal_port, self.internal_cert),
        ):
            enabled.description = f"{side} {balancer.upper()}"
            for widget in options:
                widget.disabled = not enabled.value
            _lock(self.fields[f"{side}.forward_conditions"].widget, not enabled.value or balancer == "nlb")
        _lock(self.fields["protocol"].widget, balancer != "nlb")
        _enable_deployment(self.fields)
        self.listeners.value = " · ".join(
            f"{side[:3]} :{port.value}"
            for side, enabled, port in (
                ("external", self.has_external, self.external_port),
                ("internal", self.has_internal, self.internal_port),
            )
            if enabled.value
        )
        self.split.value = f"<i>{escape(self._placement())}</i>"

    def _placement(self) -> str:
        desired = max(self.fields["desired_count"].widget.value, 0)
        try:
            placed = split_tasks(desired, self.strategy())
        except ValidationError as error:  # e.g. all weights zero; the capacity field shows it too
            return f"capacity: {error.reason}"
        on_demand, spot = placed.get("FARGATE", 0), placed.get("FARGATE_SPOT", 0)
        share = f"{100 * spot / desired:.0f}% spot" if desired else "no tasks"
        source = "" if self.custom_mix.value else ", stack default"
        tasks = "1 task" if desired == 1 else f"{desired} tasks"
        return f"{tasks}: {on_demand} FARGATE + {spot} FARGATE_SPOT ({share}{source})"


def _model_fields(
    prefix: str,
    model: type[BaseModel],
    values: dict[str, Any],
    look: _Look,
    labels: dict[str, str] | None = None,
) -> list[_Field]:
    """One field per plain key of a spec section (``scaling``, ``health_check``; with ``labels``:
    only those keys, so labelled and in that order), typed by its annotation: a checkbox, a number
    or text box, or a dropdown of a ``Literal``'s choices; an optional key's box is empty when unset,
    its dropdown starts with "default". Other keys (lists, sections) are not shown and stay as they were."""
    fields = []
    for name in labels or model.model_fields:
        info = model.model_fields[name]
        args = get_args(info.annotation) if get_origin(info.annotation) is not Literal else ()
        kinds = [kind for kind in args or (info.annotation,) if kind is not type(None)]
        optional = len(kinds) < len(args)
        if len(kinds) != 1 or not (kinds[0] in (int, float, str, bool) or get_origin(kinds[0]) is Literal):
            continue
        kind, value = kinds[0], values.get(name, info.default)
        path, label = f"{prefix}.{name}" if prefix else name, (labels or {}).get(name, name.replace("_", " "))
        if kind is bool and not optional:
            fields.append(
                _field(path, look.make(widgets.Checkbox, value=value, description=label), look=look)
            )
        elif get_origin(kind) is Literal and not optional:
            menu = look.make(widgets.Dropdown, options=get_args(kind), value=value, description=label)
            fields.append(_field(path, menu, look=look))
        elif kind is bool or get_origin(kind) is Literal:
            choices = (
                {True: "on", False: "off"} if kind is bool else {choice: choice for choice in get_args(kind)}
            )
            menu = look.make(
                widgets.Dropdown,
                options=[("default", ""), *((text, choice) for choice, text in choices.items())],
                value="" if value is None else value,
                description=label,
            )
            fields.append(
                _field(path, menu, lambda menu=menu: None if menu.value == "" else menu.value, look=look)
            )
        elif optional or value is None:
            text = look.make(
                widgets.Text,
                value="" if value is None else str(value),
                description=label,
                placeholder="unset",
            )
            fields.append(
                _field(path, text, lambda text=text, kind=kind: _optional(text.value, kind), look=look)
            )
        else:
            widget = {int: widgets.IntText, float: widgets.FloatText}.get(kind, widgets.Text)
            fields.append(_field(path, look.make(widget, value=value, description=label), look=look))
    return fields


def _optional(text: str, kind: type) -> Any:
    """An optional value's box: empty is ``None``; text that is not a ``kind`` goes to validation as is."""
    if not text.strip():
        return None
    try:
        return kind(text.strip())
    except ValueError:
        return text


_BOUND = re.compile(r"(?:^|\s+)(min|max)=(\S*)")
"""A scheduled action's ``min=N`` / ``max=N`` token; the rest of its line is the cron text as typed."""


def _scheduled(text: str) -> list[dict[str, Any]] | None:
    """Scheduled actions, one a line: the six cron fields, then ``min=N`` and/or ``max=N``
    (a bound that is not a whole number goes to validation as is, which names it)."""
    actions = []
    for line in filter(str.strip, text.splitlines()):
        bounds = {f"{key}_capacity": _optional(value, int) for key, value in _BOUND.findall(line)}
        actions.append({"cron": _BOUND.sub("", line).strip(), **bounds})
    return actions or None


def _scheduled_text(actions: list[dict[str, Any]] | None) -> str:
    return "\n".join(
        " ".join(
            [
                action["cron"],
                *(
                    f"{key}={action[f'{key}_capacity']}"
                    for key in ("min", "max")
                    if action.get(f"{key}_capacity") is not None
                ),
            ]
        )
        for action in actions or ()
    )


CONDITION_KEYS = {"host": "host_header", "path": "path_pattern"}
"""The forward conditions' text form: ``host: a.example.com, b.example.com; path: /api/*``."""


def _conditions(text: str) -> list[dict[str, list[str]]] | None:
    """Forward conditions, one per ``;`` part (a part without ``host:`` or ``path:`` is a condition
    without a field, which validation names)."""
    conditions = []
    for part in filter(str.strip, text.split(";")):
        kind, _, values = part.partition(":")
        key = CONDITION_KEYS.get(kind.strip().lower())
        conditions.append({key: _comma_list(values)} if key else {})
    return conditions or None


def _conditions_text(alb: dict[str, Any] | None) -> str:
    short = {key: name for name, key in CONDITION_KEYS.items()}
    return "; ".join(
        f"{short[key]}: {', '.join(values)}"
        for condition in (alb or {}).get("forward_conditions") or ()
        for key, values in condition.items()
    )


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
TASK_LABELS = {
    "protocol": "NLB protocol",
    "health_check_grace_period_seconds": "grace period (s)",
    "min_healthy_percent": "min healthy %",
    "max_healthy_percent": "max healthy %",
}
"""The task's own options shown in its details (listeners: protocol; deployment: the rest)."""
DEPLOYMENT_LABELS = {
    "bake_time_minutes": "bake time (min)",
    "linear_step_percent": "linear step %",
    "linear_step_bake_time_minutes": "linear step bake (min)",
    "canary_percent": "canary %",
    "canary_bake_time_minutes": "canary bake (min)",
    "rollback_on_alarms": "roll back on alarms",
}
"""The deployment options the designer shows beside the strategy (stack and task)."""


def _deployment_fields(given: dict[str, Any] | None, look: _Look, *, inherit: bool) -> list[_Field]:
    """The strategy (``deployment``) and its options (``deployment.*``). The strategy's field reads
    the whole section: the strategy with its own options set, the other strategies' dropped;
    ``None`` with ``inherit`` and "stack's" chosen, or for rolling with nothing set or given."""
    given = given or {}
    choice = look.make(
        widgets.Dropdown,
        options=[("stack's", ""), *((name, name) for name in DEPLOYMENT_STRATEGIES)]
        if inherit
        else DEPLOYMENT_STRATEGIES,
        value=given.get("strategy", "" if inherit else "rolling"),
        description="deployment",
    )
    options = _model_fields("deployment", DeploymentStrategySpec, given, look, DEPLOYMENT_LABELS)

    def read() -> dict[str, Any] | None:
        chosen = {
            field.path.removeprefix("deployment."): value
            for field in options
            if _applies(choice.value, field.path) and (value := field.read()) is not None
        }
        if not choice.value or (choice.value == "rolling" and not (chosen or given or inherit)):
            return None
        return {"strategy": choice.value, **chosen}

    return [_field("deployment", choice, read, look=look), *options]


def _applies(strategy: str, path: str) -> bool:
    """Whether deployment option ``path`` is one of ``strategy``'s ("": the stack's, none)."""
    name = path.removeprefix("deployment.")
    return bool(strategy) and (not name.startswith(("linear_", "canary_")) or name.startswith(f"{strategy}_"))


def _enable_deployment(fields: dict[str, _Field]) -> None:
    """Enable the deployment options of the chosen strategy only."""
    strategy = fields["deployment"].widget.value
    for path, field in fields.items():
        if path.startswith("deployment."):
            field.widget.disabled = not _applies(strategy, path)


def _lock(widget: widgets.ValueWidget, unused: bool) -> None:
    """Disable an option that does not apply, unless it holds a value (which the error names)."""
    widget.disabled = unused and not widget.value


def _environment(text: str) -> dict[str, str]:
    """``KEY=value`` lines as a mapping (blank lines skipped; a line without ``=`` is a key with no value)."""
    pairs = (line.partition("=") for line in text.splitlines() if line.strip())
    return {key.strip(): value.strip() for key, _, value in pairs}


def _cert_text(alb: dict[str, Any] | None) -> str:
    cert = (alb or {}).get("cert_arn")
    return ", ".join(cert) if isinstance(cert, list) else cert or ""


class AppOptionsEditor(_Form):
    """The options section of an app pattern (``wordpress:`` or ``laravel:``): its database and,
    for Laravel, the code directory, listener port, container port, EFS and database name.

    A value left at its default is not written unless the section had it (or the pattern needs
    it: Laravel's ``code``), so a WordPress design without the section keeps none. Keys the form
    does not show (certificates, conditions) stay as they were.
    """

    def __init__(self, pattern: str, section: BaseModel | None) -> None:
        self.pattern = pattern
        look = _Look()
        model = APP_OPTIONS[pattern]
        self._base = section.model_dump(mode="json", exclude_none=True) if section is not None else {}
        self._given = set(_flat(self._base)) | set(APP_DEFAULTS[pattern])  # required keys always go in
        self._defaults = _flat(model(**APP_DEFAULTS[pattern]).model_dump(mode="json"))
        values = {**self._defaults, **_flat(self._base)}
        removal = look.make(
            widgets.Dropdown,
            options=[
                ("keep (final snapshot)", ""),
                *((policy, policy) for policy in ("snapshot", "retain", "destroy")),
            ],
            value=values["removal_policy"] or "",
            description="on stack delete",
        )
        fields = [
            *(
                _app_field(pattern, name, values[name], label, look)
                for name, label in APP_FIELDS.get(pattern, ())
            ),
            *(_app_field(pattern, name, values[name], label, look) for name, label in DATABASE_FIELDS),
            _field(f"{pattern}.removal_policy", removal, lambda: removal.value or None, look=look),
        ]
        super().__init__(fields)
        self.box = widgets.VBox(
            [
                widgets.HTML(f"<h3>{APP_TITLES[pattern]}</h3>"),
                *(field.row for field in fields),
                self.form_error,
            ]
        )

    def data(self) -> dict[str, Any] | None:
        """The section as spec data (``None``: no section, when it had none and nothing changed)."""
        data = copy.deepcopy(self._base)
        for path, field in self.fields.items():
            key, value = path.removeprefix(f"{self.pattern}."), field.read()
            if key in self._given or value != self._defaults.get(key):
                _set_path(data, key, value)
        return data or None


PATTERNS = get_args(DeploymentSpec.model_fields["pattern"].annotation)
"""The patterns the designer offers: dualalb, wordpress, laravel."""
APP_DEFAULTS: dict[str, dict[str, Any]] = {"wordpress": {}, "laravel": {"code": LARAVEL_SAMPLE_CODE}}
"""A new section's required values: Laravel starts from the bundled sample."""
APP_OPTIONS: dict[str, type[BaseModel]] = {"wordpress": WordPressSpec, "laravel": LaravelSpec}
APP_TITLES = {"wordpress": "WordPress", "laravel": "Laravel"}
APP_FIELDS = {
    "laravel": (
        ("code", "code directory"),
        ("loadbalancer.port", "listener port"),
        ("container_port", "container port"),
        ("efs_file_system", "files on EFS"),
        ("default_database_name", "database name"),
    )
}
DATABASE_FIELDS = (
    ("aurora_serverless", "Aurora Serverless v2"),
    ("single_db_instance", "single DB instance"),
    ("database_instance_type", "DB instance class"),
    ("backup_retention_days", "backup days"),
    ("serverless_min_capacity", "min ACUs"),
    ("serverless_max_capacity", "max ACUs"),
)


def _app_field(pattern: str, name: str, value: Any, label: str, look: _Look) -> _Field:
    """A checkbox, number or text box by the value's type; an empty text box is ``None``."""
    if isinstance(value, bool):
        return _field(
            f"{pattern}.{name}", look.make(widgets.Checkbox, value=value, description=label), look=look
        )
    if isinstance(value, int | float):
        widget = widgets.IntText if isinstance(value, int) else widgets.FloatText
        return _field(f"{pattern}.{name}", look.make(widget, value=value, description=label), look=look)
    text = look.make(widgets.Text, value=value or "", description=label, placeholder="default")
    return _field(f"{pattern}.{name}", text, lambda: text.value.strip() or None, look=look)


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    """One level of nesting as dotted keys (``loadbalancer.port``)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": item for inner, item in value.items()})
        else:
            flat[key] = value
    return flat


class SpecDesigner(_Form):
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
        self.endpoint_url = endpoint_url
        self._given_target = target if isinstance(target, Target) else None
        self._destroy_armed = False
        look = _Look()
        subnets = spec.subnets
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
        deployment = _deployment_fields(self._base.get("deployment"), look, inherit=False)
        self.deployment_choice = deployment[0].widget
        stack = _model_fields("", DeploymentSpec, self._base, look, STACK_LABELS)
        at = [field.path for field in stack].index("load_balancer")  # the subnets go before it
        stack[at].widget.tooltip = "alb: HTTP/HTTPS listeners; nlb: TCP/TLS listeners, CPU scaling only"
        fields = [
            *stack[:at],
            _field("subnets", self.subnet_choice, self._subnets, look=look),
            _field("subnet_ids", self.subnet_ids, lambda: None, look=look),
            *stack[at:],
            *deployment,
            *_model_fields("route53", Route53Spec, self._base["route53"], look, ROUTE53_LABELS),
        ]
        super().__init__(fields)
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

        kind = target.kind if isinstance(target, Target) else target
        self.target = widgets.Dropdown(options=TARGETS, value=kind, description="target")
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
        self.target.observe(lambda _: self.check_target(), names="value")
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
        self.target_problem: str | None = None
        """Why Diff, Deploy and Destroy cannot run now, with what to do (``None``: they can)."""
        self.own_sandbox = None
        """The sandbox Start sandbox started (it runs until the kernel stops or ``stop()``)."""
        self._error: ValidationError | None = None
        self._spec: DeploymentSpec | None = None
        self.diagram_preview = widgets.HTML("").add_class("dualalb-diagram-preview")
        self.cost_preview = widgets.HTML("").add_class("dualalb-cost-preview")
        self.preview_paused = widgets.HTML("", layout=widgets.Layout(display="none")).add_class(
            "dualalb-preview-paused"
        )
        """Empty while the form is valid; else why the (greyed) preview shows the last valid design."""
        self.preview = widgets.VBox(
            [
                widgets.HTML(_PREVIEW_STYLE, layout=widgets.Layout(display="none")),  # applies unseen
                self.preview_paused,
                self.diagram_preview,
                self.cost_preview,
            ],
            layout=widgets.Layout(
                flex="1 1 420px", min_width="0", padding="0 0 0 16px", align_self="flex-start"
            ),
        ).add_class("dualalb-preview-column")
        """The diagram and the monthly cost, beside the form and kept in view while it scrolls."""
        self.preview_delay = preview_delay
        self._preview_handle: asyncio.TimerHandle | None = None
        self._pricing = load_pricing()

        for task in spec.tasks:
            self._append_task(task)
        self.check_target()
        self.refresh_preview()  # at once, so an executed notebook records it

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
                _set_path(data, path, field.read())
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
            return _comma_list(self.subnet_ids.value)
        return self.subnet_choice.value

    def _new_task(self) -> dict[str, Any]:
        names = {editor.name for editor in self.tasks}
        number = len(self.tasks) + 1
        while f"task{number}" in names:
            number += 1
        used = {editor.internal_port.value for editor in self.tasks if editor.has_internal.value}
        port = 8000 + number
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
        if not hasattr(self, "tasks"):
            return
        self._disarm_destroy()
        for form in (self, *self.tasks, *self.apps.values()):
            form.clear_errors()
        self._show_pattern()
        _enable_deployment(self.fields)
        for path in NLB_ONLY_ALB_OPTIONS:
            _lock(self.fields[path].widget, self.fields["load_balancer"].read() == "nlb")
        try:
            self._spec, self._error = DeploymentSpec.model_validate(self.data()), None
        except ValidationError as exc:
            self._spec, self._error = None, exc
            self._show(exc)
        self.synth_button.disabled = self._error is not None
        for button in (self.diff_button, self.deploy_button, self.destroy_button):
            button.disabled = self._error is not None or self.target_problem is not None
        self.sandbox_button.layout.display = (
            None if self.target_problem and self.target.value == "sandbox" else "none"
        )
        if self._error:
            self.status.value = f'<span style="{_ERROR_STYLE}">✗ {escape(str(self._error))}</span>'
        elif self.target_problem:
            self.status.value = (
                '<span style="color:#1b5e20">✓ valid</span> · Diff, Deploy and Destroy wait: '
                f"{escape(self.target_problem)}"
            )
        else:
            self.status.value = '<span style="color:#1b5e20">✓ valid</span>'
        for editor in self.tasks:
            editor.refresh()  # the stack's spot flag decides the placement of tasks without a mix
        self._pause_preview(self._error)
        if self._error is None:
            self._schedule_preview()

    # ---- the live preview -------------------------------------------------------------------

    def refresh_preview(self) -> None:
        """Redraw the diagram and the monthly cost of the current (valid) design, without synthesis."""
        self._preview_handle = None
        if self._spec is None:
            return
        self.diagram_preview.value = (
            "<h4>ALBs → listeners → services</h4>"
            f'<div class="dualalb-preview">{Diagram.from_spec(self._spec).svg}</div>'
        )
        try:
            costs = monthly_cost(self._spec, self._pricing)
        except ValidationError as error:  # a region without prices
            self.cost_preview.value = f"<h4>Monthly cost</h4><p><i>{escape(error.reason)}</i></p>"
            return
        self.cost_preview.value = "<h4>Monthly cost</h4>" + _cost_html(costs)

    def _pause_preview(self, error: ValidationError | None) -> None:
        """Grey the preview out under ``error``'s reason while the form is invalid; undo when valid."""
        paused = error is not None
        self.preview_paused.layout.display = None if paused else "none"
        self.preview_paused.value = (
            f'<p style="{_ERROR_STYLE}">Preview paused, it shows the last valid design: '
            f"{escape(str(error))}</p>"
            if paused
            else ""
        )
        (self.preview.add_class if paused else self.preview.remove_class)(_PREVIEW_INVALID)

    def _schedule_preview(self) -> None:
        """Refresh the preview ``preview_delay`` seconds after the last edit (at once outside a kernel)."""
        if self._preview_handle is not None:
            self._preview_handle.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.preview_delay <= 0:
            self.refresh_preview()
        else:
            self._preview_handle = loop.call_later(self.preview_delay, self.refresh_preview)

    def _show_pattern(self) -> None:
        """Show the chosen app pattern's options; the laravel pattern has no tasks to edit."""
        pattern = self.fields["pattern"].read()
        for name, app in self.apps.items():
            app.box.layout.display = None if name == pattern else "none"
        for part in (self.tasks_section, self.add_task_button):
            part.layout.display = "none" if pattern == "laravel" else None

    def _show(self, error: ValidationError) -> None:
        path = error.field
        if path.startswith("tasks["):
            index, _, rest = path[len("tasks[") :].partition("]")
            self.tasks[int(index)].show_error(rest.lstrip("."), error.reason)
        elif path == "tasks":
            self.form_error.value = f'<span style="{_ERROR_STYLE}">{escape(error.reason)}</span>'
        elif path.split(".")[0] in self.apps:
            self.apps[path.split(".")[0]].show_error(path, error.reason)
        else:
            self.show_error(path, error.reason)

    # ---- the actions ------------------------------------------------------------------------

    def run_synth(self):
        """Synthesize the design; fills the resource table, outputs, warnings and diagram."""
        from .synth import synth

        try:
            lookups = self.current_target()
        except TargetError:  # no sandbox answers: lookups, if the design needs any, go to AWS
            lookups = None
        if self.spec.vpc != "new" and not (lookups or Target.aws()).has_credentials():
            raise TargetError(
                "no target for the VPC lookup",
                reason=f"vpc {self.spec.vpc!r} is looked up in a sandbox or an AWS account, and neither "
                "is at hand",
            )
        synthesis = synth(self.spec, self.outdir, target=lookups, nag=self.nag)
        self.synthesis = synthesis
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
        from . import deploy

        self.diff_table = deploy.diff(self.spec, self.current_target())
        self.diff_html.value = "<h4>Diff</h4>" + _table(self.diff_table)
        return self.diff_table

    def run_deploy(self) -> dict[str, Any]:
        """Deploy the design (progress in the log area); fills ``deployed_outputs``."""
        from . import deploy

        outputs = self._logged(lambda: deploy.deploy(self.spec, self.current_target(), progress=True))
        self.deployed_outputs = dict(outputs)
        self.outputs_html.value = "<h4>Deployed outputs</h4>" + _table(deploy.outputs_table(outputs))
        return self.deployed_outputs

    def run_destroy(self) -> None:
        """Destroy the deployed stack (the button asks for a second click first; this does not)."""
        from . import deploy

        self._logged(lambda: deploy.destroy(self.spec, self.current_target()))
        self.deployed_outputs = None

    def start_sandbox(self) -> Any:
        """Start a sandbox in this kernel (until the kernel stops) and send Diff, Deploy and Destroy
        there; returns it (also ``own_sandbox``)."""
        from .sandbox import Sandbox

        self.own_sandbox = Sandbox(region=self.spec.region).start()
        self.endpoint_url, self._given_target = self.own_sandbox.endpoint_url, None
        self.target.value = "sandbox"
        self.check_target()
        return self.own_sandbox

    def check_target(self) -> str | None:
        """Whether Diff, Deploy and Destroy can reach the chosen target: returns (and shows in the
        status line, the three buttons disabled) the reason and what to do when they cannot, else
        ``None``. Asks the sandbox (at most 2 s); for AWS, checks only that credentials are at
        hand, without a call. Runs at creation, on a change of target and after Start sandbox."""
        try:
            where = self._where()
            if not where.has_credentials():
                raise TargetError("no AWS credentials", reason=f"no AWS credentials for {where.describe()}")
        except TargetError as error:
            self.target_problem = self._advice(error)
        else:
            self.target_problem = None
        self._changed()
        return self.target_problem

    def _advice(self, error: Exception) -> str:
        """``error`` as one sentence for a notebook: the reason and, for a target that cannot be
        used, what to do in the notebook (never a terminal command)."""
        if not isinstance(error, TargetError):
            return str(error)
        if self.target.value == "sandbox":
            return (
                f"{error.reason}: press Start sandbox, or create the designer with "
                "endpoint_url= a running sandbox's URL"
            )
        return (
            f"{error.reason}: create the designer with target=Target.aws(profile=NAME) for a configured "
            "AWS profile, or choose target sandbox"
        )

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

    def current_target(self) -> Target:
        """Where Diff, Deploy and Destroy go: the selected kind (the ``Target`` given, if of that
        kind; else the sandbox at ``endpoint_url`` or ``$DUALALB_SANDBOX_URL``, or AWS with the
        environment's credentials) in the spec's region. ``TargetError`` when no sandbox answers."""
        return self._where().in_region(self.spec.region)

    def _where(self) -> Target:
        """:meth:`current_target` in its own region (the form may be invalid)."""
        given = self._given_target
        if given is not None and given.kind == self.target.value:
            return given
        if self.target.value == "sandbox":
            return Target.sandbox(self.endpoint_url)
        return Target.aws()

    def _destroy_clicked(self) -> None:
        """The first click arms Destroy and says what it would delete; the second destroys."""
        if not self._destroy_armed:
            if self._error is not None:
                return
            self._destroy_armed = True
            self.destroy_button.description = "Confirm destroy"
            where = f"{self.spec.stack_name} ({self.target.value}, {self.spec.region})"
            self.status.value = (
                f'<span style="{_ERROR_STYLE}">Click Destroy again to delete stack {escape(where)}</span>'
            )
            return
        self._run("Destroy", self.run_destroy)

    def _disarm_destroy(self) -> None:
        self._destroy_armed = False
        self.destroy_button.description = "Destroy"

    def _run(self, name: str, action: Callable[[], Any]) -> None:
        """Run a button's action with the progress bar and status line; errors are shown, not raised
        (the last one is ``last_action_error``, also when the form is invalid and nothing ran).
        An interrupt (the notebook's stop button) says the action was stopped, then goes on up."""
        if self._error is not None:
            self.last_action_error = self._error
            return
        self._disarm_destroy()
        self.last_action_error = None
        self.progress.bar_style, self.progress.value, self.progress.description = "info", 0, name
        self.status.value = f"<i>{name} running…</i>"
        try:
            action()
        except KeyboardInterrupt:
            self.progress.bar_style = "warning"
            self.status.value = f'<span style="{_ERROR_STYLE}">■ {name} stopped (interrupted)</span>'
            raise
        except Exception as exc:  # a button has no caller to raise to: show the reason
            self.last_action_error = exc
            self.progress.bar_style = "danger"
            self.status.value = (
                f'<span style="{_ERROR_STYLE}">{name} failed: {escape(self._advice(exc))}</span>'
            )
            return
        self.progress.bar_style, self.progress.value = "success", 1
        self.status.value = f'<span style="color:#1b5e20">✓ {name} done</span>'

    # ---- display ----------------------------------------------------------------------------

    @cached_property
    def box(self) -> widgets.VBox:
        """The whole designer as one widget."""
        stack = widgets.VBox([field.row for field in self.fields.values()])
        buttons = widgets.HBox(
            [
                self.synth_button,
                self.diff_button,
                self.deploy_button,
                self.destroy_button,
                self.target,
                self.sandbox_button,
            ]
        )
        results = widgets.VBox(
            [
                self.resources_html,
                self.outputs_html,
                self.warnings_html,
                self.diagram_html,
                self.diff_html,
                self.log,
            ]
        )
        form = widgets.VBox(
            [
                widgets.HTML("<h3>Stack</h3>"),
                stack,
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
                widgets.HTML("<h3>Actions</h3>"),
                self.status,
                buttons,
                self.progress,
                results,
            ],
            layout=widgets.Layout(overflow="visible"),  # not a scrolling box: the preview sticks
        ).add_class("dualalb-designer")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)


DEFAULT_IMAGE = "public.ecr.aws/nginx/nginx:stable"


def default_spec() -> DeploymentSpec:
    """A one-task starting design: nginx behind both ALBs on port 80."""
    return DeploymentSpec(
        stack_name="dualalb-design",
        tasks=[{"name": "web", "image": DEFAULT_IMAGE, "external": {"port": 80}, "internal": {"port": 80}}],
    )


_PREVIEW_INVALID = "dualalb-preview-invalid"
_PREVIEW_STYLE = (
    "<style>.dualalb-preview svg{max-width:100%;height:auto}"
    ".dualalb-cost td,.dualalb-cost th{padding:1px 8px}.dualalb-cost .n{text-align:right}"
    ".dualalb-preview-column .widget-html-content{line-height:1.4}"
    # beside the form and in view while it scrolls: JupyterLab's output area scrolls (and clips) on
    # its own unless told not to, and a scrolling ancestor would hold the column in place
    ".jp-Cell-outputArea:has(.dualalb-designer),.jp-OutputArea-child:has(.dualalb-designer),"
    ".jp-OutputArea-output:has(.dualalb-designer){overflow:visible;min-width:0}"
    ".dualalb-preview-column{position:sticky;top:0;z-index:1;max-height:100vh;overflow-y:auto;"
    "background:var(--jp-layout-color0,#fff)}"
    f".{_PREVIEW_INVALID} .dualalb-diagram-preview,.{_PREVIEW_INVALID} .dualalb-cost-preview"
    "{opacity:.35;filter:grayscale(1)}</style>"
)


def _cost_html(costs: pd.DataFrame) -> str:
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


def _table(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table; URLs (an endpoint output) whole and clickable, opening a new tab."""
    return "<p>none</p>" if frame.empty else frame.to_html(index=False, border=0, render_links=True)
