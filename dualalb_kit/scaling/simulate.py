"""Replay observed load through a model of ECS target tracking (Application Auto Scaling).

Input: a ``load_metrics`` frame, read as :mod:`dualalb_kit.scaling.series` describes.

The model (each choice below is one a reader could make differently; all are deliberate):

* **Policies.** As the dual-ALB construct configures them: one CPU policy per service
  (``ECSServiceAverageCPUUtilization``, target ``target_cpu_utilization``) and one request policy
  per target group (``ALBRequestCountPerTarget``, target ``request_per_target``), each target group
  with its own load. A ``None`` target disables that policy.
* **Replayed metric.** Added or removed tasks take their share at once (no start-up lag):
  requests per target = RequestCount / simulated tasks; CPU work = observed CPU x observed tasks,
  simulated CPU = work / simulated tasks (not capped at 100 %, so saturation reads as demand).
* **Alarms.** Per policy, as Application Auto Scaling creates them: the scale-out alarm is in ALARM
  after ``scale_out_datapoints`` (3) consecutive datapoints above target; the scale-in alarm after
  ``scale_in_datapoints`` (15) consecutive datapoints below ``scale_in_ratio`` (0.9) x target.
  While an alarm stays in ALARM the policy is invoked again every minute. A missing datapoint
  (NaN, insufficient data) neither breaks nor extends a run, and no action is taken that minute.
* **Adjustment.** Proportional: new capacity = ceil(capacity x metric / target), bounded by
  min/max capacity. Ratios are rounded to 9 decimals first so float noise does not add a task.
  A change decided at the end of minute t is in force from minute t+1.
* **Several policies.** Scale out if any policy's scale-out alarm fires (the largest demand wins);
  scale in only if every policy's scale-in alarm fires, to the largest remaining demand (the
  smallest reduction). A policy whose datapoint is missing that minute blocks scale-in; a policy
  with no datapoint in the whole frame counts as not configured.
* **Cooldowns** (seconds, default 300 as ECS sets them). Scale-in waits ``scale_in_cooldown``
  after a scale-in and ``scale_out_cooldown`` after a scale-out. A scale-out may happen during
  either cooldown and cancels a running scale-in cooldown. Application Auto Scaling lets a
  scale-out through its own cooldown only when it raises capacity further; with instant-effect
  tasks every triggered scale-out does, so the scale-out cooldown's effect here is on scale-in.
* **Capped minutes.** A minute is capped when the service runs at ``max_capacity`` and the tasks
  the policies would need to reach their targets (``required``) exceed it.

:meth:`SimulationResult.summary` and :meth:`SimulationResult.compare_mixes` price the simulated
counts (each service at its :class:`TaskSize`, via :mod:`dualalb_kit.cost`);
:func:`~dualalb_kit.scaling.simulate_grid` replays the same load under a grid of settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..cost import STANDARD_MIXES, Pricing, compare_mixes, cost_of, load_pricing
from ..errors import ValidationError
from .engine import capped_minutes, replay, required_tasks
from .series import extract_series, first_observed, observed_tasks, policy_loads
from .settings import POLICIES, POLICY_METRICS, Limits, field, limits, replay_settings

if TYPE_CHECKING:
    from ..spec import CapacitySpec, DeploymentSpec
    from .settings import DesiredCount, Scaling

ALL_ON_DEMAND = tuple(STANDARD_MIXES["all on-demand"])
PricingSource = Pricing | Mapping[str, Any] | str | Path | None
"""A price table, or what :func:`dualalb_kit.cost.load_pricing` reads one from (None: the packaged one)."""


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate_target_tracking` returns; every frame is tidy, times in UTC.

    ``tasks``: one row per minute and service: ``timestamp``, ``service``, ``tasks`` (simulated
    count in force that minute), ``observed_tasks`` (RunningTaskCount, else HealthyHostCount; NaN if
    neither), ``required`` (tasks the policies would need to meet every target; NaN without data),
    ``min_capacity``, ``max_capacity``, ``capped`` (bool).

    ``policy_metrics``: one row per minute, service and policy: ``timestamp``, ``service``,
    ``policy`` (``cpu``, ``requests:external``, ``requests:internal``), ``metric``
    (``CPUUtilization`` or ``RequestCountPerTarget``), ``value`` (the metric under the simulated
    count), ``target``.

    ``activities``: one row per scaling activity: ``timestamp`` (first minute of the new count),
    ``service``, ``from_tasks``, ``to_tasks``, ``direction`` (``out`` or ``in``).

    ``service``, ``policy``, ``metric`` and ``direction`` are categorical columns.

    ``synthetic``: True when the input frame said its data is generated (``attrs["synthetic"]``).
    """

    tasks: pd.DataFrame
    policy_metrics: pd.DataFrame
    activities: pd.DataFrame
    synthetic: bool = False

    @property
    def capped(self) -> pd.DataFrame:
        """The minutes where ``max_capacity`` held a service below what its policies asked for."""
        return self.tasks.loc[self.tasks["capped"]].reset_index(drop=True)

    def summary(
        self,
        sizes: Mapping[str, Any] | None = None,
        *,
        region: str = "us-east-1",
        pricing: PricingSource = None,
    ) -> pd.DataFrame:
        """Per service: what the simulated counts amount to, and with ``sizes`` what they cost.

        Index ``service``; columns ``task_hours``, ``peak_tasks``, ``capped_minutes``, ``scale_outs``,
        ``scale_ins``, and with ``sizes`` ``cost_usd``. ``sizes``: service -> :class:`TaskSize` (or an
        object or mapping with ``cpu``, ``memory`` and optional ``strategy``, default all FARGATE); each
        service's counts are priced with :func:`dualalb_kit.cost.cost_of` in ``region`` (default
        us-east-1) with ``pricing`` (default: the packaged price table).
        """
        per_service = self.tasks.groupby("service", sort=True, observed=False).agg(
            task_hours=("tasks", "sum"), peak_tasks=("tasks", "max"), capped_minutes=("capped", "sum")
        )
        per_service["task_hours"] = per_service["task_hours"] / 60.0
        per_service["capped_minutes"] = per_service["capped_minutes"].astype(int)
        for direction in ("out", "in"):
            moves = self.activities.loc[self.activities["direction"] == direction, "service"]
            per_service[f"scale_{direction}s"] = moves.value_counts().reindex(per_service.index, fill_value=0)
        if sizes is not None:
            prices = pricing_table(pricing)
            per_service["cost_usd"] = [
                cost_of(tasks, cpu, memory, strategy, region, prices)["cost"].sum()
                for tasks, cpu, memory, strategy in self._service_tasks(sizes)
            ]
        return per_service

    def compare_mixes(
        self,
        sizes: Mapping[str, Any],
        mixes: Mapping[str, Sequence[Any]] | None = None,
        *,
        region: str = "us-east-1",
        pricing: PricingSource = None,
    ) -> pd.DataFrame:
        """The simulated counts priced under each capacity-provider mix, all services together.

        Each service is priced at its own size (``sizes`` as in :meth:`summary`; their ``strategy``
        is replaced by each mix) with :func:`dualalb_kit.cost.compare_mixes` (``mixes`` default:
        ``STANDARD_MIXES``), then the services are summed. Columns as there: ``mix``,
        ``on_demand_tasks``, ``spot_tasks`` (mean running), ``on_demand_task_hours``,
        ``spot_task_hours``, ``on_demand_cost``, ``spot_cost``, ``cost`` (USD over the window),
        ``saving`` (fraction of the all-on-demand cost of all services saved). ``attrs``:
        ``region``, ``pricing_taken``, ``window_hours``.
        """
        prices = pricing_table(pricing)
        per_service, full_price = [], 0.0
        for tasks, cpu, memory, _ in self._service_tasks(sizes):
            per_service.append(compare_mixes(tasks, cpu, memory, mixes, region, prices))
            full_price += cost_of(tasks, cpu, memory, ALL_ON_DEMAND, region, prices)["cost"].sum()
        table = pd.concat(per_service).drop(columns="saving").groupby("mix", sort=False).sum().reset_index()
        table["saving"] = 1.0 - table["cost"] / full_price if full_price > 0 else 0.0
        window_hours = self.tasks["timestamp"].nunique() / 60.0
        table.attrs = {"region": region, "pricing_taken": prices.taken, "window_hours": window_hours}
        return table

    def _service_tasks(self, sizes: Mapping[str, Any]) -> list[tuple[pd.DataFrame, int, int, Sequence[Any]]]:
        """Per simulated service, in order: its task rows, ``cpu``, ``memory`` and ``strategy``."""
        return [
            (tasks, *size_of(sizes, service))
            for service, tasks in self.tasks.groupby("service", sort=True, observed=False)
        ]


