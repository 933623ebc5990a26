"""CloudWatch metric data for the sandbox: what moto's CloudWatch lacks; install() puts it on moto.

moto keeps every datapoint as a Python object and rescans all of them for every period of every
query, has no percentile statistics (``p50``, ``p99.9``), ignores ``MaxDatapoints``/``NextToken``
and enforces none of the API's limits. A week of one-minute ALB metrics is then out of reach.

This module replaces the metric-data half of moto's ``CloudWatchBackend`` (``put_metric_data``,
``get_metric_data``, ``get_metric_statistics``) with a columnar store per backend, and the
``GetMetricData`` response with one that pages. Alarms, dashboards, tags and insight rules stay
moto's; ``metric_data`` keeps one representative datum per series so moto's ``ListMetrics`` works.

Behaviour, as in AWS:

- ``PutMetricData``: at most 1000 items a call and 150 ``Values`` an item.
- ``GetMetricData``: at most 500 queries a call; a page holds at most ``MaxDatapoints`` datapoints
  (default and ceiling 100,800) across all queries, in query order; ``NextToken`` resumes it.
  Periods without data are absent, never zero. Statistics: ``Sum``, ``Average``, ``Minimum``,
  ``Maximum``, ``SampleCount`` and percentiles ``pNN[.N]`` (nearest rank over the published
  ``Values``/``Counts``; statistic sets carry no distribution and are left out of percentiles).
  A math ``Expression`` may name another query's ``Id`` (as moto supports); others return no data.

:func:`inject_throttling` makes ``GetMetricData`` answer ``Throttling`` on a pattern, for retry tests.
"""

from __future__ import annotations

import base64
import json
import math
import operator
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from moto.cloudwatch.exceptions import InvalidParameterValue, ValidationError
from moto.cloudwatch.models import (
    CloudWatchBackend,
    MetricAggregatedDatum,
    MetricDatum,
    Statistics,
)
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.exceptions import ServiceException
from moto.core.request import Request, determine_request_protocol
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import get_service_model

MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
MAX_ITEMS_PER_PUT = 1000
MAX_VALUES_PER_ITEM = 150

BASIC_STATISTICS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]


def epoch_seconds(moment: datetime | float) -> float:
    """Seconds since the epoch; a naive datetime is read as UTC, a number is already seconds."""
    if isinstance(moment, int | float):
        return float(moment)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def series_key(namespace: str, name: str, dimensions: list[dict[str, str]]) -> SeriesKey:
    """A metric's identity: namespace, name and its (unordered) dimension set."""
    return namespace, name, tuple(sorted((d["Name"], d["Value"]) for d in dimensions))


