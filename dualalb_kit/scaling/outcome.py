"""The load a recommendation replays, and a replayed policy judged against the SLO and priced."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..capacity import breaking_share
from ..cost import HOURS_PER_MONTH, Pricing, cost_of
from .series import cpu_work, extract_series, observed_tasks, request_counts
from .simulate import TaskSize


@dataclass(frozen=True)
class ServiceLoad:
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


def service_load(metrics: pd.DataFrame, services: list[str]) -> ServiceLoad:
    """The requests and CPU work of ``services`` (each must have metrics) per minute of ``metrics``."""
    grid, found, series = extract_series(metrics)
    requests = np.stack(request_counts(series, len(grid), len(found)))
    columns = [found.index(service) for service in services]
    work = cpu_work(series, observed_tasks(series, len(grid), len(found)))
    return ServiceLoad(services, np.nan_to_num(requests[:, :, columns]), work[:, columns])


@dataclass(frozen=True)
class Outcome:
    """A replayed policy, per service: its task counts and what they mean for the SLO and the bill."""

    counts: np.ndarray  # (T, S) tasks in force each minute
    over: np.ndarray  # (S,) minutes expected to break the SLO (see judge)
    peak: np.ndarray  # (S,) most tasks at once
    cost: np.ndarray  # (S,) USD per month


def judge(
    counts: np.ndarray,
    load: ServiceLoad,
    at_slo: np.ndarray,
    bands: Sequence[pd.DataFrame],
    sizes: Mapping[str, TaskSize],
    region: str,
    prices: Pricing,
) -> Outcome:
    """Judge each replayed minute by the data: a minute whose requests per task exceed the capacity
    (``at_slo``, per service) breaks the SLO; any other breaks it with the share of minutes the
    input measured breaking it at that load (the service's :func:`dualalb_kit.capacity.slo_bands`,
    made monotone). ``over`` is the expected number of such minutes, rounded."""
    with np.errstate(all="ignore"):
        per_task = load.total / counts
    over = np.array(
        [
            round(
                float(
                    np.where(per_task[:, i] > at_slo[i], 1.0, breaking_share(bands[i], per_task[:, i])).sum()
                )
            )
            for i in range(len(load.services))
        ]
    )
    return Outcome(
        counts,
        over,
        counts.max(axis=0),
        np.array([monthly_cost(counts[:, i], sizes[s], region, prices) for i, s in enumerate(load.services)]),
    )


def monthly_cost(counts: np.ndarray, size: TaskSize, region: str, prices: Pricing) -> float:
    """USD per month of 730 hours for one task count per minute, at the window's average."""
    window = cost_of(counts, size.cpu, size.memory, size.strategy, region, prices)["cost"].sum()
    return float(window) * HOURS_PER_MONTH / (len(counts) / 60.0)
