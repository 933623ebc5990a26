"""The capacity's 90 % interval (a block bootstrap over hours) and the confidence it gives."""

from __future__ import annotations

import math
import zlib

import numpy as np

from .bands import Points
from .estimate import BOUND, CUT, Estimate, estimate_capacity
from .slo import SLO

NARROW = 0.15
"""``high`` confidence: the 90 % interval within ±15 % of the capacity."""
MEDIUM = 0.30
"""``medium`` confidence: the 90 % interval within ±30 % of the capacity."""
BOOTSTRAP_SAMPLES = 200
BOOTSTRAP_SEED = 20250106
"""Resamples of the hours and the seed they are drawn with (with the service's name)."""
INTERVAL = (5.0, 95.0)
"""Percentiles of the bootstrap estimates that bound the interval (90 %)."""
MISSING_SHARE = 0.05
"""Bootstrap resamples without a capacity above this share leave ``capacity_low`` empty."""


def bootstrap_interval(data: Points, full: Estimate, slo: SLO, service: str) -> tuple[float, float]:
    """(capacity_low, capacity_high): the bootstrap's 90 % interval, or for load-test steps the held
    step and the first that broke (NaN: none broke)."""
    if data.steps:
        return float(full.held[0]), float(full.first_broken[0]) if full.crossing[0] else math.nan
    blocks = int(data.block.max()) + 1
    random = np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(service.encode())])
    estimates = []
    for start in range(0, BOOTSTRAP_SAMPLES, 20):
        size = min(20, BOOTSTRAP_SAMPLES - start)
        drawn = random.integers(0, blocks, size=(size, blocks))
        per_block = np.zeros((size, blocks))
        np.add.at(per_block, (np.arange(size)[:, None], drawn), 1.0)
        estimates.append(estimate_capacity(data, per_block[:, data.block], slo).capacity)
    capacity = np.concatenate(estimates)
    missing = float(np.isnan(capacity).mean())
    if missing == 1.0:
        return math.nan, math.nan
    low, high = np.nanpercentile(capacity, INTERVAL)
    return (math.nan if missing > MISSING_SHARE else float(low)), float(high)


def confidence_of(row: dict, full: Estimate) -> str:
    """``high``/``medium``/``low`` from the interval's width and how the capacity was reached."""
    at_slo, low, high = row["requests_per_task_at_slo"], row["capacity_low"], row["capacity_high"]
    if not (np.isfinite(at_slo) and np.isfinite(low) and np.isfinite(high)) or full.how[0] in (CUT, BOUND):
        return "low"
    for name, width in (("high", NARROW), ("medium", MEDIUM)):
        if low >= (1 - width) * at_slo and high <= (1 + width) * at_slo:
            return name
    return "low"