@dataclass
class Series:
    """One metric's datapoints in columns; appends land in lists, reads see compacted arrays.

    Each datum has a timestamp, sample count, sum, minimum and maximum. Data published as
    ``Value`` or ``Values``/``Counts`` also keeps its distribution (``dist_*``, one row per
    distinct value, ``dist_owner`` pointing at the datum) for percentiles.
    """

    unit: list[str | None] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    count: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    dist_owner: list[int] = field(default_factory=list)
    dist_value: list[float] = field(default_factory=list)
    dist_count: list[float] = field(default_factory=list)
    _arrays: dict[str, np.ndarray] | None = None

    def append(self, item: dict[str, Any]) -> None:
        stamp = item.get("Timestamp")
        self.time.append(epoch_seconds(stamp) if stamp is not None else datetime.now(UTC).timestamp())
        self.unit.append(item.get("Unit"))
        owner = len(self.time) - 1
        if item.get("StatisticValues"):
            stats = item["StatisticValues"]
            self.count.append(float(stats["SampleCount"]))
            self.total.append(float(stats["Sum"]))
            self.low.append(float(stats["Minimum"]))
            self.high.append(float(stats["Maximum"]))
        else:
            values = [float(v) for v in item.get("Values") or [item.get("Value", 0.0)]]
            counts = [float(c) for c in item.get("Counts") or [1.0] * len(values)]
            self.count.append(sum(counts))
            self.total.append(sum(map(operator.mul, values, counts)))
            self.low.append(min(values))
            self.high.append(max(values))
            self.dist_owner.extend([owner] * len(values))
            self.dist_value.extend(values)
            self.dist_count.extend(counts)
        self._arrays = None

    def arrays(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            self._arrays = {
                name: np.asarray(getattr(self, name), dtype=float)
                for name in ("time", "count", "total", "low", "high", "dist_value", "dist_count")
            }
            self._arrays["dist_owner"] = np.asarray(self.dist_owner, dtype=np.int64)
            self._arrays["unit"] = np.asarray(self.unit, dtype=object)
        return self._arrays


@dataclass
class MetricStore:
    """All metric data of one moto CloudWatch backend (account and region), keyed by series."""

    series: dict[SeriesKey, Series] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, namespace: str, items: list[dict[str, Any]]) -> list[SeriesKey]:
        """Store ``items`` (PutMetricData members); returns the keys of series seen for the first time."""
        created = []
        name = dimensions = series = None
        with self.lock:
            for item in items:
                # Publishers send a series' minutes together: look the key up once per run.
                if item["MetricName"] != name or item.get("Dimensions") != dimensions:
                    name, dimensions = item["MetricName"], item.get("Dimensions")
                    key = series_key(namespace, name, dimensions or [])
                    series = self.series.get(key)
                    if series is None:
                        series = self.series[key] = Series()
                        created.append(key)
                series.append(item)
        return created

    def aggregate(
        self, key: SeriesKey, stat: str, unit: str | None, start: float, end: float, period: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``stat`` per ``period`` seconds over ``[start, end)``: (period start times, values), ascending.

        Periods without data are left out.
        """
        with self.lock:
            found = self.series.get(key)
            columns = found.arrays() if found else None
        if columns is None:
            return np.empty(0), np.empty(0)
        keep = (columns["time"] >= start) & (columns["time"] < end)
        if unit:
            keep &= columns["unit"] == unit
        bins = ((columns["time"][keep] - start) // period).astype(np.int64)
        size = int(math.ceil((end - start) / period))
        counts = np.bincount(bins, weights=columns["count"][keep], minlength=size)
        present = np.bincount(bins, minlength=size) > 0
        if stat in ("Sum", "Average"):
            sums = np.bincount(bins, weights=columns["total"][keep], minlength=size)
            values = sums if stat == "Sum" else np.divide(sums, counts, where=counts > 0, out=np.zeros(size))
        elif stat == "SampleCount":
            values = counts
        elif stat in ("Minimum", "Maximum"):
            fill, reduce, column = (
                (np.inf, np.minimum, "low") if stat == "Minimum" else (-np.inf, np.maximum, "high")
            )
            values = np.full(size, fill)
            reduce.at(values, bins, columns[column][keep])
        else:
            values, present = percentile_per_bin(columns, keep, bins, size, float(stat[1:]))
        index = np.flatnonzero(present)
        return start + index * period, values[index]


def percentile_per_bin(
    columns: dict[str, np.ndarray], keep: np.ndarray, bins: np.ndarray, size: int, percent: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-rank percentile of the distribution rows per bin: (values, bins that have one)."""
    owner_bin = np.full(len(keep), -1, dtype=np.int64)
    owner_bin[np.flatnonzero(keep)] = bins
    row_bin = owner_bin[columns["dist_owner"]] if len(columns["dist_owner"]) else np.empty(0, np.int64)
    rows = (row_bin >= 0) & (columns["dist_count"] > 0)
    row_bin, value, count = row_bin[rows], columns["dist_value"][rows], columns["dist_count"][rows]
    order = np.lexsort((value, row_bin))
    row_bin, value, cumulative = row_bin[order], value[order], np.cumsum(count[order])
    per_bin = np.bincount(row_bin, weights=count[order], minlength=size)
    present = per_bin > 0
    before = np.concatenate(([0.0], np.cumsum(per_bin)[:-1]))
    rank = np.maximum(1.0, np.ceil(percent / 100.0 * per_bin - 1e-9))
    position = np.searchsorted(cumulative, before + rank - 1e-9, side="left")
    values = np.full(size, np.nan)
    values[present] = value[np.minimum(position[present], len(value) - 1)]
    return values, present


def metric_store(backend: CloudWatchBackend) -> MetricStore:
    """The store of ``backend`` (created on first use; moto's reset makes new backends, so new stores)."""
    store = backend.__dict__.get("_dualalb_metric_store")
    if store is None:
        store = backend.__dict__.setdefault("_dualalb_metric_store", MetricStore())
    return store


def check_statistic(stat: str) -> None:
    if stat not in BASIC_STATISTICS and not PERCENTILE.match(stat):
        raise InvalidParameterValue(f"The sandbox does not support the statistic {stat}.")


# --- backend methods ---------------------------------------------------------------------------


def put_metric_data(self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]) -> None:
    if len(metric_data) > MAX_ITEMS_PER_PUT:
        raise InvalidParameterValue(
            f"The collection MetricData must not have a size greater than {MAX_ITEMS_PER_PUT}."
        )
    for number, item in enumerate(metric_data, start=1):
        self._validate_parameters_put_metric_data(item, number)
        if len(item.get("Values") or []) > MAX_VALUES_PER_ITEM:
            raise InvalidParameterValue(
                f"The collection MetricData.member.{number}.Values must not have a size "
                f"greater than {MAX_VALUES_PER_ITEM}."
            )
    for namespace_, name, dimensions in metric_store(self).put(namespace, metric_data):
        self.metric_data.append(
            MetricDatum(namespace_, name, 0.0, [{"Name": n, "Value": v} for n, v in dimensions], None)
        )


