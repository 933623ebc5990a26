"""Figures for notebooks: load and latency, capacity and its load bands, simulated tasks, cost per spot mix.

matplotlib only (the kit's one plotting library). Each function returns a
``matplotlib.figure.Figure`` built without pyplot that draws itself as a PNG wherever IPython
shows it (JupyterLab, papermill runs and their HTML exports, with or without
``%matplotlib inline``), once, as the cell's value or through ``display``; ``fig.savefig(path)``
writes it. Times are drawn in UTC. Frames whose ``attrs["synthetic"]`` is true (generated
traffic), and simulation results made from them, are labelled "synthetic data" in the title of
every figure.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .extras import missing_extra

try:
    import matplotlib.dates as mdates
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
except ModuleNotFoundError as error:
    raise missing_extra(error, "plots") from None

from .errors import ValidationError
from .scaling import SimulationResult

SYNTHETIC_LABEL = "synthetic data"
_LEGEND_LIMIT = 12  # more lines than this and a legend hides the plot


class NotebookFigure(Figure):
    """A ``Figure`` with IPython's ``_repr_png_``: without it, a figure made without pyplot shows as
    ``<Figure size ... with N Axes>`` unless ``%matplotlib inline`` ran first."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def plot_load(
    metrics: pd.DataFrame, services: Sequence[str] | None = None, *, latency_stat: str = "p99"
) -> Figure:
    """Requests, latency and 5xx per minute over time, one line per service (default: all).

    Panels: ``RequestCount`` summed over the service's ALBs; ``TargetResponseTime`` at
    ``latency_stat`` (default p99) in milliseconds, one line per service and ALB (percentiles do
    not add up across ALBs); ``HTTPCode_Target_5XX_Count`` plus ``HTTPCode_ELB_5XX_Count``.
    """
    chosen = _services(metrics["service"], services)
    rows = metrics.loc[metrics["service"].isin(chosen)]
    figure = NotebookFigure(figsize=(11, 8), layout="constrained")
    requests_axes, latency_axes, errors_axes = figure.subplots(3, 1, sharex=True)
    requests = _per_minute(rows, ["RequestCount"], "Sum", by_alb=False)
    latency = _per_minute(rows, ["TargetResponseTime"], latency_stat, by_alb=True) * 1000.0
    errors = _per_minute(rows, ["HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"], "Sum", by_alb=False)
    _lines(requests_axes, requests, "requests / minute")
    _lines(latency_axes, latency, f"{latency_stat} latency (ms)")
    _lines(errors_axes, errors, "5xx / minute")
    requests_axes.set_title("Requests (all ALBs)")
    latency_axes.set_title(f"Target response time, {latency_stat}")
    errors_axes.set_title("5xx responses (targets + load balancer)")
    _time_axis(errors_axes)
    figure.suptitle(_title("Load and latency", metrics.attrs.get("synthetic", False)))
    return figure


def plot_tasks(result: SimulationResult, services: Sequence[str] | None = None) -> Figure:
    """Simulated task count per service against its max capacity, capped minutes shaded red.

    One panel per service (default: all): the simulated count (step line), the observed count
    (dotted) where the metrics had one, ``max_capacity`` (dashed), and a red band over every
    minute where ``max_capacity`` held the service below what its policies asked for.
    """
    chosen = _services(result.tasks["service"], services)
    colors = service_colors(_services(result.tasks["service"], None))
    figure = NotebookFigure(figsize=(11, 2.2 * len(chosen) + 0.8), layout="constrained")
    axes_list = np.atleast_1d(figure.subplots(len(chosen), 1, sharex=True, squeeze=False)[:, 0])
    for axes, service in zip(axes_list, chosen, strict=True):
        rows = result.tasks.loc[result.tasks["service"] == service]
        times = _times(rows["timestamp"])
        ceiling = int(rows["max_capacity"].iloc[0])
        axes.step(
            times, rows["tasks"].to_numpy(), where="post", color=colors[service], label="simulated tasks"
        )
        if rows["observed_tasks"].notna().any():
            observed = rows["observed_tasks"].to_numpy()
            axes.step(times, observed, where="post", color="tab:gray", linestyle=":", label="observed tasks")
        axes.axhline(ceiling, color="tab:red", linestyle="--", linewidth=1, label=f"max_capacity {ceiling}")
        capped = rows["capped"].to_numpy()
        axes.fill_between(
            times, 0, ceiling * 1.05, where=capped, step="post", color="tab:red", alpha=0.2, label="capped"
        )
        axes.set_ylim(0, max(ceiling, float(np.nanmax(rows["tasks"]))) * 1.15 + 0.5)
        axes.set_ylabel("tasks")
        axes.set_title(f"{service}: {int(capped.sum())} capped minutes", loc="left")
        axes.legend(loc="upper right", fontsize="small", ncols=4)
    _time_axis(axes_list[-1])
    figure.suptitle(_title("Simulated target tracking", result.synthetic))
    return figure


