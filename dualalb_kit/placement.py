"""How ECS places a service's tasks between FARGATE and FARGATE_SPOT under a capacity-provider
strategy: the rule the cost model, the diagram's placement table and the live sandbox share.

The provider with a ``base`` gets the first ``base`` tasks (all of them if there are fewer); the
remainder is split in proportion to the weights. ECS does not document how it rounds a split that
does not come out whole; this module uses the largest remainder: each provider gets
floor(remainder x weight / total weight), and the tasks left over go one each to the providers
with the largest fractional share, ties to the provider listed first. Each count is split on its
own (ECS keeps the ratio as it scales).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ValidationError
from .validation import CAPACITY_BASE_MAX, CAPACITY_PROVIDERS, CAPACITY_WEIGHT_MAX


def split_tasks(count: int, strategy: Sequence[Any]) -> dict[str, int]:
    """How ECS places ``count`` tasks under ``strategy``: provider -> tasks (see the module's docstring).

    ``strategy`` items are CapacitySpec-like objects or mappings with ``provider`` (FARGATE or
    FARGATE_SPOT), ``base`` (default 0) and ``weight`` (default 1).
    Example: 10 tasks, FARGATE base 1 weight 1 + FARGATE_SPOT weight 3 -> FARGATE 3, FARGATE_SPOT 7.
    """
    if int(count) != count or count < 0:
        raise ValidationError("count", f"{count} is not a whole number of tasks")
    providers, bases, weights = parse_strategy(strategy)
    placed = place_counts(np.array([int(count)]), bases, weights)[:, 0]
    return {provider: int(tasks) for provider, tasks in zip(providers, placed, strict=True)}


def place_counts(counts: np.ndarray, bases: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(providers, len(counts)) task counts: base first, then largest-remainder by weight."""
    base_part = np.minimum(counts[None, :], bases[:, None])  # at most one provider has a base
    rest = counts - base_part.sum(axis=0)
    share = rest[None, :] * weights[:, None]
    whole, remainder = np.divmod(share, weights.sum())
    left_over = rest - whole.sum(axis=0)
    order = np.argsort(-remainder, axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(len(weights))[:, None].repeat(len(counts), axis=1), axis=0)
    return base_part + whole + (rank < left_over[None, :])


def parse_strategy(strategy: Sequence[Any]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``strategy``'s providers, bases and weights, checked (a ``ValidationError`` naming the item)."""
    if isinstance(strategy, (str, Mapping)) or not strategy:
        raise ValidationError("strategy", "give a list of capacity providers (provider, base, weight)")
    providers, bases, weights = [], [], []
    for index, item in enumerate(strategy):
        provider = _field(item, "provider", None) or _field(item, "capacity_provider", None)
        base, weight = _field(item, "base", 0), _field(item, "weight", 1)
        field = f"strategy[{index}]"
        if provider not in CAPACITY_PROVIDERS:
            raise ValidationError(
                f"{field}.provider", f"{provider!r} is not one of {', '.join(CAPACITY_PROVIDERS)}"
            )
        if provider in providers:
            raise ValidationError(f"{field}.provider", f"{provider} is listed twice")
        if int(base) != base or not 0 <= base <= CAPACITY_BASE_MAX:
            raise ValidationError(f"{field}.base", f"{base} is not a whole number in 0-{CAPACITY_BASE_MAX}")
        if int(weight) != weight or not 0 <= weight <= CAPACITY_WEIGHT_MAX:
            raise ValidationError(
                f"{field}.weight", f"{weight} is not a whole number in 0-{CAPACITY_WEIGHT_MAX}"
            )
        providers.append(provider)
        bases.append(int(base))
        weights.append(int(weight))
    if sum(base > 0 for base in bases) > 1:
        raise ValidationError("strategy", "only one capacity provider may have a base")
    if not any(weights):
        raise ValidationError("strategy", "at least one capacity provider needs a weight above 0")
    return tuple(providers), np.array(bases, dtype=np.int64), np.array(weights, dtype=np.int64)


def _field(item: Any, name: str, default: Any) -> Any:
    value = item.get(name, default) if isinstance(item, Mapping) else getattr(item, name, default)
    return default if value is None else value
