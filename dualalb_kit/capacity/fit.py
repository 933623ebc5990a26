"""A service's capacity row from its points, with its note: :func:`fit_capacity` and what shares it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .bands import BAND_COLUMNS, BREACH_SHARE, STEP_BREACH_SHARE, Points, bands_frame, prepare
from .bootstrap import bootstrap_interval, confidence_of
from .changes import change_points
from .curves import MIN_POINTS, error_r2, line_fit
from .estimate import (
    BOUND,
    CURVE,
    CUT,
    MAX_EXTRAPOLATION,
    MEASURED,
    Estimate,
    estimate_capacity,
    limiting_signal,
)
from .slo import SLO, service_points, slo_breaches

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
MIN_STRETCH_HOURS = 24
"""Fewer hours with data (or since the last change) than this are too short to decide: ``low``."""


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
    measured p99, CPU or 5xx break the SLO). The method is in :mod:`dualalb_kit.capacity`'s docstring.
    """
    return capacity_and_bands(metrics, slo or SLO())[0]


def slo_bands(metrics: pd.DataFrame, slo: SLO | None = None) -> pd.DataFrame:
    """The measured signals per load band and service: what :func:`fit_capacity` reads its capacity from.

    One row per service and non-empty band of the stretch fitted (since the last change): ``service``,
    ``band_low`` and ``band_high`` (the band's edges, requests per minute per task), ``minutes``,
    ``breaking_minutes`` (any signal), ``latency_share``, ``cpu_share``, ``errors_share`` and
    ``share`` (the fractions of its minutes that break the SLO), and ``monotone_share``: ``share``
    made non-decreasing in load (an isotonic fit, pool-adjacent-violators weighted by minutes),
    the breaking share the recommendation's replay expects at that load.
    """
    return capacity_and_bands(metrics, slo or SLO())[1]


def capacity_and_bands(metrics: pd.DataFrame, slo: SLO) -> tuple[pd.DataFrame, pd.DataFrame]:
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


def capacity_from_points(points: pd.DataFrame, slo: SLO) -> dict:
    """The capacity columns (all of :data:`CAPACITY_COLUMNS` but ``service``) from load points.

    ``points`` has :data:`POINT_COLUMNS`: ``requests_per_task`` (per minute), ``requests`` (how
    many requests the point stands for, for the 5xx count), ``p99_ms``, ``cpu_percent`` and
    ``errors_per_1k`` (NaN where not measured). With a ``timestamp`` column the points are minutes
    (:func:`fit_capacity` passes a service's): bands, changes and the bootstrap interval as in
    :mod:`dualalb_kit.capacity`'s docstring. Without one they are a load test's steps: each step
    its own band, a step's load broken when most steps from it on break the SLO, no extrapolation,
    and the interval from the busiest step that held to the first that broke.
    """
    row = _capacity(points, slo, "")[0]
    return {name: row[name] for name in CAPACITY_COLUMNS[1:]}


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
        return empty | {"note": note}, bands_frame(None)
    observed_over = int(slo_breaches(points, slo)["any"].sum())
    empty |= {"observed_minutes_over_slo": observed_over}
    steps = "timestamp" not in points.columns
    if not steps:
        points = points.sort_values("timestamp", kind="stable")
    changes = [] if steps else change_points(points, slo)
    recent = points[points["timestamp"] >= changes[-1]] if changes else points
    if len(recent) < (1 if steps else MIN_POINTS):
        note = f"{len(recent)} minutes with requests: too few to tell (at least {MIN_POINTS})"
        row = empty | {"note": note, "observed_max_requests_per_task": _max(recent)}
        return row, bands_frame(None)
    data = prepare(recent, slo)
    full = estimate_capacity(data, np.ones((1, len(data.load))), slo)
    row = _row(data, full, recent) | {"observed_minutes_over_slo": observed_over}
    notes = [row["note"]]
    if np.isfinite(row["requests_per_task_at_slo"]):
        low, high = bootstrap_interval(data, full, slo, service)
        row |= {"capacity_low": low, "capacity_high": high}
        if not steps:
            notes.append(f"90 % interval {_number(low)}-{_number(high)} (bootstrap over hours)")
    row["confidence"] = confidence_of(row, full)
    if changes:
        fields, change_notes = _since_change(row, points, recent, changes, slo)
        row |= fields
        notes += change_notes
    elif not steps and data.block.max() + 1 < MIN_STRETCH_HOURS:
        row["confidence"] = "low"
        notes.append(
            f"{data.block.max() + 1} hours with data are too few to judge the interval "
            f"(at least {MIN_STRETCH_HOURS})"
        )
    if row["confidence"] != "high" and not steps and "load test" not in " ".join(notes):
        notes.append("a load test would settle it")
    row["note"] = "; ".join(notes)
    return row, bands_frame(data)


def _since_change(
    row: dict, points: pd.DataFrame, recent: pd.DataFrame, changes: list[pd.Timestamp], slo: SLO
) -> tuple[dict, list[str]]:
    """The change columns of a service's ``row`` fitted on the ``recent`` stretch since the last of
    ``changes`` (and ``low`` confidence when that stretch is too short), with their notes."""
    before_points = points[
        (points["timestamp"] < changes[-1])
        & (points["timestamp"] >= (changes[-2] if len(changes) > 1 else points["timestamp"].min()))
    ]
    before, before_note = _before(before_points, slo)
    fields = {"change_at": pd.Timestamp(changes[-1]), "capacity_before_change": before}
    hours = (recent["timestamp"].max() - changes[-1]) / pd.Timedelta(hours=1) + 1 / 60
    notes = [
        f"how p99 or CPU follow load changed at {pd.Timestamp(changes[-1]):%Y-%m-%d %H:%M} UTC: "
        f"capacity {before_note} before, {_number(row['requests_per_task_at_slo'])} in the "
        f"{hours:,.0f} h since (fitted on those only)"
    ]
    if hours < MIN_STRETCH_HOURS:
        fields["confidence"] = "low"
        notes.append(
            f"{hours:,.0f} h since the change is too short to decide (at least {MIN_STRETCH_HOURS} h)"
        )
    return fields, notes


