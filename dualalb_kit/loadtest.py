"""What one task can serve, measured: a stepped, open-loop Locust load test against a URL you name.

:func:`run_loadtest` sends ``GET`` requests to exactly the URL it is given, nowhere else: the local
sample app (``dualalb-kit sample up``) or, with ``allow_remote=True``, a deployed endpoint you name
(for example a stack's ``ExternalEndpoint``); it never discovers or picks a target itself, and never
follows a redirect (a 3xx counts as an answer).

**Open loop.** Each step sends requests at a constant arrival rate: request ``k`` of a step at ``R``
requests/s is due ``k / R`` seconds after the step began, whether or not the earlier ones were
answered, and its response time is measured from when it was due (:mod:`dualalb_kit.loadgen`: one
Locust ``FastHttpUser`` whose requests each run in their own gevent greenlet, timed through Locust's
request event and counted in Locust's statistics). A server slower than the rate therefore builds a
queue that shows in p50 and p99, as it would with independent clients; a closed-loop client (Locust's
users, whatever their ``wait_time``, or a ``LoadTestShape``, which sets users rather than arrivals)
waits for each answer and so sends less exactly when the server slows down, hiding the queue
(coordinated omission). Limits: the rate is kept by one Locust process on one core (at most
:data:`MAX_RPS_LIMIT` requests/s; a busy machine sends late, and that lateness counts as latency: the
capacity's note says when it was more than a tenth of the SLO's p99); at most
:data:`MAX_IN_FLIGHT` requests are outstanding at once (a request due beyond that is not sent and
counts as unanswered); arrivals are evenly spaced, not random (Poisson arrivals would queue a little
below capacity too).

**Steps.** The rate steps up linearly from ``start_rps`` to ``max_rps``, ``duration //
step_seconds`` steps of ``step_seconds`` (default 10 steps of 20 s: long enough for a queue to show
and for p99 to rest on a few hundred requests or more). A repeat begins with a warm-up of
:data:`WARMUP_SECONDS` (at most one step) at the first step's rate that is not measured. After each
step the test waits until the step's requests are answered or time out, so a step's line reports
all of them and the next step starts on a drained client. **One breaking step decides nothing:** a
step that breaks the SLO (p99 above ``slo.p99_ms``, more 5xx than ``slo.max_5xx_per_1k`` allows by
:func:`~dualalb_kit.capacity.slo_breaches`' count test, or CPU above ``slo.max_cpu``) is measured
again at once at the same rate, and the second measurement counts (the first stays in the curve with
``counted`` False in ``steps``). When it breaks too, the ramp stops; when it holds, the ramp goes
on. A step that completes no request stops the repeat at once. **Refined:** once the ramp broke
above its first step, ``refine_steps`` rates (default :data:`REFINE_STEPS`, 4) evenly spaced between
the last step that held and the one that broke are climbed the same way, so the capacity is known
to a fifth of a step rather than a whole one (10 % of ``max_rps``), which two repeats can fall on
either side of.

**Repeats.** The ramp runs ``repeats`` times (default 3). Each repeat's capacity comes from
:func:`dualalb_kit.capacity.capacity_from_points` on its counted steps: the busiest step within the
SLO, a measured lower bound (``held_requests_per_task``), bracketed by the first step that broke it
(``capacity_high``); never extrapolated, and never NaN because the ramp stopped early (only when the
very first step already broke the SLO: then the note says to start lower). The capacity row is the
median repeat's (the lower middle one for an even count; a repeat without a capacity counts as the
lowest), its note lists every repeat's capacity and their spread, ``(max - min) / median`` in
percent (NaN with one repeat or when one found no capacity). The confidence is at most ``medium``
when the spread is above 15 % and ``low`` above 30 % (:data:`~dualalb_kit.capacity.NARROW`,
:data:`~dualalb_kit.capacity.MEDIUM`).

**Bounds.** A test lasts at most ``repeats`` x (a warm-up + twice ``duration`` + twice
``refine_steps`` x ``step_seconds``, each rate being measured at most twice) plus Locust's start
(about 2 s) plus, per step, the wait for its answers (none for a healthy server; at most
``request_timeout`` + 5 s), and sends at most ``repeats`` x (the warm-up's requests + twice the sum
of the step rates, the refining ones included, x ``step_seconds``) requests.

Locust runs in a child process (:mod:`dualalb_kit.loadgen`): its gevent monkey-patching never
reaches the caller (a notebook kernel, the CLI). CPU is measured when the URL is on loopback and a
process of this user listens on its port (the sample's order service): CPU time of that process
and its children per step, in percent of the CPU reserved for it (``cpu_units``, one core by
default), as ECS's ``CPUUtilization`` is of a task's ``cpu``. Otherwise
``cpu_percent`` is NaN and the capacity note says why (on AWS, read the service's
``CPUUtilization``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import numpy as np
import pandas as pd

from .capacity import CAPACITY_COLUMNS, MEDIUM, NARROW, SLO, capacity_from_points, slo_breaches
from .errors import ValidationError
from .extras import require
from .locust_child import cpu_process, locust_child
from .loopback import is_loopback_host

CURVE_COLUMNS = (
    "target_rps",
    "achieved_rps",
    "requests",
    "requests_per_task",
    "p50_ms",
    "p99_ms",
    "cpu_percent",
    "errors_per_1k",
    "failures",
)
"""The columns of :attr:`LoadTestResult.curve`, one row per step: ``target_rps`` (requests per
second sent, on schedule) and ``achieved_rps`` (requests due in the step per second of it: the
target unless requests were not sent), ``requests`` (due in the step, answered or not),
``requests_per_task`` (per minute per task), ``p50_ms`` and ``p99_ms`` (response time from when the
request was due), ``cpu_percent`` (of the reserved CPU, NaN when not measured), ``errors_per_1k``
(5xx answers and unanswered requests per 1,000 requests), ``failures`` (requests Locust counted as
failed: those plus any other non-2xx/3xx answer)."""
STEP_COLUMNS = ("repeat", *CURVE_COLUMNS, "late_ms", "counted")
"""The columns of :attr:`LoadTestResult.steps`, every step of every repeat: the curve's, ``repeat``,
``late_ms`` (99th percentile of how late the client sent) and ``counted`` (False for a breaking step
that was measured again)."""
REPEAT_COLUMNS = (
    "repeat",
    "requests_per_task_at_slo",
    "capacity_high",
    "limited_by",
    "confidence",
    "steps",
    "stop_reason",
)
"""The columns of :attr:`LoadTestResult.repeats`, one row per repeat."""
UNITS = {
    "target_rps": "requests/s",
    "achieved_rps": "requests/s",
    "requests": "in the step",
    "requests_per_task": "requests/min per task",
    "p50_ms": "ms",
    "p99_ms": "ms",
    "cpu_percent": "% of the reserved CPU",
    "errors_per_1k": "per 1,000 requests",
    "failures": "in the step",
    "late_ms": "ms (99th percentile)",
    "requests_per_task_at_slo": "requests/min per task",
    "observed_max_requests_per_task": "requests/min per task",
    "cpu_per_1k_requests": "CPU % per 1,000 requests/min per task",
    "idle_cpu_percent": "CPU % without load",
    "p99_at_no_load_ms": "ms",
    "saturation_requests_per_task": "requests/min per task",
    "capacity_low": "requests/min per task",
    "capacity_high": "requests/min per task",
    "extrapolated_by": "fraction of the held load",
    "held_requests_per_task": "requests/min per task",
    "capacity_before_change": "requests/min per task",
    "observed_minutes_over_slo": "steps over the SLO",
    "spread_percent": "% of the median",
}
"""The unit of each numeric column of the curve, the steps and the capacity row."""
MAX_RPS_LIMIT = 2000.0
"""The highest ``max_rps`` accepted: about what one Locust process sends from one core."""
MAX_DURATION_SECONDS = 3600.0
MAX_REPEATS = 10
BREACH_STEPS = 2
"""Steps in a row at the same rate that must break the SLO to stop a repeat (a breaking step is
measured again at once): one step's p99 is often noise."""
MAX_REFINE_STEPS = 20
REFINE_STEPS = 4
"""Rates climbed between the last step that held and the one that broke (default of
``refine_steps``): the capacity's resolution becomes a fifth of a step."""
WARMUP_SECONDS = 5.0
"""The unmeasured warm-up at the start of each repeat (at most ``step_seconds``)."""
MAX_IN_FLIGHT = 1000
"""Requests outstanding at once; one due beyond that is not sent and counts as unanswered."""
LATE_SHARE = 0.1
"""The client sending later than this share of the SLO's p99 (99th percentile) gets a note."""
CPU_UNITS_PER_CORE = 1024
"""ECS's CPU units in one core."""


