"""What a task count costs on Fargate under a capacity-provider strategy.

Tasks are split between FARGATE (on-demand) and FARGATE_SPOT as ECS places them, then priced
per vCPU-hour and GB-hour from ``data/fargate_pricing.yaml`` (Linux/x86, USD; the file records
the date it was taken and how its Spot figures were derived).

Placement model: :mod:`dualalb_kit.placement` (base first, then the weights, largest remainder),
each period's count split on its own.

Costing model (:func:`cost_of`): a count is the number of tasks running for one period
(``period_seconds``, default 60, the simulator's minute). Fargate's per-second billing and
one-minute minimum, ephemeral storage beyond 20 GB, and data transfer are not modelled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from .errors import ValidationError
from .placement import parse_strategy, place_counts, split_tasks  # noqa: F401  (cost.split_tasks as before)
from .validation import CAPACITY_PROVIDERS

if TYPE_CHECKING:
    from .spec import DeploymentSpec

PROVIDERS = CAPACITY_PROVIDERS
ON_DEMAND, SPOT = PROVIDERS
_META = ("taken", "currency", "source", "spot_derivation")  # top-level keys of the price file

STANDARD_MIXES: dict[str, list[dict[str, Any]]] = {
    "all on-demand": [{"provider": ON_DEMAND, "weight": 1}],
    "base 1, 1:1 spot": [{"provider": ON_DEMAND, "base": 1, "weight": 1}, {"provider": SPOT, "weight": 1}],
    "base 1, 1:3 spot": [{"provider": ON_DEMAND, "base": 1, "weight": 1}, {"provider": SPOT, "weight": 3}],
    "all spot": [{"provider": SPOT, "weight": 1}],
}
"""Spot mixes :func:`compare_mixes` compares when given none."""

ALL_ON_DEMAND = {"all on-demand": STANDARD_MIXES["all on-demand"]}
HOURS_PER_MONTH = 730
"""The month of AWS's monthly prices, in hours."""
MONTHLY_COST_COLUMNS = [
    "task",
    "on_demand_tasks",
    "spot_tasks",
    "on_demand_usd_month",
    "spot_usd_month",
    "usd_month",
    "all_on_demand_usd_month",
]


@dataclass(frozen=True)
class Pricing:
    """Fargate prices: ``regions[region][provider] = (usd_per_vcpu_hour, usd_per_gb_hour)``."""

    taken: str
    source: str
    regions: dict[str, dict[str, tuple[float, float]]]

    def rates(self, region: str, provider: str) -> tuple[float, float]:
        """(per vCPU-hour, per GB-hour) for ``provider`` in ``region``; ValidationError if unknown."""
        if region not in self.regions:
            known = ", ".join(sorted(self.regions))
            raise ValidationError(
                "region", f"no Fargate prices for {region!r} (known: {known}); pass pricing="
            )
        if provider not in self.regions[region]:
            raise ValidationError("region", f"no {provider} prices for {region!r}; pass pricing=")
        return self.regions[region][provider]

    def table(self) -> pd.DataFrame:
        """One row per region and provider: ``region``, ``provider``, ``vcpu_hour``, ``gb_hour``."""
        rows = [
            (region, provider, vcpu, gb)
            for region, providers in sorted(self.regions.items())
            for provider, (vcpu, gb) in sorted(providers.items())
        ]
        return pd.DataFrame(rows, columns=["region", "provider", "vcpu_hour", "gb_hour"])


def load_pricing(override: Mapping[str, Any] | str | Path | None = None) -> Pricing:
    """The packaged price table, with ``override`` (a mapping or a YAML/JSON path) laid over it.

    The override has the data file's shape, ``{"regions": {region: {provider: {"vcpu_hour": ..,
    "gb_hour": ..}}}}`` plus optional ``taken`` and ``source``; a bare ``{region: ...}`` mapping
    works too. Entries it names replace the packaged ones; the rest stay.
    """
    text = resources.files("dualalb_kit").joinpath("data/fargate_pricing.yaml").read_text()
    document = yaml.safe_load(text)
    regions = _parse_regions(document["regions"], "pricing")
    taken = str(document["taken"])
    source = " ".join(f"{document['source']} {document['spot_derivation']}".split())
    if override is not None:
        extra = _read_override(override)
        overriding = (
            extra["regions"] if "regions" in extra else {k: v for k, v in extra.items() if k not in _META}
        )
        for region, providers in _parse_regions(overriding, "pricing").items():
            regions.setdefault(region, {}).update(providers)
        taken = str(extra.get("taken", f"{taken} (with overrides)"))
        source = str(extra.get("source", f"{source} Overridden by the caller."))
    return Pricing(taken=taken, source=source, regions=regions)


