"""Curves fitted to the points: lines (weighted, per bootstrap resample) and the 5xx hinge."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MIN_POINTS = 10
"""Fewer minutes than this and no capacity is given; a fitted curve needs as many points (a load
test's capacity is measured from however many steps ran)."""
MIN_POINTS_PAST_KNEE = 3
"""The 5xx hinge's knee leaves at least this many points on its rising side."""
FAILING_PER_1K = 100.0
"""Minutes with more 5xx per 1,000 requests than this are left out of the (descriptive) 5xx hinge."""
MIN_REQUESTS_FOR_RATE = 100
"""Minutes with fewer requests are left out of the 5xx hinge (one error in 50 is 20 per 1,000)."""


def weighted_line(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``weights``, weighted least squares ``y = a + b x`` over finite ``y``: (a, b); NaN
    where fewer than MIN_POINTS points, spread over less than 5 % of the busiest load, carry weight."""
    usable = np.isfinite(y)
    w = weights * usable[None, :]
    y = np.where(usable, y, 0.0)
    total, sx, sy = w.sum(axis=1), w @ x, w @ y
    sxx, sxy = w @ (x * x), w @ (x * y)
    with np.errstate(all="ignore"):
        slope = (total * sxy - sx * sy) / (total * sxx - sx * sx)
        intercept = (sy - slope * sx) / total
    carried = w > 0  # x is sorted: the first and last carried points span the load
    spread_low = x[np.argmax(carried, axis=1)]
    spread_high = x[len(x) - 1 - np.argmax(carried[:, ::-1], axis=1)]
    enough = (carried.sum(axis=1) >= MIN_POINTS) & (spread_high - spread_low > 0.05 * spread_high)
    return np.where(enough, intercept, np.nan), np.where(enough, slope, np.nan)


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares ``y = a + b x`` over finite ``y``: (a, b, R²), NaN without enough points."""
    usable = np.isfinite(y)
    x, y = x[usable], y[usable]
    if len(x) < MIN_POINTS or not x.max() - x.min() > 0.05 * x.max():
        return math.nan, math.nan, math.nan
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - (residual**2).sum() / total if total > 0 else math.nan
    return float(intercept), float(slope), float(r2)


def error_r2(points: pd.DataFrame) -> float:
    """R² of the 5xx hinge over the points (those with enough requests, not failing)."""
    rows = points[points["errors_per_1k"].notna() & (points["requests"] > 0)]
    if (rows["requests"] >= MIN_REQUESTS_FOR_RATE).sum() >= MIN_POINTS:
        rows = rows[rows["requests"] >= MIN_REQUESTS_FOR_RATE]
    if (rows["errors_per_1k"] <= FAILING_PER_1K).any():
        rows = rows[rows["errors_per_1k"] <= FAILING_PER_1K]
    if len(rows) < MIN_POINTS:
        return math.nan
    hinge = _hinge(
        rows["requests_per_task"].to_numpy(float),
        rows["errors_per_1k"].to_numpy(float),
        rows["requests"].to_numpy(float),
    )
    return hinge[3] if hinge is not None else math.nan


def _hinge(x: np.ndarray, rate: np.ndarray, weight: np.ndarray) -> tuple[float, float, float, float] | None:
    """Weighted least squares ``rate = base + slope max(0, x - knee)``, the knee on an even grid.

    Returns (knee, base, slope, R²) of the best knee, or None when no knee has enough points past it.
    """
    best = None
    total = float(np.average((rate - np.average(rate, weights=weight)) ** 2, weights=weight))
    for knee in np.linspace(x.min(), x.max(), 80)[:-1]:
        past = np.maximum(x - knee, 0.0)
        if (past > 0).sum() < MIN_POINTS_PAST_KNEE:
            continue
        design = np.stack([np.ones_like(x), past], axis=1) * np.sqrt(weight)[:, None]
        (base, slope), *_ = np.linalg.lstsq(design, rate * np.sqrt(weight), rcond=None)
        residual = float(np.average((rate - base - slope * past) ** 2, weights=weight))
        if best is None or residual < best[0]:
            best = (residual, float(knee), float(base), float(slope))
    if best is None:
        return None
    residual, knee, base, slope = best
    return knee, base, slope, 1.0 - residual / total if total > 0 else math.nan
