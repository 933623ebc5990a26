"""How each value of a recommended policy is chosen: one function per value (the rules are in
:func:`~dualalb_kit.scaling.recommend_policies`' docstring)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .outcome import ServiceLoad

if TYPE_CHECKING:
    from ..capacity import SLO
    from ..spec import ScalingSpec, TaskSpec

POLICY_VALUES = ("request_per_target", "target_cpu_utilization", "min_capacity", "max_capacity")
"""The values of a service's scaling a recommendation sets."""
PUBLIC_FLOOR = 2
"""The fewest tasks behind the internet-facing ALB: one in a second Availability Zone."""
FULL_WEEK = 7 * 1440
"""Minutes of data below which a recommendation never lowers a service's max_capacity."""


def policy_of(scaling: ScalingSpec) -> dict[str, Any]:
    """A service's scaling as the four values a recommendation sets (:data:`POLICY_VALUES`)."""
    return {name: getattr(scaling, name) for name in POLICY_VALUES}


def availability_floor(task: TaskSpec) -> int:
    """The fewest tasks a service may scale in to: 2 behind the internet-facing ALB, else 1."""
    return PUBLIC_FLOOR if task.external is not None else 1


def request_target(at_slo: float, largest_share: float, headroom: float, factor: float) -> int:
    """The request policy's target: the capacity ``at_slo`` (requests/min per task) less the
    ``headroom`` fraction, times the busiest ALB's share of the service's requests (a target group
    carries that share) and the tightening ``factor``, rounded down to 10 (at least 10)."""
    target = at_slo * (1 - headroom) * largest_share * factor
    return max(10, int(target // 10 * 10))


def cpu_target(fit: pd.Series, requests_per_task: float, slo: SLO, headroom: float, factor: float) -> int:
    """The CPU policy's target (percent) for a service whose request target holds
    ``requests_per_task``: the SLO's CPU limit less the ``headroom``, or if higher the CPU the
    ``fit`` (a capacity row) puts a task at with that load, never above the limit; times the
    tightening ``factor`` (at least 1)."""
    target = slo.max_cpu * (1 - headroom)
    at_request_target = fit.get("idle_cpu_percent", math.nan) + fit.get("cpu_per_1k_requests", math.nan) * (
        requests_per_task / 1000.0
    )
    if math.isfinite(at_request_target):
        target = max(target, math.ceil(at_request_target))
    return max(1, round(int(min(round(target), slo.max_cpu)) * factor))


def capacity_bounds(
    policy: dict[str, Any],
    load: ServiceLoad,
    index: int,
    floor: int,
    growth: float,
    lowest_max: int | None,
) -> tuple[int, int]:
    """(min_capacity, max_capacity) for service ``index`` of ``load`` under ``policy``'s targets.

    Per minute the policies need ceil(requests / target) tasks on the busier ALB and ceil(CPU work
    / CPU target); ``min_capacity`` covers the quietest minutes (1st percentile) and keeps
    ``floor`` tasks, ``max_capacity`` is the busiest minute's need x (1 + ``growth``), and at least
    ``lowest_max`` (None: no such bound) where too little is known to lower the ceiling.
    """
    with np.errstate(all="ignore"):
        by_cpu = np.nan_to_num(np.ceil(load.cpu_work[:, index] / policy["target_cpu_utilization"]))
    needed = np.maximum(
        np.ceil(load.requests[:, :, index].max(axis=0) / policy["request_per_target"]), by_cpu
    )
    trough, peak = int(max(np.ceil(np.quantile(needed, 0.01)), 1)), int(max(needed.max(), 1))
    low = max(trough, floor)
    high = max(low, math.ceil(peak * (1 + growth)))
    return low, high if lowest_max is None else max(high, lowest_max)