def plot_cost(comparison: pd.DataFrame) -> Figure:
    """Cost per spot mix as stacked bars (on-demand, spot), total and saving written on each bar.

    ``comparison`` is what :func:`dualalb_kit.cost.compare_mixes` returns.
    """
    missing = {"mix", "on_demand_cost", "spot_cost", "cost", "saving"} - set(comparison.columns)
    if missing:
        raise ValidationError("comparison", f"missing columns: {', '.join(sorted(missing))}")
    figure = NotebookFigure(figsize=(1.8 * len(comparison) + 3, 4.5), layout="constrained")
    axes = figure.subplots()
    names = comparison["mix"].astype(str).tolist()
    on_demand = comparison["on_demand_cost"].to_numpy(dtype=float)
    spot = comparison["spot_cost"].to_numpy(dtype=float)
    axes.bar(names, on_demand, color="tab:blue", label="FARGATE (on-demand)")
    axes.bar(names, spot, bottom=on_demand, color="tab:orange", label="FARGATE_SPOT")
    for index, (total, saving) in enumerate(zip(comparison["cost"], comparison["saving"], strict=True)):
        axes.annotate(
            f"${total:,.2f}\n-{saving:.0%}" if saving > 0 else f"${total:,.2f}",
            (index, total),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
        )
    axes.set_ylim(0, float(np.nanmax(comparison["cost"])) * 1.25 or 1.0)
    hours = comparison.attrs.get("window_hours")
    axes.set_ylabel(f"cost over {hours / 24:.3g} days (USD)" if hours else "cost over the window (USD)")
    axes.legend(loc="upper right")
    where = comparison.attrs.get("region")
    taken = comparison.attrs.get("pricing_taken")
    subtitle = f" ({where}, prices of {taken})" if where and taken else ""
    figure.suptitle(f"Cost per capacity-provider mix{subtitle}")
    return figure


RESAMPLE = "10min"
"""Small multiples over a week draw 10-minute values: per-minute lines would be a solid band."""


def service_colors(services: Sequence[str]) -> dict[str, str]:
    """One colour per service, the same in every figure of a report (sorted names, tab10 order)."""
    palette = [f"C{index}" for index in range(10)]
    return {name: palette[index % 10] for index, name in enumerate(sorted(services))}


