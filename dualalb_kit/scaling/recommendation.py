"""Per service, the target-tracking policy that keeps an SLO at the lowest cost, with reasons:
:func:`recommend_policies`. Each value is chosen in :mod:`dualalb_kit.scaling.targets`, replayed
with :func:`~dualalb_kit.scaling.simulate_target_tracking` and judged in
:mod:`dualalb_kit.scaling.outcome`.

How each value is chosen (C = requests per minute per task at the SLO):

* ``request_per_target``: the request policies track each target group's requests per task, so
  a service behind both ALBs carries its total load at the target / (its busiest ALB's share
  of its requests). The target is C x (1 - ``headroom``, default 0.3) x that share, rounded
  down to 10. Unless the capacity's confidence is ``high``, the current target stays and ``why``
  names the load test that would settle it (``dualalb-kit loadtest URL --max-rps N``), and
  says so when that target lets a task carry more than the capacity estimated.
* ``target_cpu_utilization``: the SLO's CPU limit less the headroom (70 % -> 49 %), or, if
  higher, the CPU a task runs at when it carries the request target (from the CPU fit), so
  that the CPU policy does not scale out before the request policy; never above the limit.
* The replay (:func:`simulate_target_tracking` over the same minutes) predicts each minute's
  requests per task under the policy; a minute above C breaks the SLO, any other with the share
  of input minutes measured breaking it at that load (:func:`dualalb_kit.capacity.slo_bands`).
  If more than 1 % of minutes are expected to break it (scale-out lags a ramp), both targets go
  down in 10 % steps until they are not.
* ``min_capacity``: the tasks the quietest minutes (1st percentile) need at that target, and at
  least 2 behind the internet-facing ALB (a task in a second Availability Zone);
  ``max_capacity``: the busiest minute's tasks x (1 + ``growth``, default 1.0: room to double).
* Where the current policy (with that floor of 2 tasks) already keeps 99 % of minutes within the
  SLO and costs less, it stays (its margin to capacity is then the ``headroom`` shown).

``max_capacity`` goes below the current one only with ``high`` confidence and a week of data.
Scheduled actions already in the spec are not replayed (the current cost leaves them out).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..capacity import CAPACITY_COLUMNS, SLO, capacity_and_bands
from ..cost import Pricing
from ..errors import ValidationError
from .outcome import Outcome, ServiceLoad, judge, service_load
from .reasons import floor_note, loadtest_command, missed_note, why
from .schedule import scheduled_actions
from .series import extract_series
from .simulate import PricingSource, TaskSize, pricing_table, simulate_target_tracking, task_sizes
from .targets import (
    FULL_WEEK,
    POLICY_VALUES,
    availability_floor,
    capacity_bounds,
    cpu_target,
    policy_of,
    request_target,
)

if TYPE_CHECKING:
    from distributed import Client

    from ..spec import DeploymentSpec, TaskSpec

RECOMMENDATION_COLUMNS = (
    "service",
    "current_request_per_target",
    *POLICY_VALUES,
    "headroom",
    "minutes_over_slo",
    "peak_tasks",
    "current_cost_per_month_usd",
    "cost_per_month_usd",
    "confidence",
    "why",
)
"""The columns :func:`recommend_policies` starts with: ``headroom`` (how far the request target
keeps a task below C, a fraction), ``minutes_over_slo`` (replayed minutes expected to break the SLO,
as above; NaN without a capacity), ``confidence`` (the capacity's, ``high``/``medium``/``low``),
``peak_tasks`` (the replay's most tasks of that service at once), costs (USD per month of 730 hours
at the window's average, priced with the service's capacity mix and region). Then
``current_target_cpu_utilization``, ``current_min_capacity``, ``current_max_capacity``,
``current_minutes_over_slo``, ``requests_per_task_at_slo``, ``limited_by``, ``minutes``
(replayed), ``meets_slo`` (the replay keeps 99 % of minutes within the SLO; False: even the
lowest targets tried do not, and ``why`` says so; None without a capacity or with ``low``
confidence), ``scheduled_actions`` (a list of ``cron`` (six fields, UTC), ``min_capacity``,
``max_capacity`` where the load has a daily or weekly pattern, see :func:`scheduled_actions`),
``scheduled_cost_per_month_usd`` (the policy with its schedule: what applying the recommendation
costs), ``scheduled_saving_per_month_usd``, ``observed_minutes_over_slo`` (minutes of the input
whose measured p99, CPU or 5xx already break the SLO), and the capacity's ``capacity_low``,
``capacity_high`` (its 90 % interval), ``extrapolated_by``, ``change_at`` and ``loadtest_command``
(the load test that would measure the capacity, :func:`loadtest_command`). ``attrs``: ``slo``,
``window_hours``, ``synthetic``."""

TIGHTENING = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
"""Factors on the request and CPU targets tried in turn until the replay keeps the SLO."""
SLO_MINUTES = 0.99
"""The share of minutes a recommended policy must keep within the SLO in the replay."""

Policy = dict[str, Any]
"""A service's :data:`~dualalb_kit.scaling.targets.POLICY_VALUES` by name."""


def recommend_policies(
    metrics: pd.DataFrame,
    spec: DeploymentSpec,
    slo: SLO | None = None,
    capacity: pd.DataFrame | None = None,
    *,
    headroom: float = 0.3,
    growth: float = 1.0,
    pricing: PricingSource = None,
    client: Client | None = None,
) -> pd.DataFrame:
    """Per service, the target-tracking policy that keeps ``slo`` at the lowest cost, with reasons.

    ``metrics``: a ``load_metrics`` frame (1-minute periods); ``spec``: the deployed
    DeploymentSpec (its policies, sizes, capacity mixes and region); ``slo``: a
    :class:`dualalb_kit.capacity.SLO` (default ``SLO()``); ``capacity``: rows with at least
    ``service``, ``requests_per_task_at_slo``, ``limited_by`` and ``confidence`` of
    ``dualalb_kit.capacity.CAPACITY_COLUMNS`` (a load test's) that replace the fitted capacity of
    their services (default: :func:`dualalb_kit.capacity.fit_capacity` on ``metrics``).

    How each value is chosen: :mod:`dualalb_kit.scaling.recommendation`. The columns:
    :data:`RECOMMENDATION_COLUMNS`, then more (see there).

    With ``client`` (a ``dask.distributed.Client``) the services are split over the cluster
    (:func:`dualalb_kit.fleet.map_services`; services are independent here) and only the rows
    come back: the same table as without it.
    """
    slo = slo or SLO()
    if client is not None:
        return _on_cluster(client, metrics, spec, slo, capacity, headroom, growth, pricing)
    if not 0 <= headroom < 1:
        raise ValidationError("headroom", f"{headroom} is not a fraction in [0, 1)")
    if not growth >= 0:
        raise ValidationError("growth", f"{growth} is negative")
    fitted, bands = capacity_and_bands(metrics, slo)
    replay = _Replay.of(metrics, spec, fitted, _with_measured(fitted, capacity, spec), bands, pricing)
    measured = set(capacity["service"]) if capacity is not None else set()
    table = pd.DataFrame(_rows(replay, slo, headroom, growth, measured))
    table.attrs = _attrs(slo, replay.minutes, replay.metrics)
    return table


def _rows(replay: _Replay, slo: SLO, headroom: float, growth: float, measured: set[str]) -> list[dict]:
    """Each service's row: the tightened recommendation, or the current targets with the
    availability floor where they keep the SLO and cost less; ``measured`` are the services whose
    capacity a load test gave."""
    current = {service: policy_of(replay.tasks[service].scaling) for service in replay.services}
    floors = {service: availability_floor(task) for service, task in replay.tasks.items()}
    floored = {  # the current targets with the availability floor, the alternative kept below
        service: policy | {"min_capacity": max(policy["min_capacity"], floors[service])}
        for service, policy in current.items()
    }
    chosen = _tightened(replay, current, slo, headroom, growth)
    recommended = {service: policy for service, (policy, _) in chosen.items()}
    current_outcome, floored_outcome = replay.outcome(current), replay.outcome(floored)
    outcome = replay.outcome(recommended)
    keep = (
        replay.trusted & (floored_outcome.over <= replay.allowed_over) & (floored_outcome.cost < outcome.cost)
    )
    rows = []
    for index, service in enumerate(replay.services):
        factor = chosen[service][1]
        choice = (
            _Choice(floored[service], floored_outcome, True, factor)
            if keep[index]
            else _Choice(recommended[service], outcome, False, factor)
        )
        rows.append(_row(replay, index, current[service], current_outcome, choice, service in measured))
    return rows


def _on_cluster(
    client: Client,
    metrics: pd.DataFrame,
    spec: DeploymentSpec,
    slo: SLO,
    capacity: pd.DataFrame | None,
    headroom: float,
    growth: float,
    pricing: PricingSource,
) -> pd.DataFrame:
    """:func:`recommend_policies` with the services split over ``client``'s cluster."""
    from ..fleet import map_services

    mine = metrics[metrics["service"].isin([task.name for task in spec.tasks])]
    options = {"headroom": headroom, "growth": growth, "pricing": pricing_table(pricing)}
    table = map_services(client, mine, recommend_policies, spec, slo, capacity, **options)
    table.attrs = _attrs(slo, table["minutes"].max(), metrics)
    return table


def _attrs(slo: SLO, minutes: int, metrics: pd.DataFrame) -> dict[str, Any]:
    """The ``attrs`` of a recommendation over ``minutes`` of ``metrics``."""
    return {
        "slo": slo,
        "window_hours": minutes / 60.0,
        "synthetic": bool(metrics.attrs.get("synthetic", False)),
    }


def _with_measured(fitted: pd.DataFrame, capacity: pd.DataFrame | None, spec: DeploymentSpec) -> pd.DataFrame:
    """The capacity row of each service by name: the ``fitted`` one, or its ``capacity`` row (a load
    test's, checked) where it has one."""
    known = fitted.set_index("service")
    if capacity is None:
        return known
    missing = {"service", "requests_per_task_at_slo", "limited_by", "confidence"} - set(capacity.columns)
    if missing:
        raise ValidationError("capacity", f"missing columns: {', '.join(sorted(missing))}")
    unknown = sorted(set(capacity["service"]) - {task.name for task in spec.tasks})
    if unknown:
        raise ValidationError("capacity.service", f"not a task of the spec: {', '.join(map(str, unknown))}")
    # a load test's CPU is of the machine it ran on, not of a Fargate task of the spec's size
    capacity = capacity.reindex(columns=list(CAPACITY_COLUMNS)).assign(
        cpu_per_1k_requests=math.nan, idle_cpu_percent=math.nan
    )
    return pd.concat([known.drop(capacity["service"], errors="ignore"), capacity.set_index("service")])


@dataclass(frozen=True)
class _Replay:
    """What every replay of a recommendation shares, per service (in ``services`` order)."""

    metrics: pd.DataFrame  # the spec's services only
    tasks: dict[str, TaskSpec]
    load: ServiceLoad
    fits: pd.DataFrame  # the capacity row of each service, in order
    at_slo: np.ndarray  # (S,) requests/min per task at the SLO, NaN: unknown
    confidence: list[str]  # high, medium or low
    trusted: np.ndarray  # (S,) bool: a capacity known with high confidence
    bands: list[pd.DataFrame]  # each service's slo_bands rows
    observed_over: pd.Series  # minutes of the input measured over the SLO, by service
    sizes: dict[str, TaskSize]
    region: str
    prices: Pricing
    start: pd.Timestamp  # the first minute replayed

    @staticmethod
    def of(
        metrics: pd.DataFrame,
        spec: DeploymentSpec,
        fitted: pd.DataFrame,
        known: pd.DataFrame,
        bands: pd.DataFrame,
        pricing: PricingSource,
    ) -> _Replay:
        """The replay of the spec's services that have metrics (``fitted``: their capacity table,
        ``known``: the capacity rows by service to use, ``bands``: their slo_bands)."""
        tasks = {task.name: task for task in spec.tasks}
        services = [service for service in extract_series(metrics)[1] if service in tasks]
        if not services:
            raise ValidationError("metrics", "no task of the spec has metrics in this frame")
        metrics = metrics[metrics["service"].isin(services)]
        fits = known.reindex(services)
        at_slo = fits["requests_per_task_at_slo"].to_numpy(dtype=float)
        confidence = [value if value in ("high", "medium") else "low" for value in fits["confidence"]]
        return _Replay(
            metrics=metrics,
            tasks={service: tasks[service] for service in services},
            load=service_load(metrics, services),
            fits=fits,
            at_slo=at_slo,
            confidence=confidence,
            trusted=(np.array(confidence) == "high") & np.isfinite(at_slo),
            bands=[bands[bands["service"] == service] for service in services],
            observed_over=fitted.set_index("service")["observed_minutes_over_slo"],
            sizes=task_sizes(spec),
            region=spec.region,
            prices=pricing_table(pricing),
            start=pd.Timestamp(metrics["timestamp"].min()),
        )

    @property
    def services(self) -> list[str]:
        """The services replayed: the spec's tasks that have metrics, in the frame's order."""
        return self.load.services

    @property
    def minutes(self) -> int:
        """How many minutes are replayed."""
        return self.load.total.shape[0]

    @property
    def allowed_over(self) -> float:
        """The most minutes a policy may leave over the SLO: 1 % of them."""
        return (1 - SLO_MINUTES) * self.minutes

    def outcome(self, policies: Mapping[str, Policy]) -> Outcome:
        """Every service replayed under its policy in ``policies``, judged and priced."""
        desired = {service: task.desired_count for service, task in self.tasks.items()}
        result = simulate_target_tracking(self.metrics, policies, desired)
        counts = result.tasks.pivot(index="timestamp", columns="service", values="tasks")[self.services]
        return judge(
            counts.to_numpy(), self.load, self.at_slo, self.bands, self.sizes, self.region, self.prices
        )


def _tightened(
    replay: _Replay, current: Mapping[str, Policy], slo: SLO, headroom: float, growth: float
) -> dict[str, tuple[Policy, float]]:
    """Per service, the policy of the first tightening factor (:data:`TIGHTENING`) whose replay keeps
    the SLO (else of the last), and that factor."""
    chosen: dict[str, tuple[Policy, float]] = {}
    for factor in TIGHTENING:
        candidate = {
            service: _candidate(replay, index, current[service], slo, headroom, growth, factor)
            for index, service in enumerate(replay.services)
        }
        over = replay.outcome(candidate).over
        for index, service in enumerate(replay.services):
            if service not in chosen and (over[index] <= replay.allowed_over or factor == TIGHTENING[-1]):
                chosen[service] = (candidate[service], factor)
        if len(chosen) == len(replay.services):
            break
    return chosen


def _candidate(
    replay: _Replay,
    index: int,
    current: Policy,
    slo: SLO,
    headroom: float,
    growth: float,
    factor: float,
) -> Policy:
    """Service ``index``'s policy at tightening ``factor``: with a trusted capacity its request and
    CPU targets from it, else the current ones; its capacity bounds from those targets."""
    policy = dict(current)
    share = replay.load.largest_share[index]
    if replay.trusted[index]:
        policy["request_per_target"] = request_target(replay.at_slo[index], share, headroom, factor)
        per_task = policy["request_per_target"] / share
        policy["target_cpu_utilization"] = cpu_target(
            replay.fits.iloc[index], per_task, slo, headroom, factor
        )
    known_well = replay.trusted[index] and replay.minutes >= FULL_WEEK  # enough to lower the ceiling
    floor = availability_floor(replay.tasks[replay.services[index]])
    low, high = capacity_bounds(
        policy, replay.load, index, floor, growth, None if known_well else current["max_capacity"]
    )
    return policy | {"min_capacity": low, "max_capacity": high}


@dataclass(frozen=True)
class _Choice:
    """What a service gets: its policy, the replay of all services under the policies chosen with
    it, whether it is the current policy kept, and the tightening factor tried for it."""

    policy: Policy
    outcome: Outcome
    kept_current: bool
    factor: float


def _row(
    replay: _Replay, index: int, current: Policy, current_outcome: Outcome, choice: _Choice, measured: bool
) -> dict[str, Any]:
    """Service ``index``'s row of the recommendation (``measured``: its capacity is a load test's)."""
    service, fit, at_slo = replay.services[index], replay.fits.iloc[index], replay.at_slo[index]
    policy, final = choice.policy, choice.outcome
    actions, saving, scheduled_cost = scheduled_actions(
        final, index, policy, replay.load, replay.start, replay.sizes[service], replay.region, replay.prices
    )
    judged = np.isfinite(at_slo)
    meets_slo = (
        bool(final.over[index] <= replay.allowed_over)
        if judged and replay.confidence[index] != "low"
        else None
    )
    command = loadtest_command(fit, replay.tasks[service].cpu)
    share = replay.load.largest_share[index]
    return {
        "service": service,
        "current_request_per_target": current["request_per_target"],
        **{name: policy[name] for name in POLICY_VALUES},
        "headroom": 1 - policy["request_per_target"] / (at_slo * share)
        if replay.trusted[index]
        else math.nan,
        "minutes_over_slo": int(final.over[index]) if judged else math.nan,
        "peak_tasks": int(final.peak[index]),
        "current_cost_per_month_usd": round(float(current_outcome.cost[index]), 2),
        "cost_per_month_usd": round(float(final.cost[index]), 2),
        "confidence": replay.confidence[index],
        "why": _why(replay, index, current, choice, command, meets_slo, measured),
        "meets_slo": meets_slo,
        "scheduled_actions": actions,
        "scheduled_cost_per_month_usd": scheduled_cost,
        "scheduled_saving_per_month_usd": saving,
        "current_target_cpu_utilization": current["target_cpu_utilization"],
        "current_min_capacity": current["min_capacity"],
        "current_max_capacity": current["max_capacity"],
        "current_minutes_over_slo": int(current_outcome.over[index]) if judged else math.nan,
        "requests_per_task_at_slo": at_slo,
        "limited_by": fit["limited_by"],
        "minutes": replay.minutes,
        "observed_minutes_over_slo": int(replay.observed_over.get(service, 0)),
        "capacity_low": fit["capacity_low"],
        "capacity_high": fit["capacity_high"],
        "extrapolated_by": fit["extrapolated_by"],
        "change_at": fit["change_at"],
        "loadtest_command": command,
    }


def _why(
    replay: _Replay,
    index: int,
    current: Policy,
    choice: _Choice,
    command: str,
    meets_slo: bool | None,
    measured: bool,
) -> str:
    """The ``why`` of service ``index``: the numbers behind its policy, then any floor raised, a
    missed SLO, and where its capacity came from."""
    fit, task = replay.fits.iloc[index], replay.tasks[replay.services[index]]
    sentence = why(
        fit, choice.policy, replay.load, index, choice.outcome, choice.kept_current, choice.factor, command
    )
    sentence += floor_note(choice.policy, current, task)
    if meets_slo is False:
        sentence += missed_note(choice.outcome, index)
    if measured:
        sentence += "; the capacity is the load test's (CPU targets from the SLO alone)"
    return sentence
