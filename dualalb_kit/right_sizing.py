"""A deployed stack's scaling right-sized on its own metrics: load them, recommend each service's
policy against an SLO, and put the recommendation into the params file's spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from .capacity import SLO
    from .spec import DeploymentSpec
    from .target import Target


@dataclass
class RightSizing:
    """What :func:`right_size` found: the ``metrics`` it read, the ``recommendations`` (one row per
    service, :func:`~dualalb_kit.scaling.recommend_policies`), the ``recommended`` spec and its
    ``changes`` against the deployed one (:func:`~dualalb_kit.scaling.changed_values`)."""

    metrics: pd.DataFrame
    recommendations: pd.DataFrame
    recommended: DeploymentSpec
    changes: pd.DataFrame


def right_size(
    spec: DeploymentSpec,
    stack_name: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    target: Target,
    slo: SLO,
    capacity: pd.DataFrame | None = None,
    headroom: float = 0.3,
) -> RightSizing:
    """Recommend ``spec``'s scaling from the metrics of ``stack_name`` on ``target`` from ``start``
    to ``end`` (UTC), within ``slo`` and ``headroom`` (fraction kept below capacity, default 0.3);
    ``capacity`` (measured rows, a load test's) replaces the fit. A :class:`NoDataError` when the
    window holds no datapoint."""
    from . import metrics as observed
    from .scaling import apply_recommendations, changed_values, recommend_policies

    frame = observed.load_metrics(stack_name, start, end, target=target)
    observed.require_datapoints(frame, stack_name, start, end)
    recommendations = recommend_policies(frame, spec, slo, capacity, headroom=headroom)
    recommended = apply_recommendations(spec, recommendations)
    return RightSizing(frame, recommendations, recommended, changed_values(spec, recommended))
