"""Load bands: a stretch's points sorted by load and grouped, and the share of each band's minutes
that break the SLO, made monotone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .slo import SIGNALS, SLO, slo_breaches

BANDS = 100
"""Load bands of equal width the minutes are grouped into."""
SATURATED_CPU = 95.0
"""CPU (%) above which a task is saturated and the minute is left out of the CPU line."""
BREACH_SHARE = 0.01
"""The share of minutes that may break the SLO at a load the capacity includes (99 % keep it)."""
STEP_BREACH_SHARE = 0.5
"""The same for load-test steps: most steps at a load must break the SLO for it to count as broken."""


BAND_COLUMNS = (
    "band_low",
    "band_high",
    "minutes",
    "breaking_minutes",
    "latency_share",
    "cpu_share",
    "errors_share",
    "share",
    "monotone_share",
)
"""The columns of :func:`slo_bands` after ``service``."""


@dataclass(frozen=True)
class Points:
    """A stretch's points sorted by load, grouped into contiguous bands."""

    load: np.ndarray  # (N,) ascending
    starts: np.ndarray  # (B,) first point of each non-empty band
    edges: np.ndarray  # (B, 2) band_low, band_high
    broken: np.ndarray  # (N, 4) bool: any, latency, cpu, errors
    cpu: np.ndarray  # (N,) NaN where unusable for the CPU line
    inverse_p99: np.ndarray  # (N,) 1 / p99 in 1/ms, NaN where not measured
    block: np.ndarray  # (N,) hour index (0 for steps)
    steps: bool
    nearness: np.ndarray  # (N, 3) p99, CPU and 5xx rate as fractions of their SLO limits

    @property
    def band(self) -> np.ndarray:
        """(N,) each point's band."""
        marks = np.zeros(len(self.load), dtype=np.int64)
        marks[self.starts[1:]] = 1
        return np.cumsum(marks)


def prepare(points: pd.DataFrame, slo: SLO) -> Points:
    steps = "timestamp" not in points.columns
    points = points.sort_values("requests_per_task", kind="stable")
    load = points["requests_per_task"].to_numpy(float)
    if steps:
        band = np.arange(len(load))
        edges_of = np.column_stack([load, load])
        block = np.zeros(len(load), dtype=np.int64)
    else:
        low, high = np.quantile(load, [0.001, 0.999])
        high = max(high, low * 1.001 + 1e-9)
        grid = np.linspace(low, high, BANDS + 1)
        band = np.clip(np.searchsorted(grid, load, side="right") - 1, 0, BANDS - 1)
        edges_of = np.column_stack([grid[band], grid[band + 1]])
        edges_of[band == 0, 0] = min(load.min(), low)
        edges_of[band == BANDS - 1, 1] = max(load.max(), high)
        hours = pd.DatetimeIndex(points["timestamp"]).floor("h")
        block = pd.factorize(hours)[0]
    starts = np.flatnonzero(np.diff(band, prepend=-1))
    breaks = slo_breaches(points, slo)
    cpu = points["cpu_percent"].to_numpy(float)
    p99 = points["p99_ms"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.where(p99 > 0, 1.0 / p99, np.nan)
    return Points(
        load=load,
        starts=starts,
        edges=edges_of[starts],
        broken=breaks[["any", *SIGNALS]].to_numpy(bool),
        cpu=np.where(cpu < SATURATED_CPU, cpu, np.nan),
        inverse_p99=inverse,
        block=np.asarray(block, dtype=np.int64),
        steps=steps,
        nearness=np.column_stack(
            [
                p99 / slo.p99_ms,
                cpu / slo.max_cpu,
                points["errors_per_1k"].to_numpy(float) / max(slo.max_5xx_per_1k, 1e-9),
            ]
        ),
    )


def first_crossing(broken: np.ndarray, minutes: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first band of the level set {monotone share > ``share``} and whether there is one.

    For an isotonic (non-decreasing, weighted) fit, that level set is the upper set of bands with
    the largest total excess ``broken - share x minutes``: found from suffix sums."""
    excess = broken - share * minutes
    suffix = np.cumsum(excess[:, ::-1], axis=1)[:, ::-1]
    first = suffix.argmax(axis=1)
    return first, suffix[np.arange(len(first)), first] > 1e-9


def bands_frame(data: Points | None) -> pd.DataFrame:
    """:data:`BAND_COLUMNS` for one stretch."""
    if data is None:
        return pd.DataFrame(columns=list(BAND_COLUMNS))
    ones = np.ones(len(data.load))
    minutes = np.add.reduceat(ones, data.starts)
    broken = np.add.reduceat(data.broken.astype(float), data.starts, axis=0)
    frame = pd.DataFrame(
        {
            "band_low": data.edges[:, 0],
            "band_high": data.edges[:, 1],
            "minutes": minutes.astype(int),
            "breaking_minutes": broken[:, 0].astype(int),
            "latency_share": broken[:, 1] / minutes,
            "cpu_share": broken[:, 2] / minutes,
            "errors_share": broken[:, 3] / minutes,
            "share": broken[:, 0] / minutes,
        }
    )
    frame["monotone_share"] = _monotone(frame["share"].to_numpy(), minutes)
    return frame


def _monotone(share: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Pool adjacent violators: the weighted least-squares non-decreasing fit of ``share``."""
    pools: list[list[float]] = []  # [mean, weight, members]
    for value, mass in zip(share, weight, strict=True):
        pools.append([float(value), float(mass), 1])
        while len(pools) > 1 and pools[-2][0] > pools[-1][0]:
            mean, mass_, members = pools.pop()
            pools[-1] = [
                (pools[-1][0] * pools[-1][1] + mean * mass_) / (pools[-1][1] + mass_),
                pools[-1][1] + mass_,
                pools[-1][2] + members,
            ]
    return np.repeat([pool[0] for pool in pools], [pool[2] for pool in pools])


def breaking_share(bands: pd.DataFrame, requests_per_task: np.ndarray) -> np.ndarray:
    """The share of minutes expected to break the SLO at each load, from one service's
    :func:`slo_bands` rows: the ``monotone_share`` of the band the load falls in (below the first
    band, the first's; above the last, the last's); 0 where the load is 0 or not finite."""
    load = np.asarray(requests_per_task, dtype=float)
    if bands.empty:
        return np.zeros_like(load)
    bands = bands.sort_values("band_low")
    position = np.searchsorted(bands["band_high"].to_numpy(float), np.nan_to_num(load), side="left")
    share = bands["monotone_share"].to_numpy(float)[np.minimum(position, len(bands) - 1)]
    return np.where(np.isfinite(load) & (load > 0), share, 0.0)