def cost_of(
    tasks: Any,
    cpu: int,
    memory: int,
    strategy: Sequence[Any],
    region: str = "us-east-1",
    pricing: Pricing | Mapping[str, Any] | str | Path | None = None,
    *,
    period_seconds: float = 60,
) -> pd.DataFrame:
    """Cost of running ``tasks`` of ``cpu`` units (1024 = 1 vCPU) and ``memory`` MiB, per provider.

    ``tasks``: a count, a sequence of counts, a Series, or a frame with a ``tasks`` column (such as
    ``SimulationResult.tasks``); each count runs for ``period_seconds`` (default 60). ``pricing``:
    a :class:`Pricing`, or an override for :func:`load_pricing` (default: the packaged table).
    Returns one row per provider of the strategy: ``provider``, ``tasks`` (mean running at once;
    a frame with several services per ``timestamp`` counts them together),
    ``task_hours``, ``vcpu_hours``, ``gb_hours``, ``vcpu_hour_price``, ``gb_hour_price``, ``cost``
    (USD). The total is ``frame["cost"].sum()``.
    """
    if not cpu > 0 or not memory > 0:
        raise ValidationError("cpu" if not cpu > 0 else "memory", "must be positive")
    if not period_seconds > 0:
        raise ValidationError("period_seconds", f"{period_seconds} is not positive")
    prices = pricing if isinstance(pricing, Pricing) else load_pricing(pricing)
    counts, periods_run = _counts(tasks)
    providers, bases, weights = parse_strategy(strategy)
    values, periods = np.unique(counts, return_counts=True)
    task_periods = place_counts(values, bases, weights) @ periods  # (providers,)
    hours = task_periods * period_seconds / 3600.0
    rates = np.array([prices.rates(region, provider) for provider in providers])
    frame = pd.DataFrame(
        {
            "provider": list(providers),
            "tasks": task_periods / max(periods_run, 1),
            "task_hours": hours,
            "vcpu_hours": hours * cpu / 1024.0,
            "gb_hours": hours * memory / 1024.0,
            "vcpu_hour_price": rates[:, 0],
            "gb_hour_price": rates[:, 1],
        }
    )
    frame["cost"] = (
        frame["vcpu_hours"] * frame["vcpu_hour_price"] + frame["gb_hours"] * frame["gb_hour_price"]
    )
    return frame


def compare_mixes(
    tasks: Any,
    cpu: int,
    memory: int,
    mixes: Mapping[str, Sequence[Any]] | None = None,
    region: str = "us-east-1",
    pricing: Pricing | Mapping[str, Any] | str | Path | None = None,
    *,
    period_seconds: float = 60,
) -> pd.DataFrame:
    """The same ``tasks`` priced under several strategies, one row per mix (default ``STANDARD_MIXES``).

    Columns: ``mix``, ``on_demand_tasks``, ``spot_tasks`` (mean running), ``on_demand_task_hours``,
    ``spot_task_hours``, ``on_demand_cost``, ``spot_cost``, ``cost`` (USD), ``saving`` (fraction of
    the all-on-demand cost saved). Arguments as in :func:`cost_of`.
    """
    prices = pricing if isinstance(pricing, Pricing) else load_pricing(pricing)
    mixes = STANDARD_MIXES if mixes is None else mixes
    if not mixes:
        raise ValidationError("mixes", "name at least one strategy")
    arguments = {"cpu": cpu, "memory": memory, "region": region, "pricing": prices}
    baseline = cost_of(
        tasks, strategy=STANDARD_MIXES["all on-demand"], period_seconds=period_seconds, **arguments
    )
    rows = []
    for name, strategy in mixes.items():
        frame = cost_of(tasks, strategy=strategy, period_seconds=period_seconds, **arguments).set_index(
            "provider"
        )
        frame = frame.reindex(list(PROVIDERS), fill_value=0.0)
        rows.append(
            {
                "mix": name,
                "on_demand_tasks": frame.at[ON_DEMAND, "tasks"],
                "spot_tasks": frame.at[SPOT, "tasks"],
                "on_demand_task_hours": frame.at[ON_DEMAND, "task_hours"],
                "spot_task_hours": frame.at[SPOT, "task_hours"],
                "on_demand_cost": frame.at[ON_DEMAND, "cost"],
                "spot_cost": frame.at[SPOT, "cost"],
                "cost": frame["cost"].sum(),
            }
        )
    table = pd.DataFrame(rows)
    full_price = baseline["cost"].sum()
    table["saving"] = 1.0 - table["cost"] / full_price if full_price > 0 else 0.0
    table.attrs["region"] = region
    table.attrs["pricing_taken"] = prices.taken
    return table


