"""The words of a recommendation: why each service got its policy, and the load test that would
measure what the data could not."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .outcome import Outcome, ServiceLoad
from .targets import availability_floor

if TYPE_CHECKING:
    from ..spec import TaskSpec


def why(
    fit: pd.Series,
    policy: Mapping[str, Any],
    load: ServiceLoad,
    index: int,
    outcome: Outcome,
    kept_current: bool,
    factor: float,
    command: str,
) -> str:
    """One sentence with the numbers behind a service's recommendation (``command``: the load test
    it advises, :func:`loadtest_command`)."""
    at_slo = fit["requests_per_task_at_slo"]
    if not (fit["confidence"] == "high" and math.isfinite(at_slo)):
        note = fit.get("note")
        reason = note if isinstance(note, str) and note else "no fit"
        confidence = fit["confidence"] if fit["confidence"] in ("high", "medium") else "low"
        sentence = (
            f"capacity not known with confidence ({confidence}: {reason}), so the request target stays "
            f"at {policy['request_per_target']}; a load test of one task would settle it: "
            f"`{command}`" + ("" if "--max-rps" in command else " (start low: nothing is known yet)")
        )
        target = policy["request_per_target"]
        carried = target / load.largest_share[index] if target is not None else math.nan
        if math.isfinite(at_slo) and carried > at_slo:
            sentence += (
                f"; that target lets a task carry {carried:,.0f} requests/min, above the {at_slo:,.0f} "
                "estimated: settle it soon"
            )
        return sentence
    share = load.largest_share[index]
    within = 1 - outcome.over[index] / len(outcome.counts)
    sentence = f"{fit['limited_by']} reaches the SLO at {at_slo:,.0f} requests/min per task; "
    if share < 1:
        sentence += (
            f"{share:.0%} of its requests use its busiest ALB, so {policy['request_per_target']:,} "
            f"per target holds {policy['request_per_target'] / share:,.0f} requests/min per task"
        )
    else:
        sentence += f"{policy['request_per_target']:,} per target"
    sentence += f", {1 - policy['request_per_target'] / share / at_slo:.0%} below it"
    if kept_current:
        sentence = "the current policy already keeps the SLO for less: " + sentence
    elif factor < 1:
        sentence += f" (targets at {factor:.0%} of the headroom value: scale-out lagged the ramps)"
    return (
        f"{sentence}; the replay keeps {within:.1%} of minutes within the SLO with "
        f"{policy['min_capacity']}-{policy['max_capacity']} tasks (peak {int(outcome.peak[index])})"
    )


LOADTEST_REACH = 1.5
"""A suggested load test ramps one task to 1.5 times the best estimate of its capacity."""


def loadtest_command(fit: pd.Series, cpu_units: int = 1024) -> str:
    """The ``dualalb-kit loadtest`` command that would measure a service's capacity (``fit``: its
    capacity row, named by the service): one task (its URL on AWS with ``--allow-remote``), ramped
    to 1.5 x the largest of the capacity, its interval's top, the held load and the busiest minute
    (requests/min per task / 60 = requests/s), at most the load test's 2,000 requests/s
    (``loadtest.MAX_RPS_LIMIT``); without ``--max-rps`` when none of them is known (start low);
    with ``--cpu-units`` when the task's ``cpu`` is not one core, so CPU is judged against its share
    as ECS's CPUUtilization is."""
    cpu = "" if cpu_units == 1024 else f" --cpu-units {cpu_units}"
    estimates = [
        fit.get(name, math.nan)
        for name in (
            "requests_per_task_at_slo",
            "capacity_high",
            "held_requests_per_task",
            "observed_max_requests_per_task",
        )
    ]
    known = [float(value) for value in estimates if isinstance(value, (int, float)) and math.isfinite(value)]
    if not known:
        return f"dualalb-kit loadtest URL --service {fit.name}{cpu}"
    max_rps = min(2000, math.ceil(LOADTEST_REACH * max(known) / 60.0))
    return f"dualalb-kit loadtest URL --max-rps {max_rps} --service {fit.name}{cpu}"


def missed_note(outcome: Outcome, index: int) -> str:
    """What to do when even the lowest targets tried leave minutes over the SLO."""
    share = outcome.over[index] / len(outcome.counts)
    return (
        f"; NOT within the SLO: {share:.1%} of minutes stay over it at the lowest targets tried, so "
        "scale-out is too slow for the ramps: raise min_capacity (a schedule) or measure the capacity"
    )


def floor_note(policy: Mapping[str, Any], current: Mapping[str, Any], task: TaskSpec) -> str:
    """Why ``min_capacity`` went up to the availability floor, if it did."""
    floor = availability_floor(task)
    if policy["min_capacity"] == floor > current["min_capacity"]:
        return f"; min_capacity {floor} keeps a second task behind the internet-facing ALB"
    return ""
