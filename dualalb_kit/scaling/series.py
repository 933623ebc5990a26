"""The metrics frame as the replay reads it: per series, a (minutes, services) array of values.

Input: the tidy metrics frame that ``dualalb_kit.metrics.load_metrics`` returns, one row per
datapoint, with these columns:

``timestamp``
    start of the period, tz-aware UTC.
``service``
    the task name from the spec.
``alb``
    ``"external"`` or ``"internal"`` for AWS/ApplicationELB target-group metrics, None for ECS metrics.
``metric``, ``stat``
    CloudWatch metric name and statistic, e.g. ``RequestCount``/``Sum``, ``CPUUtilization``/``Average``.
``value``
    float; NaN where CloudWatch had no datapoint (missing is never zero).

The simulator reads four of those series, at 1-minute periods:

* ``RequestCount`` (Sum) per service and ALB: the request load of each target group;
* ``CPUUtilization`` (Average, alb None): the service's average CPU;
* ``RunningTaskCount`` (Average, alb None, Container Insights) or else ``HealthyHostCount``
  (Minimum as ``load_metrics`` loads it, else Average; the larger over the service's ALBs): how
  many tasks did that CPU work.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import ValidationError
from ..validation import SIDES as ALBS

MINUTE = pd.Timedelta(minutes=1)
_MINUTE_NS = 60_000_000_000
_SERIES = (  # (metric, stat, alb) the replay reads
    ("RequestCount", "Sum", "external"),
    ("RequestCount", "Sum", "internal"),
    ("CPUUtilization", "Average", None),
    ("RunningTaskCount", "Average", None),
    ("HealthyHostCount", "Minimum", "external"),  # what load_metrics loads
    ("HealthyHostCount", "Minimum", "internal"),
    ("HealthyHostCount", "Average", "external"),
    ("HealthyHostCount", "Average", "internal"),
)
_METRIC_NAMES = sorted({key[0] for key in _SERIES})
_STAT_NAMES = sorted({key[1] for key in _SERIES})

Series = dict[tuple[str, str, str | None], np.ndarray]
"""Each series of ``_SERIES`` present in the frame, keyed (metric, stat, alb): a (T, S) array."""

ROWS_AT_ONCE = 1 << 20
"""Rows of the metrics frame :func:`extract_series` reads at a time, so that its working arrays stay
this long (a few MiB each) however long the frame is."""


def extract_series(metrics: pd.DataFrame) -> tuple[pd.DatetimeIndex, list[str], Series]:
    """The minute grid, the services, and each of ``_SERIES`` present as a (T, S) array of values.

    Works on NumPy arrays and label codes (no groupby), ``ROWS_AT_ONCE`` rows at a time: plain
    string columns are fine, categorical ones are faster still. Rows without a service are ignored.
    """
    missing = {"timestamp", "service", "alb", "metric", "stat", "value"} - set(metrics.columns)
    if missing:
        raise ValidationError("metrics", f"missing columns: {', '.join(sorted(missing))}")
    metric_code = _label_codes(metrics["metric"], _METRIC_NAMES)
    chunks = [slice(start, start + ROWS_AT_ONCE) for start in range(0, len(metrics), ROWS_AT_ONCE)]
    service_of, services = _service_codes(metrics["service"], metric_code >= 0, chunks)
    if not len(services):
        raise ValidationError("metrics", f"no {', '.join(_METRIC_NAMES)} datapoints to replay")
    stamps = pd.DatetimeIndex(metrics["timestamp"])
    if stamps.tz is None:
        raise ValidationError("metrics.timestamp", "timestamps must be tz-aware UTC")

    def replayed(rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions (in the frame) of the rows to replay among ``rows``, their service indexes and
        their timestamps in nanoseconds."""
        service = service_of(rows)
        keep = np.flatnonzero((metric_code[rows] >= 0) & (service >= 0))
        return keep + rows.start, service[keep], stamps[rows].as_unit("ns").asi8[keep]

    bounds = [(int(ns.min()), int(ns.max())) for _, _, ns in map(replayed, chunks) if len(ns)]
    start, stop = min(low for low, _ in bounds), max(high for _, high in bounds)
    minutes = (stop - start) // _MINUTE_NS + 1
    codes = (metric_code, _label_codes(metrics["stat"], _STAT_NAMES), _label_codes(metrics["alb"], ALBS))
    values = metrics["value"].to_numpy(dtype=float)
    series: Series = {}
    step = 0
    for rows in chunks:
        positions, service, nanoseconds = replayed(rows)
        if np.any((nanoseconds - start) % _MINUTE_NS):
            raise ValidationError(
                "metrics.timestamp", "the simulator replays 1-minute datapoints (period=60)"
            )
        minute_index = (nanoseconds - start) // _MINUTE_NS
        step = int(np.gcd.reduce(minute_index, initial=step))
        found = _matches(*(code[positions] for code in codes))
        for key, rows_found in found.items():
            array = series.setdefault(key, np.full((minutes, len(services)), np.nan))
            array[minute_index[rows_found], service[rows_found]] = values[positions[rows_found]]
    if step > 1:
        raise ValidationError(
            "metrics.timestamp", f"datapoints are {step} minutes apart; load them with period=60"
        )
    grid = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=minutes, freq=MINUTE)
    return grid, [str(name) for name in services], {key: series[key] for key in _SERIES if key in series}


