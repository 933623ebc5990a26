"""The capacity analysis for people: per service, its load bands and what the numbers mean, in words.

:func:`band_table` shows a service's :func:`~dualalb_kit.capacity.slo_bands` as a short table (the
share of minutes breaking the SLO per load range, by signal); :func:`capacity_findings` puts the
capacity row, its bands and the recommendation into sentences a user can act on, one per topic:
the capacity, the bands, the confidence and the rule that gave it, any change point, any
extrapolation, minutes over the SLO (measured and replayed) and what to do. Where the data cannot
support an answer, the sentence says so instead of giving one. The notebooks and reports show
both; nothing here is computed anew, only read from the analysis' frames.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .capacity import BREACH_SHARE, MAX_EXTRAPOLATION, MEDIUM, MIN_STRETCH_HOURS, NARROW

BAND_ROWS = 10
"""Rows :func:`band_table` merges a service's bands into by default (plus the split at the first
band that breaks the SLO)."""

TOPICS = (
    "capacity",
    "load bands",
    "confidence",
    "change point",
    "extrapolation",
    "minutes over SLO",
    "what to do",
)
"""The topics of :func:`capacity_findings`, in order."""

_POLICY_VALUES = ("request_per_target", "target_cpu_utilization", "min_capacity", "max_capacity")
_POLICY_LABELS = ("request target", "CPU target %", "min tasks", "max tasks")
_SIGNAL_WORDS = {"latency": "p99", "cpu": "CPU", "errors": "5xx"}


def band_table(bands: pd.DataFrame, rows: int | None = BAND_ROWS) -> pd.DataFrame:
    """One service's :func:`~dualalb_kit.capacity.slo_bands` rows for people.

    Columns: ``requests/min per task`` (the range, ``low-high``), ``minutes``, ``minutes over SLO``,
    ``over SLO %`` (any signal), ``p99 over %``, ``CPU over %``, ``5xx over %`` (each signal's own
    share) and ``capacity side`` (``held`` below the first band whose monotone share breaks the
    SLO in more than 1 % of minutes, ``breaks`` from it on). ``rows`` (default 10) merges adjacent
    bands into that many equal load ranges, split at the first breaking band, adding their minutes
    (``None``: one row per band, the values as :func:`slo_bands` gives them).
    """
    bands = bands.sort_values("band_low").reset_index(drop=True)
    breaking = _first_breaking(bands)
    side = np.where(bands.index >= breaking, "breaks", "held") if breaking is not None else "held"
    counts = bands.assign(
        side=side,
        latency=bands["latency_share"] * bands["minutes"],
        cpu=bands["cpu_share"] * bands["minutes"],
        errors=bands["errors_share"] * bands["minutes"],
    )
    if rows is None or len(bands) <= rows:
        groups = np.arange(len(bands))
    else:
        edges = np.linspace(bands["band_low"].iloc[0], bands["band_high"].iloc[-1], rows + 1)[1:-1]
        groups = np.searchsorted(edges, bands["band_low"].to_numpy(float), side="right")
        groups = groups * 2 + (counts["side"] == "breaks").to_numpy()  # a range never spans the split
    merged = counts.groupby(groups, sort=True).agg(
        low=("band_low", "min"),
        high=("band_high", "max"),
        minutes=("minutes", "sum"),
        breaking=("breaking_minutes", "sum"),
        latency=("latency", "sum"),
        cpu=("cpu", "sum"),
        errors=("errors", "sum"),
        side=("side", "first"),
    )
    minutes = merged["minutes"].to_numpy(float)
    return pd.DataFrame(
        {
            "requests/min per task": [
                f"{low:,.0f}-{high:,.0f}" for low, high in zip(merged["low"], merged["high"], strict=True)
            ],
            "minutes": merged["minutes"].astype(int).to_numpy(),
            "minutes over SLO": merged["breaking"].astype(int).to_numpy(),
            "over SLO %": _percent(merged["breaking"].to_numpy(float), minutes),
            "p99 over %": _percent(merged["latency"].to_numpy(float), minutes),
            "CPU over %": _percent(merged["cpu"].to_numpy(float), minutes),
            "5xx over %": _percent(merged["errors"].to_numpy(float), minutes),
            "capacity side": merged["side"].to_numpy(),
        }
    )


def capacity_findings(
    capacity: pd.DataFrame, bands: pd.DataFrame, recommendations: pd.DataFrame | None = None
) -> pd.DataFrame:
    """What the analysis found per service, in words: one row per service and topic.

    ``capacity``: a :func:`~dualalb_kit.capacity.fit_capacity` frame; ``bands``: the
    :func:`~dualalb_kit.capacity.slo_bands` of the same metrics; ``recommendations``: a
    :func:`~dualalb_kit.scaling.recommend_policies` frame (optional: without it the rows ``minutes
    over SLO`` and ``what to do`` are left out). Columns ``service``, ``topic`` (:data:`TOPICS`),
    ``finding`` (one or two sentences).
    """
    by_service = recommendations.set_index("service") if recommendations is not None else None
    rows = []
    for fit in capacity.to_dict("records"):
        service = fit["service"]
        mine = bands[bands["service"] == service].sort_values("band_low").reset_index(drop=True)
        advice = (
            by_service.loc[service].to_dict()
            if by_service is not None and service in by_service.index
            else None
        )
        facts = _Facts(fit, mine, advice)
        sentences = {
            "capacity": facts.capacity(),
            "load bands": facts.bands(),
            "confidence": facts.confidence(),
            "change point": facts.change(),
            "extrapolation": facts.extrapolation(),
        }
        if advice is not None:
            sentences |= {"minutes over SLO": facts.minutes(), "what to do": facts.what_to_do()}
        rows += [{"service": service, "topic": topic, "finding": text} for topic, text in sentences.items()]
    return pd.DataFrame(rows, columns=["service", "topic", "finding"])


def findings_markdown(findings: pd.DataFrame, bands: pd.DataFrame) -> str:
    """:func:`capacity_findings` and each service's :func:`band_table` as Markdown: per service a
    heading, the findings as a list (topic in bold) and the band table as a fixed-width block."""
    parts = []
    for service, rows in findings.groupby("service", sort=True):
        parts.append(f"### {service}")
        parts.append("\n".join(f"- **{row.topic}**: {row.finding}" for row in rows.itertuples()))
        mine = bands[bands["service"] == service]
        if len(mine):
            parts.append(f"```\n{band_table(mine).to_string(index=False)}\n```")
    return "\n\n".join(parts)


def service_band_tables(bands: pd.DataFrame, rows: int | None = BAND_ROWS) -> pd.DataFrame:
    """:func:`band_table` for every service of a :func:`~dualalb_kit.capacity.slo_bands` frame, one
    frame with ``service`` first (the report's table)."""
    frames = [
        band_table(group, rows).assign(service=service)
        for service, group in bands.groupby("service", sort=True)
    ]
    if not frames:
        return pd.DataFrame(columns=["service", *band_table(bands.iloc[:0]).columns])
    table = pd.concat(frames, ignore_index=True)
    return table[["service", *table.columns[:-1]]]


def _first_breaking(bands: pd.DataFrame) -> int | None:
    """The position of the first band whose monotone share is above 1 % (None: none)."""
    above = np.flatnonzero(bands["monotone_share"].to_numpy(float) > BREACH_SHARE + 1e-12)
    return int(above[0]) if len(above) else None


def _percent(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.round(np.where(whole > 0, part / whole * 100.0, np.nan), 1)


def _pct(fraction: float, decimals: int = 0, sign: str = "") -> str:
    """A fraction as a percentage the way the kit writes them: ``0.15`` -> ``15 %``."""
    return f"{round(fraction * 100, decimals) + 0.0:{sign}.{decimals}f} %"  # + 0.0: never -0.0


def _number(value: Any) -> str:
    return f"{value:,.0f}" if _known(value) else "?"


def _value(value: Any) -> str:
    """A policy value as written: numbers without a trailing ``.0``, None as ``none``."""
    return f"{value:g}" if _known(value) else "none" if value is None else str(value)


def _known(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and math.isfinite(value)


class _Facts:
    """One service's capacity row, bands and recommendation row, and the sentences they make."""

    def __init__(self, fit: dict, bands: pd.DataFrame, advice: dict | None) -> None:
        self.fit, self.bands_, self.advice = fit, bands, advice
        self.at_slo = fit["requests_per_task_at_slo"]
        self.held = fit["held_requests_per_task"]
        self.breaking = _first_breaking(bands) if len(bands) else None
        self.extrapolated = fit["extrapolated_by"] if _known(fit["extrapolated_by"]) else 0.0
        # the SLO held at every load seen and no curve predicted where it breaks
        self.lower_bound = _known(self.at_slo) and self.breaking is None and self.extrapolated == 0
        self.cut = self.extrapolated >= MAX_EXTRAPOLATION - 1e-4
        self.signal = _SIGNAL_WORDS.get(fit["limited_by"], "no signal")
        self.note = str(fit["note"])

    def capacity(self) -> str:
        fit = self.fit
        if not _known(self.at_slo):
            return f"The data cannot tell what one task serves: {self.note.split('; ')[0]}."
        busiest = _number(fit["observed_max_requests_per_task"])
        if self.lower_bound:
            return (
                f"At least {_number(self.at_slo)} requests/min per task: the SLO held at every load "
                f"seen (the busiest minute carried {busiest}); {self.signal} is nearest its limit. "
                "Past that, nothing is known."
            )
        interval = f"{_number(fit['capacity_low'])}-{_number(fit['capacity_high'])}"
        return (
            f"One task serves {_number(self.at_slo)} requests/min within the SLO (90 % interval "
            f"{interval}{', partly extrapolated' if self.extrapolated > 0 else ''}); "
            f"{self.signal} breaks it first."
        )

    def bands(self) -> str:
        bands = self.bands_
        if bands.empty:
            return "No load bands: too few minutes with requests to group."
        if self.breaking is None:
            return (
                f"No load band breaks the SLO in more than {_pct(BREACH_SHARE)} of its minutes: "
                f"{int(bands['breaking_minutes'].sum()):,} of {int(bands['minutes'].sum()):,} minutes "
                f"broke it, at loads up to {_number(bands['band_high'].iloc[-1])}."
            )
        below, above = bands.iloc[: self.breaking], bands.iloc[self.breaking :]
        signals = ", ".join(
            f"{word} {(above[f'{name}_share'] * above['minutes']).sum():,.0f}"
            for name, word in _SIGNAL_WORDS.items()
        )
        return (
            f"Below {_number(above['band_low'].iloc[0])} requests/min per task "
            f"{int(below['breaking_minutes'].sum()):,} of {int(below['minutes'].sum()):,} minutes "
            f"broke the SLO (it held up to {_number(self.held)}); from there on "
            f"{int(above['breaking_minutes'].sum()):,} of {int(above['minutes'].sum()):,} did "
            f"({signals})."
        )

    def confidence(self) -> str:
        fit, at_slo = self.fit, self.at_slo
        low, high = fit["capacity_low"], fit["capacity_high"]
        known = _known(at_slo) and _known(low) and _known(high)
        span = f"{_pct(low / at_slo - 1, 1, '+')} to {_pct(high / at_slo - 1, 1, '+')}" if known else None
        if fit["confidence"] == "high":
            return (
                f"High: the 90 % interval ({span}) lies within ±{_pct(NARROW)} of the capacity and "
                f"nothing is extrapolated past the {_pct(MAX_EXTRAPOLATION)} limit."
            )
        if fit["confidence"] == "medium":
            return (
                f"Medium: the 90 % interval ({span}) lies within ±{_pct(MEDIUM)} of the capacity, "
                f"not ±{_pct(NARROW)}."
            )
        reasons = []
        if not _known(at_slo):
            reasons.append("there is no capacity")
        if self.lower_bound:
            reasons.append("the capacity is a lower bound")
        if self.cut:
            reasons.append(f"a fitted curve was cut at the {_pct(MAX_EXTRAPOLATION)} extrapolation limit")
        if _known(at_slo) and not known:
            reasons.append("the interval has no lower end (resamples found no capacity)")
        elif known and max(1 - low / at_slo, high / at_slo - 1) > MEDIUM:
            reasons.append(f"the 90 % interval ({span}) is wider than ±{_pct(MEDIUM)}")
        if "too short to decide" in self.note:
            reasons.append(f"less than {MIN_STRETCH_HOURS} h since the change: too short to decide")
        if "too few to judge the interval" in self.note:
            reasons.append(f"fewer than {MIN_STRETCH_HOURS} hours with data")
        if "repeats disagree" in self.note:
            reasons.append("the load test's repeats disagree")
        return "Low: " + ("; ".join(reasons) if reasons else self.note) + "."

    def change(self) -> str:
        at = self.fit["change_at"]
        if at is None or pd.isna(at):
            return (
                "None found: how p99 and CPU follow load did not change within the window, so every "
                "minute is used."
            )
        sentence = (
            f"How p99 or CPU follow load changed at {pd.Timestamp(at):%Y-%m-%d %H:%M} UTC: one task "
            f"served {_number(self.fit['capacity_before_change'])} requests/min before, "
            f"{_number(self.at_slo)} since. Only the minutes since are used (the bands are of them); "
            "a change you cannot explain (a release, a noisy neighbour) is worth a look."
        )
        if "too short to decide" in self.note:
            sentence += f" Less than {MIN_STRETCH_HOURS} h have passed since: too short to decide."
        return sentence

    def extrapolation(self) -> str:
        if not _known(self.at_slo):
            return "None: there is no capacity to extend."
        if self.extrapolated > 0:
            sentence = (
                f"extrapolated_by {_pct(self.extrapolated)}: a fitted curve puts the capacity past "
                f"{_number(self.held)}, the busiest load at which the SLO was seen to hold"
                + (
                    f", cut at the {_pct(MAX_EXTRAPOLATION)} limit (the curve wanted more)."
                    if self.cut
                    else f" (at most {_pct(MAX_EXTRAPOLATION)} is allowed)."
                )
            )
        elif self.lower_bound:
            sentence = (
                "None, and none possible: no fitted curve predicts where the SLO breaks (5xx and a "
                "knee give no warning)."
            )
        else:
            return f"None: measured (the SLO held up to {_number(self.held)} and broke in the bands above)."
        command = self.advice.get("loadtest_command") if self.advice else None
        return sentence + " A load test would settle it" + (f": `{command}`." if command else ".")

    def minutes(self) -> str:
        advice = self.advice
        measured, minutes = advice["observed_minutes_over_slo"], advice["minutes"]
        sentence = (
            f"Measured: {measured:,} of {minutes:,} minutes ({_pct(measured / minutes, 1)}) broke the "
            "SLO in the window."
        )
        if not _known(advice["minutes_over_slo"]):
            return sentence + " No replay: without a capacity, minutes under a policy cannot be judged."
        return sentence + (
            " Replayed and judged by the breach rates per band: "
            f"{int(advice['current_minutes_over_slo']):,} under today's policy, "
            f"{int(advice['minutes_over_slo']):,} under the recommended one."
        )

    def what_to_do(self) -> str:
        advice = self.advice
        command = f"`{advice['loadtest_command']}`"
        if not _known(self.at_slo):
            return f"Measure one task before changing anything: {command}."
        if advice["confidence"] != "high":
            sentence = (
                f"Keep today's request target ({_value(advice['current_request_per_target'])}) and "
                f"measure one task: {command}; its capacity row then replaces the fit "
                "(`recommend_policies(..., capacity=...)`, `dualalb-kit recommend --capacity FILE.csv`)."
            )
            if "settle it soon" in str(advice["why"]):
                sentence += " Soon: today's target lets a task carry more than the estimate."
            return sentence
        if advice["meets_slo"] is False:
            return (
                "Even the lowest targets tried leave too many minutes over the SLO (scale-out lags "
                f"the ramps): raise min_capacity (the proposed schedule) or measure: {command}."
            )
        if all(advice[name] == advice[f"current_{name}"] for name in _POLICY_VALUES):
            return "Keep today's policy: replayed, it already keeps the SLO at the lowest cost found."
        change = ", ".join(
            f"{label} {_value(advice[f'current_{name}'])} -> {_value(advice[name])}"
            for name, label in zip(_POLICY_VALUES, _POLICY_LABELS, strict=True)
            if advice[name] != advice[f"current_{name}"]
        )
        return (
            f"Apply the recommendation ({change}): `dualalb-kit recommend PARAMS -o NEW.yaml` writes it."
            + (
                f" Check it with {command} first: part of the capacity is extrapolated."
                if self.extrapolated > 0
                else ""
            )
        )