@dataclass(frozen=True)
class LoadTestResult:
    """A load test: the median repeat's ``curve`` (one row per step, :data:`CURVE_COLUMNS`), the
    one-row ``capacity`` (:data:`~dualalb_kit.capacity.CAPACITY_COLUMNS`, the median repeat's), why
    that repeat stopped, where the CPU figures come from (or why there are none), every repeat's
    ``steps`` (:data:`STEP_COLUMNS`), one row per repeat in ``repeats`` (:data:`REPEAT_COLUMNS`),
    the repeats' ``spread_percent`` ((max - min) / median of their capacities, NaN with one repeat
    or when one found none) and which repeat is the median (``median_repeat``, from 1)."""

    url: str
    curve: pd.DataFrame
    capacity: pd.DataFrame
    stop_reason: str
    cpu_source: str
    steps: pd.DataFrame
    repeats: pd.DataFrame
    spread_percent: float
    median_repeat: int

    def report(self) -> str:
        """The median repeat's curve, every repeat's capacity and the capacity, as text with units."""
        curve = self.curve.round({"achieved_rps": 1, "requests_per_task": 0, "cpu_percent": 1})
        curve = curve.round({"errors_per_1k": 1}).rename(columns=lambda name: f"{name} ({UNITS[name]})")
        repeats = self.repeats.round({"requests_per_task_at_slo": 0, "capacity_high": 0})
        capacity = self.capacity.iloc[0]
        lines = [
            f"Load test of {self.url}: {self.stop_reason}; CPU {self.cpu_source}",
            "",
            f"Repeat {self.median_repeat} of {len(self.repeats)} (the median):",
            curve.to_string(index=False),
            "",
            "Repeats (capacity and capacity_high in requests/min per task):",
            repeats.to_string(index=False),
            f"Spread: {_percent(self.spread_percent)} ((max - min) / median of the repeats' capacities)",
            "",
            f"Capacity of {capacity['service']} within the SLO ({describe_slo(self.curve.attrs['slo'])}):",
        ]
        for name in CAPACITY_COLUMNS[1:]:
            value = capacity[name]
            shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
            lines.append(f"  {name}: {shown}{' ' + UNITS[name] if name in UNITS else ''}")
        return "\n".join(lines)