def _max(points: pd.DataFrame) -> float:
    return float(points["requests_per_task"].max()) if len(points) else math.nan


def _number(value: float) -> str:
    return f"{value:,.0f}" if np.isfinite(value) else "?"


def _row(data: Points, full: Estimate, points: pd.DataFrame) -> dict:
    """The capacity row of the data as they are (no interval yet), with its note; ``points``: the
    stretch's points, for the 5xx hinge."""
    capacity, held = float(full.capacity[0]), float(full.held[0])
    crossing, first_broken = bool(full.crossing[0]), float(full.first_broken[0])
    # descriptive curves: CPU over every point below 95 % CPU, p99 below the breaking band (all
    # points when fewer than MIN_POINTS are below it, e.g. a load test that broke at its last steps)
    below = data.load < (first_broken if crossing else np.inf)
    cpu_fit = line_fit(data.load, data.cpu)
    latency_fit = line_fit(data.load[below], data.inverse_p99[below])
    if np.isnan(latency_fit[0]):
        latency_fit = line_fit(data.load, data.inverse_p99)
    predictions = {"latency": float(full.latency_limit[0]), "cpu": float(full.cpu_limit[0])}
    limited_by = limiting_signal(data, full, predictions)
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
        row["fit_r2"] = error_r2(points)
    if not np.isfinite(held):
        lowest = float(data.load.min())
        broken = {"requests_per_task_at_slo": math.nan, "extrapolated_by": math.nan, "capacity_high": lowest}
        return row | broken | {"note": _broken_note(data, lowest, limited_by)}
    return row | {"note": _note(data, full, limited_by, predictions)}


def _broken_note(data: Points, lowest: float, limited_by: str) -> str:
    """The note of a service whose SLO is already broken at the ``lowest`` load measured."""
    share = STEP_BREACH_SHARE if data.steps else BREACH_SHARE
    unit = "steps" if data.steps else "minutes"
    return (
        f"the SLO is broken at the lowest load measured ({lowest:,.0f} requests/min per task): more "
        f"than {share:.0%} of the {unit} from there on break it, mostly {limited_by}; the capacity "
        "is below it: "
        + (
            "rerun starting lower (--start-rps)"
            if data.steps
            else "a load test at lower rates would measure it"
        )
    )


def _note(data: Points, full: Estimate, limited_by: str, predictions: dict[str, float]) -> str:
    """How the capacity was reached, in words (``predictions``: where each curve puts the limit)."""
    capacity, held = float(full.capacity[0]), float(full.held[0])
    how, crossing, first_broken = int(full.how[0]), bool(full.crossing[0]), float(full.first_broken[0])
    share = STEP_BREACH_SHARE if data.steps else BREACH_SHARE
    unit = "steps" if data.steps else "minutes"
    head = f"{limited_by} limit at {capacity:,.0f} requests/min per task"
    if how == MEASURED and crossing and data.steps:
        return (
            f"{head}: measured, the SLO held at the step of {held:,.0f} and broke from the step of "
            f"{first_broken:,.0f}; a finer ramp between them would narrow it"
        )
    if how == MEASURED and crossing:
        return (
            f"{head}: measured, the SLO held (at most {share:.0%} of {unit} broke it) up to {held:,.0f} "
            f"and broke from {first_broken:,.0f}"
        )
    if how == CURVE:
        return (
            f"{head}: the SLO held up to {held:,.0f}, the {limited_by} curve reaches it "
            f"{capacity / held - 1:.0%} further (extrapolated)"
            + (f"; it broke from {first_broken:,.0f}" if crossing else "")
        )
    if how == CUT:
        curve = min(predictions, key=predictions.__getitem__)
        return (
            f"{head}: the SLO held up to {held:,.0f}; the {curve} curve puts the limit at "
            f"{predictions[curve]:,.0f}, but an extrapolation stops {MAX_EXTRAPOLATION:.0%} past what was "
            "measured: a load test would measure it"
        )
    if data.steps:
        return (
            f"{head} or more: a measured lower bound, the SLO held at every step ({limited_by} is "
            "nearest its limit); rerun with a higher --max-rps"
        )
    return (
        f"{head} or more: a lower bound, the SLO held at every load seen and no curve predicts "
        f"where it breaks ({limited_by} is nearest its limit): a load test would measure it"
    )


def _before(points: pd.DataFrame, slo: SLO) -> tuple[float, str]:
    """The capacity of the stretch before a change, and how to say it."""
    if len(points) < MIN_POINTS:
        return math.nan, "unknown (too few minutes)"
    data = prepare(points, slo)
    estimate = estimate_capacity(data, np.ones((1, len(data.load))), slo)
    capacity = float(estimate.capacity[0])
    if not np.isfinite(capacity):
        return math.nan, "below the lowest load seen"
    bound = int(estimate.how[0]) in (CUT, BOUND)
    return capacity, f"{'at least ' if bound else ''}{capacity:,.0f}"


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
