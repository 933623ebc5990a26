"""What-if: the same load replayed under a grid of request targets x max capacities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..cost import Pricing, cost_of
from ..errors import ValidationError
from .engine import capped_minutes, replay_blocks, required_tasks
from .series import extract_series, first_observed, observed_tasks, policy_loads
from .settings import Limits, field, limits, per_service, replay_settings
from .simulate import PricingSource, pricing_table, size_of

if TYPE_CHECKING:
    from distributed import Client

    from .settings import DesiredCount, Scaling, ScalingSettings

GRID = ("request_per_target", "max_capacity")
"""The settings :func:`simulate_grid` varies, in the order of its columns."""

GridPoint = tuple[float | None, int]
"""A grid point: (``request_per_target``, ``max_capacity``)."""


def simulate_grid(
    metrics: pd.DataFrame,
    scaling: Scaling,
    request_per_target: Sequence[float | None],
    max_capacity: Sequence[int],
    desired_count: DesiredCount = None,
    min_capacity: int = 1,
    *,
    sizes: Mapping[str, Any] | None = None,
    region: str = "us-east-1",
    pricing: PricingSource = None,
    client: Client | None = None,
    **options: Any,
) -> pd.DataFrame:
    """What-if: replay ``metrics`` once per combination of ``request_per_target`` x ``max_capacity``.

    At each grid point every service gets that request target (None disables the request policies)
    and that max capacity; its CPU target stays as in ``scaling``, its min capacity is lowered to the
    max capacity where it was above. ``scaling``, ``desired_count`` and ``min_capacity`` are as in
    :func:`~dualalb_kit.scaling.simulate_target_tracking` (a desired count above a grid point's max
    starts at the max); ``options`` go to it unchanged (cooldowns, alarm datapoints). ``sizes``,
    ``region`` and ``pricing`` as in :meth:`~dualalb_kit.scaling.SimulationResult.summary`. With
    ``client`` (a ``dask.distributed.Client``) the services are partitioned across its cluster and
    only the summary rows come back (:func:`dualalb_kit.fleet.map_services`); the same rows, in the
    same order, when the services share one time window.

    The grid points are replayed together, in one pass over the minutes, from series read once;
    besides the frame and the series this holds the task counts of every service at every grid
    point (8 bytes each per minute), so split a fleet that does not fit (``client``).

    Returns a tidy frame, one row per grid point and service: ``request_per_target``,
    ``max_capacity``, ``service``, then the columns of
    :meth:`~dualalb_kit.scaling.SimulationResult.summary` (``task_hours``, ``peak_tasks``,
    ``capped_minutes``, ``scale_outs``, ``scale_ins``, and ``cost_usd`` with ``sizes``).
    """
    for name, values in zip(GRID, (request_per_target, max_capacity), strict=True):
        if isinstance(values, (str, int, float)) or not len(values):
            raise ValidationError(name, "give a list of values to try")
    if client is not None:
        from ..fleet import map_services

        grid_point = (scaling, request_per_target, max_capacity, desired_count, min_capacity)
        pricing_options = {"sizes": sizes, "region": region, "pricing": pricing}
        return map_services(
            client, metrics, simulate_grid, *grid_point, keep_order_of=GRID, **pricing_options, **options
        )
    points = [(target, capacity) for target in request_per_target for capacity in max_capacity]
    prices = pricing_table(pricing) if sizes is not None else None
    services, counts, capped = _replay_grid(metrics, scaling, points, desired_count, min_capacity, options)
    frames = []
    for index, (target, capacity) in enumerate(points):
        columns = slice(index * len(services), (index + 1) * len(services))
        summary = _count_summary(services, counts[:, columns], capped[columns])
        if sizes is not None:
            summary["cost_usd"] = _costs(counts[:, columns], services, sizes, region, prices)
        frames.append(summary.assign(request_per_target=target, max_capacity=capacity))
    grid = pd.concat(frames, ignore_index=True)
    grid["service"] = grid["service"].astype(str)
    return grid[[*GRID, *(column for column in grid.columns if column not in GRID)]]


def _replay_grid(
    metrics: pd.DataFrame,
    scaling: Scaling,
    points: list[GridPoint],
    desired_count: DesiredCount,
    min_capacity: int,
    options: Mapping[str, Any],
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The services, their (T, P x S) task counts (column p x S + s: service s at grid point p) and
    capped minutes per column, all grid points replayed in one pass over the minutes.

    Every grid point replays the same load, so the series are read once and the grid points sit side
    by side on the replay's service axis. Only the task counts are kept, not the result frames."""
    settings = replay_settings(**options)
    minute_grid, services, series = extract_series(metrics)
    minutes = len(minute_grid)
    observed = observed_tasks(series, minutes, len(services))
    loads = policy_loads(series, observed)
    at_points = [_at_grid_point(scaling, target, capacity, min_capacity) for target, capacity in points]
    stacked = Limits.stack([limits(services, each, desired_count, min_capacity) for each in at_points])
    column_service = np.tile(np.arange(len(services)), len(points))

    def demand_of(rows: slice) -> np.ndarray:
        return np.round(loads[rows][:, :, column_service] / stacked.targets[None, :, :], 9)

    counts = np.empty((minutes, len(column_service)), dtype=np.int64)
    capped = np.zeros(len(column_service), dtype=np.int64)
    initial = stacked.initial(first_observed(observed)[column_service])
    for rows, demand in replay_blocks(
        demand_of, minutes, initial, stacked.min_capacity, stacked.max_capacity, counts, **settings
    ):
        capped += capped_minutes(counts[rows], required_tasks(demand), stacked.max_capacity).sum(axis=0)
    return services, counts, capped


def _costs(
    counts: np.ndarray, services: list[str], sizes: Mapping[str, Any], region: str, prices: Pricing
) -> list[float]:
    """Per service, what its (T, S) column of ``counts`` costs in USD over the window."""
    return [
        cost_of(counts[:, column], *size_of(sizes, service), region, prices)["cost"].sum()
        for column, service in enumerate(services)
    ]


def grid_totals(grid: pd.DataFrame) -> pd.DataFrame:
    """All services together, one row per grid point of a :func:`simulate_grid` frame.

    Columns: ``request_per_target``, ``max_capacity``, and the sums over services of every other
    numeric column (``task_hours``, ``peak_tasks``: the sum of each service's peak, an upper bound on
    the tasks running at once, ``capped_minutes``, ``scale_outs``, ``scale_ins``, ``cost_usd``).
    """
    return grid.drop(columns="service").groupby(list(GRID), sort=False, dropna=False).sum().reset_index()


def _at_grid_point(
    scaling: Scaling, request_per_target: float | None, max_capacity: int, min_capacity: int
) -> dict[str, Any]:
    """``scaling`` with every service's request target and max capacity replaced."""

    def changed(settings: ScalingSettings) -> dict[str, Any]:
        return {
            "target_cpu_utilization": field(settings, "target_cpu_utilization"),
            "request_per_target": request_per_target,
            "max_capacity": max_capacity,
            "min_capacity": min(field(settings, "min_capacity", min_capacity), max_capacity),
        }

    if per_service(scaling):
        return {service: changed(settings) for service, settings in scaling.items()}
    return changed(scaling)


def _count_summary(services: list[str], counts: np.ndarray, capped: np.ndarray) -> pd.DataFrame:
    """The columns of :meth:`~dualalb_kit.scaling.SimulationResult.summary` without costs, from the
    (T, S) counts and the capped minutes per service, with ``service`` as a column."""
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
