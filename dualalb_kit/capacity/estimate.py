"""The estimator: the held load, where the curves put the SLO, how far past the held load they may
go, and which signal limits."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .bands import BREACH_SHARE, STEP_BREACH_SHARE, Points, first_crossing
from .curves import weighted_line
from .slo import SIGNALS, SLO

HELD_MINUTES = 10
HELD_SHARE = 0.01
"""The held load is the load of the 10th busiest minute below the breaking band (one minute is no
evidence), or, with fewer than 1,000 minutes below it, of the busiest 1 % of them (at least one: in
a short ramp each minute is a load of its own)."""
MAX_EXTRAPOLATION = 0.15
"""How far past the held load (a fraction of it) a fitted curve may put the capacity."""


@dataclass(frozen=True)
class Estimate:
    """The estimator's answer per resample (arrays of shape (R,))."""

    capacity: np.ndarray
    held: np.ndarray
    first_broken: np.ndarray  # the lowest load in the first breaking band (inf: none)
    crossing: np.ndarray  # bool: some band breaks the SLO
    how: np.ndarray  # 0 measured, 1 curve, 2 cut at the limit, 3 lower bound (nothing predicts)
    cpu_limit: np.ndarray
    latency_limit: np.ndarray


MEASURED, CURVE, CUT, BOUND = range(4)
"""How an estimate was reached: measured, a curve within the limit, cut at the limit, a lower bound."""


def estimate_capacity(data: Points, weights: np.ndarray, slo: SLO) -> Estimate:
    """The capacity for each row of ``weights`` (R, N): how often each point counts (1 for the data
    as they are; a resample's multiplicities for the bootstrap)."""
    rows, count = weights.shape
    share = STEP_BREACH_SHARE if data.steps else BREACH_SHARE
    minutes = np.add.reduceat(weights, data.starts, axis=1)
    broken = np.add.reduceat(weights * data.broken[:, 0], data.starts, axis=1)
    first, crossing = first_crossing(broken, minutes, share)
    cut = np.where(crossing, data.starts[first], count)  # points below the first breaking band
    position = np.arange(count)
    below = weights * (position[None, :] < cut[:, None])
    # the held load: the HELD_MINUTES-th busiest (weighted) point below the breaking band, or the
    # busiest HELD_SHARE of them when there are fewer than HELD_MINUTES / HELD_SHARE
    minutes_below = below.sum(axis=1)
    evidence = np.clip(np.ceil(HELD_SHARE * minutes_below - 1e-9), 1, HELD_MINUTES)
    needed = np.minimum(1 if data.steps else evidence, minutes_below)
    from_top = np.cumsum(below[:, ::-1], axis=1)[:, ::-1]
    enough = (from_top >= needed[:, None] - 1e-9) & (below > 0)
    last = count - 1 - np.argmax(enough[:, ::-1], axis=1)
    held = np.where(enough.any(axis=1) & (needed > 0), data.load[last], np.nan)
    above = (position[None, :] >= cut[:, None]) & (weights > 0)
    first_broken = np.where(above.any(axis=1), data.load[np.argmax(above, axis=1)], np.inf)
    cpu_line = weighted_line(data.load, data.cpu, below)
    latency_line = weighted_line(data.load, data.inverse_p99, below)
    with np.errstate(all="ignore"):
        cpu_limit = np.where(
            cpu_line[1] > 0, (slo.max_cpu - cpu_line[0]) / cpu_line[1], np.inf
        )  # a flat or falling CPU line predicts nothing
        latency_limit = np.where(
            latency_line[1] < 0, (latency_line[0] - 1.0 / slo.p99_ms) / -latency_line[1], np.inf
        )
    cpu_limit = np.where(np.isnan(cpu_limit), np.inf, cpu_limit)
    latency_limit = np.where(np.isnan(latency_limit), np.inf, latency_limit)
    predicted = np.full(rows, np.inf) if data.steps else np.minimum(cpu_limit, latency_limit)
    furthest = held * (1 + MAX_EXTRAPOLATION)
    finite = np.isfinite(predicted)
    within = finite & (predicted <= np.minimum(furthest, first_broken))
    cut_off = finite & ~within & (predicted <= first_broken)
    capacity = np.where(within, np.fmax(held, predicted), np.where(cut_off, furthest, held))
    how = np.where(
        within & (predicted > held),
        CURVE,
        np.where(cut_off, CUT, np.where(crossing | within, MEASURED, BOUND)),
    )
    return Estimate(capacity, held, first_broken, crossing, how, cpu_limit, latency_limit)


def limiting_signal(data: Points, full: Estimate, predictions: dict[str, float]) -> str:
    """The signal that breaks first: the one whose own breaking minutes cross first; else the curve
    that set the capacity; else the one nearest its limit among the busiest held minutes."""
    ones = np.ones((1, len(data.load)))
    minutes = np.add.reduceat(ones, data.starts, axis=1)
    share = STEP_BREACH_SHARE if data.steps else BREACH_SHARE
    crossings = {}
    for index, name in enumerate(SIGNALS, start=1):
        broken = np.add.reduceat(ones * data.broken[:, index], data.starts, axis=1)
        first, crossing = first_crossing(broken, minutes, share)
        if crossing[0]:
            crossings[name] = int(first[0])
    if crossings:
        return min(SIGNALS, key=lambda name: crossings.get(name, math.inf))
    if full.crossing[0] or not np.isfinite(full.held[0]):
        past = data.load >= (full.first_broken[0] if full.crossing[0] else -np.inf)
        counts = data.broken[past, 1:].sum(axis=0)
        return SIGNALS[int(np.argmax(counts))]
    if np.isfinite(min(predictions.values())):
        return min(SIGNALS[:2], key=predictions.__getitem__)
    busiest = data.nearness[-(1 if data.steps else HELD_MINUTES) :]
    nearness = np.where(np.isnan(busiest), -1.0, busiest).max(axis=0)
    return SIGNALS[int(np.argmax(nearness))]