def step_line(row: dict, slo: SLO | None = None) -> str:
    """One curve row as a progress line; with ``slo``, the :func:`late_note` of a step whose
    ``late_ms`` says the machine was busy."""
    line = (
        f"{row['target_rps']:g} requests/s: achieved {row['achieved_rps']:.1f}, "
        f"p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms, CPU {row['cpu_percent']:.1f} %, "
        f"{row['errors_per_1k']:.1f} errors per 1,000"
    )
    return with_late_note(line, row.get("late_ms", math.nan), slo) if slo is not None else line


def with_late_note(line: str, late_ms: float, slo: SLO) -> str:
    """``line``, followed by the :func:`late_note` of ``late_ms`` when the step was sent late."""
    note = late_note(late_ms, slo)
    return f"{line}; {note}" if note else line


def late_note(late_ms: float, slo: SLO, at_rps: float | None = None) -> str:
    """What a step's lateness means (empty unless the load generator sent later than
    :data:`LATE_SHARE` of the SLO's p99): its latencies include the machine's own delay."""
    if not (math.isfinite(late_ms) and late_ms > LATE_SHARE * slo.p99_ms):
        return ""
    at = f" at {at_rps:g} requests/s" if at_rps is not None else ""
    return (
        f"the load generator sent up to {late_ms:,.0f} ms late (99th percentile){at}: "
        "this machine was busy, the latencies include it"
    )


