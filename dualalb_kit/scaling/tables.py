"""Analysis frames for people: units in the headers, current -> recommended side by side, rounded."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..cost import HOURS_PER_MONTH
from .spec_patch import plain


def _before_after(recommendations: pd.DataFrame, column: str) -> list[str]:
    """``current -> recommended`` per row for one of the policy's values."""
    pairs = zip(recommendations[f"current_{column}"], recommendations[column], strict=True)
    return [f"{plain(current)} -> {plain(new)}" for current, new in pairs]


def recommendation_table(recommendations: pd.DataFrame) -> pd.DataFrame:
    """A :func:`recommend_policies` frame for people: one row per service, units in the headers,
    current -> recommended side by side, costs rounded to cents (the reasons stay in ``why``).

    When the frame has them, ``capacity interval`` shows ``capacity_low``-``capacity_high`` after the
    capacity (requests/min per task; ``?`` where a bound is unknown) and ``measured minutes over SLO``
    (``observed_minutes_over_slo``: minutes whose measured p99, CPU or 5xx broke the SLO) after the
    replay's ``minutes over SLO``."""
    table = pd.DataFrame(
        {
            "service": recommendations["service"],
            "requests/min per task at SLO": recommendations["requests_per_task_at_slo"].round(0),
            "limited by": recommendations["limited_by"],
            "request target": _before_after(recommendations, "request_per_target"),
            "CPU target %": _before_after(recommendations, "target_cpu_utilization"),
            "tasks min-max": [
                f"{a}-{b} -> {c}-{d}"
                for a, b, c, d in zip(
                    recommendations["current_min_capacity"],
                    recommendations["current_max_capacity"],
                    recommendations["min_capacity"],
                    recommendations["max_capacity"],
                    strict=True,
                )
            ],
            "headroom %": (recommendations["headroom"] * 100).round(0),
            "minutes over SLO": recommendations["minutes_over_slo"],
            "peak tasks": recommendations["peak_tasks"],
            "USD/month now": recommendations["current_cost_per_month_usd"].round(2),
            "USD/month": recommendations["cost_per_month_usd"].round(2),
            "confidence": recommendations["confidence"],
        }
    )
    if {"capacity_low", "capacity_high"} <= set(recommendations.columns):

        def rounded(load: object) -> str:
            known = isinstance(load, (int, float, np.number)) and math.isfinite(load)
            return f"{load:,.0f}" if known else "?"

        lows, highs = recommendations["capacity_low"], recommendations["capacity_high"]
        interval = [f"{rounded(low)}-{rounded(high)}" for low, high in zip(lows, highs, strict=True)]
        table.insert(table.columns.get_loc("limited by"), "capacity interval", interval)
    if "observed_minutes_over_slo" in recommendations.columns:
        measured = recommendations["observed_minutes_over_slo"]
        table.insert(table.columns.get_loc("minutes over SLO") + 1, "measured minutes over SLO", measured)
    return table


def schedule_table(recommendations: pd.DataFrame) -> pd.DataFrame:
    """The scheduled actions of a :func:`recommend_policies` frame, one row per action: ``service``,
    ``cron`` (six fields, UTC), ``min_capacity``, ``max_capacity``, ``saving_per_month_usd`` (the
    service's whole schedule)."""
    rows = [
        {"service": row["service"], **action, "saving_per_month_usd": row["scheduled_saving_per_month_usd"]}
        for row in recommendations.to_dict("records")
        for action in row["scheduled_actions"]
    ]
    return pd.DataFrame(
        rows, columns=["service", "cron", "min_capacity", "max_capacity", "saving_per_month_usd"]
    )


def mixes_table(mixes: pd.DataFrame) -> pd.DataFrame:
    """A :meth:`SimulationResult.compare_mixes` frame for people: tasks as the mean running at once,
    costs in USD per month of 730 hours at the window's rate, the saving in percent."""
    month = HOURS_PER_MONTH / mixes.attrs["window_hours"]
    return pd.DataFrame(
        {
            "mix": mixes["mix"],
            "on-demand tasks (mean)": mixes["on_demand_tasks"].round(2),
            "spot tasks (mean)": mixes["spot_tasks"].round(2),
            "on-demand USD/month": (mixes["on_demand_cost"] * month).round(2),
            "spot USD/month": (mixes["spot_cost"] * month).round(2),
            "USD/month": (mixes["cost"] * month).round(2),
            "saving %": (mixes["saving"] * 100).round(0),
        }
    )
