"""What one task of a service can serve within an SLO, read from its measured ALB and ECS metrics.

The unit of load is **requests per minute per running task**: all of a service's requests (every
ALB it sits behind, ``RequestCount`` summed) divided by its running tasks (``RunningTaskCount``,
else the larger ``HealthyHostCount`` of its target groups). One point per minute (or per load-test
step).

**What breaks the SLO is measured, per minute.** A minute breaks it when its p99 (the larger of the
service's target groups) is above ``slo.p99_ms``, its CPU above ``slo.max_cpu``, or its target 5xx
above what ``slo.max_5xx_per_1k`` allows: more errors than a Poisson count at the SLO's rate reaches
in 99 % of minutes with that many requests (one error in 900 requests is noise at a 1 per 1,000 SLO;
one in 5 is not). Slow, hot or failing minutes are data, never outliers.

**The capacity is where the data show the SLO stop holding.** Minutes are grouped by load into
100 bands of equal width (between the 0.1 % and 99.9 % quantiles of the load; each load-test step is
its own band). The capacity is the highest load up to which at most 1 % of minutes break the SLO
(:data:`BREACH_SHARE`; for load-test steps, half of them: one short step's p99 is often noise): the
load above which the minutes, taken together, break it more often than that. This is where a
monotone (isotonic) fit of the breaking share against load crosses 1 %, found as the band from
which the excess of breaking minutes over 1 % of minutes, summed up to the busiest band, is
largest. ``held_requests_per_task`` is the load of the 10th busiest minute below that band
(:data:`HELD_MINUTES`, so that one spike minute is no evidence; with fewer than 1,000 minutes below
it, the busiest 1 % of them, :data:`HELD_SHARE`, at least one; the busiest step that held for a load
test); ``limited_by`` is the signal (``latency``, ``cpu``, ``errors``) whose own breaking minutes
cross first.

**Curves may extend it, a little.** Between the held load and the first band that breaks the SLO,
or past the busiest minute when nothing broke, two fitted curves predict where the SLO is reached:
CPU as a line (``cpu = a + b x``, minutes below 95 % CPU) and p99 as an M/M/1-shaped queueing curve
(``p99 = p0 / (1 - x / x_sat)``, a line in ``1 / p99``), both over the minutes below the band that
breaks. The capacity is the nearest prediction, but never more than :data:`MAX_EXTRAPOLATION` (15 %)
past the held load and never past the first breaking band; ``extrapolated_by`` says how far it went,
as a fraction of the held load (0: measured). A prediction further out is cut at +15 % and the
confidence is ``low``; with no prediction at all (flat p99, flat CPU: a knee gives no warning, and
5xx are never extrapolated) the capacity is the held load, a lower bound, also ``low``. A load test
is a measurement: its capacity is never extrapolated, and when no step broke the SLO it is the
busiest step, a lower bound (``note`` says so).

**Changes over time.** Within the window the relation between load and p99 or CPU may change (a
release, a noisy neighbour). Per signal, each minute is compared with the median of its load band
(p99 and CPU as fractions of their SLO limits, capped at 2), averaged per hour; the hour that best
splits those residuals into a before and an after is a change when the two sides differ by at least
10 % of the limit (:data:`CHANGE_SHIFT`) and by 6 standard errors of the hourly means
(:data:`CHANGE_Z`), and it is dated to the minute (the largest cumulative residual within an hour of
it). The search repeats on what follows, so the capacity is fitted on the most recent stable
stretch; ``change_at`` is the last change, ``capacity_before_change`` the capacity of the stretch
before it, and a stretch shorter than a day (:data:`MIN_STRETCH_HOURS`) is too short to decide
(``low``). 5xx are too sparse per hour to date a change and are not used for it.

**The interval and the confidence.** The whole estimate is repeated on 200 block-bootstrap
resamples of the stretch's hours (hours drawn with replacement, seeded: the same data give the same
interval); ``capacity_low`` and ``capacity_high`` are their 5th and 95th percentiles (a 90 %
interval; for load-test steps, the held step and the first step that broke; ``capacity_low`` is
empty when more than 5 % of the resamples find no capacity). ``confidence`` is ``high`` when that
interval lies within ±15 % of the capacity (:data:`NARROW`), ``medium`` within ±30 %, and ``low``
when it is wider, when the capacity is a lower bound or was cut at the extrapolation limit, when
the stretch fitted has fewer than 24 hours with data (a day's cycle; for the stretch since a
change: "too short to decide"), or when there is no capacity. Where the
data cannot support an answer (too few minutes, or the SLO already broken at the lowest load seen)
``requests_per_task_at_slo`` is NaN and ``note`` says why (with the SLO broken everywhere,
``capacity_high`` is the lowest load seen: the capacity lies below it).

The fitted curves also describe the service: ``cpu_per_1k_requests`` and ``idle_cpu_percent`` (the
CPU line over every minute below 95 % CPU), ``p99_at_no_load_ms`` and ``saturation_requests_per_task``
(the queueing curve below the breaking band, or over all points when fewer than 10 are below it);
``fit_r2`` is the R² of the limiting signal's curve (for 5xx a weighted hinge ``base + slope
max(0, x - knee)`` over minutes with at least 100 requests and at most 100 errors per 1,000). They
set the capacity only as far as ``extrapolated_by`` says. The banded shares are :func:`slo_bands`;
the recommendation (:func:`dualalb_kit.scaling.recommend_policies`) judges its replayed minutes by
them (:func:`breaking_share`).

**Limits.** The breaking share is assumed not to fall as load rises (a service slow only when
quiet has its quiet breaches pooled with busier minutes); the capacity is the 1 % level, so with
noisy signals it lies below the load at which the *average* signal reaches the limit (by a few
per cent for the generator's CPU noise of 1 point); the resolution is a band, 1 % of the load range.
Load per task assumes the tasks share the load evenly. Nothing is known past 15 % beyond what was
measured, and nothing past the held load for 5xx or a knee. Changes are dated in p99 and CPU only,
need 3 hours of data on either side and a shift of 10 % of the limit (a slow drift is not dated).
The bootstrap draws whole hours, so it sees correlation within an hour but not between days: when
days differ for reasons other than load the interval is too narrow.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from statistics import NormalDist

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
    "capacity_low",
    "capacity_high",
    "extrapolated_by",
    "held_requests_per_task",
    "change_at",
    "capacity_before_change",
    "observed_minutes_over_slo",
)
"""The columns of :func:`fit_capacity` (and of a load test's capacity row), in order."""

POINT_COLUMNS = ("requests_per_task", "requests", "p99_ms", "cpu_percent", "errors_per_1k")
"""What :func:`capacity_from_points` reads: one row per minute (with a ``timestamp`` column) or
per load-test step (without one)."""

SIGNALS = ("latency", "cpu", "errors")
"""The measured signals, in the order ties are broken."""
MIN_POINTS = 10
"""Fewer minutes than this and no capacity is given; a fitted curve needs as many points (a load
test's capacity is measured from however many steps ran)."""
MIN_POINTS_PAST_KNEE = 3
"""The 5xx hinge's knee leaves at least this many points on its rising side."""
SATURATED_CPU = 95.0
"""CPU (%) above which a task is saturated and the minute is left out of the CPU line."""
FAILING_PER_1K = 100.0
"""Minutes with more 5xx per 1,000 requests than this are left out of the (descriptive) 5xx hinge."""
MIN_REQUESTS_FOR_RATE = 100
"""Minutes with fewer requests are left out of the 5xx hinge (one error in 50 is 20 per 1,000)."""
ERROR_QUANTILE = 0.99
"""A minute's 5xx break the SLO when a Poisson count at the SLO's rate stays below them this often."""
BANDS = 100
"""Load bands of equal width the minutes are grouped into."""
BREACH_SHARE = 0.01
"""The share of minutes that may break the SLO at a load the capacity includes (99 % keep it)."""
STEP_BREACH_SHARE = 0.5
"""The same for load-test steps: most steps at a load must break the SLO for it to count as broken."""
HELD_MINUTES = 10
HELD_SHARE = 0.01
"""The held load is the load of the 10th busiest minute below the breaking band (one minute is no
evidence), or, with fewer than 1,000 minutes below it, of the busiest 1 % of them (at least one: in
a short ramp each minute is a load of its own)."""
MAX_EXTRAPOLATION = 0.15
"""How far past the held load (a fraction of it) a fitted curve may put the capacity."""
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
MIN_STRETCH_HOURS = 24
"""Fewer hours with data (or since the last change) than this are too short to decide: ``low``."""
MAX_CHANGES = 4
"""Changes looked for one after the other, each in what follows the previous one."""


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


def fit_capacity(metrics: pd.DataFrame, slo: SLO | None = None) -> pd.DataFrame:
    """One row per service: what a task serves within ``slo`` (default :class:`SLO`), measured.

    ``metrics`` is a ``load_metrics`` frame (1-minute periods). Columns (:data:`CAPACITY_COLUMNS`;
    loads in requests per minute per running task):

    ``service``; ``requests_per_task_at_slo`` (the capacity; NaN when the data cannot tell);
    ``limited_by`` (``latency``, ``cpu``, ``errors``, or None); ``observed_max_requests_per_task``
    (the busiest minute of the stretch fitted); ``cpu_per_1k_requests`` (CPU percentage points per
    1,000 requests per minute per task, the slope of the CPU line) and ``idle_cpu_percent`` (its
    intercept); ``p99_at_no_load_ms`` and ``saturation_requests_per_task`` (the queueing curve's p0
    and x_sat: p99 = p0 / (1 - x / x_sat)); ``fit_r2`` (of the limiting signal's curve);
    ``confidence`` (``high``/``medium``/``low``); ``note`` (why, in words); ``capacity_low`` and
    ``capacity_high`` (the 90 % bootstrap interval); ``extrapolated_by`` (how far past the held
    load the capacity lies, a fraction of it: 0 is measured, at most 0.15); ``held_requests_per_task``
    (the highest load at which the data show the SLO held); ``change_at`` (UTC time of the last
    change in how p99 or CPU follow load, NaT if none: the capacity is of the stretch since) and
    ``capacity_before_change``; ``observed_minutes_over_slo`` (minutes of the whole window whose
    measured p99, CPU or 5xx break the SLO). The method is in the module docstring.
    """
    return _fit(metrics, slo or SLO())[0]


def slo_bands(metrics: pd.DataFrame, slo: SLO | None = None) -> pd.DataFrame:
    """The measured signals per load band and service: what :func:`fit_capacity` reads its capacity from.

    One row per service and non-empty band of the stretch fitted (since the last change): ``service``,
    ``band_low`` and ``band_high`` (the band's edges, requests per minute per task), ``minutes``,
    ``breaking_minutes`` (any signal), ``latency_share``, ``cpu_share``, ``errors_share`` and
    ``share`` (the fractions of its minutes that break the SLO), and ``monotone_share``: ``share``
    made non-decreasing in load (an isotonic fit, pool-adjacent-violators weighted by minutes),
    the breaking share the recommendation's replay expects at that load.
    """
    return _fit(metrics, slo or SLO())[1]


def _fit(metrics: pd.DataFrame, slo: SLO) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`fit_capacity`'s table and :func:`slo_bands`' bands, in one pass."""
    points = service_points(metrics)
    services = sorted(str(name) for name in metrics["service"].dropna().unique())
    rows, bands = [], []
    for service in services:
        row, band = _capacity(points[points["service"] == service], slo, service)
        rows.append({"service": service, **row})
        bands.append(band.assign(service=service))
    table = pd.DataFrame(rows, columns=list(CAPACITY_COLUMNS))
    table["change_at"] = pd.to_datetime(table["change_at"], utc=True)
    table.attrs["slo"] = slo
    table.attrs["synthetic"] = bool(metrics.attrs.get("synthetic", False))
    band_columns = ["service", *BAND_COLUMNS]
    frames = [band[band_columns] for band in bands if len(band)]
    band_table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=band_columns)
    return table, band_table


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


def capacity_from_points(points: pd.DataFrame, slo: SLO) -> dict:
    """The capacity columns (all of :data:`CAPACITY_COLUMNS` but ``service``) from load points.

    ``points`` has :data:`POINT_COLUMNS`: ``requests_per_task`` (per minute), ``requests`` (how
    many requests the point stands for, for the 5xx count), ``p99_ms``, ``cpu_percent`` and
    ``errors_per_1k`` (NaN where not measured). With a ``timestamp`` column the points are minutes
    (:func:`fit_capacity` passes a service's): bands, changes and the bootstrap interval as in the
    module docstring. Without one they are a load test's steps: each step its own band, a step's
    load broken when most steps from it on break the SLO, no extrapolation, and the interval from
    the busiest step that held to the first that broke.
    """
    row = _capacity(points, slo, "")[0]
    return {name: row[name] for name in CAPACITY_COLUMNS[1:]}


@dataclass(frozen=True)
class _Points:
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


def _prepare(points: pd.DataFrame, slo: SLO) -> _Points:
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
    return _Points(
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


@dataclass(frozen=True)
class _Estimate:
    """The estimator's answer per resample (arrays of shape (R,))."""

    capacity: np.ndarray
    held: np.ndarray
    first_broken: np.ndarray  # the lowest load in the first breaking band (inf: none)
    crossing: np.ndarray  # bool: some band breaks the SLO
    how: np.ndarray  # 0 measured, 1 curve, 2 cut at the limit, 3 lower bound (nothing predicts)
    cpu_limit: np.ndarray
    latency_limit: np.ndarray


MEASURED, CURVE, CUT, BOUND = range(4)


def _crossing(broken: np.ndarray, minutes: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first band of the level set {monotone share > ``share``} and whether there is one.

    For an isotonic (non-decreasing, weighted) fit, that level set is the upper set of bands with
    the largest total excess ``broken - share x minutes``: found from suffix sums."""
    excess = broken - share * minutes
    suffix = np.cumsum(excess[:, ::-1], axis=1)[:, ::-1]
    first = suffix.argmax(axis=1)
    return first, suffix[np.arange(len(first)), first] > 1e-9


def _estimate(data: _Points, weights: np.ndarray, slo: SLO) -> _Estimate:
    """The capacity for each row of ``weights`` (R, N): how often each point counts (1 for the data
    as they are; a resample's multiplicities for the bootstrap)."""
    rows, count = weights.shape
    share = STEP_BREACH_SHARE if data.steps else BREACH_SHARE
    minutes = np.add.reduceat(weights, data.starts, axis=1)
    broken = np.add.reduceat(weights * data.broken[:, 0], data.starts, axis=1)
    first, crossing = _crossing(broken, minutes, share)
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
    cpu_line = _weighted_line(data.load, data.cpu, below)
    latency_line = _weighted_line(data.load, data.inverse_p99, below)
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
    return _Estimate(capacity, held, first_broken, crossing, how, cpu_limit, latency_limit)


def _weighted_line(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _capacity(points: pd.DataFrame, slo: SLO, service: str) -> tuple[dict, pd.DataFrame]:
    """A service's capacity row (without ``service``) and its bands, from its points."""
    points = points[points["requests_per_task"] > 0]
    empty = dict.fromkeys(CAPACITY_COLUMNS[1:], math.nan) | {
        "limited_by": None,
        "confidence": "low",
        "change_at": None,
        "observed_minutes_over_slo": 0,
    }
    if points.empty:
        note = "no minute with requests and a running task count: nothing to fit"
        return empty | {"note": note}, _bands_frame(None)
    observed_over = int(slo_breaches(points, slo)["any"].sum())
    empty |= {"observed_minutes_over_slo": observed_over}
    steps = "timestamp" not in points.columns
    if not steps:
        points = points.sort_values("timestamp", kind="stable")
    changes = [] if steps else _changes(points, slo)
    recent = points[points["timestamp"] >= changes[-1]] if changes else points
    if len(recent) < (1 if steps else MIN_POINTS):
        note = f"{len(recent)} minutes with requests: too few to tell (at least {MIN_POINTS})"
        row = empty | {"note": note, "observed_max_requests_per_task": _max(recent)}
        return row, _bands_frame(None)
    data = _prepare(recent, slo)
    full = _estimate(data, np.ones((1, len(data.load))), slo)
    row = _row(data, full, recent) | {"observed_minutes_over_slo": observed_over}
    notes = [row["note"]]
    if np.isfinite(row["requests_per_task_at_slo"]):
        low, high = _interval(data, full, slo, service)
        row |= {"capacity_low": low, "capacity_high": high}
        if not steps:
            notes.append(f"90 % interval {_number(low)}-{_number(high)} (bootstrap over hours)")
    row["confidence"] = _confidence(row, full)
    if changes:
        before_points = points[
            (points["timestamp"] < changes[-1])
            & (points["timestamp"] >= (changes[-2] if len(changes) > 1 else points["timestamp"].min()))
        ]
        before, before_note = _before(before_points, slo)
        row["change_at"] = pd.Timestamp(changes[-1])
        row["capacity_before_change"] = before
        hours = (recent["timestamp"].max() - changes[-1]) / pd.Timedelta(hours=1) + 1 / 60
        notes.append(
            f"how p99 or CPU follow load changed at {pd.Timestamp(changes[-1]):%Y-%m-%d %H:%M} UTC: "
            f"capacity {before_note} before, {_number(row['requests_per_task_at_slo'])} in the "
            f"{hours:,.0f} h since (fitted on those only)"
        )
        if hours < MIN_STRETCH_HOURS:
            row["confidence"] = "low"
            notes.append(
                f"{hours:,.0f} h since the change is too short to decide (at least {MIN_STRETCH_HOURS} h)"
            )
    elif not steps and data.block.max() + 1 < MIN_STRETCH_HOURS:
        row["confidence"] = "low"
        notes.append(
            f"{data.block.max() + 1} hours with data are too few to judge the interval "
            f"(at least {MIN_STRETCH_HOURS})"
        )
    if row["confidence"] != "high" and not steps and "load test" not in " ".join(notes):
        notes.append("a load test would settle it")
    row["note"] = "; ".join(notes)
    return row, _bands_frame(data)


def _max(points: pd.DataFrame) -> float:
    return float(points["requests_per_task"].max()) if len(points) else math.nan


def _number(value: float) -> str:
    return f"{value:,.0f}" if np.isfinite(value) else "?"


def _interval(data: _Points, full: _Estimate, slo: SLO, service: str) -> tuple[float, float]:
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
        estimates.append(_estimate(data, per_block[:, data.block], slo).capacity)
    capacity = np.concatenate(estimates)
    missing = float(np.isnan(capacity).mean())
    if missing == 1.0:
        return math.nan, math.nan
    low, high = np.nanpercentile(capacity, INTERVAL)
    return (math.nan if missing > MISSING_SHARE else float(low)), float(high)


def _confidence(row: dict, full: _Estimate) -> str:
    """``high``/``medium``/``low`` from the interval's width and how the capacity was reached."""
    at_slo, low, high = row["requests_per_task_at_slo"], row["capacity_low"], row["capacity_high"]
    if not (np.isfinite(at_slo) and np.isfinite(low) and np.isfinite(high)) or full.how[0] in (CUT, BOUND):
        return "low"
    for name, width in (("high", NARROW), ("medium", MEDIUM)):
        if low >= (1 - width) * at_slo and high <= (1 + width) * at_slo:
            return name
    return "low"


def _row(data: _Points, full: _Estimate, points: pd.DataFrame) -> dict:
    """The capacity row of the data as they are (no interval yet), with its note."""
    capacity, held = float(full.capacity[0]), float(full.held[0])
    how, crossing, first_broken = int(full.how[0]), bool(full.crossing[0]), float(full.first_broken[0])
    # descriptive curves: CPU over every point below 95 % CPU, p99 below the breaking band (all
    # points when fewer than MIN_POINTS are below it, e.g. a load test that broke at its last steps)
    below = data.load < (first_broken if crossing else np.inf)
    cpu_fit = _line_fit(data.load, data.cpu)
    latency_fit = _line_fit(data.load[below], data.inverse_p99[below])
    if np.isnan(latency_fit[0]):
        latency_fit = _line_fit(data.load, data.inverse_p99)
    predictions = {"latency": float(full.latency_limit[0]), "cpu": float(full.cpu_limit[0])}
    limited_by = _limited_by(data, full, predictions)
    unit = "steps" if data.steps else "minutes"
    row = {
        "requests_per_task_at_slo": capacity,
        "limited_by": limited_by,
        "observed_max_requests_per_task": float(data.load.max()),
        "cpu_per_1k_requests": cpu_fit[1] * 1000.0,
        "idle_cpu_percent": cpu_fit[0],
        "p99_at_no_load_ms": 1.0 / latency_fit[0] if latency_fit[0] > 0 else math.nan,
        "saturation_requests_per_task": (latency_fit[0] / -latency_fit[1] if latency_fit[1] < 0 else math.inf)
        if np.isfinite(latency_fit[1])
        else math.nan,
        "fit_r2": {"cpu": cpu_fit[2], "latency": latency_fit[2]}.get(limited_by, math.nan),
        "extrapolated_by": round(capacity / held - 1.0, 4) if np.isfinite(capacity) else math.nan,
        "held_requests_per_task": held,
        "change_at": None,
        "capacity_before_change": math.nan,
        "capacity_low": math.nan,
        "capacity_high": math.nan,
        "confidence": "low",
    }
    if limited_by == "errors":
        row["fit_r2"] = _error_r2(points)
    share = STEP_BREACH_SHARE if data.steps else BREACH_SHARE
    if not np.isfinite(held):
        lowest = float(data.load.min())
        row["capacity_high"] = lowest
        note = (
            f"the SLO is broken at the lowest load measured ({lowest:,.0f} requests/min per task): more "
            f"than {share:.0%} of the {unit} from there on break it, mostly {limited_by}; the capacity "
            "is below it: "
            + (
                "rerun starting lower (--start-rps)"
                if data.steps
                else "a load test at lower rates would measure it"
            )
        )
        return row | {"requests_per_task_at_slo": math.nan, "extrapolated_by": math.nan, "note": note}
    head = f"{limited_by} limit at {capacity:,.0f} requests/min per task"
    if how == MEASURED and crossing and data.steps:
        note = (
            f"{head}: measured, the SLO held at the step of {held:,.0f} and broke from the step of "
            f"{first_broken:,.0f}; a finer ramp between them would narrow it"
        )
    elif how == MEASURED and crossing:
        note = (
            f"{head}: measured, the SLO held (at most {share:.0%} of {unit} broke it) up to {held:,.0f} "
            f"and broke from {first_broken:,.0f}"
        )
    elif how == CURVE:
        note = (
            f"{head}: the SLO held up to {held:,.0f}, the {limited_by} curve reaches it "
            f"{capacity / held - 1:.0%} further (extrapolated)"
            + (f"; it broke from {first_broken:,.0f}" if crossing else "")
        )
    elif how == CUT:
        curve = min(predictions, key=predictions.__getitem__)
        note = (
            f"{head}: the SLO held up to {held:,.0f}; the {curve} curve puts the limit at "
            f"{predictions[curve]:,.0f}, but an extrapolation stops {MAX_EXTRAPOLATION:.0%} past what was "
            "measured: a load test would measure it"
        )
    elif data.steps:
        note = (
            f"{head} or more: a measured lower bound, the SLO held at every step ({limited_by} is "
            "nearest its limit); rerun with a higher --max-rps"
        )
    else:
        note = (
            f"{head} or more: a lower bound, the SLO held at every load seen and no curve predicts "
            f"where it breaks ({limited_by} is nearest its limit): a load test would measure it"
        )
    return row | {"note": note}


def _limited_by(data: _Points, full: _Estimate, predictions: dict[str, float]) -> str:
    """The signal that breaks first: the one whose own breaking minutes cross first; else the curve
    that set the capacity; else the one nearest its limit among the busiest held minutes."""
    ones = np.ones((1, len(data.load)))
    minutes = np.add.reduceat(ones, data.starts, axis=1)
    share = STEP_BREACH_SHARE if data.steps else BREACH_SHARE
    crossings = {}
    for index, name in enumerate(SIGNALS, start=1):
        broken = np.add.reduceat(ones * data.broken[:, index], data.starts, axis=1)
        first, crossing = _crossing(broken, minutes, share)
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


def _line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
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


def _error_r2(points: pd.DataFrame) -> float:
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


def _before(points: pd.DataFrame, slo: SLO) -> tuple[float, str]:
    """The capacity of the stretch before a change, and how to say it."""
    if len(points) < MIN_POINTS:
        return math.nan, "unknown (too few minutes)"
    data = _prepare(points, slo)
    estimate = _estimate(data, np.ones((1, len(data.load))), slo)
    capacity = float(estimate.capacity[0])
    if not np.isfinite(capacity):
        return math.nan, "below the lowest load seen"
    bound = int(estimate.how[0]) in (CUT, BOUND)
    return capacity, f"{'at least ' if bound else ''}{capacity:,.0f}"


def _bands_frame(data: _Points | None) -> pd.DataFrame:
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


def _changes(points: pd.DataFrame, slo: SLO) -> list[pd.Timestamp]:
    """The times (UTC) at which how p99 or CPU follow load changed, oldest first (module docstring)."""
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


def capacity_table(capacity: pd.DataFrame) -> pd.DataFrame:
    """A :func:`fit_capacity` frame for people: units in the headers, numbers rounded."""
    return pd.DataFrame(
        {
            "service": capacity["service"],
            "requests/min per task at SLO": capacity["requests_per_task_at_slo"].round(0),
            "90 % interval low": capacity["capacity_low"].round(0),
            "90 % interval high": capacity["capacity_high"].round(0),
            "extrapolated %": (capacity["extrapolated_by"] * 100).round(0),
            "limited by": capacity["limited_by"],
            "busiest requests/min per task": capacity["observed_max_requests_per_task"].round(0),
            "CPU % per 1k requests/min": capacity["cpu_per_1k_requests"].round(1),
            "p99 at no load (ms)": capacity["p99_at_no_load_ms"].round(0),
            "fit R²": capacity["fit_r2"].round(3),
            "confidence": capacity["confidence"],
            "note": capacity["note"],
        }
    )
