"""The figures hold the data they claim to show, labelled, and render to PNG."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from dualalb_kit import ValidationError
from dualalb_kit.cost import compare_mixes
from dualalb_kit.plots import plot_bands, plot_cost, plot_load, plot_tasks
from dualalb_kit.scaling import simulate_target_tracking

START = pd.Timestamp("2026-01-05 00:00", tz="UTC")
MINUTES = pd.date_range(START, periods=3, freq="1min")


def metrics_frame(synthetic: bool) -> pd.DataFrame:
    rows = [
        ("web", "external", "RequestCount", "Sum", [10, 20, 30]),
        ("web", "internal", "RequestCount", "Sum", [1, 2, 3]),
        ("api", "internal", "RequestCount", "Sum", [5, 5, 5]),
        ("web", "external", "TargetResponseTime", "p99", [0.1, 0.2, 0.3]),
        ("web", "external", "TargetResponseTime", "p50", [0.01, 0.02, 0.03]),
        ("api", "internal", "TargetResponseTime", "p99", [0.05, np.nan, 0.05]),
        ("web", "external", "HTTPCode_Target_5XX_Count", "Sum", [1, 0, 2]),
        ("web", "external", "HTTPCode_ELB_5XX_Count", "Sum", [0, 1, 0]),
        ("web", None, "CPUUtilization", "Average", [40, 50, 60]),
    ]
    frame = pd.concat(
        [
            pd.DataFrame({"timestamp": MINUTES, "service": s, "alb": a, "metric": m, "stat": st, "value": v})
            for s, a, m, st, v in rows
        ],
        ignore_index=True,
    )
    frame["value"] = frame["value"].astype(float)
    if synthetic:
        frame.attrs["synthetic"] = True
    return frame


def lines_by_label(axes) -> dict[str, list[float]]:
    return {line.get_label(): list(line.get_ydata()) for line in axes.lines}


def png_bytes(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def test_load_figure_shows_requests_latency_and_errors_per_service():
    figure = plot_load(metrics_frame(synthetic=True))
    requests, latency, errors = figure.axes
    assert figure.get_suptitle() == "Load and latency (synthetic data)"
    # requests are summed over the service's ALBs
    assert lines_by_label(requests) == {"api": [5, 5, 5], "web": [11, 22, 33]}
    assert requests.get_ylabel() == "requests / minute"
    # p99 latency in ms, one line per service and ALB; a missing datapoint stays a gap
    drawn = lines_by_label(latency)
    assert drawn["web (external)"] == pytest.approx([100, 200, 300])
    assert np.isnan(drawn["api (internal)"][1])
    assert latency.get_ylabel() == "p99 latency (ms)"
    # target and load-balancer 5xx added together
    assert lines_by_label(errors) == {"web": [1, 1, 2]}
    assert errors.get_xlabel() == "time (UTC)"
    assert png_bytes(figure).startswith(b"\x89PNG")


def test_load_figure_for_chosen_services_other_percentile_and_real_data():
    figure = plot_load(metrics_frame(synthetic=False), services=["web"], latency_stat="p50")
    requests, latency, errors = figure.axes
    assert figure.get_suptitle() == "Load and latency"
    assert list(lines_by_label(requests)) == ["web"]
    assert lines_by_label(latency)["web (external)"] == pytest.approx([10, 20, 30])
    with pytest.raises(ValidationError, match="^services: not in the frame: shop"):
        plot_load(metrics_frame(synthetic=False), services=["shop"])


def test_load_figure_says_no_data_for_a_missing_metric():
    frame = metrics_frame(synthetic=False)
    figure = plot_load(frame.loc[~frame["metric"].str.startswith("HTTPCode")])
    errors = figure.axes[2]
    assert len(errors.lines) == 0
    assert [text.get_text() for text in errors.texts] == ["no data"]


def step_load_result(synthetic: bool):
    requests = [1900.0] * 10 + [4500.0] * 30
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range(START, periods=40, freq="1min"),
            "service": "web",
            "alb": "external",
            "metric": "RequestCount",
            "stat": "Sum",
            "value": requests,
        }
    )
    frame.attrs["synthetic"] = synthetic
    scaling = SimpleNamespace(max_capacity=4, request_per_target=1000, target_cpu_utilization=None)
    return simulate_target_tracking(frame, scaling, desired_count=2)


def test_tasks_figure_shows_simulated_count_max_capacity_and_capped_minutes():
    result = step_load_result(synthetic=True)
    figure = plot_tasks(result)
    (axes,) = figure.axes
    assert figure.get_suptitle() == "Simulated target tracking (synthetic data)"
    drawn = lines_by_label(axes)
    assert drawn["simulated tasks"] == [2] * 13 + [4] * 27
    assert drawn["max_capacity 4"] == [4, 4]
    assert "observed tasks" not in drawn  # the frame had no task counts
    assert axes.get_title(loc="left") == "web: 27 capped minutes"
    (band,) = [c for c in axes.collections if isinstance(c, PolyCollection)]
    assert band.get_label() == "capped"
    # the shaded band covers exactly the capped minutes: 13 (inclusive) to 40 (exclusive)
    x_extent = band.get_paths()[0].vertices[:, 0]
    first, last = pd.Timestamp(np.min(x_extent), unit="D"), pd.Timestamp(np.max(x_extent), unit="D")
    assert first.round("s") == pd.Timestamp("2026-01-05 00:13")
    assert last.round("s") == pd.Timestamp("2026-01-05 00:39")
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["simulated tasks", "max_capacity 4", "capped"]
    assert png_bytes(figure).startswith(b"\x89PNG")


def test_tasks_figure_for_real_data_has_no_synthetic_label():
    figure = plot_tasks(step_load_result(synthetic=False), services=["web"])
    assert figure.get_suptitle() == "Simulated target tracking"


def test_cost_figure_stacks_on_demand_and_spot_per_mix():
    comparison = compare_mixes(10, cpu=1024, memory=2048, period_seconds=3600)
    figure = plot_cost(comparison)
    (axes,) = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == list(comparison["mix"])
    heights = [patch.get_height() for patch in axes.patches]
    expected = comparison["on_demand_cost"].tolist() + comparison["spot_cost"].tolist()
    assert heights == pytest.approx(expected)
    notes = [text.get_text() for text in axes.texts]
    assert notes[0] == "$0.49"  # all on-demand: 10 x 0.04048 + 20 x 0.004445 = 0.4937
    assert notes[-1] == "$0.16\n-67%"
    assert "us-east-1" in figure.get_suptitle()
    assert axes.get_ylabel() == "cost over the window (USD)"
    assert png_bytes(figure).startswith(b"\x89PNG")
    with pytest.raises(ValidationError, match="^comparison: missing columns: saving"):
        plot_cost(comparison.drop(columns="saving"))


def bands_and_capacity(synthetic: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three bands of one service (the SLO breaks in the third) and its capacity row."""
    bands = pd.DataFrame(
        {
            "service": "web",
            "band_low": [100.0, 200.0, 300.0],
            "band_high": [200.0, 300.0, 400.0],
            "minutes": [500, 300, 20],
            "breaking_minutes": [0, 2, 19],
            "share": [0.0, 2 / 300, 0.95],
            "monotone_share": [0.0, 2 / 300, 0.95],
        }
    )
    capacity = pd.DataFrame(
        {
            "service": ["web"],
            "requests_per_task_at_slo": [297.0],
            "capacity_low": [280.0],
            "capacity_high": [310.0],
            "held_requests_per_task": [290.0],
            "confidence": ["high"],
            "change_at": [pd.Timestamp("2026-01-07 12:30", tz="UTC")],
        }
    )
    capacity.attrs["synthetic"] = synthetic
    return bands, capacity