def monthly_cost(
    spec: DeploymentSpec, pricing: Pricing | Mapping[str, Any] | str | Path | None = None
) -> pd.DataFrame:
    """What a spec's tasks cost a month at their desired count, placed as ECS places them.

    One row per task: ``task``, ``on_demand_tasks``, ``spot_tasks``, ``on_demand_usd_month``,
    ``spot_usd_month``, ``usd_month`` and ``all_on_demand_usd_month`` (the same tasks with no
    spot). Prices for ``spec.region`` (``pricing`` as in :func:`cost_of`); a month is
    :data:`HOURS_PER_MONTH` hours. Scaling is not modelled: the desired count runs all month.
    """
    prices = pricing if isinstance(pricing, Pricing) else load_pricing(pricing)
    rows = []
    for task in spec.tasks:
        mixes = compare_mixes(
            task.desired_count,
            task.cpu,
            task.memory,
            {"design": task.capacity_strategy(spec.spot), **ALL_ON_DEMAND},
            spec.region,
            prices,
            period_seconds=HOURS_PER_MONTH * 3600,
        )
        design, all_on_demand = mixes.iloc[0], mixes.iloc[1]
        rows.append(
            {
                "task": task.name,
                "on_demand_tasks": int(design["on_demand_tasks"]),
                "spot_tasks": int(design["spot_tasks"]),
                "on_demand_usd_month": design["on_demand_cost"],
                "spot_usd_month": design["spot_cost"],
                "usd_month": design["cost"],
                "all_on_demand_usd_month": all_on_demand["cost"],
            }
        )
    return pd.DataFrame(rows, columns=MONTHLY_COST_COLUMNS)


def _counts(tasks: Any) -> tuple[np.ndarray, int]:
    """The task counts, and how many periods they span (distinct timestamps in a frame that has them)."""
    periods = None
    if isinstance(tasks, pd.DataFrame):
        if "tasks" not in tasks.columns:
            raise ValidationError("tasks", "the frame needs a 'tasks' column")
        periods = tasks["timestamp"].nunique() if "timestamp" in tasks.columns else None
        tasks = tasks["tasks"]
    values = np.atleast_1d(np.asarray(tasks, dtype=float))
    if np.isnan(values).any() or (values < 0).any() or (values != np.round(values)).any():
        raise ValidationError("tasks", "task counts must be whole numbers, 0 or more")
    return values.astype(np.int64), len(values) if periods is None else periods


def _read_override(override: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    if isinstance(override, Mapping):
        return override
    path = Path(override)
    if not path.is_file():
        raise ValidationError("pricing", f"{path} is not a file")
    text = path.read_text()
    document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(document, Mapping):
        raise ValidationError("pricing", f"{path} does not hold a mapping of regions")
    return document


def _parse_regions(regions: Any, field: str) -> dict[str, dict[str, tuple[float, float]]]:
    parsed: dict[str, dict[str, tuple[float, float]]] = {}
    if not isinstance(regions, Mapping):
        raise ValidationError(field, "expected a mapping of region -> provider -> prices")
    for region, providers in regions.items():
        if not isinstance(providers, Mapping):
            raise ValidationError(f"{field}.{region}", "expected a mapping of provider -> prices")
        for provider, prices in providers.items():
            where = f"{field}.{region}.{provider}"
            if provider not in PROVIDERS:
                raise ValidationError(where, f"not one of {', '.join(PROVIDERS)}")
            try:
                vcpu, gb = float(prices["vcpu_hour"]), float(prices["gb_hour"])
            except (KeyError, TypeError, ValueError):
                raise ValidationError(where, "needs numeric vcpu_hour and gb_hour") from None
            if vcpu < 0 or gb < 0:
                raise ValidationError(where, "prices cannot be negative")
            parsed.setdefault(str(region), {})[provider] = (vcpu, gb)
    return parsed