def evaluate_queries(
    self: CloudWatchBackend, queries: list[dict[str, Any]], start: datetime, end: datetime, scan_by: str
) -> list[dict[str, Any]]:
    """Every returned query's full result (moto's lowercase result dicts), in query order."""
    if len(queries) > MAX_QUERIES_PER_CALL:
        raise ValidationError(
            f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES_PER_CALL}."
        )
    begin, finish = epoch_seconds(start.replace(microsecond=0)), epoch_seconds(end.replace(microsecond=0))
    if begin >= finish:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    store = metric_store(self)
    by_id: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    results = []
    for query in queries:
        if "MetricStat" in query:
            stat_spec = query["MetricStat"]
            metric = stat_spec["Metric"]
            check_statistic(stat_spec["Stat"])
            key = series_key(metric["Namespace"], metric["MetricName"], metric.get("Dimensions") or [])
            times, values = store.aggregate(
                key, stat_spec["Stat"], stat_spec.get("Unit"), begin, finish, int(stat_spec["Period"])
            )
            label = query.get("Label") or f"{metric['MetricName']} {stat_spec['Stat']}"
        else:
            times, values = by_id.get(query["Expression"], (np.empty(0), np.empty(0)))
            label = query.get("Label") or query["Id"]
        by_id[query["Id"]] = (times, values)
        if scan_by == "TimestampDescending":
            times, values = times[::-1], values[::-1]
        if query.get("ReturnData", True):
            results.append({"id": query["Id"], "label": label, "times": times, "values": values})
    return results


def get_metric_data_page(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampDescending",
    max_datapoints: int | None = None,
    next_token: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of GetMetricData: the results (moto's result dicts) and the next token, if any."""
    limit = min(int(max_datapoints or MAX_DATAPOINTS_PER_CALL), MAX_DATAPOINTS_PER_CALL)
    offset = decode_token(next_token) if next_token else 0
    page_end = offset + limit
    page, position = [], 0
    for result in evaluate_queries(self, queries, start_time, end_time, scan_by):
        first, last = position, position + len(result["values"])
        cut = slice(max(first, offset) - first, max(min(last, page_end) - first, 0))
        page.append(
            {
                "id": result["id"],
                "label": result["label"],
                "values": [float(v) for v in result["values"][cut]],
                "timestamps": [datetime.fromtimestamp(t, UTC) for t in result["times"][cut]],
                "status_code": "PartialData" if last > page_end else "Complete",
            }
        )
        position = last
    return page, (encode_token(page_end) if position > page_end else None)


def get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """All pages at once (moto's signature, for in-process callers)."""
    results, token = get_metric_data_page(self, queries, start_time, end_time, scan_by)
    while token:
        more, token = get_metric_data_page(self, queries, start_time, end_time, scan_by, next_token=token)
        for result, extra in zip(results, more, strict=True):
            result["values"] += extra["values"]
            result["timestamps"] += extra["timestamps"]
            result["status_code"] = extra["status_code"]
    return results


def get_metric_statistics(
    self: CloudWatchBackend,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
) -> list[Statistics]:
    """moto's Statistics per period, built from the store (basic statistics)."""
    begin, finish = (
        epoch_seconds(start_time.replace(microsecond=0)),
        epoch_seconds(end_time.replace(microsecond=0)),
    )
    if begin >= finish:
        raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
    store = metric_store(self)
    key = series_key(namespace, metric_name, dimensions)
    columns = {s: store.aggregate(key, s, unit, begin, finish, period) for s in ("Sum", "SampleCount")}
    columns["Minimum"] = store.aggregate(key, "Minimum", unit, begin, finish, period)
    columns["Maximum"] = store.aggregate(key, "Maximum", unit, begin, finish, period)
    periods = []
    for i, moment in enumerate(columns["Sum"][0]):
        statistics = Statistics(stats, datetime.fromtimestamp(moment, UTC), unit)
        statistics.metric_data = [
            MetricAggregatedDatum(
                namespace,
                metric_name,
                min_stat=columns["Minimum"][1][i],
                max_stat=columns["Maximum"][1][i],
                sample_count=columns["SampleCount"][1][i],
                sum_stat=columns["Sum"][1][i],
                dimensions=dimensions,
                timestamp=None,
            )
        ]
        periods.append(statistics)
    return periods


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"dualalb-sandbox:{offset}".encode()).decode()


def decode_token(token: str) -> int:
    try:
        prefix, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if prefix == "dualalb-sandbox":
            return int(offset)
    except ValueError:
        pass
    raise InvalidParameterValue("Request parameter NextToken is invalid")


# --- response (wire format) --------------------------------------------------------------------


class Throttling(ServiceException):
    """What AWS answers a throttled call. CloudWatch's model declares no such error shape (AWS
    throttles at its front door), so moto warns on serializing it; botocore still reads the code."""

    code = "Throttling"
    message = "Rate exceeded"


@dataclass
class ThrottlePlan:
    """Which GetMetricData requests answer ``Throttling``: every ``every``-th one while active."""

    every: int = 0
    seen: int = 0
    throttled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self) -> None:
        with self.lock:
            if not self.every:
                return
            self.seen += 1
            if self.seen % self.every:
                return
            self.throttled += 1
        raise Throttling()


