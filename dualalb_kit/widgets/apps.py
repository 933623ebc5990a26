"""The options section of an app pattern (``wordpress:`` or ``laravel:``), its values, defaults
and choices from the pattern's spec model."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from ..spec import LARAVEL_SAMPLE_CODE, AlbSpec, DatabaseOptionsSpec, LaravelSpec, WordPressSpec
from .forms import (
    Form,
    FormField,
    Look,
    form_field,
    literal_choices,
    optional_menu,
    set_path,
    spec_fields,
    widgets,
)

APP_DEFAULTS: dict[str, dict[str, Any]] = {"wordpress": {}, "laravel": {"code": LARAVEL_SAMPLE_CODE}}
"""A new section's required values: Laravel starts from the bundled sample."""
APP_OPTIONS: dict[str, type[BaseModel]] = {"wordpress": WordPressSpec, "laravel": LaravelSpec}
APP_TITLES = {"wordpress": "WordPress", "laravel": "Laravel"}
APP_LABELS = {
    "laravel": {
        "code": "code directory",
        "container_port": "container port",
        "efs_file_system": "files on EFS",
        "default_database_name": "database name",
    }
}
"""The pattern's own options, in the form's order (the listener port goes after the code)."""
LISTENER_LABELS = {"laravel": {"port": "listener port"}}
DATABASE_LABELS = {
    "aurora_serverless": "Aurora Serverless v2",
    "single_db_instance": "single DB instance",
    "database_instance_type": "DB instance class",
    "backup_retention_days": "backup days",
    "serverless_min_capacity": "min ACUs",
    "serverless_max_capacity": "max ACUs",
}
REMOVAL_DEFAULT = "keep (final snapshot)"
"""What an unset ``removal_policy`` does, as its dropdown says."""


class AppOptionsEditor(Form):
    """The options section of an app pattern (``wordpress:`` or ``laravel:``): its database and,
    for Laravel, the code directory, listener port, container port, EFS and database name.

    A value left at its default is not written unless the section had it (or the pattern needs
    it: Laravel's ``code``), so a WordPress design without the section keeps none. Keys the form
    does not show (certificates, conditions) stay as they were.
    """

    def __init__(self, pattern: str, section: BaseModel | None) -> None:
        self.pattern = pattern
        model = APP_OPTIONS[pattern]
        self._base = section.model_dump(mode="json", exclude_none=True) if section is not None else {}
        self._given = set(_flat(self._base)) | set(APP_DEFAULTS[pattern])  # required keys always go in
        defaults = model(**APP_DEFAULTS[pattern]).model_dump(mode="json")
        self._defaults = _flat(defaults)
        values = {**defaults, **self._base}
        fields = self._fields(values, Look())
        super().__init__(fields)
        self.box = widgets.VBox(
            [
                widgets.HTML(f"<h3>{APP_TITLES[pattern]}</h3>"),
                *(field.row for field in fields),
                self.form_error,
            ]
        )

    def _fields(self, values: dict[str, Any], look: Look) -> list[FormField]:
        """The pattern's own options (Laravel: code, listener port, ...), then the database's."""
        pattern, model = self.pattern, APP_OPTIONS[self.pattern]
        own, listener = [], []
        if pattern in APP_LABELS:
            own = spec_fields(pattern, model, values, look, APP_LABELS[pattern])
            listener = spec_fields(
                f"{pattern}.loadbalancer", AlbSpec, values["loadbalancer"], look, LISTENER_LABELS[pattern]
            )
        policies = literal_choices(DatabaseOptionsSpec, "removal_policy")
        removal = optional_menu(
            {policy: policy for policy in policies},
            values.get("removal_policy"),
            "on stack delete",
            look,
            default_label=REMOVAL_DEFAULT,
        )
        return [
            *own[:1],
            *listener,
            *own[1:],
            *spec_fields(pattern, DatabaseOptionsSpec, values, look, DATABASE_LABELS),
            form_field(f"{pattern}.removal_policy", removal, lambda: removal.value or None, look=look),
        ]

    def data(self) -> dict[str, Any] | None:
        """The section as spec data (``None``: no section, when it had none and nothing changed)."""
        data = copy.deepcopy(self._base)
        for path, field in self.fields.items():
            key, value = path.removeprefix(f"{self.pattern}."), field.read()
            if key in self._given or value != self._defaults.get(key):
                set_path(data, key, value)
        return data or None


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    """One level of nesting as dotted keys (``loadbalancer.port``)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": item for inner, item in value.items()})
        else:
            flat[key] = value
    return flat