@dataclass(frozen=True)
class TaskSize:
    """What one task of a service is billed for.

    ``cpu`` units (1024 = 1 vCPU), ``memory`` MiB, and the capacity-provider ``strategy`` its tasks
    are placed under (CapacitySpec-like items, as :func:`dualalb_kit.cost.split_tasks` takes them;
    default all FARGATE).
    """

    cpu: int
    memory: int
    strategy: tuple[CapacitySpec | Mapping[str, Any], ...] = ALL_ON_DEMAND


def size_of(sizes: Mapping[str, Any], service: str) -> tuple[int, int, Sequence[Any]]:
    """A service's ``cpu``, ``memory`` and ``strategy`` (default all FARGATE) from ``sizes``."""
    if service not in sizes:
        raise ValidationError(f"sizes.{service}", "no task size for this service")
    size = sizes[service]
    return field(size, "cpu"), field(size, "memory"), field(size, "strategy") or ALL_ON_DEMAND


def task_sizes(spec: DeploymentSpec) -> dict[str, TaskSize]:
    """Task name -> :class:`TaskSize` for a DeploymentSpec: each task's size and effective capacity mix."""
    return {
        task.name: TaskSize(task.cpu, task.memory, tuple(task.capacity_strategy(spec.spot)))
        for task in spec.tasks
    }