def repeat_line(row: dict) -> str:
    """One row of :attr:`LoadTestResult.repeats` as a progress line."""
    capacity = row["requests_per_task_at_slo"]
    shown = "no capacity" if not np.isfinite(capacity) else f"{capacity:,.0f} requests/min per task"
    return f"repeat {row['repeat']}: {shown} ({row['limited_by']}); {row['stop_reason']}"


def describe_slo(slo: SLO) -> str:
    return f"p99 <= {slo.p99_ms:g} ms, CPU <= {slo.max_cpu:g} %, 5xx <= {slo.max_5xx_per_1k:g} per 1,000"


def _percent(value: float) -> str:
    return f"{value:.1f} %" if np.isfinite(value) else "n/a"


def run_loadtest(
    url: str,
    *,
    slo: SLO | None = None,
    max_rps: float = 200.0,
    start_rps: float | None = None,
    step_seconds: float = 20.0,
    duration: float = 200.0,
    service: str | None = None,
    tasks: int = 1,
    allow_remote: bool = False,
    request_timeout: float = 10.0,
    on_step: Callable[[dict], None] | None = None,
    repeats: int = 3,
    on_repeat: Callable[[dict], None] | None = None,
    stop_at_slo: bool = True,
    cpu_units: int = CPU_UNITS_PER_CORE,
    refine_steps: int = REFINE_STEPS,
) -> LoadTestResult:
    """Step an open-loop request rate on ``url`` up until the SLO breaks or the ramp ends, ``repeats``
    times; measure each step (the method is in the module docstring).

    :param url: what to ``GET``; on loopback unless ``allow_remote`` (then it is your deployed endpoint).
    :param slo: the limits that stop the test and set the capacity. Default :class:`SLO`.
    :param max_rps: requests per second of the last step (default 200, at most 2,000).
    :param start_rps: requests per second of the first step (default ``max_rps`` / number of steps).
    :param step_seconds: length of one step in seconds (default 20, at least 1).
    :param duration: the ramp in seconds (default 200): ``duration // step_seconds`` steps.
    :param service: the ``service`` of the capacity row, e.g. a spec task's name (default: ``url``).
    :param tasks: tasks serving ``url`` (1 locally; on AWS the service's running count).
    :param allow_remote: permit a URL that is not on loopback.
    :param request_timeout: seconds before one request counts as unanswered (default 10).
    :param on_step: called with each step's curve row and its ``late_ms`` as it completes (progress).
    :param repeats: how many times the ramp runs (default 3, at most 10); the capacity is the median's.
    :param on_repeat: called with each repeat's row of ``repeats`` as it completes (progress).
    :param stop_at_slo: stop a ramp once the SLO breaks (default); False runs every step once, as
        a fixed load schedule does (the live demo's: the capacity then comes from what broke).
    :param cpu_units: the CPU reserved for what serves ``url`` (1024 = one core, the default): CPU
        is reported in percent of it, as ECS's ``CPUUtilization`` is of a task's ``cpu`` (a task
        of ``cpu: 256`` at a quarter of a core busy is at 100 %).
    :param refine_steps: rates climbed, evenly spaced, between the last step that held and the one
        that broke, once a repeat's ramp breaks the SLO above its first step (default 4, so the
        capacity is known to a fifth of a step; 0 does not refine).
    """
    slo = slo or SLO()
    target = _check_url(url, allow_remote)
    rates = _ramp(max_rps, start_rps, step_seconds, duration)
    _check_counts(tasks, repeats, request_timeout, refine_steps, cpu_units)
    require("the load test", "locust")
    cpu_pid, cpu_source = _cpu(target, cpu_units)
    ramp = (rates, step_seconds, slo, tasks, on_step, stop_at_slo, refine_steps)
    judged = (service or url, cpu_pid is not None, cpu_source)
    plan, runs = _plan(target, request_timeout, cpu_pid), []
    with locust_child(plan, request_timeout, CPU_UNITS_PER_CORE / cpu_units) as measure:
        for repeat in range(1, repeats + 1):
            runs.append(_Repeat.run(repeat, measure, min(WARMUP_SECONDS, step_seconds), ramp, judged))
            if on_repeat:
                on_repeat(runs[-1].summary)
    return _result(url, slo, runs, cpu_source)


