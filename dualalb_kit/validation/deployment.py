"""Deployments: rolling bounds, and ECS's blue/green, linear and canary strategies with their options."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationError

DEPLOYMENT_STRATEGIES = ("rolling", "blue_green", "linear", "canary")
"""ECS's built-in deployment strategies, as the spec names them (``ROLLING``, ``BLUE_GREEN``, ...)."""

DEPLOYMENT_MINUTES_MAX = 1440
"""ECS's limit on a bake time, in minutes (24 h)."""

DEPLOYMENT_CFN_MINUTES_MAX = 33 * 60
"""CloudFormation rejects a linear or canary deployment whose bake times add up beyond 33 h."""

LINEAR_STEP_PERCENT = (3.0, 100.0)

CANARY_PERCENT = (0.1, 100.0)

DEPLOYMENT_DEFAULTS = {
    "bake_time_minutes": 15,
    "linear_step_percent": 10.0,
    "linear_step_bake_time_minutes": 6,
    "canary_percent": 5.0,
    "canary_bake_time_minutes": 10,
}
"""ECS's defaults for the options a strategy leaves unset (bake time: blue/green, linear, canary)."""


@dataclass(frozen=True)
class DeploymentRules:
    """A service's deployment options as plain values (``None``: ECS's default).

    ``strategy`` is one of :data:`DEPLOYMENT_STRATEGIES`; times are minutes; ``rollback_on_alarms``
    ``None`` means on for blue_green/linear/canary when the stack has alarms, off for rolling.
    """

    strategy: str = "rolling"
    bake_time_minutes: float | None = None
    linear_step_percent: float | None = None
    linear_step_bake_time_minutes: float | None = None
    canary_percent: float | None = None
    canary_bake_time_minutes: float | None = None
    rollback_on_alarms: bool | None = None
    time_suffix: str = "_minutes"
    """How the times' field names end where they were given: ``_minutes`` in the spec, nothing
    for the construct's ``Duration`` props (``bake_time``)."""

    def field_name(self, name: str) -> str:
        """An option's name as the user gave it (``bake_time_minutes`` or ``bake_time``)."""
        return name.removesuffix("_minutes") + self.time_suffix if name.endswith("_minutes") else name

    @property
    def shifts_traffic(self) -> bool:
        """Whether ECS shifts traffic between two target groups (every strategy but rolling)."""
        return self.strategy != "rolling"

    def value(self, name: str) -> float:
        """An option's value, or ECS's default for it."""
        given = getattr(self, name)
        return DEPLOYMENT_DEFAULTS[name] if given is None else given

    def rolls_back_on_alarms(self, alarms: bool) -> bool:
        """Whether the service's alarms roll a deployment back, given whether the stack has alarms."""
        if self.rollback_on_alarms is None:
            return alarms and self.shifts_traffic
        return self.rollback_on_alarms


def check_deployment(field: str, *, min_healthy_percent: int, max_healthy_percent: int) -> None:
    """Rolling-deployment bounds, in percent of the desired count; ``field`` is the task's path."""
    if not 0 <= min_healthy_percent <= 100:
        raise ValidationError(f"{field}.min_healthy_percent", f"{min_healthy_percent} is outside 0-100")
    if not 100 <= max_healthy_percent <= 2000:
        raise ValidationError(f"{field}.max_healthy_percent", f"{max_healthy_percent} is outside 100-2000")
    if max_healthy_percent <= min_healthy_percent:
        raise ValidationError(
            f"{field}.max_healthy_percent",
            f"{max_healthy_percent} must be above min_healthy_percent {min_healthy_percent} "
            "or a deployment cannot start a new task",
        )


def check_deployment_strategy(field: str, rules: DeploymentRules, *, alarms: bool) -> None:
    """ECS's rules on a deployment strategy and its options; ``field`` is the options' path
    (``tasks[0].deployment`` or the stack's ``deployment``); ``alarms`` whether the stack creates
    the service's alarms."""
    if rules.strategy not in DEPLOYMENT_STRATEGIES:
        raise ValidationError(
            f"{field}.strategy", f"{rules.strategy!r} is not one of {', '.join(DEPLOYMENT_STRATEGIES)}"
        )
    for name, strategy in (
        ("linear_step_percent", "linear"),
        ("linear_step_bake_time_minutes", "linear"),
        ("canary_percent", "canary"),
        ("canary_bake_time_minutes", "canary"),
    ):
        if getattr(rules, name) is not None and rules.strategy != strategy:
            raise ValidationError(
                f"{field}.{rules.field_name(name)}", f"is for strategy {strategy}, not {rules.strategy}"
            )
    for name in ("bake_time_minutes", "linear_step_bake_time_minutes", "canary_bake_time_minutes"):
        minutes = getattr(rules, name)
        whole = minutes is None or float(minutes).is_integer()
        if not whole or not 0 <= (minutes or 0) <= DEPLOYMENT_MINUTES_MAX:
            raise ValidationError(
                f"{field}.{rules.field_name(name)}",
                f"{minutes:g} min is not whole minutes in 0-{DEPLOYMENT_MINUTES_MAX} (24 h)",
            )
    percents = {"linear_step_percent": LINEAR_STEP_PERCENT, "canary_percent": CANARY_PERCENT}
    for name, (low, high) in percents.items():
        percent = getattr(rules, name)
        tenths = None if percent is None else percent * 10
        if tenths is not None and (not low <= percent <= high or abs(tenths - round(tenths)) > 1e-9):
            raise ValidationError(
                f"{field}.{name}", f"{percent:g} is not a multiple of 0.1 in {low:g}-{high:g} percent"
            )
    total = _deployment_minutes(rules)
    if total > DEPLOYMENT_CFN_MINUTES_MAX:
        raise ValidationError(
            field,
            f"bake times add up to {total:g} minutes; CloudFormation rejects a {rules.strategy} deployment "
            f"beyond {DEPLOYMENT_CFN_MINUTES_MAX} (33 h)",
        )
    if rules.rollback_on_alarms and not alarms:
        raise ValidationError(
            f"{field}.rollback_on_alarms", "needs alarms (the service's alarms are what ECS watches)"
        )


def _deployment_minutes(rules: DeploymentRules) -> float:
    """The bake times CloudFormation adds up for a linear or canary deployment (0 for the others)."""
    if rules.strategy == "canary":
        return rules.value("bake_time_minutes") + rules.value("canary_bake_time_minutes")
    if rules.strategy == "linear":
        step = rules.value("linear_step_percent")
        steps = 100 / step - 1 if (100 / step).is_integer() else int(100 // step)
        return rules.value("bake_time_minutes") + rules.value("linear_step_bake_time_minutes") * steps
    return 0