def policies_from_spec(spec: DeploymentSpec) -> dict[str, dict[str, Any]]:
    """A DeploymentSpec's scaling policies as keyword arguments of :func:`simulate_target_tracking`
    and :func:`simulate_grid`: ``scaling`` (task name -> its ScalingSpec) and ``desired_count``
    (task name -> its desired count)."""
    return {
        "scaling": {task.name: task.scaling for task in spec.tasks},
        "desired_count": {task.name: task.desired_count for task in spec.tasks},
    }


def simulate_target_tracking(
    metrics: pd.DataFrame,
    scaling: Scaling,
    desired_count: DesiredCount = None,
    min_capacity: int = 1,
    *,
    scale_out_cooldown: float = 300,
    scale_in_cooldown: float = 300,
    scale_out_datapoints: int = 3,
    scale_in_datapoints: int = 15,
    scale_in_ratio: float = 0.9,
) -> SimulationResult:
    """Replay ``metrics`` through target tracking under ``scaling`` (see the module docstring).

    ``scaling`` is one ScalingSpec-like object for every service (attributes or keys
    ``max_capacity``, ``request_per_target``, ``target_cpu_utilization``, optional ``min_capacity``)
    or a mapping service -> such object. ``desired_count`` (int or mapping service -> int) is the
    count at the first minute; None (default) starts from the observed count, else min capacity.
    ``min_capacity`` (default 1) applies where the scaling object has none. Cooldowns are in
    seconds (default 300); the alarm settings default to Application Auto Scaling's 3 and 15
    datapoints and 90 % of target. Needs 1-minute datapoints.
    """
    settings = replay_settings(
        scale_out_cooldown=scale_out_cooldown,
        scale_in_cooldown=scale_in_cooldown,
        scale_out_datapoints=scale_out_datapoints,
        scale_in_datapoints=scale_in_datapoints,
        scale_in_ratio=scale_in_ratio,
    )
    grid, services, series = extract_series(metrics)
    limits_of = limits(services, scaling, desired_count, min_capacity)
    observed = observed_tasks(series, len(grid), len(services))
    loads = policy_loads(series, observed)
    demand = np.round(loads / limits_of.targets[None, :, :], 9)  # (T, K, S): tasks each policy needs
    initial = limits_of.initial(first_observed(observed))
    capacity = replay(demand, initial, limits_of.min_capacity, limits_of.max_capacity, **settings)
    return SimulationResult(
        tasks=_tasks_frame(grid, services, capacity, observed, required_tasks(demand), limits_of),
        policy_metrics=_policy_frame(grid, services, loads, capacity, limits_of.targets),
        activities=_activities_frame(grid, services, capacity),
        synthetic=bool(metrics.attrs.get("synthetic", False)),
    )