def plot_service_metrics(metrics: pd.DataFrame, services: Sequence[str] | None = None) -> Figure:
    """Small multiples: one column per service, one row per measure, 10-minute values, UTC.

    Rows: requests per minute (all ALBs), p99 target response time (ms, the higher of the service's
    ALBs), target 5xx per 1,000 requests (a rate, zero drawn as zero), CPU (%), running tasks. Rows
    share their y axis so services compare at a glance; each service keeps its colour
    (:func:`service_colors`).
    """
    from .capacity import service_points

    chosen = _services(metrics["service"], services)
    points = service_points(metrics[metrics["service"].isin(chosen)])
    colors = service_colors(_services(metrics["service"], None))
    measures = (
        ("requests", "requests / minute", "mean"),
        ("p99_ms", "p99 response time (ms)", "max"),
        ("errors_per_1k", "target 5xx per 1,000 requests", None),
        ("cpu_percent", "CPU (%)", "mean"),
        ("tasks", "running tasks", "mean"),
    )
    figure = NotebookFigure(figsize=(3.6 * len(chosen) + 1.2, 9.5), layout="constrained")
    grid = figure.subplots(len(measures), len(chosen), sharex=True, sharey="row", squeeze=False)
    for column, service in enumerate(chosen):
        rows = points[points["service"] == service].set_index("timestamp")
        bins = rows.assign(errors=rows["errors_per_1k"] * rows["requests"] / 1000).resample(RESAMPLE)
        sums = bins[["requests", "errors"]].sum()
        errors = sums["errors"] / sums["requests"].where(sums["requests"] > 0) * 1000
        for row, (name, label, how) in enumerate(measures):
            axes = grid[row, column]
            values = errors if how is None else getattr(bins[name], how)()
            axes.plot(_times(values.index), values.to_numpy(dtype=float), color=colors[service], linewidth=1)
            axes.set_ylim(bottom=0)
            if column == 0:
                axes.set_ylabel(label)
            if row == 0:
                axes.set_title(service, color=colors[service])
        _time_axis(grid[-1, column])
    figure.suptitle(_title("Per service, 10-minute values", metrics.attrs.get("synthetic", False)))
    return figure


def plot_capacity(metrics: pd.DataFrame, capacity: pd.DataFrame, slo: Any) -> Figure:
    """What one task serves: p99 and CPU against requests per minute per task, per service.

    One column per service of ``capacity`` (a :func:`dualalb_kit.capacity.fit_capacity` frame),
    its minutes as dots in the service's colour, the fitted curves (the queueing curve for p99, the
    line for CPU), the SLO's limits (dashed) and the fitted capacity (a vertical line, labelled with
    what limits it and the confidence).
    """
    from .capacity import service_points

    if capacity.empty:
        raise ValidationError("capacity", "no service to draw")
    points = service_points(metrics)
    colors = service_colors(_services(metrics["service"], None))
    rows = capacity.to_dict("records")
    figure = NotebookFigure(figsize=(3.8 * len(rows) + 1.2, 6.5), layout="constrained")
    grid = figure.subplots(2, len(rows), squeeze=False, sharey="row")
    for column, fit in enumerate(rows):
        service, color = fit["service"], colors.get(fit["service"], "C0")
        mine = points[points["service"] == service]
        at_slo = fit["requests_per_task_at_slo"]
        reach = np.nanmax([mine["requests_per_task"].max() if len(mine) else np.nan, at_slo, 1.0]) * 1.1
        x = np.linspace(0, reach, 200)
        latency_axes, cpu_axes = grid[0, column], grid[1, column]
        latency_axes.scatter(mine["requests_per_task"], mine["p99_ms"], s=2, alpha=0.25, color=color)
        with np.errstate(all="ignore"):
            curve = fit["p99_at_no_load_ms"] / (1 - x / fit["saturation_requests_per_task"])
        curve = np.where((curve > 0) & np.isfinite(curve), curve, np.nan)
        latency_axes.plot(x, curve, color="black", linewidth=1, label="fitted queueing curve")
        latency_axes.axhline(
            slo.p99_ms, color="tab:red", linestyle="--", linewidth=1, label=f"SLO {slo.p99_ms:g} ms"
        )
        latency_axes.set_ylim(0, slo.p99_ms * 2.5)
        cpu_axes.scatter(mine["requests_per_task"], mine["cpu_percent"], s=2, alpha=0.25, color=color)
        cpu_axes.plot(
            x,
            fit["idle_cpu_percent"] + fit["cpu_per_1k_requests"] * x / 1000,
            color="black",
            linewidth=1,
            label="fitted line",
        )
        cpu_axes.axhline(
            slo.max_cpu, color="tab:red", linestyle="--", linewidth=1, label=f"SLO {slo.max_cpu:g} %"
        )
        cpu_axes.set_ylim(0, 105)
        for axes in (latency_axes, cpu_axes):
            if np.isfinite(at_slo):
                axes.axvline(
                    at_slo, color=color, linewidth=1.5, label=f"capacity {at_slo:,.0f} ({fit['limited_by']})"
                )
            axes.set_xlim(0, reach)
            axes.legend(loc="upper left", fontsize="x-small")
        latency_axes.set_title(f"{service} ({fit['confidence']} confidence)", color=color)
        cpu_axes.set_xlabel("requests / minute per task")
        if column == 0:
            latency_axes.set_ylabel("p99 response time (ms)")
            cpu_axes.set_ylabel("CPU (%)")
    figure.suptitle(_title("Capacity per task", metrics.attrs.get("synthetic", False)))
    return figure


