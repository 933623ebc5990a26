"""The deployment strategy fields the stack and each task show: the strategy and its options,
only the chosen strategy's enabled."""

from __future__ import annotations

from typing import Any

from ..spec import DeploymentStrategySpec
from .forms import FormField, Look, form_field, literal_choices, spec_default, spec_fields, widgets

DEPLOYMENT_LABELS = {
    "bake_time_minutes": "bake time (min)",
    "linear_step_percent": "linear step %",
    "linear_step_bake_time_minutes": "linear step bake (min)",
    "canary_percent": "canary %",
    "canary_bake_time_minutes": "canary bake (min)",
    "rollback_on_alarms": "roll back on alarms",
}
"""The deployment options the designer shows beside the strategy (stack and task)."""
STRATEGIES = literal_choices(DeploymentStrategySpec, "strategy")
DEFAULT_STRATEGY = spec_default(DeploymentStrategySpec, "strategy")


def deployment_fields(given: dict[str, Any] | None, look: Look, *, inherit: bool) -> list[FormField]:
    """The strategy (``deployment``) and its options (``deployment.*``). The strategy's field reads
    the whole section: the strategy with its own options set, the other strategies' dropped;
    ``None`` with ``inherit`` and "stack's" chosen, or for the default strategy with nothing set
    or given."""
    given = given or {}
    choice = look.make(
        widgets.Dropdown,
        options=[("stack's", ""), *((name, name) for name in STRATEGIES)] if inherit else STRATEGIES,
        value=given.get("strategy", "" if inherit else DEFAULT_STRATEGY),
        description="deployment",
    )
    options = spec_fields("deployment", DeploymentStrategySpec, given, look, DEPLOYMENT_LABELS)

    def read() -> dict[str, Any] | None:
        chosen = {
            field.path.removeprefix("deployment."): value
            for field in options
            if applies(choice.value, field.path) and (value := field.read()) is not None
        }
        if not choice.value or (choice.value == DEFAULT_STRATEGY and not (chosen or given or inherit)):
            return None
        return {"strategy": choice.value, **chosen}

    return [form_field("deployment", choice, read, look=look), *options]


def applies(strategy: str, path: str) -> bool:
    """Whether deployment option ``path`` is one of ``strategy``'s ("": the stack's, none)."""
    name = path.removeprefix("deployment.")
    return bool(strategy) and (not name.startswith(("linear_", "canary_")) or name.startswith(f"{strategy}_"))


def enable_deployment(fields: dict[str, FormField]) -> None:
    """Enable the deployment options of the chosen strategy only."""
    strategy = fields["deployment"].widget.value
    for path, field in fields.items():
        if path.startswith("deployment."):
            field.widget.disabled = not applies(strategy, path)
