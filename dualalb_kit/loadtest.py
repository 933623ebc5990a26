"""What one task can serve, measured: a stepped Locust load test against a URL you name.

:func:`run_loadtest` sends ``GET`` requests to exactly the URL it is given, nowhere else: the local
sample app (``dualalb-kit sample up``) or, with ``allow_remote=True``, a deployed endpoint you name
(for example a stack's ``ExternalEndpoint``); it never discovers or picks a target itself, and never
follows a redirect (a 3xx counts as an answer). The rate steps up linearly from ``start_rps`` to
``max_rps``, one step every ``step_seconds``, for at most ``duration`` seconds, and stops once two
steps in a row break the SLO (p99 above ``slo.p99_ms``, 5xx per 1,000 above ``slo.max_5xx_per_1k``,
or CPU above ``slo.max_cpu``; one short step's p99 is often noise), or at once when a step completes
no request. So a test lasts at most ``duration`` plus Locust's start (about 2 s) and its spawning of
users (one per request/s, 100 a second), and sends at most the sum of its step rates times
``step_seconds`` requests: each simulated user paces itself and never catches up after a slow
answer.

Locust runs in a child process (:mod:`dualalb_kit.loadgen`): its gevent monkey-patching never
reaches the caller (a notebook kernel, the CLI). CPU is measured when the URL is on loopback and a
process of this user listens on its port (the sample's order service): CPU time of that process
and its children per step, in percent of one core (a 1-vCPU task's ``CPUUtilization``). Otherwise
``cpu_percent`` is NaN and the capacity note says why (on AWS, read the service's
``CPUUtilization``). The capacity comes from :func:`dualalb_kit.capacity.capacity_from_points`,
the model that :func:`~dualalb_kit.capacity.fit_capacity` fits to metrics, with one point per step.
"""

from __future__ import annotations

import ipaddress
import json
import math
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import psutil

from .capacity import CAPACITY_COLUMNS, MIN_POINTS, SLO, capacity_from_points
from .errors import ValidationError
from .extras import require
from .loopback import is_loopback_host

LOADGEN_SCRIPT = Path(__file__).with_name("loadgen.py")
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
"""The columns of :attr:`LoadTestResult.curve`, one row per step (units in :func:`run_loadtest`)."""
UNITS = {
    "target_rps": "requests/s",
    "achieved_rps": "requests/s",
    "requests": "in the step",
    "requests_per_task": "requests/min per task",
    "p50_ms": "ms",
    "p99_ms": "ms",
    "cpu_percent": "% of one core",
    "errors_per_1k": "per 1,000 requests",
    "failures": "in the step",
    "requests_per_task_at_slo": "requests/min per task",
    "observed_max_requests_per_task": "requests/min per task",
    "cpu_per_1k_requests": "CPU % per 1,000 requests/min per task",
    "idle_cpu_percent": "CPU % without load",
    "p99_at_no_load_ms": "ms",
    "saturation_requests_per_task": "requests/min per task",
}
"""The unit of each numeric column of the curve and the capacity row."""
MAX_RPS_LIMIT = 2000.0
"""The highest ``max_rps`` accepted: about what one Locust process sends from one core."""
MAX_DURATION_SECONDS = 3600.0
BREACH_STEPS = 2
"""Steps in a row that must break the SLO to stop the test: one short step's p99 is often noise."""
GRACE_SECONDS = 30.0
"""Beyond ``step_seconds``, how long the Locust process may take for a step (starting, spawning
users) before it counts as stuck and the test fails."""


@dataclass(frozen=True)
class LoadTestResult:
    """A load test's ``curve`` (one row per step, :data:`CURVE_COLUMNS`), its one-row
    ``capacity`` (:data:`~dualalb_kit.capacity.CAPACITY_COLUMNS`), why it stopped, and where its CPU
    figures come from (or why there are none)."""

    url: str
    curve: pd.DataFrame
    capacity: pd.DataFrame
    stop_reason: str
    cpu_source: str

    def report(self) -> str:
        """The curve and the capacity as text with units, for a terminal."""
        curve = self.curve.round({"achieved_rps": 1, "requests_per_task": 0, "cpu_percent": 1})
        curve = curve.round({"errors_per_1k": 1}).rename(columns=lambda name: f"{name} ({UNITS[name]})")
        capacity = self.capacity.iloc[0]
        lines = [
            f"Load test of {self.url}: {self.stop_reason}; CPU {self.cpu_source}",
            "",
            curve.to_string(index=False),
            "",
            f"Capacity of {capacity['service']} within the SLO ({_describe(self.curve.attrs['slo'])}):",
        ]
        for name in CAPACITY_COLUMNS[1:]:
            value = capacity[name]
            shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
            lines.append(f"  {name}: {shown}{' ' + UNITS[name] if name in UNITS else ''}")
        return "\n".join(lines)


