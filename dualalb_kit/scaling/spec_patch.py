"""A recommendation put into a spec, and what it changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ValidationError
from .targets import POLICY_VALUES

if TYPE_CHECKING:
    from ..spec import DeploymentSpec


def apply_recommendations(spec: DeploymentSpec, recommendations: pd.DataFrame) -> DeploymentSpec:
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
        scaling.update({name: plain(row[name]) for name in POLICY_VALUES})
        if "scheduled" in type(spec.tasks[task].scaling).model_fields:
            scaling.pop("scheduled", None)  # the old actions' bounds may contradict the new ones
            if row.get("scheduled_actions"):
                scaling["scheduled"] = list(row["scheduled_actions"])
        desired = params["tasks"][task].get("desired_count", 1)
        params["tasks"][task]["desired_count"] = min(
            max(desired, scaling["min_capacity"]), scaling["max_capacity"]
        )
    return type(spec).model_validate(params)


def changed_values(before: DeploymentSpec, after: DeploymentSpec) -> pd.DataFrame:
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


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python number a params file holds (whole floats as int)."""
    value = value.item() if isinstance(value, np.generic) else value
    return int(value) if isinstance(value, float) and value.is_integer() else value
