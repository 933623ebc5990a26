"""What one task of a service can serve within an SLO, fitted from its ALB and ECS metrics.

The unit of load is **requests per minute per running task**: all of a service's requests (every
ALB it sits behind, ``RequestCount`` summed) divided by its running tasks (``RunningTaskCount``,
else the larger ``HealthyHostCount`` of its target groups). Three curves are fitted against it, one
point per minute:

* **CPU is linear in load**: ``cpu = a + b x`` (least squares over minutes below 95 % CPU, where
  the task is not saturated). The CPU limit is where it reaches ``slo.max_cpu``.
* **Latency follows a queueing curve**: ``p99 = p0 / (1 - x / x_sat)``, the shape of an M/M/1
  queue's response time, which rises slowly at low load and without bound as the task nears
  saturation. It is fitted as a straight line in ``1 / p99`` (``1/p99 = 1/p0 - x / (p0 x_sat)``) over
  minutes whose p99 is at most twice the SLO (beyond that the curve is past what matters). The
  latency limit is where p99 reaches ``slo.p99_ms``; the p99 of a minute is the larger of the
  service's target groups.
* **Errors are flat, then rise past a knee**: target 5xx per 1,000 requests =
  ``base + slope max(0, x - knee)`` (a hinge, least squares weighted by requests, the knee chosen
  among 80 loads evenly spread over the observed range; minutes above 10 % errors are left out).
  The error limit is where it reaches ``slo.max_5xx_per_1k``. If no rise explains the data (R²
  below 0.5), the limit is where the rate goes above the SLO and stays above at every higher load
  (interpolated), and errors do not limit if the busiest load is within the SLO.

The capacity (``requests_per_task_at_slo``) is the lowest of the three limits, ``limited_by`` names
it. ``confidence`` is ``high`` only when the busiest observed minute came within half of that
capacity (its 99th percentile: a single spike minute is not enough) and the fit that set it
explains the data (R² at least 0.5); otherwise it is ``low``:
the number is an extrapolation, and a load test (:mod:`dualalb_kit.loadtest`) should measure it.
Where the data cannot support any answer (too few busy minutes, or the SLO is already broken at
the lowest observed load) ``requests_per_task_at_slo`` is NaN and ``note`` says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ValidationError

CAPACITY_COLUMNS = (
    "service",
    "requests_per_task_at_slo",
    "limited_by",
    "observed_max_requests_per_task",
    "cpu_per_1k_requests",
    "idle_cpu_percent",
    "p99_at_no_load_ms",
    "saturation_requests_per_task",
    "fit_r2",
    "confidence",
    "note",
)
"""The columns of :func:`fit_capacity` (and of a load test's capacity row), in order."""

POINT_COLUMNS = ("requests_per_task", "requests", "p99_ms", "cpu_percent", "errors_per_1k")
"""What :func:`capacity_from_points` reads: one row per minute (or load-test step)."""

MIN_POINTS = 10
"""Fewer busy minutes (or load-test steps) than this and no curve is fitted."""
MIN_POINTS_PAST_KNEE = 3
"""The error fit's knee leaves at least this many points on its rising side."""
SATURATED_CPU = 95.0
"""CPU (%) above which a task is saturated and the minute is left out of the linear CPU fit."""
FAILING_PER_1K = 100.0
"""Minutes with more 5xx per 1,000 requests than this are failing, not slowing: the error fit leaves
them out (the curve near the SLO is what matters, and failing minutes saturate)."""
MIN_R2 = 0.5
BUSY_QUANTILE = 0.99
"""Confidence needs the load's 99th percentile, not one spike minute, within half of the capacity."""
MIN_REQUESTS_FOR_RATE = 100
"""Minutes with fewer requests give no 5xx rate worth fitting (one error in 50 is 20 per 1,000)."""
"""A fit explaining less of the data than this gives a ``low`` confidence."""


@dataclass(frozen=True)
class SLO:
    """What a task must keep while it serves: the limits :func:`fit_capacity` fits against.

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


def fit_capacity(metrics: pd.DataFrame, slo: SLO | None = None) -> pd.DataFrame:
    """One row per service: what a task serves within ``slo`` (default :class:`SLO`), fitted.

    ``metrics`` is a ``load_metrics`` frame (1-minute periods). Columns (:data:`CAPACITY_COLUMNS`):
    ``service``; ``requests_per_task_at_slo`` (requests per minute per running task at which the
    first SLO limit is reached; NaN when the data cannot tell); ``limited_by`` (``latency``,
    ``cpu``, ``errors``, or None); ``observed_max_requests_per_task``; ``cpu_per_1k_requests``
    (CPU percentage points per 1,000 requests per minute per task, the slope of the CPU fit);
    ``idle_cpu_percent`` (the CPU fit at no load, its intercept); ``p99_at_no_load_ms`` and
    ``saturation_requests_per_task`` (the latency curve's p0 and x_sat: p99 = p0 / (1 - x / x_sat));
    ``fit_r2`` (of the fit that set the capacity); ``confidence`` (``high``/``low``,
    see the module docstring); ``note`` (why, in words). The model is in the module docstring.
    """
    slo = slo or SLO()
    points = service_points(metrics)
    services = sorted(str(name) for name in metrics["service"].dropna().unique())
    rows = [
        {"service": service, **capacity_from_points(points[points["service"] == service], slo)}
        for service in services
    ]
    table = pd.DataFrame(rows, columns=list(CAPACITY_COLUMNS))
    table.attrs["slo"] = slo
    table.attrs["synthetic"] = bool(metrics.attrs.get("synthetic", False))
    return table


@dataclass(frozen=True)
class _Limit:
    """One resource's limit: the load (requests per minute per task) where it reaches the SLO."""

    at: float  # inf: never reached; nan: cannot tell
    r2: float = math.nan
    note: str = ""


def capacity_from_points(points: pd.DataFrame, slo: SLO) -> dict:
    """The capacity columns (all of :data:`CAPACITY_COLUMNS` but ``service``) from load points.

    ``points`` has :data:`POINT_COLUMNS`: ``requests_per_task`` (per minute), ``requests`` (how
    many requests the point stands for, a weight for the error rate), ``p99_ms``, ``cpu_percent``
    and ``errors_per_1k`` (NaN where not measured). Used by :func:`fit_capacity` on minutes and by
    the load test on its steps, so both answer with one model.
    """
    points = points[points["requests_per_task"] > 0]
    if points.empty:
        note = "no minute with requests and a running task count: nothing to fit"
        return dict.fromkeys(CAPACITY_COLUMNS[1:], math.nan) | {
            "limited_by": None,
            "confidence": "low",
            "note": note,
        }
    observed_max = float(points["requests_per_task"].max())
    cpu, (intercept, slope) = _cpu_limit(points, slo.max_cpu)
    latency, (p99_at_no_load, saturation) = _latency_limit(points, slo.p99_ms)
    limits = {"latency": latency, "cpu": cpu, "errors": _error_limit(points, slo)}
    row = {
        "requests_per_task_at_slo": math.nan,
        "limited_by": None,
        "observed_max_requests_per_task": observed_max,
        "cpu_per_1k_requests": slope * 1000.0,
        "idle_cpu_percent": intercept,
        "p99_at_no_load_ms": p99_at_no_load,
        "saturation_requests_per_task": saturation,
        "fit_r2": math.nan,
        "confidence": "low",
        "note": "",
    }
    broken = [(name, limit) for name, limit in limits.items() if limit.at == 0]
    if broken:
        name, limit = broken[0]
        return row | {"limited_by": name, "note": limit.note}
    known = {name: limit for name, limit in limits.items() if math.isfinite(limit.at)}
    if not known:
        unknown = "; ".join(limit.note for limit in limits.values() if limit.note)
        return row | {"note": unknown or "no SLO limit is reached or approached in the data"}
    name = min(known, key=lambda key: known[key].at)
    limit = known[name]
    busy = float(np.quantile(points["requests_per_task"], BUSY_QUANTILE)) / limit.at
    fits = limit.r2 >= MIN_R2  # a limit read off the data without a fit (NaN) is never high
    confidence = "high" if busy >= 0.5 and fits else "low"
    note = (
        f"{name} limit at {limit.at:,.0f} requests/min per task; the busy load (99th percentile) "
        f"is {busy:.0%} of it"
    )
    if confidence == "low":
        note += (
            f" (fit R² {limit.r2:.2f} below {MIN_R2})"
            if limit.r2 < MIN_R2
            else " (no fit: where the 5xx rate crossed the SLO)"
            if not fits
            else ": an extrapolation, measure it with a load test"
        )
    return row | {
        "requests_per_task_at_slo": limit.at,
        "limited_by": name,
        "fit_r2": limit.r2,
        "confidence": confidence,
        "note": note,
    }


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares ``y = intercept + slope x``: (intercept, slope, R²)."""
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - (residual**2).sum() / total if total > 0 else math.nan
    return float(intercept), float(slope), float(r2)


def _enough(x: np.ndarray) -> bool:
    """Enough points, spread over enough load, to fit a line."""
    return len(x) >= MIN_POINTS and x.max() - x.min() > 0.05 * x.max()


def _cpu_limit(points: pd.DataFrame, max_cpu: float) -> tuple[_Limit, tuple[float, float]]:
    """The CPU limit and the CPU fit: (CPU % at no load, CPU % per request per minute per task)."""
    rows = points[points["cpu_percent"].notna() & (points["cpu_percent"] < SATURATED_CPU)]
    x, y = rows["requests_per_task"].to_numpy(float), rows["cpu_percent"].to_numpy(float)
    if not _enough(x):
        note = "too few minutes with CPU data to fit CPU against load"
        return _Limit(math.nan, note=note), (math.nan, math.nan)
    intercept, slope, r2 = _line(x, y)
    if intercept >= max_cpu:
        note = f"CPU is at {intercept:.0f} % even without load, above the SLO's {max_cpu:g} %"
        return _Limit(0.0, r2, note), (intercept, slope)
    if slope <= 0:
        return _Limit(math.inf, r2, "CPU does not rise with load"), (intercept, slope)
    return _Limit((max_cpu - intercept) / slope, r2), (intercept, slope)


def _latency_limit(points: pd.DataFrame, p99_ms: float) -> tuple[_Limit, tuple[float, float]]:
    """Where the queueing curve fitted to p99 reaches ``p99_ms``, and the curve: (p0 in ms, x_sat)."""
    rows = points[points["p99_ms"].notna() & (points["p99_ms"] > 0)]
    near = rows[rows["p99_ms"] <= 2 * p99_ms]
    if len(near) >= MIN_POINTS:
        rows = near
    x, y = rows["requests_per_task"].to_numpy(float), 1.0 / rows["p99_ms"].to_numpy(float)
    if not _enough(x):
        note = "too few minutes with latency data to fit p99 against load"
        return _Limit(math.nan, note=note), (math.nan, math.nan)
    intercept, slope, r2 = _line(x, y)
    curve = (1.0 / intercept if intercept > 0 else math.nan, intercept / -slope if slope < 0 else math.inf)
    if intercept <= 1.0 / p99_ms:
        return _Limit(0.0, r2, f"p99 is above {p99_ms:g} ms even without load"), curve
    if slope >= 0:
        return _Limit(math.inf, r2, "p99 does not rise with load"), curve
    return _Limit((intercept - 1.0 / p99_ms) / -slope, r2), curve


def _error_limit(points: pd.DataFrame, slo: SLO) -> _Limit:
    """Where the hinge fitted to target 5xx per 1,000 requests reaches ``slo.max_5xx_per_1k``."""
    rows = points[points["errors_per_1k"].notna() & (points["requests"] > 0)]
    if (rows["requests"] >= MIN_REQUESTS_FOR_RATE).sum() >= MIN_POINTS:
        rows = rows[rows["requests"] >= MIN_REQUESTS_FOR_RATE]
    rows = (
        rows[rows["errors_per_1k"] <= FAILING_PER_1K]
        if (rows["errors_per_1k"] <= FAILING_PER_1K).any()
        else rows
    )
    x, rate = rows["requests_per_task"].to_numpy(float), rows["errors_per_1k"].to_numpy(float)
    weight = rows["requests"].to_numpy(float)
    if len(x) < MIN_POINTS:
        return _Limit(math.nan, note="too few minutes with error data")
    hinge = _hinge(x, rate, weight)
    if hinge is not None and hinge[2] > 0 and hinge[3] >= MIN_R2:
        knee, base, slope, r2 = hinge
        if base >= slo.max_5xx_per_1k:
            return _Limit(0.0, r2, f"5xx are at {base:.2g} per 1,000 requests even at low load")
        return _Limit(knee + (slo.max_5xx_per_1k - base) / slope, r2)
    return _error_crossing(x, rate, slo.max_5xx_per_1k)


def _error_crossing(x: np.ndarray, rate: np.ndarray, limit: float) -> _Limit:
    """Without a fitted rise: where the rate goes above ``limit`` and stays above at every higher
    load (interpolated between the two loads around it); never, if the busiest load is within it."""
    order = np.argsort(x)
    x, above = x[order], rate[order] > limit
    if not above[-1]:
        return _Limit(math.inf)
    first = len(above) - int(np.argmin(above[::-1])) if not above.all() else 0
    if first == 0:
        return _Limit(0.0, note=f"5xx are above {limit:g} per 1,000 requests at every load")
    below, over = first - 1, first
    share = (limit - rate[order][below]) / (rate[order][over] - rate[order][below])
    return _Limit(float(x[below] + share * (x[over] - x[below])))


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


def capacity_table(capacity: pd.DataFrame) -> pd.DataFrame:
    """A :func:`fit_capacity` frame for people: units in the headers, numbers rounded."""
    return pd.DataFrame(
        {
            "service": capacity["service"],
            "requests/min per task at SLO": capacity["requests_per_task_at_slo"].round(0),
            "limited by": capacity["limited_by"],
            "busiest requests/min per task": capacity["observed_max_requests_per_task"].round(0),
            "CPU % per 1k requests/min": capacity["cpu_per_1k_requests"].round(1),
            "p99 at no load (ms)": capacity["p99_at_no_load_ms"].round(0),
            "fit R²": capacity["fit_r2"].round(3),
            "confidence": capacity["confidence"],
            "note": capacity["note"],
        }
    )