def step_line(row: dict) -> str:
    """One curve row as a progress line."""
    return (
        f"{row['target_rps']:g} requests/s: achieved {row['achieved_rps']:.1f}, "
        f"p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms, CPU {row['cpu_percent']:.1f} %, "
        f"{row['errors_per_1k']:.1f} errors per 1,000"
    )


def _describe(slo: SLO) -> str:
    return f"p99 <= {slo.p99_ms:g} ms, CPU <= {slo.max_cpu:g} %, 5xx <= {slo.max_5xx_per_1k:g} per 1,000"


def run_loadtest(
    url: str,
    *,
    slo: SLO | None = None,
    max_rps: float = 200.0,
    start_rps: float | None = None,
    step_seconds: float = 5.0,
    duration: float = 60.0,
    service: str | None = None,
    tasks: int = 1,
    allow_remote: bool = False,
    request_timeout: float = 10.0,
    on_step: Callable[[dict], None] | None = None,
) -> LoadTestResult:
    """Step the request rate on ``url`` up until the SLO breaks or the ramp ends; measure each step.

    :param url: what to ``GET``; on loopback unless ``allow_remote`` (then it is your deployed endpoint).
    :param slo: the limits that stop the test and set the capacity. Default :class:`SLO`.
    :param max_rps: requests per second of the last step (default 200, at most 2,000).
    :param start_rps: requests per second of the first step (default ``max_rps`` / number of steps).
    :param step_seconds: length of one step in seconds (default 5, at least 1).
    :param duration: the whole ramp in seconds (default 60): ``duration // step_seconds`` steps.
    :param service: the ``service`` of the capacity row, e.g. a spec task's name (default: ``url``).
    :param tasks: tasks serving ``url`` (1 locally; on AWS the service's running count).
    :param allow_remote: permit a URL that is not on loopback.
    :param request_timeout: seconds before one request counts as unanswered (default 10).
    :param on_step: called with each step's curve row as it completes (progress).

    ``curve`` columns: ``target_rps`` and ``achieved_rps`` (requests per second), ``requests`` (in
    the step), ``requests_per_task`` (per minute per task), ``p50_ms`` and ``p99_ms`` (response
    time), ``cpu_percent`` (of one core, NaN when not measured), ``errors_per_1k`` (5xx answers and
    unanswered requests per 1,000 requests), ``failures`` (requests Locust counted as failed: those
    plus any other non-2xx/3xx answer). A capacity fit needs at least 10 steps.
    """
    slo = slo or SLO()
    target = _check_url(url, allow_remote)
    rates = _ramp(max_rps, start_rps, step_seconds, duration)
    if not isinstance(tasks, int) or tasks < 1:
        raise ValidationError("tasks", f"{tasks!r} is not a positive whole number of tasks")
    if not request_timeout > 0:
        raise ValidationError("request_timeout", f"{request_timeout} must be positive")
    require("the load test", "locust")
    cpu_pid, cpu_source = _cpu_process(target)
    plan = {
        "host": f"{target.scheme}://{target.netloc}",
        "path": target.path or "/",
        "rates": rates,
        "step_seconds": step_seconds,
        "timeout_seconds": request_timeout,
        "cpu_pid": cpu_pid,
    }
    if target.query:
        plan["path"] += f"?{target.query}"
    rows: list[dict] = []
    breaches = 0
    stop_reason = f"the ramp reached {rates[-1]:g} requests/s after {len(rates)} steps"
    with closing(_run_steps(plan, step_seconds)) as steps:
        for step in steps:
            row = _curve_row(step, tasks)
            rows.append(row)
            if on_step:
                on_step(row)
            broken = _slo_breach(row, slo)
            breaches = breaches + 1 if broken else 0
            if breaches == BREACH_STEPS or row["requests"] == 0:
                stop_reason = f"SLO broken at {row['target_rps']:g} requests/s: {broken}"
                break
    curve = pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
    capacity = _capacity(curve, slo, service or url, cpu_pid is not None, cpu_source)
    for frame in (curve, capacity):
        frame.attrs.update(url=url, slo=slo, synthetic=False)
    return LoadTestResult(url, curve, capacity, stop_reason, cpu_source)


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