def _check_counts(
    tasks: int, repeats: int, request_timeout: float, refine_steps: int, cpu_units: int
) -> None:
    """The load test's whole-number options and its timeout, each in its range."""
    if not isinstance(tasks, int) or tasks < 1:
        raise ValidationError("tasks", f"{tasks!r} is not a positive whole number of tasks")
    if not isinstance(repeats, int) or not 1 <= repeats <= MAX_REPEATS:
        raise ValidationError(
            "repeats", f"{repeats!r} is not a whole number of repeats in [1, {MAX_REPEATS}]"
        )
    if not request_timeout > 0:
        raise ValidationError("request_timeout", f"{request_timeout} must be positive")
    if not isinstance(refine_steps, int) or not 0 <= refine_steps <= MAX_REFINE_STEPS:
        raise ValidationError(
            "refine_steps", f"{refine_steps!r} is not a whole number of steps in [0, {MAX_REFINE_STEPS}]"
        )
    if not isinstance(cpu_units, int) or cpu_units < 1:
        raise ValidationError("cpu_units", f"{cpu_units!r} is not a positive whole number of CPU units")


def _cpu(target: SplitResult, cpu_units: int) -> tuple[int | None, str]:
    """The process whose CPU the steps measure (or ``None``) and where the figures come from, in
    percent of ``cpu_units``."""
    cpu_pid, cpu_source = cpu_process(target)
    if cpu_units != CPU_UNITS_PER_CORE and cpu_pid is not None:
        cpu_source = cpu_source.replace("percent of one core", f"percent of its {cpu_units} CPU units")
    return cpu_pid, cpu_source


def _plan(target: SplitResult, request_timeout: float, cpu_pid: int | None) -> dict[str, Any]:
    """What the Locust child sends requests to, and whose CPU it measures."""
    return {
        "host": f"{target.scheme}://{target.netloc}",
        "path": (target.path or "/") + (f"?{target.query}" if target.query else ""),
        "timeout_seconds": request_timeout,
        "max_in_flight": MAX_IN_FLIGHT,
        "cpu_pid": cpu_pid,
    }


@dataclass(frozen=True)
class _Repeat:
    """One repeat's steps (with ``repeat``), its capacity row and its row of ``repeats``."""

    steps: list[dict]
    capacity: dict
    summary: dict

    @classmethod
    def run(
        cls,
        repeat: int,
        measure: Callable[[float, float], dict],
        warmup_seconds: float,
        ramp: tuple[Any, ...],
        judged: tuple[str, bool, str],
    ) -> _Repeat:
        """An unmeasured warm-up at the first rate, the ramp (:func:`_one_ramp`'s arguments after
        ``measure``) and its capacity (:func:`_capacity`'s after ``slo``)."""
        rates, slo = ramp[0], ramp[2]
        measure(rates[0], warmup_seconds)  # not measured: connections, caches, a queue left behind
        steps, stop_reason = _one_ramp(measure, *ramp)
        counted = pd.DataFrame([step for step in steps if step["counted"]], columns=list(STEP_COLUMNS[1:]))
        row = _capacity(counted, slo, *judged)
        summary = {
            "repeat": repeat,
            **{name: row[name] for name in REPEAT_COLUMNS[1:-2]},
            "steps": len(steps),
            "stop_reason": stop_reason,
        }
        return cls([{"repeat": repeat, **step} for step in steps], row, summary)


def _result(url: str, slo: SLO, runs: list[_Repeat], cpu_source: str) -> LoadTestResult:
    """The repeats as one result: the median repeat's curve and capacity, every step and repeat."""
    steps_frame = pd.DataFrame([step for run in runs for step in run.steps], columns=list(STEP_COLUMNS))
    repeats_frame = pd.DataFrame([run.summary for run in runs], columns=list(REPEAT_COLUMNS))
    median, spread = _median_and_spread(repeats_frame["requests_per_task_at_slo"].to_numpy(float))
    capacity = pd.DataFrame(
        [_with_repeats(runs[median].capacity, repeats_frame, median, spread)], columns=list(CAPACITY_COLUMNS)
    )
    curve = steps_frame.loc[steps_frame["repeat"] == median + 1, list(CURVE_COLUMNS)].reset_index(drop=True)
    for frame in (curve, capacity, steps_frame, repeats_frame):
        frame.attrs.update(url=url, slo=slo, synthetic=False)
    return LoadTestResult(
        url,
        curve,
        capacity,
        runs[median].summary["stop_reason"],
        cpu_source,
        steps_frame,
        repeats_frame,
        spread,
        median + 1,
    )


