"""The SLO, and per minute (or load-test step) the load and which signal breaks the SLO."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from ..errors import ValidationError

POINT_COLUMNS = ("requests_per_task", "requests", "p99_ms", "cpu_percent", "errors_per_1k")
"""What :func:`capacity_from_points` reads: one row per minute (with a ``timestamp`` column) or
per load-test step (without one)."""
SIGNALS = ("latency", "cpu", "errors")
"""The measured signals, in the order ties are broken."""
ERROR_QUANTILE = 0.99
"""A minute's 5xx break the SLO when a Poisson count at the SLO's rate stays below them this often."""


@dataclass(frozen=True)
class SLO:
    """What a task must keep while it serves: the limits :func:`fit_capacity` measures against.

    ``p99_ms``: the 99th percentile of the target response time, in milliseconds (default 500:
    interactive requests); ``max_cpu``: average task CPU in percent (default 70, the point past which
    a Fargate task's latency usually climbs and a spike has no room left); ``max_5xx_per_1k``: target
    5xx responses per 1,000 requests (default 1, a 99.9 % success rate).
    """

    p99_ms: float = 500.0
    max_cpu: float = 70.0
    max_5xx_per_1k: float = 1.0

    def __post_init__(self) -> None:
        if not self.p99_ms > 0:
            raise ValidationError("slo.p99_ms", f"{self.p99_ms} must be positive")
        if not 0 < self.max_cpu <= 100:
            raise ValidationError("slo.max_cpu", f"{self.max_cpu} is not a CPU percentage in (0, 100]")
        if not self.max_5xx_per_1k >= 0:
            raise ValidationError("slo.max_5xx_per_1k", f"{self.max_5xx_per_1k} is negative")


def service_points(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per minute and service, the load and how the tasks coped, from a ``load_metrics`` frame.

    Columns: ``timestamp``, ``service``, ``requests`` (all ALBs, per minute), ``tasks`` (running),
    ``requests_per_task`` (per minute), ``p99_ms`` (the larger of the service's target groups),
    ``cpu_percent``, ``errors_per_1k`` (target 5xx per 1,000 requests). Minutes without requests
    or without a task count are left out: they say nothing about capacity.
    """
    wanted = metrics[
        metrics["metric"].isin(
            ["RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime", "CPUUtilization"]
            + ["RunningTaskCount", "HealthyHostCount"]
        )
        & metrics["service"].notna()
    ]
    keys = ["timestamp", "service"]

    def per_minute(metric: str, stat: str, how: str) -> pd.Series:
        rows = wanted[(wanted["metric"] == metric) & (wanted["stat"] == stat)]
        return rows.groupby(keys, observed=True)["value"].agg(how)

    requests = per_minute("RequestCount", "Sum", "sum")  # NaN (not published) counts as 0
    running = per_minute("RunningTaskCount", "Average", "max")
    healthy = per_minute("HealthyHostCount", "Minimum", "max")
    points = pd.DataFrame(
        {
            "requests": requests,
            "tasks": running.combine_first(healthy) if len(running) else healthy,
            "p99_ms": per_minute("TargetResponseTime", "p99", "max") * 1000.0,
            "cpu_percent": per_minute("CPUUtilization", "Average", "max"),
            "errors": per_minute("HTTPCode_Target_5XX_Count", "Sum", "sum"),
        }
    )
    points = points[(points["requests"] > 0) & (points["tasks"] > 0)].reset_index()
    points["requests_per_task"] = points["requests"] / points["tasks"]
    points["errors_per_1k"] = points.pop("errors").fillna(0.0) / points["requests"] * 1000.0
    points["service"] = points["service"].astype(str)
    return points[
        ["timestamp", "service", "requests", "tasks", "requests_per_task", "p99_ms"]
        + ["cpu_percent", "errors_per_1k"]
    ]


def slo_breaches(points: pd.DataFrame, slo: SLO) -> pd.DataFrame:
    """Per point (minute or step) of :data:`POINT_COLUMNS`: which signal breaks ``slo`` (booleans
    ``latency``, ``cpu``, ``errors``, and ``any``). A signal that was not measured breaks nothing.

    5xx break the SLO when there are more of them than a Poisson count with the SLO's mean
    (``max_5xx_per_1k`` x requests / 1,000) reaches in 99 % of cases (:data:`ERROR_QUANTILE`).
    """
    requests = points["requests"].to_numpy(float)
    errors = points["errors_per_1k"].to_numpy(float) * requests / 1000.0
    allowed = _poisson_quantile(slo.max_5xx_per_1k * np.nan_to_num(requests) / 1000.0, ERROR_QUANTILE)
    by_rate = points["errors_per_1k"].to_numpy(float) > slo.max_5xx_per_1k  # without a request count
    table = pd.DataFrame(
        {
            "latency": (points["p99_ms"] > slo.p99_ms).to_numpy(),
            "cpu": (points["cpu_percent"] > slo.max_cpu).to_numpy(),
            "errors": np.where(np.isfinite(requests), np.round(errors, 6) > allowed, by_rate),
        },
        index=points.index,
    )
    table["any"] = table[list(SIGNALS)].any(axis=1)
    return table


def _poisson_quantile(mean: np.ndarray, probability: float) -> np.ndarray:
    """The smallest count k with P(X <= k) >= ``probability`` for X ~ Poisson(``mean``), per mean
    (summed term by term up to a mean of 100, a normal approximation above)."""
    mean = np.asarray(mean, dtype=float)
    small = np.minimum(mean, 100.0)
    term = np.exp(-small)
    below = term.copy()
    quantile = np.zeros_like(small)
    count = 0
    while (below < probability).any():
        count += 1
        term = term * small / count
        quantile = np.where(below < probability, count, quantile)
        below = below + term
    z = NormalDist().inv_cdf(probability)
    return np.where(mean > 100.0, np.ceil(mean + z * np.sqrt(mean)), quantile)
