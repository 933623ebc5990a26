"""The capacity analysis in words and tables, and the report that shows them, on known-truth weeks.

The cases are :mod:`test_known_truth`'s: a capacity that halves on day 4 (a change point), one that
halves 6 hours before the end (a curve cut at the extrapolation limit, too short to decide) and a
latency knee (measured). Every number the words and tables show is the analysis' own.
"""

from __future__ import annotations

import functools
import json
import re

import numpy as np
import pandas as pd
import pytest
from test_known_truth import SPEC, case_of

from dualalb_kit.capacity import MAX_EXTRAPOLATION, SLO, fit_capacity, slo_bands
from dualalb_kit.findings import TOPICS, band_table, capacity_findings, findings_markdown, service_band_tables
from dualalb_kit.plots import plot_bands
from dualalb_kit.report import Step, write_artifacts, write_report, write_summary
from dualalb_kit.scaling import recommend_policies


@functools.cache
def analysed(name: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(capacity, bands, recommendations) of a known-truth case, its one service named after it."""
    metrics = case_of(name).metrics
    capacity = fit_capacity(metrics)
    bands = slo_bands(metrics)
    recommendations = recommend_policies(metrics, SPEC)
    return tuple(frame.assign(service=name) for frame in (capacity, bands, recommendations))


def findings_of(name: str) -> dict[str, str]:
    capacity, bands, recommendations = analysed(name)
    findings = capacity_findings(capacity, bands, recommendations)
    assert list(findings["topic"]) == list(TOPICS)
    return dict(zip(findings["topic"], findings["finding"], strict=True))


def test_one_row_per_band_is_slo_bands_own_numbers_and_the_merged_rows_add_up():
    _, bands, _ = analysed("knee")
    table = band_table(bands, rows=None)
    assert len(table) == len(bands)
    assert table["minutes"].tolist() == bands["minutes"].tolist()
    assert table["minutes over SLO"].tolist() == bands["breaking_minutes"].tolist()
    assert table["over SLO %"].tolist() == pytest.approx((bands["share"] * 100).round(1).tolist())
    assert table["p99 over %"].tolist() == pytest.approx((bands["latency_share"] * 100).round(1).tolist())
    first = table["requests/min per task"].iloc[0]
    assert first == f"{bands['band_low'].iloc[0]:,.0f}-{bands['band_high'].iloc[0]:,.0f}"

    merged = band_table(bands)  # ten load ranges, split where the SLO starts to break
    assert merged["minutes"].sum() == bands["minutes"].sum()
    assert merged["minutes over SLO"].sum() == bands["breaking_minutes"].sum()
    assert 10 <= len(merged) <= 11
    # the knee: every minute past 1,500 requests/min per task is slow, none below
    held, breaks = merged[merged["capacity side"] == "held"], merged[merged["capacity side"] == "breaks"]
    assert held["minutes over SLO"].sum() == 0
    assert breaks["minutes over SLO"].sum() == bands["breaking_minutes"].sum() > 0
    assert breaks["requests/min per task"].iloc[0].startswith("1,500-")
    assert breaks["CPU over %"].eq(0).all() and breaks["p99 over %"].gt(95).all()


def test_a_capacity_change_shows_its_time_both_capacities_and_the_stretch_used():
    capacity, _, recommendations = analysed("halving")
    (fit,), (advice,) = capacity.to_dict("records"), recommendations.to_dict("records")
    words = findings_of("halving")
    print(words)
    before, since = f"{fit['capacity_before_change']:,.0f}", f"{fit['requests_per_task_at_slo']:,.0f}"
    assert words["change point"].startswith(
        f"How p99 or CPU follow load changed at {fit['change_at']:%Y-%m-%d %H:%M} UTC: one task served "
        f"{before} requests/min before, {since} since. Only the minutes since are used"
    )
    assert words["capacity"] == (
        f"One task serves {since} requests/min within the SLO (90 % interval "
        f"{fit['capacity_low']:,.0f}-{fit['capacity_high']:,.0f}); CPU breaks it first."
    )
    assert words["confidence"].startswith("High: the 90 % interval (")
    assert words["extrapolation"].startswith("None: measured")
    assert words["minutes over SLO"] == (
        f"Measured: {fit['observed_minutes_over_slo']:,} of 10,080 minutes "
        f"({fit['observed_minutes_over_slo'] / 10080 * 100:.1f} %) broke the SLO in the window. Replayed and "
        f"judged by the breach rates per band: {advice['current_minutes_over_slo']:,} under today's policy, "
        f"{advice['minutes_over_slo']:,} under the recommended one."
    )
    assert words["what to do"].startswith(
        f"Apply the recommendation (request target 1000 -> {advice['request_per_target']}, "
    )


def test_an_extrapolated_capacity_shows_extrapolated_by_and_the_load_test_that_would_settle_it():
    capacity, _, recommendations = analysed("short")
    (fit,), (advice,) = capacity.to_dict("records"), recommendations.to_dict("records")
    words = findings_of("short")
    print(words)
    assert fit["extrapolated_by"] == pytest.approx(MAX_EXTRAPOLATION) and fit["confidence"] == "low"
    command = advice["loadtest_command"]
    assert command == "dualalb-kit loadtest URL --max-rps 25 --service app --cpu-units 256"
    assert f"`{command}`" in advice["why"]  # the command the recommendation advises
    assert words["extrapolation"] == (
        f"extrapolated_by 15 %: a fitted curve puts the capacity past {fit['held_requests_per_task']:,.0f}, "
        "the busiest load at which the SLO was seen to hold, cut at the 15 % limit (the curve wanted more). "
        f"A load test would settle it: `{command}`."
    )
    assert words["confidence"] == (
        "Low: a fitted curve was cut at the 15 % extrapolation limit; less than 24 h since the change: too "
        "short to decide."
    )
    assert words["what to do"].startswith(
        f"Keep today's request target (1000) and measure one task: `{command}`"
    )
    assert words["load bands"].startswith("No load band breaks the SLO in more than 1 % of its minutes")


def test_where_the_data_cannot_tell_the_words_say_so():
    capacity, bands, recommendations = analysed("knee")
    blind = capacity.assign(
        requests_per_task_at_slo=np.nan,
        capacity_low=np.nan,
        capacity_high=np.nan,
        extrapolated_by=np.nan,
        confidence="low",
        note="3 minutes with requests: too few to tell (at least 10)",
    )
    findings = capacity_findings(blind, bands.iloc[:0], recommendations.assign(minutes_over_slo=np.nan))
    words = dict(zip(findings["topic"], findings["finding"], strict=True))
    assert words["capacity"] == (
        "The data cannot tell what one task serves: 3 minutes with requests: too few to tell (at least 10)."
    )
    assert words["confidence"] == "Low: there is no capacity."
    assert words["extrapolation"] == "None: there is no capacity to extend."
    assert words["load bands"] == "No load bands: too few minutes with requests to group."
    assert words["minutes over SLO"].endswith(
        "No replay: without a capacity, minutes under a policy cannot be judged."
    )
    assert words["what to do"].startswith(
        "Measure one task before changing anything: `dualalb-kit loadtest URL"
    )


def test_the_report_shows_the_bands_the_figure_and_the_findings_per_service(tmp_path):
    names = ("halving", "short")
    capacity, bands, recommendations = (
        pd.concat([analysed(name)[part] for name in names], ignore_index=True) for part in range(3)
    )
    findings = capacity_findings(capacity, bands, recommendations)
    written = write_artifacts(
        tmp_path / "assets",
        {"load_bands": plot_bands(bands, capacity)},
        {"band_table": service_band_tables(bands), "findings": findings},
    )
    results = tmp_path / "03.json"
    write_summary(results, written)
    report = write_report(
        tmp_path / "report.html",
        [Step("Scaling analysis", {"executed": str(results.with_suffix(".ipynb")), "status": "passed"})],
        tmp_path / "assets",
    ).read_text()
    headings = re.findall(r"<h3>(.*?)</h3>", report)
    assert headings == [
        "Load bands: the share of minutes breaking the SLO against load per task",
        "Load bands per service (the capacity is read from them)",
        "What the analysis found, per service, and what to do",
    ]
    assert report.count("src='data:image/png;base64,") == 1
    # the band table as the report shows it: one <tr> per row, its cells as written
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", report, re.S)]
    for name in names:
        shown = [row[1:] for row in rows if len(row) == 9 and row[0] == name]
        table = band_table(bands[bands["service"] == name])
        assert [row[0] for row in shown] == table["requests/min per task"].tolist()
        assert [int(row[1]) for row in shown] == table["minutes"].tolist()
        assert [int(row[2]) for row in shown] == table["minutes over SLO"].tolist()
        assert [float(row[3]) for row in shown] == pytest.approx(table["over SLO %"].tolist())
        assert [row[7] for row in shown] == table["capacity side"].tolist()
        said = [row[2] for row in rows if len(row) == 3 and row[0] == name]
        assert len(said) == len(TOPICS)
    change = capacity.set_index("service").loc["halving"]
    assert f"changed at {change['change_at']:%Y-%m-%d %H:%M} UTC" in report
    assert f"served {change['capacity_before_change']:,.0f} requests/min before" in report
    assert "extrapolated_by 15 %" in report
    assert "dualalb-kit loadtest URL --max-rps 25 --service app --cpu-units 256" in report
    assert json.loads(results.read_text())["tables"] == ["band_table.html", "findings.html"]


def test_the_markdown_holds_each_services_findings_and_band_table():
    capacity, bands, recommendations = analysed("halving")
    text = findings_markdown(capacity_findings(capacity, bands, recommendations), bands)
    assert text.startswith("### halving\n\n- **capacity**: One task serves ")
    assert band_table(bands).to_string(index=False) in text
    assert "- **change point**: How p99 or CPU follow load changed at 2025-01-09" in text


def test_the_live_demos_markdown_report_has_the_order_services_findings():
    from types import SimpleNamespace

    from dualalb_kit.live_demo import _findings

    metrics = case_of("halving").metrics
    metrics = metrics.assign(service=metrics["service"].astype(str).replace("app", "order"))
    capacity, _, recommendations = (frame.assign(service="order") for frame in analysed("halving"))
    text = _findings(SimpleNamespace(metrics=metrics), capacity, recommendations, SLO())
    assert text.startswith("### order\n\n- **capacity**: One task serves ")
    assert band_table(slo_bands(metrics)).to_string(index=False) in text
    assert f"`{recommendations['loadtest_command'].iloc[0]}`" not in text  # measured, high: no test needed
    assert "- **what to do**: Apply the recommendation" in text
