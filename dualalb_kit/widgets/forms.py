"""The pieces every form of the designer shares: one field per spec path, its error label, the
shared look, and the fields made from a spec model's own fields (type, default and choices)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..extras import missing_extra
from .text import optional_value

try:
    import ipywidgets as widgets
except ModuleNotFoundError as error:
    raise missing_extra(error, "the notebook designer") from None

LABEL_WIDTH = "150px"
WIDE = "440px"
ERROR_STYLE = "color:#b00020"


def error_html(message: str) -> str:
    """``message`` as the red text an error label shows."""
    return f'<span style="{ERROR_STYLE}">{escape(message)}</span>'


class Look:
    """The layouts and styles a form's widgets share: each is one widget model (one IOPub message)
    instead of one per widget. Never change a shared one in place."""

    def __init__(self) -> None:
        self._layouts: dict[str | None, widgets.Layout] = {}
        self._styles: dict[tuple[type, str], widgets.Widget] = {}

    def layout(self, width: str | None = None) -> widgets.Layout:
        if width not in self._layouts:
            self._layouts[width] = widgets.Layout(width=width)
        return self._layouts[width]

    def style(self, widget_class: type[widgets.Widget], label_width: str = LABEL_WIDTH) -> widgets.Widget:
        """The style of ``widget_class`` with its description ``label_width`` wide (default 150px)."""
        style_class = widget_class.class_traits()["style"].klass
        if (style_class, label_width) not in self._styles:
            self._styles[style_class, label_width] = style_class(description_width=label_width)
        return self._styles[style_class, label_width]

    def make(self, widget_class: type[widgets.Widget], width: str | None = None, **kwargs: Any) -> Any:
        """A ``widget_class`` with the shared layout of ``width`` and the shared labelled style."""
        return widget_class(layout=self.layout(width), style=self.style(widget_class), **kwargs)

    def error(self) -> widgets.HTML:
        return self.make(widgets.HTML, value="")


@dataclass
class FormField:
    """One editable value: its spec path (relative to its form), widget and error label."""

    path: str
    widget: widgets.ValueWidget
    error: widgets.HTML
    read: Callable[[], Any]
    row_layout: widgets.Layout

    @property
    def row(self) -> widgets.HBox:
        return widgets.HBox([self.widget, self.error], layout=self.row_layout)


def form_field(
    path: str, widget: widgets.ValueWidget, read: Callable[[], Any] | None = None, *, look: Look
) -> FormField:
    """The field of ``path`` edited by ``widget``; ``read`` gives its spec value (default: the
    widget's value)."""
    return FormField(path, widget, look.error(), read or (lambda: widget.value), look.layout())


def matches(error_path: str, field_path: str) -> bool:
    """Whether an error at ``error_path`` is about the field at ``field_path`` (or inside it)."""
    return error_path == field_path or error_path.startswith((field_path + ".", field_path + "["))


class Form:
    """Fields plus a form-level error label; routes an error path to the closest field."""

    def __init__(self, fields: list[FormField]) -> None:
        self.fields = {field.path: field for field in fields}
        self.form_error = widgets.HTML("")

    def show_error(self, path: str, message: str) -> None:
        found = [field for field in self.fields.values() if matches(path, field.path)]
        label = max(found, key=lambda field: len(field.path)).error if found else self.form_error
        label.value = error_html(message)

    def clear_errors(self) -> None:
        self.form_error.value = ""
        for field in self.fields.values():
            field.error.value = ""

    def observe(self, callback: Callable[[Any], None]) -> None:
        for field in self.fields.values():
            field.widget.observe(callback, names="value")


def spec_default(model: type[BaseModel], name: str) -> Any:
    """The default of ``model``'s field ``name`` (``None`` for a required field)."""
    default = model.model_fields[name].get_default(call_default_factory=True)
    return None if default is PydanticUndefined else default


def spec_value(values: Mapping[str, Any], model: type[BaseModel], name: str) -> Any:
    """``values[name]``, else the default of ``model``'s field ``name``."""
    return values[name] if name in values else spec_default(model, name)


def spec_fields(
    prefix: str,
    model: type[BaseModel],
    values: Mapping[str, Any],
    look: Look,
    labels: Mapping[str, str] | None = None,
    choices: Mapping[str, Sequence[Any]] | None = None,
) -> list[FormField]:
    """One field per plain key of a spec section (``scaling``, ``health_check``; with ``labels``:
    only those keys, so labelled and in that order), typed by its annotation: a checkbox, a number
    or text box, or a dropdown of a ``Literal``'s choices (or of ``choices[name]``); its value is
    ``values[name]``, else the model's default. An optional key's box is empty when unset, its
    dropdown starts with "default". Other keys (lists, sections) are not shown and stay as they were."""
    fields = []
    for name in labels or model.model_fields:
        path = f"{prefix}.{name}" if prefix else name
        label = (labels or {}).get(name, name.replace("_", " "))
        value = spec_value(values, model, name)
        if choices and name in choices:
            menu = look.make(widgets.Dropdown, options=choices[name], value=value, description=label)
            fields.append(form_field(path, menu, look=look))
        elif (shape := _plain_shape(model.model_fields[name].annotation)) is not None:
            widget, read = _plain_widget(*shape, value, label, look, bounds(model.model_fields[name]))
            fields.append(form_field(path, widget, read, look=look))
    return fields


def bounds(info: FieldInfo) -> str:
    """A field's bounds from its metadata (``Field(ge=1, le=4000)``) as text, ``1-4000``; empty
    when it has none. They show in the box (validation names a value outside them)."""
    low = next((item.ge for item in info.metadata if hasattr(item, "ge")), None)
    high = next((item.le for item in info.metadata if hasattr(item, "le")), None)
    if low is None and high is None:
        return ""
    return f"{'' if low is None else low}-{'' if high is None else high}"


def _plain_shape(annotation: Any) -> tuple[Any, bool] | None:
    """``(kind, optional)`` of an annotation the form can show (a bool, int, float, str or
    ``Literal``, optional or not), else ``None``."""
    args = get_args(annotation) if get_origin(annotation) is not Literal else ()
    kinds = [kind for kind in args or (annotation,) if kind is not type(None)]
    if len(kinds) != 1 or not (kinds[0] in (int, float, str, bool) or get_origin(kinds[0]) is Literal):
        return None
    return kinds[0], len(kinds) < len(args)


def _plain_widget(
    kind: Any, optional: bool, value: Any, label: str, look: Look, limits: str = ""
) -> tuple[widgets.ValueWidget, Callable[[], Any] | None]:
    """The widget of a plain value and how to read it (``None``: its value as it is); an optional
    value's empty box says ``limits`` (its bounds)."""
    if kind is bool and not optional:
        return look.make(widgets.Checkbox, value=value, description=label), None
    if get_origin(kind) is Literal and not optional:
        return look.make(widgets.Dropdown, options=get_args(kind), value=value, description=label), None
    if kind is bool or get_origin(kind) is Literal:
        choices = (
            {True: "on", False: "off"} if kind is bool else {choice: choice for choice in get_args(kind)}
        )
        menu = optional_menu(choices, value, label, look)
        return menu, lambda: None if menu.value == "" else menu.value
    if optional or value is None:
        text = look.make(
            widgets.Text,
            value="" if value is None else str(value),
            description=label,
            placeholder=f"unset ({limits})" if limits else "unset",
        )
        return text, lambda: optional_value(text.value, kind)
    widget = {int: widgets.IntText, float: widgets.FloatText}.get(kind, widgets.Text)
    return look.make(widget, value=value, description=label), None


def optional_menu(
    choices: Mapping[Any, str], value: Any, label: str, look: Look, default_label: str = "default"
) -> widgets.Dropdown:
    """A dropdown of an optional value's ``choices`` (value -> text), first ``default_label`` (the
    value ``""``, read as unset)."""
    return look.make(
        widgets.Dropdown,
        options=[(default_label, ""), *((text, choice) for choice, text in choices.items())],
        value="" if value is None else value,
        description=label,
    )


def literal_choices(model: type[BaseModel], name: str) -> tuple[Any, ...]:
    """The choices of ``model``'s ``Literal`` field ``name`` (optional or not)."""
    annotation = model.model_fields[name].annotation
    if get_origin(annotation) is not Literal:
        (annotation,) = (kind for kind in get_args(annotation) if kind is not type(None))
    return get_args(annotation)


def lock(widget: widgets.ValueWidget, unused: bool) -> None:
    """Disable an option that does not apply, unless it holds a value (which the error names)."""
    widget.disabled = unused and not widget.value


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set dotted ``path`` (``route53.zone_name``) in ``data``, making the sections on the way."""
    *parents, leaf = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[leaf] = value