def pricing_table(pricing: PricingSource) -> Pricing:
    """``pricing`` as a price table (loaded with :func:`dualalb_kit.cost.load_pricing` unless it is one)."""
    return pricing if isinstance(pricing, Pricing) else load_pricing(pricing)


def _labels(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    """A categorical column: the result frames have millions of rows and few distinct labels."""
    return pd.Categorical.from_codes(codes, categories=list(categories))


def _tasks_frame(
    grid: pd.DatetimeIndex,
    services: list[str],
    capacity: np.ndarray,
    observed: np.ndarray,
    needed: np.ndarray,
    limits_of: Limits,
) -> pd.DataFrame:
    """:attr:`SimulationResult.tasks` from the (T, S) counts, observed counts and required tasks."""
    minutes, n_services = capacity.shape
    return pd.DataFrame(
        {
            "timestamp": grid.repeat(n_services),
            "service": _labels(np.tile(np.arange(n_services), minutes), services),
            "tasks": capacity.ravel(),
            "observed_tasks": observed.ravel(),
            "required": needed.ravel(),
            "min_capacity": np.broadcast_to(limits_of.min_capacity, capacity.shape).ravel(),
            "max_capacity": np.broadcast_to(limits_of.max_capacity, capacity.shape).ravel(),
            "capped": capped_minutes(capacity, needed, limits_of.max_capacity).ravel(),
        }
    )


def _policy_frame(
    grid: pd.DatetimeIndex, services: list[str], loads: np.ndarray, capacity: np.ndarray, targets: np.ndarray
) -> pd.DataFrame:
    """:attr:`SimulationResult.policy_metrics`: each enabled policy's metric under the simulated count."""
    minutes = loads.shape[0]
    with np.errstate(all="ignore"):
        values = loads / np.where(capacity > 0, capacity, np.nan)[:, None, :]
    enabled = ~np.all(np.isnan(loads), axis=0) & ~np.isnan(targets)  # (K, S)
    policy_index, service_index = np.nonzero(enabled)
    metric_names = sorted(set(POLICY_METRICS))
    metric_index = np.array([metric_names.index(name) for name in POLICY_METRICS])[policy_index]
    return pd.DataFrame(
        {
            "timestamp": grid.repeat(len(policy_index)),
            "service": _labels(np.tile(service_index, minutes), services),
            "policy": _labels(np.tile(policy_index, minutes), POLICIES),
            "metric": _labels(np.tile(metric_index, minutes), metric_names),
            "value": values[:, policy_index, service_index].ravel(),
            "target": np.tile(targets[policy_index, service_index], minutes),
        }
    )


def _activities_frame(grid: pd.DatetimeIndex, services: list[str], capacity: np.ndarray) -> pd.DataFrame:
    """:attr:`SimulationResult.activities`. Row-major nonzero keeps the rows in time order, services
    sorted within a minute."""
    minute_index, service_index = np.nonzero(np.diff(capacity, axis=0))
    before = capacity[minute_index, service_index]
    after = capacity[minute_index + 1, service_index]
    return pd.DataFrame(
        {
            "timestamp": grid[minute_index + 1],
            "service": _labels(service_index, services),
            "from_tasks": before,
            "to_tasks": after,
            "direction": _labels((after < before).astype(np.int8), ["out", "in"]),
        }
    )