def _cpu_process(target) -> tuple[int | None, str]:
    """The pid listening on a loopback URL's port (and where CPU comes from), or None and why not."""
    if not is_loopback_host(target.hostname):
        return None, "not measured: the URL is not on loopback (on AWS, read the service's CPUUtilization)"
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        for connection in psutil.net_connections(kind="tcp"):
            address = connection.laddr
            listening = connection.status == psutil.CONN_LISTEN and address.port == port
            if listening and connection.pid and _reaches_loopback(address.ip):
                name = " ".join(psutil.Process(connection.pid).cmdline()[-2:])
                return connection.pid, f"pid {connection.pid} ({name}), percent of one core"
    except psutil.AccessDenied:
        return None, "not measured: this system does not show which process listens on a port"
    return None, f"not measured: no process of this user listens on port {port}"


def _reaches_loopback(listen_ip: str) -> bool:
    """Whether a socket listening on ``listen_ip`` gets loopback traffic (loopback or any address)."""
    address = ipaddress.ip_address(listen_ip.split("%")[0])
    return address.is_loopback or address.is_unspecified


def _run_steps(plan: dict, step_seconds: float) -> Iterator[dict]:
    """Run the Locust child on ``plan``; yield each step's JSON line as a dict; stop it on exit."""
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [sys.executable, str(LOADGEN_SCRIPT), json.dumps(plan)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            bufsize=0,  # unbuffered: select() sees every line that is not read yet
        )
        try:
            deadline = monotonic() + GRACE_SECONDS + step_seconds
            for _ in plan["rates"]:
                readable, _, _ = select.select([child.stdout], [], [], max(0.0, deadline - monotonic()))
                line = child.stdout.readline() if readable else ""
                if not line:
                    log.seek(0)
                    tail = log.read().decode(errors="replace").strip().splitlines()[-5:]
                    raise RuntimeError("the Locust process stopped answering: " + " | ".join(tail))
                deadline = monotonic() + step_seconds + GRACE_SECONDS
                yield json.loads(line)
        finally:
            child.terminate()
            child.wait()
            child.stdout.close()


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
    }


def _slo_breach(row: dict, slo: SLO) -> str:
    """What in a step's row breaks the SLO, in words; empty when nothing does."""
    if row["requests"] == 0:
        return "no request completed"
    if row["p99_ms"] > slo.p99_ms:
        return f"p99 {row['p99_ms']:,.0f} ms above {slo.p99_ms:g} ms"
    if row["errors_per_1k"] > slo.max_5xx_per_1k:
        return f"{row['errors_per_1k']:.1f} errors per 1,000 requests above {slo.max_5xx_per_1k:g}"
    if row["cpu_percent"] > slo.max_cpu:
        return f"CPU {row['cpu_percent']:.0f} % above {slo.max_cpu:g} %"
    return ""


def _capacity(
    curve: pd.DataFrame, slo: SLO, service: str, cpu_measured: bool, cpu_source: str
) -> pd.DataFrame:
    """The one-row capacity frame of a curve, its note completed with what the test could not see."""
    row = {"service": service, **capacity_from_points(curve, slo)}
    extra = []
    if len(curve) < MIN_POINTS:
        extra.append(f"{len(curve)} steps ran, a fit needs at least {MIN_POINTS}")
    if not cpu_measured:
        extra.append(f"CPU {cpu_source}")
    row["note"] = "; ".join(filter(None, [row["note"], *extra]))
    return pd.DataFrame([row], columns=list(CAPACITY_COLUMNS))