THROTTLE = ThrottlePlan()


@contextmanager
def inject_throttling(every: int = 2) -> Iterator[ThrottlePlan]:
    """While active, every ``every``-th GetMetricData request to this process's sandbox is throttled.

    Yields the plan; its ``throttled`` counts the requests refused. Only in-process sandboxes see it.
    """
    with THROTTLE.lock:
        THROTTLE.every, THROTTLE.seen, THROTTLE.throttled = every, 0, 0
    try:
        yield THROTTLE
    finally:
        with THROTTLE.lock:
            THROTTLE.every = 0


def parse_parameters(self: CloudWatchResponse, request: Request) -> None:
    """A PutMetricData body in AWS's JSON protocol is read with ``json.loads`` alone.

    Its members are already the API's shapes (timestamps in epoch seconds, which the store keeps);
    moto's model-driven parser, which every other request still goes through, spent about three
    quarters of the sandbox's time on a week of one-minute metrics walking them.
    """
    service_model = get_service_model(self.boto3_service_name)
    if (
        self._get_action() == "PutMetricData"
        and determine_request_protocol(service_model, request.content_type) == "json"
    ):
        self.params = json.loads(request.data)
    else:
        BaseResponse.parse_parameters(self, request)


def get_metric_data_response(self: CloudWatchResponse) -> ActionResult:
    THROTTLE.admit()
    params = self._get_params()
    queries = params.get("MetricDataQueries", [])
    for number, query in enumerate(queries, start=1):
        if "MetricStat" not in query and "Expression" not in query:
            raise ValidationError(
                f"The parameter MetricDataQueries.member.{number}.MetricStat is required.\n"
            )
    results, token = self.cloudwatch_backend.get_metric_data_page(
        queries,
        params["StartTime"],
        params["EndTime"],
        scan_by=params.get("ScanBy") or "TimestampDescending",
        max_datapoints=params.get("MaxDatapoints"),
        next_token=params.get("NextToken"),
    )
    return ActionResult({"MetricDataResults": results, "NextToken": token})


def install() -> None:
    """Put this module's methods on moto's CloudWatch backend and response classes (idempotent)."""
    CloudWatchBackend.put_metric_data = put_metric_data
    CloudWatchBackend.get_metric_data = get_metric_data
    CloudWatchBackend.get_metric_data_page = get_metric_data_page
    CloudWatchBackend.get_metric_statistics = get_metric_statistics
    CloudWatchResponse.get_metric_data = get_metric_data_response
    CloudWatchResponse.parse_parameters = parse_parameters