def _one_ramp(
    measure: Callable[[float, float], dict],
    rates: list[float],
    step_seconds: float,
    slo: SLO,
    tasks: int,
    on_step: Callable[[dict], None] | None,
    stop_at_slo: bool = True,
    refine_steps: int = 0,
) -> tuple[list[dict], str]:
    """One repeat's steps (curve rows with ``late_ms`` and ``counted``) and why it stopped (with
    ``stop_at_slo`` False: every step once, whatever broke). When the SLO breaks at a step above
    the first, ``refine_steps`` evenly spaced rates between the last step that held and the one
    that broke are climbed the same way."""
    steps: list[dict] = []

    def climb(rates: list[float]) -> tuple[int | None, str]:
        """Steps up ``rates`` (into ``steps``): the index of the rate at which the SLO broke
        :data:`BREACH_STEPS` times in a row (None when the ramp ended or a step completed
        nothing) and why it stopped."""
        index, again = 0, False
        while index < len(rates):
            rate = rates[index]
            step = _curve_row(measure(rate, step_seconds), tasks)
            steps.append(step)
            if on_step:
                on_step({name: step[name] for name in (*CURVE_COLUMNS, "late_ms")})
            broken = _slo_breach(step, slo)
            if not stop_at_slo:
                index += 1
                continue
            if step["requests"] == 0:
                return None, f"SLO broken at {rate:g} requests/s: {broken}"
            if broken and again:
                return index, f"SLO broken at {rate:g} requests/s in {BREACH_STEPS} steps in a row: {broken}"
            if broken:
                step["counted"] = False  # measured again at once; the second measurement counts
                again = True
                continue
            index, again = index + 1, False
        return None, f"the ramp reached {rates[-1]:g} requests/s after {len(steps)} steps"

    broke_at, reason = climb(rates)
    if not refine_steps or not broke_at:
        return steps, reason
    held, broke = rates[broke_at - 1], rates[broke_at]
    _, finer = climb([round(float(rate), 6) for rate in np.linspace(held, broke, refine_steps + 2)[1:-1]])
    return steps, f"{reason}; refined between {held:g} and {broke:g} requests/s: {finer}"