def test_bands_figure_shows_each_bands_breaking_share_the_capacity_and_its_interval():
    bands, capacity = bands_and_capacity(synthetic=True)
    figure = plot_bands(bands, capacity)
    (axes,) = figure.axes
    assert figure.get_suptitle() == "Load bands: minutes breaking the SLO (synthetic data)"
    assert axes.get_title(loc="left") == "web (high confidence, since 01-07 12:30)"
    (bars,) = axes.containers
    assert bars.get_label() == "bands"
    assert [bar.get_x() for bar in bars] == [100, 200, 300]
    assert [bar.get_width() for bar in bars] == [100, 100, 100]
    assert [bar.get_height() for bar in bars] == pytest.approx([0, 100 * 2 / 300, 95])
    drawn = {line.get_label(): line for line in axes.lines}
    assert list(drawn["capacity 297"].get_xdata()) == [297, 297]
    assert list(drawn["held"].get_xdata()) == [290, 290]
    assert list(drawn["1 % of minutes"].get_ydata()) == [1, 1]
    assert list(drawn["monotone share"].get_ydata()) == pytest.approx([0, 100 * 2 / 300, 95, 95])
    (interval,) = [patch for patch in axes.patches if patch.get_label() == "90 % interval"]
    assert interval.get_x() == 280 and interval.get_width() == pytest.approx(30)
    assert axes.get_xlabel() == "requests / minute per task"
    assert png_bytes(figure).startswith(b"\x89PNG")
    with pytest.raises(ValidationError, match="^capacity: no service to draw"):
        plot_bands(bands, capacity.iloc[:0])


