"""AWS's numeric quotas that several rule families share, and the range checks that name them."""

from __future__ import annotations

from ..errors import ValidationError

TASKS_PER_SERVICE_MAX = 5000
"""ECS's quota of tasks per service (not adjustable): the most a desired count or a capacity can be."""

TASKS_PER_SERVICE_RULE = "ECS's quota of tasks per service"

INT32_MAX = 2**31 - 1
"""The largest count AWS's APIs take (their integers are 32-bit)."""

INT32_RULE = "AWS's integers are 32-bit"


def check_range(field: str, value: int, bounds: tuple[int, int], unit: str = "") -> None:
    low, high = bounds
    if not low <= value <= high:
        suffix = f" {unit}" if unit else ""
        raise ValidationError(field, f"{value}{suffix} is outside {low}-{high}{suffix}")


def check_at_most(field: str, value: int, high: int, rule: str) -> None:
    """``value`` at most ``high``; ``rule`` says whose limit it is, in words."""
    if value > high:
        raise ValidationError(field, f"{value} is above {high:,} ({rule})")