def _median_and_spread(capacities: np.ndarray) -> tuple[int, float]:
    """The median repeat's index (the lower middle one; no capacity counts as the lowest) and the
    spread (max - min) / median in percent (NaN with one repeat or a repeat without a capacity)."""
    order = np.argsort(np.where(np.isfinite(capacities), capacities, -np.inf), kind="stable")
    median = int(order[(len(order) - 1) // 2])
    if len(capacities) < 2 or not np.isfinite(capacities).all():
        return median, math.nan
    middle = float(np.median(capacities))
    spread = (capacities.max() - capacities.min()) / middle * 100.0 if middle > 0 else math.nan
    return median, float(spread)


def _with_repeats(row: dict, repeats: pd.DataFrame, median: int, spread: float) -> dict:
    """The median repeat's capacity row, its note and confidence completed with the repeats'."""
    count = len(repeats)
    if count == 1:
        return row
    shown = ", ".join(
        "none" if not np.isfinite(value) else f"{value:,.0f}" for value in repeats["requests_per_task_at_slo"]
    )
    note = f"repeat {median + 1}, the median of {count} repeats ({shown} requests/min per task; "
    if np.isfinite(spread):
        note += f"spread {spread:.0f} %)"
    else:
        missing = int((~np.isfinite(repeats["requests_per_task_at_slo"].to_numpy(float))).sum())
        note += f"{missing} found no capacity)"
    confidence = row["confidence"]
    if not np.isfinite(spread) or spread > 100 * MEDIUM:
        confidence = "low"
    elif spread > 100 * NARROW and confidence == "high":
        confidence = "medium"
    if confidence != row["confidence"]:
        note += f"; confidence {confidence}: the repeats disagree"
    return row | {"note": "; ".join(filter(None, [row["note"], note])), "confidence": confidence}


def _check_url(url: str, allow_remote: bool):
    target = urlsplit(url)
    if target.scheme not in ("http", "https") or not target.hostname:
        raise ValidationError("url", f"{url!r} is not an http:// or https:// URL with a host")
    if not allow_remote and not is_loopback_host(target.hostname):
        raise ValidationError(
            "url",
            f"{target.hostname} is not on loopback; to load-test a deployed endpoint you name, "
            "pass allow_remote=True (--allow-remote)",
        )
    return target


def _ramp(max_rps: float, start_rps: float | None, step_seconds: float, duration: float) -> list[float]:
    """The steps' target rates (requests per second), linear from ``start_rps`` to ``max_rps``."""
    if not 0 < max_rps <= MAX_RPS_LIMIT:
        raise ValidationError("max_rps", f"{max_rps} is not a rate in (0, {MAX_RPS_LIMIT:g}] requests/s")
    if not step_seconds >= 1:
        raise ValidationError("step_seconds", f"{step_seconds} is shorter than 1 s")
    if not step_seconds <= duration <= MAX_DURATION_SECONDS:
        raise ValidationError(
            "duration",
            f"{duration} is not between step_seconds ({step_seconds:g}) and {MAX_DURATION_SECONDS:g} s",
        )
    steps = int(duration // step_seconds)
    start = max_rps / steps if start_rps is None else start_rps
    if not 0 < start <= max_rps:
        raise ValidationError("start_rps", f"{start_rps} is not a rate in (0, max_rps={max_rps:g}]")
    return [round(float(rate), 6) for rate in np.linspace(start, max_rps, steps)]


def _curve_row(step: dict, tasks: int) -> dict:
    requests = step["requests"]
    achieved = requests / step["seconds"]
    return {
        "target_rps": step["target_rps"],
        "achieved_rps": achieved,
        "requests": requests,
        "requests_per_task": achieved * 60.0 / tasks,
        "p50_ms": math.nan if step["p50_ms"] is None else float(step["p50_ms"]),
        "p99_ms": math.nan if step["p99_ms"] is None else float(step["p99_ms"]),
        "cpu_percent": math.nan if step["cpu_percent"] is None else step["cpu_percent"],
        "errors_per_1k": step["errors"] / requests * 1000.0 if requests else math.nan,
        "failures": step["failures"],
        "late_ms": math.nan if step.get("late_ms") is None else float(step["late_ms"]),
        "counted": True,
    }


def _slo_breach(row: dict, slo: SLO) -> str:
    """What in a step's row breaks the SLO, in words (as :func:`~dualalb_kit.capacity.slo_breaches`
    judges it, so the ramp stops where the capacity sees the break); empty when nothing does."""
    if row["requests"] == 0:
        return "no request completed"
    broken = slo_breaches(pd.DataFrame([row]), slo).iloc[0]
    if broken["latency"]:
        return f"p99 {row['p99_ms']:,.0f} ms above {slo.p99_ms:g} ms"
    if broken["errors"]:
        return f"{row['errors_per_1k']:.1f} errors per 1,000 requests above {slo.max_5xx_per_1k:g}"
    if broken["cpu"]:
        return f"CPU {row['cpu_percent']:.0f} % above {slo.max_cpu:g} %"
    return ""


def _capacity(steps: pd.DataFrame, slo: SLO, service: str, cpu_measured: bool, cpu_source: str) -> dict:
    """One repeat's capacity row from its counted steps, its note completed with what the test could
    not see."""
    row = {"service": service, **capacity_from_points(steps[list(CURVE_COLUMNS)], slo)}
    extra = []
    late = steps["late_ms"].to_numpy(float)
    if np.isfinite(late).any():
        worst = int(np.nanargmax(late))
        extra.append(late_note(late[worst], slo, at_rps=steps["target_rps"].iloc[worst]))
    if not cpu_measured:
        extra.append(f"CPU {cpu_source}")
    row["note"] = "; ".join(filter(None, [row["note"], *extra]))
    return row
