"""Target tracking, scheduled scaling and capacity provider strategies: their defaults and ECS's ranges."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ValidationError
from .cron import check_cron
from .limits import INT32_MAX, INT32_RULE, TASKS_PER_SERVICE_MAX, TASKS_PER_SERVICE_RULE, check_at_most

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")

DEFAULT_MIN_CAPACITY = 1

DEFAULT_MAX_CAPACITY = 10

DEFAULT_REQUESTS_PER_TARGET = 1000

DEFAULT_TARGET_CPU_UTILIZATION = 50
"""Target tracking's defaults (the original's ``ServiceScalingPolicy``): fewest and most tasks,
ALB requests per target per minute, average CPU percent. The spec's ``scaling`` and the
construct's ``ServiceScalingPolicy`` both take them from here."""

CAPACITY_BASE_MAX = 100_000

CAPACITY_WEIGHT_MAX = 1000
"""ECS's ranges for a capacity provider's ``base`` (0-100,000) and ``weight`` (0-1,000)."""


def check_scaling(
    field: str,
    *,
    desired_count: int,
    min_capacity: int,
    max_capacity: int,
    target_cpu_utilization: float,
    request_per_target: int,
) -> None:
    """``field`` is the task's path; scaling fields are reported under ``<field>.scaling``."""
    if desired_count < 0:
        raise ValidationError(f"{field}.desired_count", f"{desired_count} is negative")
    if min_capacity < 0:
        raise ValidationError(f"{field}.scaling.min_capacity", f"{min_capacity} is negative")
    if max_capacity < 1:
        raise ValidationError(f"{field}.scaling.max_capacity", f"{max_capacity} must be at least 1")
    check_at_most(
        f"{field}.scaling.max_capacity", max_capacity, TASKS_PER_SERVICE_MAX, TASKS_PER_SERVICE_RULE
    )
    if min_capacity > max_capacity:
        raise ValidationError(
            f"{field}.scaling.min_capacity", f"{min_capacity} is above max_capacity {max_capacity}"
        )
    if desired_count > max_capacity:
        raise ValidationError(
            f"{field}.desired_count", f"{desired_count} is above scaling.max_capacity {max_capacity}"
        )
    if not 0 < target_cpu_utilization <= 100:
        raise ValidationError(
            f"{field}.scaling.target_cpu_utilization",
            f"{target_cpu_utilization} is outside (0, 100]",
        )
    if request_per_target <= 0:
        raise ValidationError(f"{field}.scaling.request_per_target", f"{request_per_target} must be above 0")
    check_at_most(f"{field}.scaling.request_per_target", request_per_target, INT32_MAX, INT32_RULE)


def check_scheduled_scaling(
    field: str, *, cron: str, min_capacity: int | None, max_capacity: int | None
) -> None:
    """A scheduled action: Application Auto Scaling's six cron fields (UTC) and new bounds."""
    check_cron(f"{field}.cron", cron)
    if min_capacity is None and max_capacity is None:
        raise ValidationError(field, "sets neither min_capacity nor max_capacity")
    if min_capacity is not None and min_capacity < 0:
        raise ValidationError(f"{field}.min_capacity", f"{min_capacity} is negative")
    if max_capacity is not None and max_capacity < 1:
        raise ValidationError(f"{field}.max_capacity", f"{max_capacity} must be at least 1")
    for name, value in (("min_capacity", min_capacity), ("max_capacity", max_capacity)):
        if value is not None:
            check_at_most(f"{field}.{name}", value, TASKS_PER_SERVICE_MAX, TASKS_PER_SERVICE_RULE)
    if min_capacity is not None and max_capacity is not None and min_capacity > max_capacity:
        raise ValidationError(f"{field}.min_capacity", f"{min_capacity} is above max_capacity {max_capacity}")


def check_capacity_strategy(field: str, strategy: Sequence[tuple[str, int, int]]) -> None:
    """``strategy`` is ``(provider, base, weight)`` triples; ``field`` the strategy's path."""
    if not strategy:
        raise ValidationError(field, "needs at least one capacity provider")
    with_base = []
    for index, (provider, base, weight) in enumerate(strategy):
        item = f"{field}[{index}]"
        if provider not in CAPACITY_PROVIDERS:
            raise ValidationError(
                f"{item}.provider",
                f"{provider!r} is not a capacity provider ({', '.join(CAPACITY_PROVIDERS)})",
            )
        if base < 0:
            raise ValidationError(f"{item}.base", f"{base} is negative")
        if weight < 0:
            raise ValidationError(f"{item}.weight", f"{weight} is negative")
        check_at_most(f"{item}.base", base, CAPACITY_BASE_MAX, "ECS's largest base")
        check_at_most(f"{item}.weight", weight, CAPACITY_WEIGHT_MAX, "ECS's largest weight")
        if base > 0:
            with_base.append(provider)
    if len(with_base) > 1:
        raise ValidationError(field, f"base is set on more than one provider ({', '.join(with_base)})")
    if all(weight == 0 for _, _, weight in strategy):
        raise ValidationError(field, "all weights are zero; at least one provider needs a weight above 0")
