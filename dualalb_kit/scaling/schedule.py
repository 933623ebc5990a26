"""Scheduled actions for a service whose load has a daily or weekly pattern."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..cost import Pricing
from .outcome import Outcome, ServiceLoad, monthly_cost
from .simulate import TaskSize

DAY_TYPES = {"MON-FRI": (0, 1, 2, 3, 4), "SAT-SUN": (5, 6)}
"""The day types scheduled actions are proposed for when weekends are quieter than weekdays."""


def scheduled_actions(
    outcome: Outcome,
    index: int,
    policy: Mapping[str, Any],
    load: ServiceLoad,
    start: pd.Timestamp,
    size: TaskSize,
    region: str,
    prices: Pricing,
) -> tuple[list[dict[str, Any]], float, float]:
    """Scheduled min-capacity actions for a daily (and weekly) pattern, and what they save per month.

    Needs two days of data (a week for weekday/weekend schedules, used when weekends carry at most
    80 % of a weekday's load). Per day type and hour, the tasks the request target needs (the
    median minute, so a one-off spike makes no schedule); the busy hours need more than halfway
    from ``min_capacity`` to the busiest hour. One action an hour before the longest run of busy
    hours raises ``min_capacity`` to what those hours always need (the ramp is then served before
    target tracking reacts), another at its end lowers it back. The saving is against keeping that
    raised minimum all day, the static way to get the same protection (the raised minimum is
    priced as a floor under the replayed counts). With separate weekday and weekend schedules a
    busy run across midnight gets none. Returns (actions: ``cron`` (Application Auto Scaling's six
    fields, UTC), ``min_capacity``, ``max_capacity``; USD per month saved; USD per month with the
    schedule).
    """
    minutes = len(outcome.counts)
    counts = outcome.counts[:, index]
    unscheduled = monthly_cost(counts, size, region, prices)
    if minutes < 2 * 1440:
        return [], 0.0, round(unscheduled, 2)
    stamps = start + pd.to_timedelta(np.arange(minutes), unit="min")
    needed = np.ceil(load.requests[:, :, index].max(axis=0) / policy["request_per_target"])
    actions, floor_by_minute = _actions(stamps, needed, load.total[:, index], policy)
    if not actions:
        return [], 0.0, round(unscheduled, 2)
    static = monthly_cost(np.maximum(counts, floor_by_minute.max()), size, region, prices)
    scheduled = monthly_cost(np.maximum(counts, floor_by_minute), size, region, prices)
    return actions, round(static - scheduled, 2), round(scheduled, 2)


def _actions(
    stamps: pd.DatetimeIndex, needed: np.ndarray, total: np.ndarray, policy: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The actions for each day type with a busy run (``needed``: the tasks the request target needs
    each minute, ``total``: the requests), and the min capacity they put in force each minute."""
    weekend = stamps.day_of_week >= 5
    weekly = len(stamps) >= 7 * 1440 and total[weekend].mean() <= 0.8 * total[~weekend].mean()
    day_types = DAY_TYPES if weekly else {"*": tuple(range(7))}
    base, ceiling = policy["min_capacity"], policy["max_capacity"]
    floor_by_minute, actions = np.full(len(stamps), base), []
    for days, weekdays in day_types.items():
        in_days = np.isin(stamps.day_of_week, weekdays)
        hourly = np.array([np.median(needed[in_days & (stamps.hour == h)]) for h in range(24)])
        if hourly.max() <= base + 1:
            continue
        busy = hourly > base + (hourly.max() - base) / 2
        first, length = _longest_circular_run(busy)
        if weekly and (first == 0 or first + length > 24):
            continue  # a run across midnight would leave one day type's raise to the other's fall
        hours = [(first + offset) % 24 for offset in range(length)]
        raised = int(max(hourly[hours].min(), base + 1))
        rise, fall = (first - 1) % 24, (first + length) % 24
        actions += [
            {"cron": f"0 {rise} ? * {days} *", "min_capacity": raised, "max_capacity": ceiling},
            {"cron": f"0 {fall} ? * {days} *", "min_capacity": base, "max_capacity": ceiling},
        ]
        floor_by_minute[in_days & np.isin(stamps.hour, [rise, *hours])] = raised
    return actions, floor_by_minute


def _longest_circular_run(flags: np.ndarray) -> tuple[int, int]:
    """(first index, length) of the longest run of True in a circular array (length 0 if none)."""
    doubled = np.concatenate([flags, flags])
    best, run = (0, 0), 0
    for position, flag in enumerate(doubled):
        run = run + 1 if flag else 0
        if min(run, len(flags)) > best[1]:
            best = ((position - run + 1) % len(flags), min(run, len(flags)))
    return best