def plot_live_runs(minutes: pd.DataFrame, slo: Any) -> Figure:
    """The live demo's runs side by side, minute by minute from each run's start: running tasks,
    measured p99 and CPU against the SLO (dashed), minutes over the SLO marked with a red x.

    ``minutes`` is the demo's ``minutes.csv``: :func:`dualalb_kit.capacity.service_points` columns
    plus ``any`` (the minute broke the SLO) and ``run`` (the run's label), in run order.
    """
    if minutes.empty:
        raise ValidationError("minutes", "no measured minute to draw")
    figure = NotebookFigure(figsize=(11, 7.5), layout="constrained")
    tasks_axes, latency_axes, cpu_axes = figure.subplots(3, 1, sharex=True)
    panels = (
        (tasks_axes, "tasks", None),
        (latency_axes, "p99_ms", slo.p99_ms),
        (cpu_axes, "cpu_percent", slo.max_cpu),
    )
    for index, (label, run) in enumerate(minutes.groupby("run", sort=False)):
        color = f"C{index + 1}"  # C0 is the first service's colour in the other figures
        elapsed = np.arange(1, len(run) + 1)
        over = run["any"].astype(bool).to_numpy()
        count = int(over.sum())
        legend = f"{label}: {count} minute{'' if count == 1 else 's'} over SLO"
        for axes, column, _limit in panels:
            values = run[column].to_numpy(dtype=float)
            axes.plot(elapsed, values, marker="o", color=color, label=legend)
            axes.scatter(elapsed[over], values[over], marker="x", s=80, color="tab:red", zorder=3)
    for axes, _column, limit in panels:
        if limit is not None:
            axes.axhline(limit, color="tab:red", linestyle="--", linewidth=1, label=f"SLO {limit:g}")
        axes.set_ylim(bottom=0)
    tasks_axes.set_ylabel("running tasks")
    latency_axes.set_ylabel("p99 (ms)")
    cpu_axes.set_ylabel("CPU (% of reserved)")
    cpu_axes.set_xlabel("minute of the run")
    cpu_axes.xaxis.get_major_locator().set_params(integer=True)
    tasks_axes.yaxis.get_major_locator().set_params(integer=True)
    tasks_axes.legend(loc="upper left", fontsize="small")
    latency_axes.legend(loc="upper left", fontsize="small")
    figure.suptitle("Live sandbox: the same load before and after the recommendation (measured)")
    return figure


