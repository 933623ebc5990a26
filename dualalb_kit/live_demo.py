"""``dualalb-kit live-demo``: the right-sizing loop on measured data, in the live sandbox.

The sample (``params/sample.yaml``) runs as local processes behind HAProxy, each task limited to
its task definition's CPU where the machine allows it (a quarter of a core for ``cpu: 256``). The
order service does :data:`WORK_MS` of CPU work per request and starts at one task, as a
deployment sized for quiet hours would. Then, in real time:

1. a stepped open-loop load (Locust) through the external ALB's local URL, about five minutes,
   with the service's tasks, p99 and CPU printed as the scaling happens;
2. the ALB and ECS metrics the sandbox measured over those minutes: capacity per task
   (:func:`~dualalb_kit.capacity.fit_capacity`); when so few minutes cannot settle it (the fit
   wants at least ten), what the recommendation would advise: a load test of one task, on its
   own port, its CPU in percent of its reserved CPU. Then the recommended policy
   (:func:`~dualalb_kit.scaling.recommend_policies`), applied to the spec and deployed;
3. the same load again, and both runs side by side: minutes whose measured p99, CPU or 5xx broke
   the SLO, tasks, and cost per month at each run's average task count.

Everything is bounded (the steps, their rate, :data:`MAX_RPS_LIMIT`) and aimed at loopback only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .capacity import SLO, capacity_table, fit_capacity, service_points, slo_bands, slo_breaches
from .errors import LiveDemoError, ValidationError
from .outputs import private_mode, write_private
from .spec import SAMPLE_PARAMS, DeploymentSpec, load_spec

STACK_NAME = "dualalb-live-demo"
SERVICE = "order"
"""The service the demo loads and right-sizes (the sample's internet-facing one)."""
WORK_MS = 10
"""CPU milliseconds the order service computes per request (the sample's ``WORK_MS``)."""
STEP_SECONDS = 60.0
LOAD_TEST_STEP_SECONDS = 12.0
LOAD_TEST_STEPS = 10
"""The one-task load test's ramp: ten 12-second steps up to the demo's ``max_rps``, refined between
the step that held and the one that broke (``run_loadtest``'s ``refine_steps``)."""
MAX_RPS_LIMIT = 100.0
"""The highest request rate the demo sends (requests/s): it runs on the same machine as the load."""
SETTLE_SECONDS = 240.0
"""How long to wait for a deploy's tasks to run and the last minute's metrics to be published."""


@dataclass(frozen=True)
class LiveRun:
    """One run of the load: its spec, the load test's steps (``curve``) and, per minute, the
    service's measured ``points`` (:func:`~dualalb_kit.capacity.service_points` columns plus the
    SLO breaches ``latency``, ``cpu``, ``errors``, ``any``) and the whole ``metrics`` frame."""

    label: str
    spec: DeploymentSpec
    curve: pd.DataFrame
    points: pd.DataFrame
    metrics: pd.DataFrame

    def summary(self, slo: SLO) -> dict[str, Any]:
        """The run in one row: minutes, minutes within the SLO (measured), tasks, and the cost per
        month of 730 hours at the run's task counts (each minute's average, rounded to whole tasks)."""
        from .cost import cost_of
        from .scaling import task_sizes

        points = self.points
        size = task_sizes(self.spec)[SERVICE]
        tasks = points["tasks"].to_numpy(float)
        counts = np.rint(tasks).astype(int)  # a minute's average running count, to whole tasks to bill
        window = cost_of(counts, size.cpu, size.memory, size.strategy, self.spec.region)["cost"].sum()
        minutes = len(points)
        return {
            "run": self.label,
            "policy": _policy(self.spec),
            "minutes": minutes,
            "minutes_over_slo": int(points["any"].sum()),
            "within_slo_percent": 100.0 * (1 - points["any"].mean()) if minutes else math.nan,
            "p99_within_slo_percent": 100.0 * (1 - points["latency"].mean()) if minutes else math.nan,
            "worst_p99_ms": float(points["p99_ms"].max()),
            "peak_cpu_percent": float(points["cpu_percent"].max()),
            "peak_tasks": int(tasks.max()) if minutes else 0,
            "average_tasks": float(tasks.mean()) if minutes else math.nan,
            "cost_per_month_usd": float(window) * 730.0 / (minutes / 60.0) if minutes else math.nan,
        }


def demo_params(params: str | Path = SAMPLE_PARAMS, work_ms: float = WORK_MS) -> dict[str, Any]:
    """The demo's params: ``params`` as stack :data:`STACK_NAME`, its order service at one task
    (desired and minimum) doing ``work_ms`` of CPU per request; the rest as in the file."""
    data = yaml.safe_load(Path(params).read_text())
    tasks = {task["name"]: task for task in data.get("tasks", [])}
    if SERVICE not in tasks:
        raise ValidationError(
            "params", f"{params} has no task named {SERVICE!r} (the demo loads the sample's)"
        )
    order = tasks[SERVICE]
    order["desired_count"] = 1
    order.setdefault("scaling", {})["min_capacity"] = 1
    order.setdefault("environment", {})["WORK_MS"] = f"{work_ms:g}"
    return {**data, "stack_name": STACK_NAME}


def run_live_demo(
    out_dir: str | Path = "out/live-demo",
    params: str | Path = SAMPLE_PARAMS,
    *,
    slo: SLO | None = None,
    start_rps: float = 4.0,
    max_rps: float = 20.0,
    steps: int = 5,
    work_ms: float = WORK_MS,
    say: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Run the demo (module docstring) into ``out_dir``; returns the two runs' summaries.

    ``slo``: default :class:`~dualalb_kit.capacity.SLO` (p99 500 ms, CPU 70 %, 5xx 1 per 1,000).
    The load steps linearly from ``start_rps`` to ``max_rps`` requests/s (default 4 to 20) in
    ``steps`` one-minute steps (default 5). Writes ``live-demo.yaml`` (the demo's params),
    ``recommended.yaml``, ``minutes.csv`` (both runs' minutes), ``summary.csv`` (the returned
    frame) and ``report.md`` (the params files and the report with the params file's mode, else
    0600: they hold the spec's values).
    Needs the [sandbox], [analysis], [loadtest] extras and HAProxy.
    """
    from .extras import require

    require("the live demo", "moto", "locust")
    slo = slo or SLO()
    if not 0 < start_rps <= max_rps <= MAX_RPS_LIMIT:
        raise ValidationError(
            "max_rps", f"need 0 < start_rps ({start_rps}) <= max_rps ({max_rps}) <= {MAX_RPS_LIMIT:g}"
        )
    if not 1 <= steps <= 15:
        raise ValidationError("steps", f"{steps} is not a number of one-minute steps in [1, 15]")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mode = private_mode(Path(params))
    first = out / "live-demo.yaml"
    write_private(first, yaml.safe_dump(demo_params(params, work_ms), sort_keys=False), mode)
    spec = load_spec(first)

    from .deploy import destroy
    from .sandbox import Sandbox

    with Sandbox(live=True, live_stacks={STACK_NAME}) as sandbox:
        plane = sandbox.live
        say(f"sandbox at {sandbox.endpoint_url}; task limits: {plane.limits}")
        try:
            before = run_load("today's policy", spec, sandbox, slo, (start_rps, max_rps, steps), say)
            capacity = fit_capacity(before.metrics, slo)
            say(
                "capacity per task from the measured minutes:\n"
                + capacity_table(capacity).to_string(index=False)
            )
            tested = _load_test_if_unsettled(capacity, sandbox, slo, max_rps, say)
            recommended, changes, recommendations = _recommend(before, slo, tested)
            say("recommended:\n" + changes)
            recommended_yaml = yaml.safe_dump(recommended.to_params(), sort_keys=False)
            write_private(out / "recommended.yaml", recommended_yaml, mode)
            after = run_load("recommended", recommended, sandbox, slo, (start_rps, max_rps, steps), say)
        finally:
            say(f"destroying {STACK_NAME} ...")
            destroy(spec, sandbox.target, progress=False)
    summary = pd.DataFrame([before.summary(slo), after.summary(slo)])
    minutes = pd.concat([before.points.assign(run=before.label), after.points.assign(run=after.label)])
    minutes.to_csv(out / "minutes.csv", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    findings = _findings(before, capacity, recommendations, slo)
    report = _report(before, after, summary, capacity, tested, changes, slo, str(plane.limits), findings)
    write_private(out / "report.md", report, mode)
    say(_summary_text(summary))
    say(f"report: {out / 'report.md'}")
    return summary


def run_load(
    label: str,
    spec: DeploymentSpec,
    sandbox,
    slo: SLO,
    ramp: tuple[float, float, int],
    say: Callable[[str], None] = print,
) -> LiveRun:
    """Deploy ``spec`` into the live ``sandbox``, wait for its tasks, drive ``ramp`` (start and last
    requests/s, one-minute steps) through the external ALB's local URL and read the minutes the
    sandbox measured for the order service."""
    from .deploy import deploy
    from .loadtest import run_loadtest, with_late_note

    start_rps, max_rps, steps = ramp
    say(f"{label}: deploying {_policy(spec)} ...")
    deploy(spec, sandbox.target, progress=False)
    if not sandbox.live.wait_settled(SETTLE_SECONDS):
        raise LiveDemoError(f"the tasks of {STACK_NAME} did not settle within {SETTLE_SECONDS:g} s")
    url = _external_url(sandbox.target)

    def on_step(row: dict) -> None:
        desired, running = _order_tasks(sandbox)
        line = (
            f"  {row['target_rps']:g} requests/s: p99 {row['p99_ms']:.0f} ms, "
            f"{row['errors_per_1k']:.1f} errors per 1,000; {SERVICE}: {running} running, {desired} desired"
        )
        say(with_late_note(line, row["late_ms"], slo))

    started = pd.Timestamp.now(tz="UTC").floor("min")
    say(f"{label}: {steps} one-minute steps from {start_rps:g} to {max_rps:g} requests/s on {url}")
    result = run_loadtest(
        url,
        slo=slo,
        start_rps=start_rps,
        max_rps=max_rps,
        step_seconds=STEP_SECONDS,
        duration=STEP_SECONDS * steps,
        service=SERVICE,
        repeats=1,
        on_step=on_step,
        stop_at_slo=False,
    )
    ended = pd.Timestamp.now(tz="UTC").floor("min")  # the minute in progress is not complete
    metrics = _published(spec.stack_name, started, ended, sandbox.target)
    points = service_points(metrics)
    points = points[points["service"] == SERVICE].reset_index(drop=True)
    points = pd.concat([points, slo_breaches(points, slo)], axis=1)
    return LiveRun(label, spec, result.curve, points, metrics)


def _published(stack: str, start: pd.Timestamp, end: pd.Timestamp, target) -> pd.DataFrame:
    """The stack's metrics from ``start`` to ``end``, once the sandbox has published every minute."""
    from .metrics import load_metrics

    minutes = int((end - start) / pd.Timedelta(minutes=1))
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        frame = load_metrics(stack, start, end, target=target)
        counts = frame[(frame["metric"] == "RequestCount") & (frame["service"] == SERVICE)]
        published = counts.dropna(subset=["value"])["timestamp"].nunique()
        if published >= minutes or time.monotonic() > deadline:
            return frame
        time.sleep(5)


def _load_test_if_unsettled(
    capacity: pd.DataFrame, sandbox, slo: SLO, max_rps: float, say: Callable[[str], None]
) -> pd.DataFrame | None:
    """What the recommendation advises when the measured minutes leave the capacity uncertain: a
    load test of one task (a running order task's own port, its CPU in percent of its reserved
    CPU units; the test refines its ramp between the step that held and the one that broke). Its
    capacity row, or None when the fit is already ``high``."""
    from .loadtest import run_loadtest, step_line

    (fit,) = capacity[capacity["service"] == SERVICE].to_dict("records")
    if fit["confidence"] == "high":
        return None
    task = next(
        t for t in sandbox.live.tasks() if f"{SERVICE}Service" in t.service.name and t.status == "RUNNING"
    )
    (port,) = task.ports.values()
    url = f"http://127.0.0.1:{port}/"
    say(
        f"{SERVICE}'s capacity is not settled by these minutes ({fit['note']}); as the recommendation "
        f"advises, a load test of one {SERVICE} task ({url}, {task.service.cpu_units} CPU units):"
    )
    result = run_loadtest(
        url,
        slo=slo,
        max_rps=max_rps,
        step_seconds=LOAD_TEST_STEP_SECONDS,
        duration=LOAD_TEST_STEP_SECONDS * LOAD_TEST_STEPS,
        service=SERVICE,
        repeats=1,
        cpu_units=task.service.cpu_units,
        on_step=lambda row: say("  " + step_line(row, slo)),
    )
    say(f"load test: {result.stop_reason}")
    return result.capacity


def _recommend(
    before: LiveRun, slo: SLO, tested: pd.DataFrame | None
) -> tuple[DeploymentSpec, str, pd.DataFrame]:
    """The spec with the recommendation for the measured minutes (with the load test's capacity
    when there is one), the changes as text, and the recommendation's row."""
    from .scaling import apply_recommendations, recommend_policies, recommendation_table

    recommendations = recommend_policies(before.metrics, before.spec, slo, capacity=tested)
    recommendations = recommendations[recommendations["service"] == SERVICE]
    table = recommendation_table(recommendations).T.to_string(header=False)
    why = "\n".join(f"why: {reason}" for reason in recommendations["why"])
    return apply_recommendations(before.spec, recommendations), f"{table}\n{why}", recommendations


def _findings(before: LiveRun, capacity: pd.DataFrame, recommendations: pd.DataFrame, slo: SLO) -> str:
    """What the first run's minutes say about the order service, in words and load bands (Markdown)."""
    from .findings import capacity_findings, findings_markdown

    bands = slo_bands(before.metrics, slo)
    mine = capacity[capacity["service"] == SERVICE]
    return findings_markdown(
        capacity_findings(mine, bands, recommendations), bands[bands["service"] == SERVICE]
    )


def _external_url(target) -> str:
    """The external ALB's first listener, served locally."""
    from .sandbox.live.urls import stack_urls

    elbv2 = target.client("elbv2")
    external = {
        balancer["LoadBalancerName"]
        for page in elbv2.get_paginator("describe_load_balancers").paginate()
        for balancer in page["LoadBalancers"]
        if balancer["Scheme"] == "internet-facing"
    }
    urls = [url for url in stack_urls(target, STACK_NAME) if url.load_balancer in external]
    if not urls:
        raise LiveDemoError(f"the live sandbox serves no external listener of {STACK_NAME}")
    return urls[0].url


def _order_tasks(sandbox) -> tuple[int, int]:
    """(desired, running) tasks of the order service, as the data plane sees them."""
    tasks = [t for t in sandbox.live.tasks() if f"{SERVICE}Service" in t.service.name]
    running = sum(t.status == "RUNNING" for t in tasks)
    desired = tasks[-1].service.desired_count if tasks else 0
    return desired, running


def _policy(spec: DeploymentSpec) -> str:
    """The order service's scaling in words."""
    (task,) = [task for task in spec.tasks if task.name == SERVICE]
    scaling = task.scaling
    return (
        f"{SERVICE}: {task.desired_count} task(s), min {scaling.min_capacity}, max {scaling.max_capacity}, "
        f"{scaling.request_per_target} requests/min per target, CPU {scaling.target_cpu_utilization} %"
    )


def _summary_text(summary: pd.DataFrame) -> str:
    shown = summary.set_index("run").T
    return shown.to_string(float_format=lambda value: f"{value:,.1f}")


def _block(text: str) -> str:
    return f"```\n{text}\n```"


def _report(before, after, summary, capacity, tested, changes, slo, plane_limits, findings) -> str:
    """The demo's report in Markdown (``findings``: :func:`_findings`)."""
    from .loadtest import describe_slo

    columns = ["timestamp", "tasks", "requests_per_task", "p99_ms", "cpu_percent", "errors_per_1k", "any"]

    def minutes(run: LiveRun) -> str:
        table = run.points[columns].rename(columns={"any": "over SLO"})
        table["timestamp"] = table["timestamp"].dt.strftime("%H:%M")
        return _block(table.round(1).to_string(index=False))

    return (
        "\n\n".join(
            [
                "# Live demo: the sample right-sized on measured data",
                f"SLO: {describe_slo(slo)}. Task limits: {plane_limits}.",
                "## Side by side\n\n" + _block(_summary_text(summary)),
                f"## {before.label}: {_policy(before.spec)}\n\n" + minutes(before),
                "## Capacity per task from those minutes\n\n"
                + _block(capacity_table(capacity).to_string(index=False)),
                "## What the analysis found\n\n" + findings,
                "## The load test of one task\n\n"
                + (
                    "Not needed: the measured minutes settled the capacity."
                    if tested is None
                    else _block(capacity_table(tested).to_string(index=False))
                ),
                "## The recommendation\n\n" + _block(changes),
                f"## {after.label}: {_policy(after.spec)}\n\n" + minutes(after),
            ]
        )
        + "\n"
    )
