"""Replay observed load through a model of ECS target tracking (Application Auto Scaling).

Input: the tidy metrics frame that ``dualalb_kit.metrics.load_metrics`` returns, one row per
datapoint, with these columns:

``timestamp``
    start of the period, tz-aware UTC.
``service``
    the task name from the spec.
``alb``
    ``"external"`` or ``"internal"`` for AWS/ApplicationELB target-group metrics, None for ECS metrics.
``metric``, ``stat``
    CloudWatch metric name and statistic, e.g. ``RequestCount``/``Sum``, ``CPUUtilization``/``Average``.
``value``
    float; NaN where CloudWatch had no datapoint (missing is never zero).

The simulator reads four of those series, at 1-minute periods:

* ``RequestCount`` (Sum) per service and ALB: the request load of each target group;
* ``CPUUtilization`` (Average, alb None): the service's average CPU;
* ``RunningTaskCount`` (Average, alb None, Container Insights) or else ``HealthyHostCount``
  (Minimum as ``load_metrics`` loads it, else Average; the larger over the service's ALBs): how
  many tasks did that CPU work.

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

On top of the replay: :meth:`SimulationResult.summary` and :meth:`SimulationResult.compare_mixes`
price the simulated counts (each service at its :class:`TaskSize`, via :mod:`dualalb_kit.cost`),
:func:`simulate_grid` replays the same load under a grid of ``request_per_target`` x
``max_capacity``, and :func:`recommend` picks the grid point to suggest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cost import STANDARD_MIXES, Pricing, compare_mixes, cost_of, load_pricing
from .errors import ValidationError
from .validation import SIDES as ALBS

MINUTE = pd.Timedelta(minutes=1)
POLICIES = ("cpu", "requests:external", "requests:internal")
POLICY_METRICS = ("CPUUtilization", "RequestCountPerTarget", "RequestCountPerTarget")
ALL_ON_DEMAND = tuple(STANDARD_MIXES["all on-demand"])
_MINUTE_NS = 60_000_000_000
_SERIES = (  # (metric, stat, alb) the replay reads
    ("RequestCount", "Sum", "external"),
    ("RequestCount", "Sum", "internal"),
    ("CPUUtilization", "Average", None),
    ("RunningTaskCount", "Average", None),
    ("HealthyHostCount", "Minimum", "external"),  # what load_metrics loads
    ("HealthyHostCount", "Minimum", "internal"),
    ("HealthyHostCount", "Average", "external"),
    ("HealthyHostCount", "Average", "internal"),
)


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
        pricing: Pricing | Mapping[str, Any] | str | Path | None = None,
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
            prices = _pricing(pricing)
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
        pricing: Pricing | Mapping[str, Any] | str | Path | None = None,
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
        prices = _pricing(pricing)
        per_service, full_price = [], 0.0
        for tasks, cpu, memory, _ in self._service_tasks(sizes):
            per_service.append(compare_mixes(tasks, cpu, memory, mixes, region, prices))
            full_price += cost_of(tasks, cpu, memory, ALL_ON_DEMAND, region, prices)["cost"].sum()
        table = pd.concat(per_service).drop(columns="saving").groupby("mix", sort=False).sum().reset_index()
        table["saving"] = 1.0 - table["cost"] / full_price if full_price > 0 else 0.0
        window_hours = self.tasks["timestamp"].nunique() / 60.0
        table.attrs = {"region": region, "pricing_taken": prices.taken, "window_hours": window_hours}
        return table

    def _service_tasks(self, sizes: Mapping[str, Any]) -> list[tuple[pd.DataFrame, int, int, Any]]:
        """Per simulated service, in order: its task rows, ``cpu``, ``memory`` and ``strategy``."""
        return [
            (tasks, *_size(sizes, service))
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
    strategy: tuple[Any, ...] = ALL_ON_DEMAND


def _size(sizes: Mapping[str, Any], service: str) -> tuple[int, int, Any]:
    """A service's ``cpu``, ``memory`` and ``strategy`` (default all FARGATE) from ``sizes``."""
    if service not in sizes:
        raise ValidationError(f"sizes.{service}", "no task size for this service")
    size = sizes[service]
    return _field(size, "cpu"), _field(size, "memory"), _field(size, "strategy") or ALL_ON_DEMAND


def task_sizes(spec: Any) -> dict[str, TaskSize]:
    """Task name -> :class:`TaskSize` for a DeploymentSpec: each task's size and effective capacity mix."""
    return {
        task.name: TaskSize(task.cpu, task.memory, tuple(task.capacity_strategy(spec.spot)))
        for task in spec.tasks
    }


def policies_from_spec(spec: Any) -> dict[str, dict[str, Any]]:
    """A DeploymentSpec's scaling policies as keyword arguments of :func:`simulate_target_tracking`
    and :func:`simulate_grid`: ``scaling`` (task name -> its ScalingSpec) and ``desired_count``
    (task name -> its desired count)."""
    return {
        "scaling": {task.name: task.scaling for task in spec.tasks},
        "desired_count": {task.name: task.desired_count for task in spec.tasks},
    }


@dataclass(frozen=True)
class _Limits:
    """Per-service settings as arrays over the services axis."""

    min_capacity: np.ndarray  # (S,) int
    max_capacity: np.ndarray  # (S,) int
    targets: np.ndarray  # (K, S) float, NaN where the policy is disabled
    desired: np.ndarray  # (S,) float, NaN = start from the observed count

    @staticmethod
    def stack(limits: Sequence[_Limits]) -> _Limits:
        """Several settings of the same services side by side on one services axis."""
        return _Limits(
            np.concatenate([each.min_capacity for each in limits]),
            np.concatenate([each.max_capacity for each in limits]),
            np.concatenate([each.targets for each in limits], axis=1),
            np.concatenate([each.desired for each in limits]),
        )