def _matches(
    metric_code: np.ndarray, stat_code: np.ndarray, alb_code: np.ndarray
) -> dict[tuple[str, str, str | None], np.ndarray]:
    """Per series of ``_SERIES``, the positions of the rows that belong to it (only those with any)."""
    found = {}
    for metric, stat, alb in _SERIES:
        match = (metric_code == _METRIC_NAMES.index(metric)) & (stat_code == _STAT_NAMES.index(stat))
        if alb is not None:
            match &= alb_code == ALBS.index(alb)
        rows = np.flatnonzero(match)
        if len(rows):
            found[(metric, stat, alb)] = rows
    return found


def _service_codes(
    column: pd.Series, wanted: np.ndarray, chunks: list[slice]
) -> tuple[Callable[[slice], np.ndarray], np.ndarray]:
    """The distinct services of the rows where ``wanted`` is True, sorted, and a function that gives
    for a slice of rows each row's index into them (-1 for a row without one of those services).
    A categorical column is read by its codes, any other is factorized once."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, names = column.cat.codes.to_numpy(), column.cat.categories.to_numpy()
    else:
        codes, uniques = pd.factorize(column)
        names = np.asarray(uniques, dtype=object)
    seen = np.zeros(len(names) + 1, dtype=bool)  # the last entry is code -1's
    for rows in chunks:
        seen[codes[rows][wanted[rows]]] = True
    used = np.flatnonzero(seen[:-1])
    order = np.argsort(names[used], kind="stable")
    lookup = np.full(len(names) + 1, -1, dtype=np.int64)
    lookup[used[order]] = np.arange(len(used))
    return (lambda rows: lookup[codes[rows]]), names[used][order]


def _label_codes(column: pd.Series, names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Per row, the index of its label in ``names``, -1 for any other label or a missing one."""
    codes = np.full(len(column), -1, dtype=np.int8)
    if isinstance(column.dtype, pd.CategoricalDtype):
        lookup = np.array([names.index(c) if c in names else -1 for c in column.cat.categories] + [-1])
        return lookup[column.cat.codes.to_numpy()].astype(np.int8)
    labels = column.to_numpy(dtype=object)
    for index, name in enumerate(names):
        codes[labels == name] = index
    return codes


def observed_tasks(series: Series, minutes: int, n_services: int) -> np.ndarray:
    """(T, S): RunningTaskCount where present, else the larger HealthyHostCount of the service's
    ALBs (its Minimum, as ``load_metrics`` loads it, else its Average)."""
    running = series.get(("RunningTaskCount", "Average", None), np.full((minutes, n_services), np.nan))
    healthy = [
        series.get(("HealthyHostCount", "Minimum", alb), series.get(("HealthyHostCount", "Average", alb)))
        for alb in ALBS
    ]
    healthy = [counts for counts in healthy if counts is not None]
    if healthy:
        with np.errstate(all="ignore"):
            fallback = np.fmax.reduce(healthy)
        running = np.where(np.isnan(running), fallback, running)
    return running


def request_counts(series: Series, minutes: int, n_services: int) -> list[np.ndarray]:
    """Per ALB of ``ALBS``, the (T, S) RequestCount of each service's target group (NaN: none)."""
    empty = np.full((minutes, n_services), np.nan)
    return [series.get(("RequestCount", "Sum", alb), empty) for alb in ALBS]


def cpu_work(series: Series, observed: np.ndarray) -> np.ndarray:
    """(T, S): CPU percent x running tasks, NaN where not measured."""
    return series.get(("CPUUtilization", "Average", None), np.full(observed.shape, np.nan)) * observed


def policy_loads(series: Series, observed: np.ndarray) -> np.ndarray:
    """(T, K, S): CPU work (percent x tasks) and RequestCount per target group."""
    return np.stack([cpu_work(series, observed), *request_counts(series, *observed.shape)], axis=1)


def first_observed(observed: np.ndarray) -> np.ndarray:
    """Per service, the first observed task count (NaN if none), rounded to whole tasks."""
    has_value = ~np.isnan(observed)
    first = np.argmax(has_value, axis=0)
    values = observed[first, np.arange(observed.shape[1])]
    return np.where(has_value.any(axis=0), np.round(values), np.nan)
