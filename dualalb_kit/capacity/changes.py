"""Changes over time in how p99 or CPU follow load, dated to the minute."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .slo import SLO

CHANGE_Z = 6.0
CHANGE_SHIFT = 0.1
"""A change needs hourly residuals that differ by CHANGE_Z standard errors and by this fraction of
the SLO limit (p99 and CPU as fractions of theirs)."""
SIGNAL_CAP = 2.0
"""p99 and CPU above twice their limits count as twice the limit when dating a change."""
CHANGE_BANDS = 40
"""Load bands whose medians the residuals that date a change are taken from."""
MIN_SIDE_HOURS = 3
"""A change is looked for with at least this many hours of data on either side."""
MAX_CHANGES = 4
"""Changes looked for one after the other, each in what follows the previous one."""


def change_points(points: pd.DataFrame, slo: SLO) -> list[pd.Timestamp]:
    """The times (UTC) at which how p99 or CPU follow load changed, oldest first (the method is in
    :mod:`dualalb_kit.capacity`'s docstring)."""
    found: list[pd.Timestamp] = []
    stretch = points
    for _ in range(MAX_CHANGES):
        change = _best_change(stretch, slo)
        if change is None:
            break
        found.append(change)
        stretch = stretch[stretch["timestamp"] >= change]
    return found


def _best_change(points: pd.DataFrame, slo: SLO) -> pd.Timestamp | None:
    """The split of ``points`` (sorted by time) where p99 or CPU at the same load shifts most, if
    it is a change (CHANGE_Z standard errors and CHANGE_SHIFT of the limit)."""
    hours = pd.DatetimeIndex(points["timestamp"]).floor("h")
    if hours.nunique() < 2 * MIN_SIDE_HOURS:
        return None
    load = points["requests_per_task"].to_numpy(float)
    low, high = np.quantile(load, [0.01, 0.99])
    band = np.clip(((load - low) / max(high - low, 1e-9) * CHANGE_BANDS).astype(int), 0, CHANGE_BANDS - 1)
    best: tuple[float, str, pd.Timestamp] | None = None
    residuals = {}
    for name, column, limit in (("latency", "p99_ms", slo.p99_ms), ("cpu", "cpu_percent", slo.max_cpu)):
        signal = np.minimum(points[column].to_numpy(float) / limit, SIGNAL_CAP)
        frame = pd.DataFrame({"band": band, "signal": signal, "hour": hours})
        residual = frame["signal"] - frame.groupby("band")["signal"].transform("median")
        residuals[name] = residual.to_numpy(float)
        hourly = residual.groupby(frame["hour"]).agg(["mean", "count"])
        hourly = hourly[hourly["count"] >= 10]["mean"]
        if len(hourly) < 2 * MIN_SIDE_HOURS:
            continue
        values = hourly.to_numpy(float)
        count = len(values)
        left_n = np.arange(1, count)
        right_n = count - left_n
        cumulative, squares = np.cumsum(values)[:-1], np.cumsum(values**2)[:-1]
        left_mean = cumulative / left_n
        right_mean = (values.sum() - cumulative) / right_n
        within = (squares - left_n * left_mean**2) + ((values**2).sum() - squares - right_n * right_mean**2)
        spread = np.sqrt(np.maximum(within, 0) / max(count - 2, 1))
        shift = right_mean - left_mean
        with np.errstate(all="ignore"):
            z = np.abs(shift) / (spread * np.sqrt(1 / left_n + 1 / right_n))
        z = np.where(np.isnan(z), np.inf, z)  # no spread at all: any shift is a change
        usable = (left_n >= MIN_SIDE_HOURS) & (right_n >= MIN_SIDE_HOURS) & (np.abs(shift) >= CHANGE_SHIFT)
        if not usable.any():
            continue
        score = np.where(usable, np.minimum(z, 1e12) + np.abs(shift), -np.inf)
        split = int(np.argmax(score))
        if z[split] >= CHANGE_Z and (best is None or score[split] > best[0]):
            best = (float(score[split]), name, hourly.index[split + 1])
    if best is None:
        return None
    _, name, hour = best
    # to the minute: the largest cumulative residual within an hour either side
    stamps = pd.DatetimeIndex(points["timestamp"])
    near = (stamps >= hour - pd.Timedelta(hours=1)) & (stamps < hour + pd.Timedelta(hours=1))
    residual = np.nan_to_num(residuals[name][near])
    if len(residual) < 3:
        return hour
    walk = np.cumsum(residual - residual.mean())
    return stamps[near][int(np.argmax(np.abs(walk[:-1]))) + 1]