def simulate_target_tracking(
    metrics: pd.DataFrame,
    scaling: Any,
    desired_count: int | Mapping[str, int] | None = None,
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
    settings = _replay_settings(
        scale_out_cooldown=scale_out_cooldown,
        scale_in_cooldown=scale_in_cooldown,
        scale_out_datapoints=scale_out_datapoints,
        scale_in_datapoints=scale_in_datapoints,
        scale_in_ratio=scale_in_ratio,
    )
    grid, services, series = _extract_series(metrics)
    limits = _limits(services, scaling, desired_count, min_capacity)
    observed = _observed_tasks(series, len(grid), len(services))
    loads = _policy_loads(series, observed, len(grid), len(services))
    demand = np.round(loads / limits.targets[None, :, :], 9)  # (T, K, S): tasks each policy needs
    initial = _initial(limits, _first_observed(observed))
    capacity = replay(demand, initial, limits.min_capacity, limits.max_capacity, **settings)
    tasks = _tasks_frame(grid, services, capacity, observed, _required(demand), limits)
    return SimulationResult(
        tasks=tasks,
        policy_metrics=_policy_frame(grid, services, loads, capacity, limits.targets),
        activities=_activities_frame(grid, services, capacity),
        synthetic=bool(metrics.attrs.get("synthetic", False)),
    )


GRID = ("request_per_target", "max_capacity")
"""The settings :func:`simulate_grid` varies, in the order of its columns."""


def simulate_grid(
    metrics: pd.DataFrame,
    scaling: Any,
    request_per_target: Sequence[float | None],
    max_capacity: Sequence[int],
    desired_count: int | Mapping[str, int] | None = None,
    min_capacity: int = 1,
    *,
    sizes: Mapping[str, Any] | None = None,
    region: str = "us-east-1",
    pricing: Pricing | Mapping[str, Any] | str | Path | None = None,
    client: Any = None,
    **options: Any,
) -> pd.DataFrame:
    """What-if: replay ``metrics`` once per combination of ``request_per_target`` x ``max_capacity``.

    At each grid point every service gets that request target (None disables the request policies)
    and that max capacity; its CPU target stays as in ``scaling``, its min capacity is lowered to the
    max capacity where it was above. ``scaling``, ``desired_count`` and ``min_capacity`` are as in
    :func:`simulate_target_tracking` (a desired count above a grid point's max starts at the max);
    ``options`` go to it unchanged (cooldowns, alarm datapoints). ``sizes``, ``region`` and
    ``pricing`` as in :meth:`SimulationResult.summary`. With ``client`` (a
    ``dask.distributed.Client``) the services are partitioned across its cluster and only the
    summary rows come back (:func:`dualalb_kit.fleet.map_services`); the same rows, in the same
    order, when the services share one time window.

    The grid points are replayed together, in one pass over the minutes, from series read once;
    besides the frame and the series this holds the task counts of every service at every grid
    point (8 bytes each per minute), so split a fleet that does not fit (``client``).

    Returns a tidy frame, one row per grid point and service: ``request_per_target``,
    ``max_capacity``, ``service``, then the columns of :meth:`SimulationResult.summary`
    (``task_hours``, ``peak_tasks``, ``capped_minutes``, ``scale_outs``, ``scale_ins``, and
    ``cost_usd`` with ``sizes``).
    """
    for name, values in zip(GRID, (request_per_target, max_capacity), strict=True):
        if isinstance(values, (str, int, float)) or not len(values):
            raise ValidationError(name, "give a list of values to try")
    if client is not None:
        from .fleet import map_services

        grid_point = (scaling, request_per_target, max_capacity, desired_count, min_capacity)
        pricing_options = {"sizes": sizes, "region": region, "pricing": pricing}
        return map_services(
            client, metrics, simulate_grid, *grid_point, keep_order_of=GRID, **pricing_options, **options
        )
    # Every grid point replays the same load, so the series are read once and the grid points sit
    # side by side on the replay's service axis (column g * S + s: service s at grid point g): one
    # pass over the minutes for the whole grid. Only the task counts are kept, not the result frames.
    settings = _replay_settings(**options)
    prices = _pricing(pricing) if sizes is not None else None
    minute_grid, services, series = _extract_series(metrics)
    minutes = len(minute_grid)
    observed = _observed_tasks(series, minutes, len(services))
    loads = _policy_loads(series, observed, minutes, len(services))
    points = [(target, capacity) for target in request_per_target for capacity in max_capacity]
    at_points = [_at_grid_point(scaling, target, capacity, min_capacity) for target, capacity in points]
    limits = _Limits.stack([_limits(services, each, desired_count, min_capacity) for each in at_points])
    costed = [_size(sizes, service) for service in services] if sizes is not None else []
    column_service = np.tile(np.arange(len(services)), len(points))

    def demand_of(rows: slice) -> np.ndarray:
        return np.round(loads[rows][:, :, column_service] / limits.targets[None, :, :], 9)

    counts = np.empty((minutes, len(column_service)), dtype=np.int64)
    capped = np.zeros(len(column_service), dtype=np.int64)
    initial = _initial(limits, _first_observed(observed)[column_service])
    for rows, demand in _replay_blocks(
        demand_of, minutes, initial, limits.min_capacity, limits.max_capacity, counts, **settings
    ):
        capped += _capped(counts[rows], _required(demand), limits.max_capacity).sum(axis=0)
    frames = []
    for index, (target, capacity) in enumerate(points):
        columns = slice(index * len(services), (index + 1) * len(services))
        summary = _count_summary(services, counts[:, columns], capped[columns])
        if sizes is not None:
            summary["cost_usd"] = [
                cost_of(counts[:, column], cpu, memory, strategy, region, prices)["cost"].sum()
                for column, (cpu, memory, strategy) in zip(
                    range(columns.start, columns.stop), costed, strict=True
                )
            ]
        frames.append(summary.assign(request_per_target=target, max_capacity=capacity))
    grid = pd.concat(frames, ignore_index=True)
    grid["service"] = grid["service"].astype(str)
    return grid[[*GRID, *(column for column in grid.columns if column not in GRID)]]


def grid_totals(grid: pd.DataFrame) -> pd.DataFrame:
    """All services together, one row per grid point of a :func:`simulate_grid` frame.

    Columns: ``request_per_target``, ``max_capacity``, and the sums over services of every other
    numeric column (``task_hours``, ``peak_tasks``: the sum of each service's peak, an upper bound on
    the tasks running at once, ``capped_minutes``, ``scale_outs``, ``scale_ins``, ``cost_usd``).
    """
    return grid.drop(columns="service").groupby(list(GRID), sort=False, dropna=False).sum().reset_index()


def recommend(
    grid: pd.DataFrame, current: pd.DataFrame | None = None, mixes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The grid's cheapest uncapped point, next to the current policy and the cheapest mix.

    Knows nothing of what a task can serve: with no capped minutes the cheapest point is always the
    one that packs the most requests into the fewest tasks. For a policy to deploy use
    :func:`recommend_policies`, which fits each service's capacity and keeps an SLO.

    The best grid point of a :func:`simulate_grid` frame is the one with the fewest capped minutes
    (all services together), then the lowest ``cost_usd`` (``task_hours`` without costs), then the
    smaller max capacity. ``current`` (optional) is the current policy's
    :meth:`SimulationResult.summary`; ``mixes`` (optional) is a :meth:`SimulationResult.compare_mixes`
    table. One row per setting: ``setting`` (``current policy``, ``recommended``, ``cheapest spot
    mix``), ``request_per_target``, ``max_capacity``, ``capped_minutes``, ``cost_usd`` (rounded to
    cents; NaN without costs), ``note``. Cells that do not apply are empty strings.
    """
    totals = grid_totals(grid)
    price = "cost_usd" if "cost_usd" in totals else "task_hours"
    ranked = totals.sort_values(["capped_minutes", price, "max_capacity"], kind="stable")
    best = ranked.head(1).to_dict("records")[0]
    rows = []
    if current is not None:
        current_totals = current.sum(numeric_only=True).to_dict()
        rows.append(_setting("current policy", "per task", "per task", current_totals, ""))
    note = f"fewest capped minutes, then lowest {'cost' if price == 'cost_usd' else 'task-hours'}"
    rows.append(_setting("recommended", best["request_per_target"], best["max_capacity"], best, note))
    if mixes is not None:
        cheapest = mixes.loc[mixes["cost"].idxmin()]
        rows.append(_setting("cheapest spot mix", "", "", {"cost_usd": cheapest["cost"]}, cheapest["mix"]))
    return pd.DataFrame(rows)


def _setting(
    name: str, request_per_target: Any, max_capacity: Any, totals: Mapping[str, Any], note: str
) -> dict:
    """One row of the recommendation table."""
    return {
        "setting": name,
        "request_per_target": request_per_target,
        "max_capacity": max_capacity,
        "capped_minutes": int(totals["capped_minutes"]) if "capped_minutes" in totals else "",
        "cost_usd": round(float(totals["cost_usd"]), 2) if "cost_usd" in totals else math.nan,
        "note": note,
    }


def _at_grid_point(
    scaling: Any, request_per_target: float | None, max_capacity: int, min_capacity: int
) -> Any:
    """``scaling`` with every service's request target and max capacity replaced."""

    def changed(settings: Any) -> dict[str, Any]:
        return {
            "target_cpu_utilization": _field(settings, "target_cpu_utilization"),
            "request_per_target": request_per_target,
            "max_capacity": max_capacity,
            "min_capacity": min(_field(settings, "min_capacity", min_capacity), max_capacity),
        }

    if _per_service(scaling):
        return {service: changed(settings) for service, settings in scaling.items()}
    return changed(scaling)


def _pricing(pricing: Pricing | Mapping[str, Any] | str | Path | None) -> Pricing:
    return pricing if isinstance(pricing, Pricing) else load_pricing(pricing)


def replay(
    demand: np.ndarray,
    initial: np.ndarray,
    min_capacity: np.ndarray,
    max_capacity: np.ndarray,
    *,
    scale_out_cooldown_minutes: float = 5.0,
    scale_in_cooldown_minutes: float = 5.0,
    scale_out_datapoints: int = 3,
    scale_in_datapoints: int = 15,
    scale_in_ratio: float = 0.9,
) -> np.ndarray:
    """The simulator's core on arrays: returns the task count in force each minute, shape (T, S).

    ``demand[t, k, s]`` is load / target of policy k of service s in minute t: the (fractional) task
    count that would put that policy exactly on target; NaN for missing data or a disabled policy.
    A policy's metric is above target when demand > capacity, below the scale-in threshold when
    demand < ratio x capacity, and its proportional new capacity is ceil(demand). One loop over
    minutes; every step works on all policies and services at once.
    """
    capacity = np.empty((demand.shape[0], demand.shape[2]), dtype=np.int64)
    blocks = _replay_blocks(
        demand.__getitem__,
        demand.shape[0],
        initial,
        min_capacity,
        max_capacity,
        capacity,
        scale_out_cooldown_minutes=scale_out_cooldown_minutes,
        scale_in_cooldown_minutes=scale_in_cooldown_minutes,
        scale_out_datapoints=scale_out_datapoints,
        scale_in_datapoints=scale_in_datapoints,
        scale_in_ratio=scale_in_ratio,
    )
    for _ in blocks:  # each block fills its minutes of capacity
        pass
    return capacity


BLOCK_MINUTES = 1440
"""Minutes the replay prepares its per-minute arrays for at a time, so that they stay a day long
whatever the window (the demand itself may come block by block too, see :func:`simulate_grid`)."""


def _replay_blocks(
    demand_of: Callable[[slice], np.ndarray],
    minutes: int,
    initial: np.ndarray,
    min_capacity: np.ndarray,
    max_capacity: np.ndarray,
    capacity: np.ndarray,
    *,
    scale_out_cooldown_minutes: float,
    scale_in_cooldown_minutes: float,
    scale_out_datapoints: int,
    scale_in_datapoints: int,
    scale_in_ratio: float,
) -> Iterator[tuple[slice, np.ndarray]]:
    """:func:`replay` over ``minutes``, ``BLOCK_MINUTES`` at a time: ``demand_of(rows)`` gives the
    demand of a slice of minutes, (rows, K, S); the counts go into ``capacity`` (T, S), and each
    block is yielded, as ``(rows, its demand)``, once its counts are there."""
    n_services = capacity.shape[1]
    present = _present(demand_of, minutes)  # (K, S): policy configured, with data somewhere
    # A service without any policy gets an unreachable scale-in target so it never scales in.
    without_policy = ~present.any(axis=0)
    out_run = np.zeros(present.shape, dtype=np.int64)
    # Absent policies start with a scale-in run that always counts.
    in_run = np.where(present, 0, scale_in_datapoints).astype(np.int64)
    current = initial.astype(np.int64).copy()
    scale_in_allowed_from = np.full(n_services, -np.inf)
    for start in range(0, minutes, BLOCK_MINUTES):
        rows = slice(start, min(start + BLOCK_MINUTES, minutes))
        demand = demand_of(rows)
        valid = ~np.isnan(demand)
        wanted = np.ceil(np.nan_to_num(demand, nan=0.0)).astype(np.int64)
        # Scale-in target per minute: the largest remaining demand, at least min capacity.
        in_to_all = np.maximum(wanted.max(axis=1), min_capacity)
        in_to_all[:, without_policy] = np.iinfo(np.int64).max
        # A policy without data in the whole frame never blocks the all-agree rule; one missing a
        # datapoint blocks it that minute.
        counts_for_scale_in = valid | ~present
        # In place: a step is some 25 small array operations, and they, not the arithmetic, are the cost.
        for offset, minute in enumerate(range(rows.start, rows.stop)):
            capacity[minute] = current
            ratio, here = demand[offset], valid[offset]
            # A missing datapoint (here False) leaves a policy's runs as they are.
            np.add(out_run, 1, out=out_run, where=here)
            np.multiply(out_run, ratio > current, out=out_run, where=here)
            np.add(in_run, 1, out=in_run, where=here)
            np.multiply(in_run, ratio < scale_in_ratio * current, out=in_run, where=here)
            out_wanted = (out_run >= scale_out_datapoints) * wanted[offset]
            out_to = np.minimum(out_wanted.max(axis=0), max_capacity)
            grow = out_to > current
            in_to = in_to_all[offset]
            shrink = (
                ((in_run >= scale_in_datapoints) & counts_for_scale_in[offset]).all(axis=0)
                & (in_to < current)
                & (minute >= scale_in_allowed_from)
            )
            # A scale-out wins over a scale-in decided the same minute.
            np.copyto(current, in_to, where=shrink)
            np.copyto(scale_in_allowed_from, minute + scale_in_cooldown_minutes, where=shrink)
            np.copyto(current, out_to, where=grow)
            np.copyto(scale_in_allowed_from, minute + scale_out_cooldown_minutes, where=grow)
        yield rows, demand


def _present(demand_of: Callable[[slice], np.ndarray], minutes: int) -> np.ndarray:
    """(K, S): whether each policy of each service has a datapoint anywhere in the minutes."""
    present = np.zeros(demand_of(slice(0, 0)).shape[1:], dtype=bool)
    for start in range(0, minutes, BLOCK_MINUTES):
        present |= ~np.isnan(demand_of(slice(start, start + BLOCK_MINUTES))).all(axis=0)
    return present


def _replay_settings(
    *,
    scale_out_cooldown: float = 300,
    scale_in_cooldown: float = 300,
    scale_out_datapoints: int = 3,
    scale_in_datapoints: int = 15,
    scale_in_ratio: float = 0.9,
) -> dict[str, Any]:
    """:func:`simulate_target_tracking`'s alarm and cooldown options, checked, as :func:`replay`
    takes them."""
    for name, datapoints in (
        ("scale_out_datapoints", scale_out_datapoints),
        ("scale_in_datapoints", scale_in_datapoints),
    ):
        if datapoints < 1:
            raise ValidationError(name, f"{datapoints}: an alarm needs at least 1 datapoint")
    if not 0 < scale_in_ratio <= 1:
        raise ValidationError("scale_in_ratio", f"{scale_in_ratio} is not in (0, 1]")
    return {
        "scale_out_cooldown_minutes": scale_out_cooldown / 60.0,
        "scale_in_cooldown_minutes": scale_in_cooldown / 60.0,
        "scale_out_datapoints": scale_out_datapoints,
        "scale_in_datapoints": scale_in_datapoints,
        "scale_in_ratio": scale_in_ratio,
    }


def _initial(limits: _Limits, first_observed: np.ndarray) -> np.ndarray:
    """Each service's count at the first minute: its desired count, else its first observed one
    (else 0), within its min and max capacity."""
    initial = np.where(np.isnan(limits.desired), first_observed, limits.desired)
    return np.clip(np.nan_to_num(initial, nan=0), limits.min_capacity, limits.max_capacity)


def _required(demand: np.ndarray) -> np.ndarray:
    """(T, S): the tasks the policies would need to meet every target; NaN without data."""
    with np.errstate(all="ignore"):
        required = np.ceil(np.nanmax(np.where(np.isnan(demand), -np.inf, demand), axis=1))
    required[np.isinf(required)] = np.nan
    return required


def _capped(capacity: np.ndarray, required: np.ndarray, max_capacity: np.ndarray) -> np.ndarray:
    """(T, S): minutes at max capacity that needed more."""
    return (capacity == max_capacity) & (required > max_capacity)


def _count_summary(services: list[str], counts: np.ndarray, capped: np.ndarray) -> pd.DataFrame:
    """The columns of :meth:`SimulationResult.summary` without costs, from the (T, S) counts and the
    capped minutes per service, with ``service`` as a column."""
    moves = np.diff(counts, axis=0)
    return pd.DataFrame(
        {
            "service": services,
            "task_hours": counts.sum(axis=0) / 60.0,
            "peak_tasks": counts.max(axis=0),
            "capped_minutes": capped,
            "scale_outs": (moves > 0).sum(axis=0),
            "scale_ins": (moves < 0).sum(axis=0),
        }
    )


ROWS_AT_ONCE = 1 << 20
"""Rows of the metrics frame :func:`_extract_series` reads at a time, so that its working arrays stay
this long (a few MiB each) however long the frame is."""


def _extract_series(metrics: pd.DataFrame) -> tuple[pd.DatetimeIndex, list[str], dict]:
    """The minute grid, the services, and each of ``_SERIES`` present as a (T, S) array of values.

    Works on NumPy arrays and label codes (no groupby), ``ROWS_AT_ONCE`` rows at a time: plain
    string columns are fine, categorical ones are faster still. Rows without a service are ignored.
    """
    missing = {"timestamp", "service", "alb", "metric", "stat", "value"} - set(metrics.columns)
    if missing:
        raise ValidationError("metrics", f"missing columns: {', '.join(sorted(missing))}")
    metric_names = sorted({key[0] for key in _SERIES})
    stat_names = sorted({key[1] for key in _SERIES})
    metric_code = _label_codes(metrics["metric"], metric_names)
    chunks = [slice(start, start + ROWS_AT_ONCE) for start in range(0, len(metrics), ROWS_AT_ONCE)]
    service_of, services = _service_codes(metrics["service"], metric_code >= 0, chunks)
    if not len(services):
        raise ValidationError("metrics", f"no {', '.join(metric_names)} datapoints to replay")
    stamps = pd.DatetimeIndex(metrics["timestamp"])
    if stamps.tz is None:
        raise ValidationError("metrics.timestamp", "timestamps must be tz-aware UTC")

    def replayed(rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions (in the frame) of the rows to replay among ``rows``, their service indexes and
        their timestamps in nanoseconds."""
        service = service_of(rows)
        keep = np.flatnonzero((metric_code[rows] >= 0) & (service >= 0))
        return keep + rows.start, service[keep], stamps[rows].as_unit("ns").asi8[keep]

    bounds = [(int(ns.min()), int(ns.max())) for _, _, ns in map(replayed, chunks) if len(ns)]
    start, stop = min(low for low, _ in bounds), max(high for _, high in bounds)
    minutes = (stop - start) // _MINUTE_NS + 1
    stat_code = _label_codes(metrics["stat"], stat_names)
    alb_code = _label_codes(metrics["alb"], ALBS)
    values = metrics["value"].to_numpy(dtype=float)
    series: dict = {}
    step = 0
    for rows in chunks:
        positions, service, nanoseconds = replayed(rows)
        if np.any((nanoseconds - start) % _MINUTE_NS):
            raise ValidationError(
                "metrics.timestamp", "the simulator replays 1-minute datapoints (period=60)"
            )
        minute_index = (nanoseconds - start) // _MINUTE_NS
        step = int(np.gcd.reduce(minute_index, initial=step))
        metric_here, stat_here, alb_here = metric_code[positions], stat_code[positions], alb_code[positions]
        for metric, stat, alb in _SERIES:
            match = (metric_here == metric_names.index(metric)) & (stat_here == stat_names.index(stat))
            if alb is not None:
                match &= alb_here == ALBS.index(alb)
            found = np.flatnonzero(match)
            if len(found):
                array = series.setdefault((metric, stat, alb), np.full((minutes, len(services)), np.nan))
                array[minute_index[found], service[found]] = values[positions[found]]
    if step > 1:
        raise ValidationError(
            "metrics.timestamp", f"datapoints are {step} minutes apart; load them with period=60"
        )
    grid = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=minutes, freq=MINUTE)
    return grid, [str(name) for name in services], {key: series[key] for key in _SERIES if key in series}


def _service_codes(
    column: pd.Series, wanted: np.ndarray, chunks: list[slice]
) -> tuple[Callable[[slice], np.ndarray], np.ndarray]:
    """The distinct services of the rows where ``wanted`` is True, sorted, and a function that gives
    for a slice of rows each row's index into them (-1 for a row without one of those services).
    A categorical column is read by its codes, any other is factorized once."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, names = column.cat.codes.to_numpy(), column.cat.categories.to_numpy()
    else:
        codes, uniques = pd.factorize(column)
        names = np.asarray(uniques, dtype=object)
    seen = np.zeros(len(names) + 1, dtype=bool)  # the last entry is code -1's
    for rows in chunks:
        seen[codes[rows][wanted[rows]]] = True
    used = np.flatnonzero(seen[:-1])
    order = np.argsort(names[used], kind="stable")
    lookup = np.full(len(names) + 1, -1, dtype=np.int64)
    lookup[used[order]] = np.arange(len(used))
    return (lambda rows: lookup[codes[rows]]), names[used][order]


def _label_codes(column: pd.Series, names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Per row, the index of its label in ``names``, -1 for any other label or a missing one."""
    codes = np.full(len(column), -1, dtype=np.int8)
    if isinstance(column.dtype, pd.CategoricalDtype):
        lookup = np.array([names.index(c) if c in names else -1 for c in column.cat.categories] + [-1])
        return lookup[column.cat.codes.to_numpy()].astype(np.int8)
    labels = column.to_numpy(dtype=object)
    for index, name in enumerate(names):
        codes[labels == name] = index
    return codes


def _field(settings: Any, name: str, default: Any = None) -> Any:
    if isinstance(settings, Mapping):
        return settings.get(name, default)
    return getattr(settings, name, default)


def _per_service(scaling: Any) -> bool:
    """True for a mapping service -> settings, False for one settings object or mapping for all."""
    return isinstance(scaling, Mapping) and "max_capacity" not in scaling


def _limits(services: list[str], scaling: Any, desired_count: Any, min_capacity: int) -> _Limits:
    per_service = _per_service(scaling)
    mins, maxes, desired = [], [], []
    targets = np.full((len(POLICIES), len(services)), np.nan)
    for index, service in enumerate(services):
        if per_service and service not in scaling:
            raise ValidationError(f"scaling.{service}", "no scaling settings for this service")
        settings = scaling[service] if per_service else scaling
        field = f"scaling.{service}" if per_service else "scaling"
        low = _field(settings, "min_capacity", min_capacity)
        high = _field(settings, "max_capacity")
        if high is None or low is None or not 0 <= int(low) <= int(high):
            raise ValidationError(field, f"need 0 <= min_capacity <= max_capacity, got {low} and {high}")
        cpu_target = _field(settings, "target_cpu_utilization")
        request_target = _field(settings, "request_per_target")
        for policy_index, target in ((0, cpu_target), (1, request_target), (2, request_target)):
            if target is not None and not float(target) > 0:
                raise ValidationError(field, f"targets must be positive, got {target}")
            targets[policy_index, index] = np.nan if target is None else float(target)
        mins.append(int(low))
        maxes.append(int(high))
        desired.append(_desired(desired_count, service))
    return _Limits(np.array(mins), np.array(maxes), targets, np.array(desired, dtype=float))


def _desired(desired_count: Any, service: str) -> float:
    if desired_count is None:
        return math.nan
    if isinstance(desired_count, Mapping):
        if service not in desired_count:
            raise ValidationError(f"desired_count.{service}", "no desired count for this service")
        desired_count = desired_count[service]
    if int(desired_count) < 0:
        raise ValidationError("desired_count", f"{desired_count} is negative")
    return float(desired_count)


def _observed_tasks(series: dict, minutes: int, n_services: int) -> np.ndarray:
    """RunningTaskCount where present, else the larger HealthyHostCount of the service's ALBs
    (its Minimum, as ``load_metrics`` loads it, else its Average)."""
    running = series.get(("RunningTaskCount", "Average", None), np.full((minutes, n_services), np.nan))
    healthy = [
        series.get(("HealthyHostCount", "Minimum", alb), series.get(("HealthyHostCount", "Average", alb)))
        for alb in ALBS
    ]
    healthy = [counts for counts in healthy if counts is not None]
    if healthy:
        with np.errstate(all="ignore"):
            fallback = np.fmax.reduce(healthy)
        running = np.where(np.isnan(running), fallback, running)
    return running


def _policy_loads(series: dict, observed: np.ndarray, minutes: int, n_services: int) -> np.ndarray:
    """(T, K, S): CPU work (percent x tasks) and RequestCount per target group."""
    empty = np.full((minutes, n_services), np.nan)
    cpu_work = series.get(("CPUUtilization", "Average", None), empty) * observed
    requests = [series.get(("RequestCount", "Sum", alb), empty) for alb in ALBS]
    return np.stack([cpu_work, *requests], axis=1)


def _first_observed(observed: np.ndarray) -> np.ndarray:
    """Per service, the first observed task count (NaN if none), rounded to whole tasks."""
    has_value = ~np.isnan(observed)
    first = np.argmax(has_value, axis=0)
    values = observed[first, np.arange(observed.shape[1])]
    return np.where(has_value.any(axis=0), np.round(values), np.nan)


def _labels(codes: np.ndarray, categories) -> pd.Categorical:
    """A categorical column: the result frames have millions of rows and few distinct labels."""
    return pd.Categorical.from_codes(codes, categories=list(categories))


def _tasks_frame(grid, services, capacity, observed, required, limits: _Limits) -> pd.DataFrame:
    minutes, n_services = capacity.shape
    return pd.DataFrame(
        {
            "timestamp": grid.repeat(n_services),
            "service": _labels(np.tile(np.arange(n_services), minutes), services),
            "tasks": capacity.ravel(),
            "observed_tasks": observed.ravel(),
            "required": required.ravel(),
            "min_capacity": np.broadcast_to(limits.min_capacity, capacity.shape).ravel(),
            "max_capacity": np.broadcast_to(limits.max_capacity, capacity.shape).ravel(),
            "capped": _capped(capacity, required, limits.max_capacity).ravel(),
        }
    )


def _policy_frame(grid, services, loads, capacity, targets) -> pd.DataFrame:
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


def _activities_frame(grid, services, capacity) -> pd.DataFrame:
    """Row-major nonzero keeps the rows in time order, services sorted within a minute."""
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


RECOMMENDATION_COLUMNS = (
    "service",
    "current_request_per_target",
    "request_per_target",
    "target_cpu_utilization",
    "min_capacity",
    "max_capacity",
    "headroom",
    "minutes_over_slo",
    "peak_tasks",
    "current_cost_per_month_usd",
    "cost_per_month_usd",
    "confidence",
    "why",
)
"""The columns :func:`recommend_policies` starts with; more follow (see its docstring)."""

TIGHTENING = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
"""Factors on the request and CPU targets tried in turn until the replay keeps the SLO."""
SLO_MINUTES = 0.99
"""The share of minutes a recommended policy must keep within the SLO in the replay."""
HOURS_PER_MONTH = 730
"""The month of AWS's monthly prices, in hours."""
PUBLIC_FLOOR = 2
"""The fewest tasks behind the internet-facing ALB: one in a second Availability Zone."""
FULL_WEEK = 7 * 1440
"""Minutes of data below which a recommendation never lowers a service's max_capacity."""


@dataclass(frozen=True)
class _ServiceLoad:
    """The load the recommendation replays, per service (in ``services`` order)."""

    services: list[str]
    requests: np.ndarray  # (ALB, T, S): requests per minute on the external and internal ALB
    cpu_work: np.ndarray  # (T, S): CPU percent x running tasks, NaN where not measured

    @property
    def total(self) -> np.ndarray:
        """(T, S): requests per minute over all ALBs."""
        return self.requests.sum(axis=0)

    @property
    def largest_share(self) -> np.ndarray:
        """(S,): the share of a service's requests that its busiest ALB carries."""
        by_alb = self.requests.sum(axis=1)
        return np.maximum(by_alb.max(axis=0) / np.maximum(by_alb.sum(axis=0), 1.0), 1e-9)


def _service_load(metrics: pd.DataFrame, services: list[str]) -> _ServiceLoad:
    grid, found, series = _extract_series(metrics)
    empty = np.full((len(grid), len(found)), np.nan)
    requests = np.stack([series.get(("RequestCount", "Sum", alb), empty) for alb in ALBS])
    columns = [found.index(s) for s in services]
    cpu_work = series.get(("CPUUtilization", "Average", None), empty) * _observed_tasks(series, *empty.shape)
    return _ServiceLoad(services, np.nan_to_num(requests[:, :, columns]), cpu_work[:, columns])


def _policy(scaling: Any) -> dict[str, Any]:
    """A ScalingSpec-like object as the four values a recommendation sets."""
    return {
        "request_per_target": _field(scaling, "request_per_target"),
        "target_cpu_utilization": _field(scaling, "target_cpu_utilization"),
        "min_capacity": _field(scaling, "min_capacity", 1),
        "max_capacity": _field(scaling, "max_capacity"),
    }


def _floor(task: Any) -> int:
    """The fewest tasks a service may scale in to: 2 behind the internet-facing ALB, else 1."""
    return PUBLIC_FLOOR if _public(task) else 1


def _capacity_bounds(
    policy: Mapping[str, Any], load: _ServiceLoad, index: int, public: bool, growth: float
) -> tuple[int, int]:
    """(min_capacity, max_capacity) for service ``index`` of ``load`` under ``policy``'s targets.

    Per minute the policies need ceil(requests / target) tasks on the busier ALB and ceil(CPU work
    / CPU target); ``min_capacity`` covers the quietest minutes (1st percentile) and keeps 2 tasks
    for a public service, ``max_capacity`` is the busiest minute's need x (1 + ``growth``).
    """
    with np.errstate(all="ignore"):
        by_cpu = np.nan_to_num(np.ceil(load.cpu_work[:, index] / policy["target_cpu_utilization"]))
    needed = np.maximum(
        np.ceil(load.requests[:, :, index].max(axis=0) / policy["request_per_target"]), by_cpu
    )
    trough, peak = int(max(np.ceil(np.quantile(needed, 0.01)), 1)), int(max(needed.max(), 1))
    low = max(trough, PUBLIC_FLOOR if public else 1)
    return low, max(low, math.ceil(peak * (1 + growth)))


def recommend_policies(
    metrics: pd.DataFrame,
    spec: Any,
    slo: Any = None,
    capacity: pd.DataFrame | None = None,
    *,
    headroom: float = 0.3,
    growth: float = 1.0,
    pricing: Pricing | Mapping[str, Any] | str | Path | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """Per service, the target-tracking policy that keeps ``slo`` at the lowest cost, with reasons.

    ``metrics``: a ``load_metrics`` frame (1-minute periods); ``spec``: the deployed
    DeploymentSpec (its policies, sizes, capacity mixes and region); ``slo``: a
    :class:`dualalb_kit.capacity.SLO` (default ``SLO()``); ``capacity``: rows with at least
    ``service``, ``requests_per_task_at_slo``, ``limited_by`` and ``confidence`` of
    ``dualalb_kit.capacity.CAPACITY_COLUMNS`` (a load test's) that replace the fitted capacity of
    their services (default: :func:`dualalb_kit.capacity.fit_capacity` on ``metrics``).

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

    Columns: :data:`RECOMMENDATION_COLUMNS` (``headroom``: how far the request target keeps a task
    below C, a fraction; ``minutes_over_slo``: replayed minutes expected to break the SLO, as above,
    NaN without a capacity; ``confidence``: the capacity's, ``high``/``medium``/``low``;
    ``peak_tasks``: the replay's most tasks of that service at once; costs: USD per month of 730
    hours at the window's average, priced with the service's capacity mix and region), then
    ``current_target_cpu_utilization``, ``current_min_capacity``, ``current_max_capacity``,
    ``current_minutes_over_slo``, ``requests_per_task_at_slo``, ``limited_by``, ``minutes``
    (replayed), ``meets_slo`` (the replay keeps 99 % of minutes within the SLO; False: even the
    lowest targets tried do not, and ``why`` says so; None without a capacity or with ``low``
    confidence), ``scheduled_actions`` (a list of ``cron`` (six fields, UTC), ``min_capacity``,
    ``max_capacity`` where the load has a daily or weekly pattern, see :func:`_scheduled_actions`),
    ``scheduled_cost_per_month_usd`` (the policy with its schedule: what applying the
    recommendation costs),
    ``scheduled_saving_per_month_usd``, ``observed_minutes_over_slo`` (minutes of the input whose
    measured p99, CPU or 5xx already break the SLO), and the capacity's ``capacity_low``,
    ``capacity_high`` (its 90 % interval), ``extrapolated_by``, ``change_at`` and ``loadtest_command``
    (the load test that would measure the capacity, :func:`loadtest_command`). ``attrs``: ``slo``,
    ``window_hours``, ``synthetic``.

    ``max_capacity`` goes below the current one only with ``high`` confidence and a week of data.
    Scheduled actions already in the spec are not replayed (the current cost leaves them out).

    With ``client`` (a ``dask.distributed.Client``) the services are split over the cluster
    (:func:`dualalb_kit.fleet.map_services`; services are independent here) and only the rows
    come back: the same table as without it.
    """
    from .capacity import CAPACITY_COLUMNS, SLO, _fit

    slo = slo or SLO()
    if client is not None:
        from .fleet import map_services

        mine = metrics[metrics["service"].isin([task.name for task in spec.tasks])]
        options = {"headroom": headroom, "growth": growth, "pricing": _pricing(pricing)}
        table = map_services(client, mine, recommend_policies, spec, slo, capacity, **options)
        table.attrs = {
            "slo": slo,
            "window_hours": table["minutes"].max() / 60.0,
            "synthetic": bool(metrics.attrs.get("synthetic", False)),
        }
        return table
    if not 0 <= headroom < 1:
        raise ValidationError("headroom", f"{headroom} is not a fraction in [0, 1)")
    if not growth >= 0:
        raise ValidationError("growth", f"{growth} is negative")
    fitted, bands_of = _fit(metrics, slo)
    known = fitted.set_index("service")
    observed_over = known["observed_minutes_over_slo"]
    measured: set[str] = set()
    if capacity is not None:
        missing = {"service", "requests_per_task_at_slo", "limited_by", "confidence"} - set(capacity.columns)
        if missing:
            raise ValidationError("capacity", f"missing columns: {', '.join(sorted(missing))}")
        unknown = sorted(set(capacity["service"]) - {task.name for task in spec.tasks})
        if unknown:
            raise ValidationError(
                "capacity.service", f"not a task of the spec: {', '.join(map(str, unknown))}"
            )
        # a load test's CPU is of the machine it ran on, not of a Fargate task of the spec's size
        capacity = capacity.reindex(columns=list(CAPACITY_COLUMNS)).assign(
            cpu_per_1k_requests=math.nan, idle_cpu_percent=math.nan
        )
        known = pd.concat([known.drop(capacity["service"], errors="ignore"), capacity.set_index("service")])
        measured = set(capacity["service"])
    tasks = {task.name: task for task in spec.tasks}
    services = [s for s in _extract_series(metrics)[1] if s in tasks]
    if not services:
        raise ValidationError("metrics", "no task of the spec has metrics in this frame")
    metrics = metrics[metrics["service"].isin(services)]
    load = _service_load(metrics, services)
    minutes = load.total.shape[0]
    grid_start = pd.Timestamp(metrics["timestamp"].min())
    fits = known.reindex(services)
    at_slo = fits["requests_per_task_at_slo"].to_numpy(dtype=float)
    confidence = [value if value in ("high", "medium") else "low" for value in fits["confidence"]]
    trusted = (np.array(confidence) == "high") & np.isfinite(at_slo)
    bands = [bands_of[bands_of["service"] == service] for service in services]
    allowed_over = (1 - SLO_MINUTES) * minutes
    sizes = task_sizes(spec)
    prices = _pricing(pricing)

    def replay_with(policies: dict[str, dict[str, Any]]) -> _Outcome:
        result = simulate_target_tracking(metrics, policies, {s: tasks[s].desired_count for s in services})
        counts = result.tasks.pivot(index="timestamp", columns="service", values="tasks")[services]
        return _outcome(counts.to_numpy(), load, at_slo, bands, sizes, services, spec.region, prices)

    current = {s: _policy(tasks[s].scaling) for s in services}
    current_outcome = replay_with(current)
    floored = {  # the current targets with the availability floor, the alternative kept below
        s: policy | {"min_capacity": max(policy["min_capacity"], _floor(tasks[s]))}
        for s, policy in current.items()
    }
    floored_outcome = replay_with(floored)
    chosen: dict[str, tuple[dict[str, Any], float]] = {}
    for factor in TIGHTENING:
        candidate = {}
        for index, service in enumerate(services):
            policy = dict(current[service])
            if trusted[index]:
                target = at_slo[index] * (1 - headroom) * load.largest_share[index] * factor
                policy["request_per_target"] = max(10, int(target // 10 * 10))
                per_task = policy["request_per_target"] / load.largest_share[index]
                cpu_target = _cpu_target(fits.iloc[index], per_task, slo, headroom)
                policy["target_cpu_utilization"] = max(1, round(cpu_target * factor))
            low, high = _capacity_bounds(policy, load, index, _public(tasks[service]), growth)
            if not (trusted[index] and minutes >= FULL_WEEK):  # too little known to lower the ceiling
                high = max(high, current[service]["max_capacity"])
            candidate[service] = policy | {"min_capacity": low, "max_capacity": high}
        over = replay_with(candidate).over
        for index, service in enumerate(services):
            if service not in chosen and (over[index] <= allowed_over or factor == TIGHTENING[-1]):
                chosen[service] = (candidate[service], factor)
        if len(chosen) == len(services):
            break
    recommended = {s: policy for s, (policy, _) in chosen.items()}
    outcome = replay_with(recommended)
    keep = trusted & (floored_outcome.over <= allowed_over) & (floored_outcome.cost < outcome.cost)
    commands = [
        loadtest_command(fits.iloc[index], tasks[service].cpu) for index, service in enumerate(services)
    ]
    rows = []
    for index, service in enumerate(services):
        final = floored_outcome if keep[index] else outcome
        policy = floored[service] if keep[index] else recommended[service]
        actions, saving, scheduled_cost = _scheduled_actions(
            final, index, policy, load, grid_start, sizes[service], spec.region, prices
        )
        meets_slo = (
            bool(final.over[index] <= allowed_over)
            if np.isfinite(at_slo[index]) and confidence[index] != "low"
            else None
        )
        rows.append(
            {
                "service": service,
                "current_request_per_target": current[service]["request_per_target"],
                **{name: policy[name] for name in RECOMMENDATION_COLUMNS[2:6]},
                "headroom": (
                    1 - policy["request_per_target"] / (at_slo[index] * load.largest_share[index])
                    if trusted[index]
                    else math.nan
                ),
                "minutes_over_slo": int(final.over[index]) if np.isfinite(at_slo[index]) else math.nan,
                "peak_tasks": int(final.peak[index]),
                "current_cost_per_month_usd": round(float(current_outcome.cost[index]), 2),
                "cost_per_month_usd": round(float(final.cost[index]), 2),
                "confidence": confidence[index],
                "why": _why(
                    fits.iloc[index],
                    policy,
                    load,
                    index,
                    final,
                    keep[index],
                    chosen[service][1],
                    commands[index],
                )
                + _floor_note(policy, current[service], tasks[service])
                + ("" if meets_slo is not False else _missed_note(final, index))
                + (
                    "; the capacity is the load test's (CPU targets from the SLO alone)"
                    if service in measured
                    else ""
                ),
                "meets_slo": meets_slo,
                "scheduled_actions": actions,
                "scheduled_cost_per_month_usd": scheduled_cost,
                "scheduled_saving_per_month_usd": saving,
                "current_target_cpu_utilization": current[service]["target_cpu_utilization"],
                "current_min_capacity": current[service]["min_capacity"],
                "current_max_capacity": current[service]["max_capacity"],
                "current_minutes_over_slo": (
                    int(current_outcome.over[index]) if np.isfinite(at_slo[index]) else math.nan
                ),
                "requests_per_task_at_slo": at_slo[index],
                "limited_by": fits.iloc[index]["limited_by"],
                "minutes": minutes,
                "observed_minutes_over_slo": int(observed_over.get(service, 0)),
                "capacity_low": fits.iloc[index]["capacity_low"],
                "capacity_high": fits.iloc[index]["capacity_high"],
                "extrapolated_by": fits.iloc[index]["extrapolated_by"],
                "change_at": fits.iloc[index]["change_at"],
                "loadtest_command": commands[index],
            }
        )
    table = pd.DataFrame(rows)
    table.attrs = {
        "slo": slo,
        "window_hours": minutes / 60.0,
        "synthetic": bool(metrics.attrs.get("synthetic", False)),
    }
    return table


def _cpu_target(fit: pd.Series, requests_per_task: float, slo: Any, headroom: float) -> int:
    """The CPU policy's target for a service whose request target holds ``requests_per_task``."""
    target = slo.max_cpu * (1 - headroom)
    at_request_target = fit.get("idle_cpu_percent", math.nan) + fit.get("cpu_per_1k_requests", math.nan) * (
        requests_per_task / 1000.0
    )
    if math.isfinite(at_request_target):
        target = max(target, math.ceil(at_request_target))
    return int(min(round(target), slo.max_cpu))


@dataclass(frozen=True)
class _Outcome:
    """A replayed policy, per service: its task counts and what they mean for the SLO and the bill."""

    counts: np.ndarray  # (T, S) tasks in force each minute
    over: np.ndarray  # (S,) minutes expected to break the SLO (see _outcome)
    peak: np.ndarray  # (S,) most tasks at once
    cost: np.ndarray  # (S,) USD per month


def _outcome(
    counts: np.ndarray,
    load: _ServiceLoad,
    at_slo: np.ndarray,
    bands: Sequence[pd.DataFrame],
    sizes: Mapping[str, TaskSize],
    services: list[str],
    region: str,
    prices: Pricing,
) -> _Outcome:
    """Judge each replayed minute by the data: a minute whose requests per task exceed the capacity
    breaks the SLO; any other breaks it with the share of minutes the input measured breaking it at
    that load (the service's :func:`dualalb_kit.capacity.slo_bands`, made monotone). ``over`` is the
    expected number of such minutes, rounded."""
    from .capacity import breaking_share

    with np.errstate(all="ignore"):
        per_task = load.total / counts
    over = np.array(
        [
            round(
                float(
                    np.where(per_task[:, i] > at_slo[i], 1.0, breaking_share(bands[i], per_task[:, i])).sum()
                )
            )
            for i in range(len(services))
        ]
    )
    return _Outcome(
        counts,
        over,
        counts.max(axis=0),
        np.array([_monthly_cost(counts[:, i], sizes[s], region, prices) for i, s in enumerate(services)]),
    )


def _monthly_cost(counts: np.ndarray, size: TaskSize, region: str, prices: Pricing) -> float:
    """USD per month of 730 hours for one task count per minute, at the window's average."""
    window = cost_of(counts, size.cpu, size.memory, size.strategy, region, prices)["cost"].sum()
    return float(window) * HOURS_PER_MONTH / (len(counts) / 60.0)


DAY_TYPES = {"MON-FRI": (0, 1, 2, 3, 4), "SAT-SUN": (5, 6)}
"""The day types scheduled actions are proposed for when weekends are quieter than weekdays."""


def _scheduled_actions(
    outcome: _Outcome,
    index: int,
    policy: Mapping[str, Any],
    load: _ServiceLoad,
    start: pd.Timestamp,
    size: TaskSize,
    region: str,
    prices: Pricing,
) -> tuple[list[dict[str, Any]], float, float]:
    """Scheduled min-capacity actions for a daily (and weekly) pattern, and what they save per month.

    Needs two days of data (a week for weekday/weekend schedules, used when weekends carry at most
    80 % of a weekday's load). Per day type and hour, the tasks the request target needs (the
    median minute, so a one-off spike makes no schedule); the busy hours need more than halfway
    from ``min_capacity`` to the busiest hour. One action an hour before the longest run of busy
    hours raises ``min_capacity`` to what those hours always need (the ramp is then served before
    target tracking reacts), another at its end lowers it back. The saving is against keeping that
    raised minimum all day, the static way to get the same protection (the raised minimum is
    priced as a floor under the replayed counts). With separate weekday and weekend schedules a
    busy run across midnight gets none. Returns (actions: ``cron`` (Application Auto Scaling's six
    fields, UTC), ``min_capacity``, ``max_capacity``; USD per month saved; USD per month with the
    schedule).
    """
    minutes = len(outcome.counts)
    counts = outcome.counts[:, index]
    unscheduled = _monthly_cost(counts, size, region, prices)
    if minutes < 2 * 1440:
        return [], 0.0, round(unscheduled, 2)
    stamps = start + pd.to_timedelta(np.arange(minutes), unit="min")
    needed = np.ceil(load.requests[:, :, index].max(axis=0) / policy["request_per_target"])
    total = load.total[:, index]
    weekend = stamps.day_of_week >= 5
    weekly = minutes >= 7 * 1440 and total[weekend].mean() <= 0.8 * total[~weekend].mean()
    day_types = DAY_TYPES if weekly else {"*": tuple(range(7))}
    base, floor_by_minute, actions = policy["min_capacity"], np.full(minutes, policy["min_capacity"]), []
    for days, weekdays in day_types.items():
        in_days = np.isin(stamps.day_of_week, weekdays)
        hourly = np.array([np.median(needed[in_days & (stamps.hour == h)]) for h in range(24)])
        if hourly.max() <= base + 1:
            continue
        busy = hourly > base + (hourly.max() - base) / 2
        first, length = _longest_circular_run(busy)
        if weekly and (first == 0 or first + length > 24):
            continue  # a run across midnight would leave one day type's raise to the other's fall
        hours = [(first + offset) % 24 for offset in range(length)]
        raised = int(max(hourly[hours].min(), base + 1))
        rise, fall = (first - 1) % 24, (first + length) % 24
        actions += [
            {
                "cron": f"0 {rise} ? * {days} *",
                "min_capacity": raised,
                "max_capacity": policy["max_capacity"],
            },
            {
                "cron": f"0 {fall} ? * {days} *",
                "min_capacity": base,
                "max_capacity": policy["max_capacity"],
            },
        ]
        floor_by_minute[in_days & np.isin(stamps.hour, [rise, *hours])] = raised
    if not actions:
        return [], 0.0, round(unscheduled, 2)
    static = _monthly_cost(np.maximum(counts, floor_by_minute.max()), size, region, prices)
    scheduled = _monthly_cost(np.maximum(counts, floor_by_minute), size, region, prices)
    return actions, round(static - scheduled, 2), round(scheduled, 2)


def _longest_circular_run(flags: np.ndarray) -> tuple[int, int]:
    """(first index, length) of the longest run of True in a circular array (length 0 if none)."""
    doubled = np.concatenate([flags, flags])
    best, run = (0, 0), 0
    for position, flag in enumerate(doubled):
        run = run + 1 if flag else 0
        if min(run, len(flags)) > best[1]:
            best = ((position - run + 1) % len(flags), min(run, len(flags)))
    return best


def _public(task: Any) -> bool:
    """Whether a task sits behind the internet-facing ALB."""
    return _field(task, "external") is not None


def _why(
    fit: pd.Series,
    policy: Mapping[str, Any],
    load: _ServiceLoad,
    index: int,
    outcome: _Outcome,
    kept_current: bool,
    factor: float,
    command: str,
) -> str:
    """One sentence with the numbers behind a service's recommendation (``command``: the load test
    it advises, :func:`loadtest_command`)."""
    at_slo = fit["requests_per_task_at_slo"]
    if not (fit["confidence"] == "high" and math.isfinite(at_slo)):
        note = fit.get("note")
        reason = note if isinstance(note, str) and note else "no fit"
        confidence = fit["confidence"] if fit["confidence"] in ("high", "medium") else "low"
        sentence = (
            f"capacity not known with confidence ({confidence}: {reason}), so the request target stays "
            f"at {policy['request_per_target']}; a load test of one task would settle it: "
            f"`{command}`" + ("" if "--max-rps" in command else " (start low: nothing is known yet)")
        )
        target = policy["request_per_target"]
        carried = target / load.largest_share[index] if target is not None else math.nan
        if math.isfinite(at_slo) and carried > at_slo:
            sentence += (
                f"; that target lets a task carry {carried:,.0f} requests/min, above the {at_slo:,.0f} "
                "estimated: settle it soon"
            )
        return sentence
    share = load.largest_share[index]
    within = 1 - outcome.over[index] / len(outcome.counts)
    sentence = f"{fit['limited_by']} reaches the SLO at {at_slo:,.0f} requests/min per task; "
    if share < 1:
        sentence += (
            f"{share:.0%} of its requests use its busiest ALB, so {policy['request_per_target']:,} "
            f"per target holds {policy['request_per_target'] / share:,.0f} requests/min per task"
        )
    else:
        sentence += f"{policy['request_per_target']:,} per target"
    sentence += f", {1 - policy['request_per_target'] / share / at_slo:.0%} below it"
    if kept_current:
        sentence = "the current policy already keeps the SLO for less: " + sentence
    elif factor < 1:
        sentence += f" (targets at {factor:.0%} of the headroom value: scale-out lagged the ramps)"
    return (
        f"{sentence}; the replay keeps {within:.1%} of minutes within the SLO with "
        f"{policy['min_capacity']}-{policy['max_capacity']} tasks (peak {int(outcome.peak[index])})"
    )


LOADTEST_REACH = 1.5
"""A suggested load test ramps one task to 1.5 times the best estimate of its capacity."""


def loadtest_command(fit: pd.Series, cpu_units: int = 1024) -> str:
    """The ``dualalb-kit loadtest`` command that would measure a service's capacity (``fit``: its
    capacity row, named by the service): one task (its URL on AWS with ``--allow-remote``), ramped
    to 1.5 x the largest of the capacity, its interval's top, the held load and the busiest minute
    (requests/min per task / 60 = requests/s), at most the load test's 2,000 requests/s
    (``loadtest.MAX_RPS_LIMIT``); without ``--max-rps`` when none of them is known (start low);
    with ``--cpu-units`` when the task's ``cpu`` is not one core, so CPU is judged against its share
    as ECS's CPUUtilization is."""
    cpu = "" if cpu_units == 1024 else f" --cpu-units {cpu_units}"
    estimates = [
        fit.get(name, math.nan)
        for name in (
            "requests_per_task_at_slo",
            "capacity_high",
            "held_requests_per_task",
            "observed_max_requests_per_task",
        )
    ]
    known = [float(value) for value in estimates if isinstance(value, (int, float)) and math.isfinite(value)]
    if not known:
        return f"dualalb-kit loadtest URL --service {fit.name}{cpu}"
    max_rps = min(2000, math.ceil(LOADTEST_REACH * max(known) / 60.0))
    return f"dualalb-kit loadtest URL --max-rps {max_rps} --service {fit.name}{cpu}"


def _missed_note(outcome: _Outcome, index: int) -> str:
    """What to do when even the lowest targets tried leave minutes over the SLO."""
    share = outcome.over[index] / len(outcome.counts)
    return (
        f"; NOT within the SLO: {share:.1%} of minutes stay over it at the lowest targets tried, so "
        "scale-out is too slow for the ramps: raise min_capacity (a schedule) or measure the capacity"
    )


def _floor_note(policy: Mapping[str, Any], current: Mapping[str, Any], task: Any) -> str:
    """Why ``min_capacity`` went up to the availability floor, if it did."""
    if policy["min_capacity"] == _floor(task) > current["min_capacity"]:
        return f"; min_capacity {_floor(task)} keeps a second task behind the internet-facing ALB"
    return ""


def apply_recommendations(spec: Any, recommendations: pd.DataFrame) -> Any:
    """A new, validated DeploymentSpec: ``spec`` with the scaling ``recommendations`` put in.

    ``recommendations`` is a :func:`recommend_policies` frame; each of its services gets its
    ``request_per_target``, ``target_cpu_utilization``, ``min_capacity`` and ``max_capacity``, and
    its ``scheduled_actions`` (replacing any in the spec) where the spec's scaling has a
    ``scheduled`` field; a ``desired_count`` outside the new bounds moves to the nearest one. Tasks
    without a row keep theirs; a row without a task of that name is a ValidationError.
    """
    names = [task.name for task in spec.tasks]
    params = spec.to_params()
    for row in recommendations.to_dict("records"):
        if row["service"] not in names:
            raise ValidationError("recommendations.service", f"{row['service']!r} is not a task of the spec")
        task = names.index(row["service"])
        scaling = params["tasks"][task].setdefault("scaling", {})
        scaling.update({name: _plain(row[name]) for name in RECOMMENDATION_COLUMNS[2:6]})
        if "scheduled" in type(spec.tasks[task].scaling).model_fields:
            scaling.pop("scheduled", None)  # the old actions' bounds may contradict the new ones
            if row.get("scheduled_actions"):
                scaling["scheduled"] = list(row["scheduled_actions"])
        desired = params["tasks"][task].get("desired_count", 1)
        params["tasks"][task]["desired_count"] = min(
            max(desired, scaling["min_capacity"]), scaling["max_capacity"]
        )
    return type(spec).model_validate(params)


def changed_values(before: Any, after: Any) -> pd.DataFrame:
    """What differs between two specs, one row per value: ``field`` (a path such as
    ``tasks[0].scaling.request_per_target``), ``current``, ``recommended``."""

    def leaves(value: Any, path: str) -> dict[str, Any]:
        if isinstance(value, Mapping):
            return {k: v for key, item in value.items() for k, v in leaves(item, f"{path}.{key}").items()}
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            return {k: v for i, item in enumerate(value) for k, v in leaves(item, f"{path}[{i}]").items()}
        return {path: value}

    old, new = leaves(before.to_params(), ""), leaves(after.to_params(), "")
    rows = [
        {"field": path.lstrip("."), "current": old.get(path), "recommended": new.get(path)}
        for path in dict.fromkeys([*old, *new])
        if old.get(path) != new.get(path)
    ]
    return pd.DataFrame(rows, columns=["field", "current", "recommended"], dtype=object)


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number a params file holds (whole floats as int)."""
    value = value.item() if isinstance(value, np.generic) else value
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _before_after(recommendations: pd.DataFrame, column: str) -> list[str]:
    """``current -> recommended`` per row for one of the policy's values."""
    pairs = zip(recommendations[f"current_{column}"], recommendations[column], strict=True)
    return [f"{_plain(current)} -> {_plain(new)}" for current, new in pairs]


def recommendation_table(recommendations: pd.DataFrame) -> pd.DataFrame:
    """A :func:`recommend_policies` frame for people: one row per service, units in the headers,
    current -> recommended side by side, costs rounded to cents (the reasons stay in ``why``).

    When the frame has them, ``capacity interval`` shows ``capacity_low``-``capacity_high`` after the
    capacity (requests/min per task; ``?`` where a bound is unknown) and ``measured minutes over SLO``
    (``observed_minutes_over_slo``: minutes whose measured p99, CPU or 5xx broke the SLO) after the
    replay's ``minutes over SLO``."""
    table = pd.DataFrame(
        {
            "service": recommendations["service"],
            "requests/min per task at SLO": recommendations["requests_per_task_at_slo"].round(0),
            "limited by": recommendations["limited_by"],
            "request target": _before_after(recommendations, "request_per_target"),
            "CPU target %": _before_after(recommendations, "target_cpu_utilization"),
            "tasks min-max": [
                f"{a}-{b} -> {c}-{d}"
                for a, b, c, d in zip(
                    recommendations["current_min_capacity"],
                    recommendations["current_max_capacity"],
                    recommendations["min_capacity"],
                    recommendations["max_capacity"],
                    strict=True,
                )
            ],
            "headroom %": (recommendations["headroom"] * 100).round(0),
            "minutes over SLO": recommendations["minutes_over_slo"],
            "peak tasks": recommendations["peak_tasks"],
            "USD/month now": recommendations["current_cost_per_month_usd"].round(2),
            "USD/month": recommendations["cost_per_month_usd"].round(2),
            "confidence": recommendations["confidence"],
        }
    )
    if {"capacity_low", "capacity_high"} <= set(recommendations.columns):

        def rounded(load: object) -> str:
            known = isinstance(load, (int, float, np.number)) and math.isfinite(load)
            return f"{load:,.0f}" if known else "?"

        lows, highs = recommendations["capacity_low"], recommendations["capacity_high"]
        interval = [f"{rounded(low)}-{rounded(high)}" for low, high in zip(lows, highs, strict=True)]
        table.insert(table.columns.get_loc("limited by"), "capacity interval", interval)
    if "observed_minutes_over_slo" in recommendations.columns:
        measured = recommendations["observed_minutes_over_slo"]
        table.insert(table.columns.get_loc("minutes over SLO") + 1, "measured minutes over SLO", measured)
    return table


def schedule_table(recommendations: pd.DataFrame) -> pd.DataFrame:
    """The scheduled actions of a :func:`recommend_policies` frame, one row per action: ``service``,
    ``cron`` (six fields, UTC), ``min_capacity``, ``max_capacity``, ``saving_per_month_usd`` (the
    service's whole schedule)."""
    rows = [
        {"service": row["service"], **action, "saving_per_month_usd": row["scheduled_saving_per_month_usd"]}
        for row in recommendations.to_dict("records")
        for action in row["scheduled_actions"]
    ]
    return pd.DataFrame(
        rows, columns=["service", "cron", "min_capacity", "max_capacity", "saving_per_month_usd"]
    )


def mixes_table(mixes: pd.DataFrame) -> pd.DataFrame:
    """A :meth:`SimulationResult.compare_mixes` frame for people: tasks as the mean running at once,
    costs in USD per month of 730 hours at the window's rate, the saving in percent."""
    month = HOURS_PER_MONTH / mixes.attrs["window_hours"]
    return pd.DataFrame(
        {
            "mix": mixes["mix"],
            "on-demand tasks (mean)": mixes["on_demand_tasks"].round(2),
            "spot tasks (mean)": mixes["spot_tasks"].round(2),
            "on-demand USD/month": (mixes["on_demand_cost"] * month).round(2),
            "spot USD/month": (mixes["spot_cost"] * month).round(2),
            "USD/month": (mixes["cost"] * month).round(2),
            "saving %": (mixes["saving"] * 100).round(0),
        }
    )