def plot_bands(bands: pd.DataFrame, capacity: pd.DataFrame) -> Figure:
    """What the capacity is read from: per load band, the share of minutes breaking the SLO.

    One panel per service of ``capacity`` (a :func:`dualalb_kit.capacity.fit_capacity` frame) with
    its :func:`dualalb_kit.capacity.slo_bands` rows (``bands``): a bar per band (requests per minute
    per task on x, the share of its minutes breaking the SLO in % on y, linear up to 1 % and
    logarithmic above), the monotone share the replay expects (a step line), the 1 % level
    (dashed), the capacity (a vertical line), its 90 % interval (shaded) and the held load (dotted).
    """
    from .capacity import BREACH_SHARE

    if capacity.empty:
        raise ValidationError("capacity", "no service to draw")
    colors = service_colors(capacity["service"].astype(str).tolist())
    rows = capacity.to_dict("records")
    figure = NotebookFigure(figsize=(3.8 * len(rows) + 1.2, 3.8), layout="constrained")
    grid = figure.subplots(1, len(rows), squeeze=False, sharey="row")[0]
    for axes, fit in zip(grid, rows, strict=True):
        service, color = fit["service"], colors[fit["service"]]
        mine = bands[bands["service"] == service].sort_values("band_low")
        low, high = mine["band_low"].to_numpy(float), mine["band_high"].to_numpy(float)
        axes.bar(
            low, mine["share"] * 100, width=high - low, align="edge", color=color, alpha=0.6, label="bands"
        )
        if len(mine):
            axes.step(
                np.append(low, high[-1]),
                np.append(mine["monotone_share"], mine["monotone_share"].iloc[-1]) * 100,
                where="post",
                color="black",
                linewidth=1,
                label="monotone share",
            )
        axes.axhline(
            BREACH_SHARE * 100,
            color="tab:red",
            linestyle="--",
            linewidth=1,
            label=f"{BREACH_SHARE * 100:g} % of minutes",
        )
        at_slo, interval = fit["requests_per_task_at_slo"], (fit["capacity_low"], fit["capacity_high"])
        if np.isfinite(interval).all():
            axes.axvspan(*interval, color=color, alpha=0.15, label="90 % interval")
        if np.isfinite(fit["held_requests_per_task"]):
            axes.axvline(
                fit["held_requests_per_task"], color="tab:gray", linestyle=":", linewidth=1, label="held"
            )
        if np.isfinite(at_slo):
            axes.axvline(at_slo, color=color, linewidth=1.5, label=f"capacity {at_slo:,.0f}")
        axes.set_yscale("symlog", linthresh=BREACH_SHARE * 100)
        axes.set_ylim(0, 100)
        axes.set_yticks([0, 1, 10, 100], ["0", "1", "10", "100"])
        axes.set_xlabel("requests / minute per task")
        since = f", since {fit['change_at']:%m-%d %H:%M}" if pd.notna(fit["change_at"]) else ""
        axes.set_title(f"{service} ({fit['confidence']} confidence{since})", color=color, loc="left")
        axes.legend(loc="best", fontsize="x-small")
    grid[0].set_ylabel("minutes breaking the SLO (%)")
    figure.suptitle(_title("Load bands: minutes breaking the SLO", capacity.attrs.get("synthetic", False)))
    return figure


def _services(column: pd.Series, services: Sequence[str] | None) -> list[str]:
    present = sorted(str(name) for name in pd.unique(column.dropna()))
    if services is None:
        if not present:
            raise ValidationError("services", "the frame has no services")
        return present
    unknown = [name for name in services if name not in present]
    if unknown:
        raise ValidationError("services", f"not in the frame: {', '.join(unknown)}")
    return list(services)


def _per_minute(rows: pd.DataFrame, metric_names: list[str], stat: str, *, by_alb: bool) -> pd.DataFrame:
    """A wide frame: index timestamp, one column per service (or 'service (alb)'); missing stays NaN."""
    picked = rows.loc[rows["metric"].isin(metric_names) & (rows["stat"] == stat)]
    if picked.empty:
        return pd.DataFrame()
    label = picked["service"].astype(str)
    if by_alb:
        label = label + " (" + picked["alb"].fillna("ecs").astype(str) + ")"
    sums = picked.assign(label=label).groupby(["timestamp", "label"], observed=True)["value"].sum(min_count=1)
    wide = sums.unstack("label")
    return wide.sort_index()


def _lines(axes: Axes, wide: pd.DataFrame, ylabel: str) -> None:
    axes.set_ylabel(ylabel)
    if wide.empty:
        axes.text(0.5, 0.5, "no data", transform=axes.transAxes, ha="center", va="center", color="gray")
        return
    times = _times(wide.index)
    for name in wide.columns:
        axes.plot(times, wide[name].to_numpy(dtype=float), linewidth=1, label=str(name))
    if len(wide.columns) <= _LEGEND_LIMIT:
        axes.legend(loc="upper right", fontsize="small", ncols=min(len(wide.columns), 4))


def _times(timestamps) -> np.ndarray:
    """UTC wall time as naive datetime64, which matplotlib draws without converters."""
    index = pd.DatetimeIndex(timestamps)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.to_numpy()


def _time_axis(axes: Axes) -> None:
    locator = mdates.AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.set_xlabel("time (UTC)")


def _title(text: str, synthetic: bool) -> str:
    return f"{text} ({SYNTHETIC_LABEL})" if synthetic else text