def test_every_figure_shows_as_a_png_in_ipython_without_matplotlib_inline():
    """IPython's formatter (a notebook cell's value, ``display``, papermill, nbconvert) gets an image."""
    from IPython.core.formatters import DisplayFormatter

    figures = [
        plot_load(metrics_frame(synthetic=True)),
        plot_tasks(step_load_result(synthetic=False)),
        plot_cost(compare_mixes(10, cpu=1024, memory=2048, period_seconds=3600)),
        plot_bands(*bands_and_capacity(synthetic=False)),
    ]
    for figure in figures:
        data, _ = DisplayFormatter().format(figure)
        assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n", figure


def test_live_runs_figure_draws_each_runs_measured_minutes_against_the_slo():
    from dualalb_kit.capacity import SLO
    from dualalb_kit.plots import plot_live_runs

    minutes = pd.DataFrame(
        {
            "run": ["today's policy"] * 3 + ["recommended"] * 2,
            "tasks": [1, 2, 3, 2, 2],
            "p99_ms": [80.0, 900.0, 120.0, 60.0, 70.0],
            "cpu_percent": [40.0, 95.0, 60.0, 30.0, 35.0],
            "any": [False, True, False, False, False],
        }
    )
    figure = plot_live_runs(minutes, SLO(p99_ms=500, max_cpu=70))
    tasks_axes, latency_axes, cpu_axes = figure.axes
    runs = [line for line in latency_axes.lines if "over SLO" in line.get_label()]
    assert [line.get_label() for line in runs] == [
        "today's policy: 1 minute over SLO",
        "recommended: 0 minutes over SLO",
    ]
    assert list(runs[0].get_xdata()) == [1, 2, 3] and list(runs[0].get_ydata()) == [80.0, 900.0, 120.0]
    assert [list(line.get_ydata()) for line in tasks_axes.lines] == [[1, 2, 3], [2, 2]]
    assert [line.get_ydata()[0] for line in cpu_axes.lines if line.get_label().startswith("SLO")] == [70]
    crosses = [collection.get_offsets().tolist() for collection in latency_axes.collections]
    assert crosses == [[[2.0, 900.0]], []]  # the minute over the SLO, marked; none in the second run
    assert figure._repr_png_().startswith(b"\x89PNG")
    with pytest.raises(ValidationError, match="minutes"):
        plot_live_runs(minutes.iloc[0:0], SLO())
