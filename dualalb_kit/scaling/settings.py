"""The settings a replay runs under, read from ScalingSpec-like objects and checked.

A service's scaling settings are a :class:`~dualalb_kit.spec.ScalingSpec` or any object or mapping
with its attributes or keys ``max_capacity``, ``request_per_target``, ``target_cpu_utilization``
and optional ``min_capacity``; one for every service, or a mapping service -> such settings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from ..errors import ValidationError

if TYPE_CHECKING:
    from ..spec import ScalingSpec

    ScalingSettings: TypeAlias = ScalingSpec | Mapping[str, Any]
    """One service's settings: a ScalingSpec, or an object or mapping with its names."""
    Scaling: TypeAlias = ScalingSettings | Mapping[str, ScalingSettings]
    """The same settings for every service, or a mapping service -> settings."""
    DesiredCount: TypeAlias = int | Mapping[str, int] | None
    """One count for every service, or a mapping service -> count; None: the observed count."""

POLICIES = ("cpu", "requests:external", "requests:internal")
POLICY_METRICS = ("CPUUtilization", "RequestCountPerTarget", "RequestCountPerTarget")


def field(settings: Any, name: str, default: Any = None) -> Any:
    """``settings``' value of ``name``, read as a key of a mapping or an attribute of an object."""
    if isinstance(settings, Mapping):
        return settings.get(name, default)
    return getattr(settings, name, default)


def per_service(scaling: Scaling) -> bool:
    """True for a mapping service -> settings, False for one settings object or mapping for all."""
    return isinstance(scaling, Mapping) and "max_capacity" not in scaling


@dataclass(frozen=True)
class Limits:
    """Per-service settings as arrays over the services axis."""

    min_capacity: np.ndarray  # (S,) int
    max_capacity: np.ndarray  # (S,) int
    targets: np.ndarray  # (K, S) float, NaN where the policy is disabled
    desired: np.ndarray  # (S,) float, NaN = start from the observed count

    @staticmethod
    def stack(limits: Sequence[Limits]) -> Limits:
        """Several settings of the same services side by side on one services axis."""
        return Limits(
            np.concatenate([each.min_capacity for each in limits]),
            np.concatenate([each.max_capacity for each in limits]),
            np.concatenate([each.targets for each in limits], axis=1),
            np.concatenate([each.desired for each in limits]),
        )

    def initial(self, first_observed: np.ndarray) -> np.ndarray:
        """Each service's count at the first minute: its desired count, else its first observed one
        (else 0), within its min and max capacity."""
        initial = np.where(np.isnan(self.desired), first_observed, self.desired)
        return np.clip(np.nan_to_num(initial, nan=0), self.min_capacity, self.max_capacity)


def limits(services: list[str], scaling: Scaling, desired_count: DesiredCount, min_capacity: int) -> Limits:
    """``scaling`` and ``desired_count`` for ``services``, checked (``min_capacity`` where a
    service's settings have none)."""
    by_service = per_service(scaling)
    mins, maxes, desired = [], [], []
    targets = np.full((len(POLICIES), len(services)), np.nan)
    for index, service in enumerate(services):
        if by_service and service not in scaling:
            raise ValidationError(f"scaling.{service}", "no scaling settings for this service")
        settings = scaling[service] if by_service else scaling
        where = f"scaling.{service}" if by_service else "scaling"
        low = field(settings, "min_capacity", min_capacity)
        high = field(settings, "max_capacity")
        if high is None or low is None or not 0 <= int(low) <= int(high):
            raise ValidationError(where, f"need 0 <= min_capacity <= max_capacity, got {low} and {high}")
        cpu_target = field(settings, "target_cpu_utilization")
        request_target = field(settings, "request_per_target")
        for policy_index, target in ((0, cpu_target), (1, request_target), (2, request_target)):
            if target is not None and not float(target) > 0:
                raise ValidationError(where, f"targets must be positive, got {target}")
            targets[policy_index, index] = np.nan if target is None else float(target)
        mins.append(int(low))
        maxes.append(int(high))
        desired.append(_desired(desired_count, service))
    return Limits(np.array(mins), np.array(maxes), targets, np.array(desired, dtype=float))


def _desired(desired_count: DesiredCount, service: str) -> float:
    if desired_count is None:
        return math.nan
    if isinstance(desired_count, Mapping):
        if service not in desired_count:
            raise ValidationError(f"desired_count.{service}", "no desired count for this service")
        desired_count = desired_count[service]
    if int(desired_count) < 0:
        raise ValidationError("desired_count", f"{desired_count} is negative")
    return float(desired_count)


def replay_settings(
    *,
    scale_out_cooldown: float = 300,
    scale_in_cooldown: float = 300,
    scale_out_datapoints: int = 3,
    scale_in_datapoints: int = 15,
    scale_in_ratio: float = 0.9,
) -> dict[str, Any]:
    """:func:`~dualalb_kit.scaling.simulate_target_tracking`'s alarm and cooldown options (seconds,
    datapoints, a fraction), checked, as :func:`~dualalb_kit.scaling.replay` takes them."""
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
