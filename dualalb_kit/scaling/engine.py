"""The simulator's core on arrays: target tracking's alarms, proportional steps and cooldowns,
minute by minute, for every policy and service at once (the model is in
:mod:`dualalb_kit.scaling.simulate`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np


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
    blocks = replay_blocks(
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
whatever the window (the demand itself may come block by block too, see
:func:`~dualalb_kit.scaling.simulate_grid`)."""


def replay_blocks(
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
    present = _present(demand_of, minutes)  # (K, S): policy configured, with data somewhere
    out_run = np.zeros(present.shape, dtype=np.int64)
    # Absent policies start with a scale-in run that always counts.
    in_run = np.where(present, 0, scale_in_datapoints).astype(np.int64)
    current = initial.astype(np.int64).copy()
    scale_in_allowed_from = np.full(capacity.shape[1], -np.inf)
    for start in range(0, minutes, BLOCK_MINUTES):
        rows = slice(start, min(start + BLOCK_MINUTES, minutes))
        demand = demand_of(rows)
        valid, wanted, in_to_all, counts_for_scale_in = _block(demand, present, min_capacity)
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


def _block(
    demand: np.ndarray, present: np.ndarray, min_capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the minutes of one block decide with, from its demand (rows, K, S): which datapoints
    are there, each policy's proportional count, the scale-in count per minute and service, and
    which policies count towards the all-agree scale-in rule."""
    valid = ~np.isnan(demand)
    wanted = np.ceil(np.nan_to_num(demand, nan=0.0)).astype(np.int64)
    # Scale-in target per minute: the largest remaining demand, at least min capacity.
    in_to_all = np.maximum(wanted.max(axis=1), min_capacity)
    # A service without any policy gets an unreachable scale-in target so it never scales in.
    in_to_all[:, ~present.any(axis=0)] = np.iinfo(np.int64).max
    # A policy without data in the whole frame never blocks the all-agree rule; one missing a
    # datapoint blocks it that minute.
    counts_for_scale_in = valid | ~present
    return valid, wanted, in_to_all, counts_for_scale_in


def _present(demand_of: Callable[[slice], np.ndarray], minutes: int) -> np.ndarray:
    """(K, S): whether each policy of each service has a datapoint anywhere in the minutes."""
    present = np.zeros(demand_of(slice(0, 0)).shape[1:], dtype=bool)
    for start in range(0, minutes, BLOCK_MINUTES):
        present |= ~np.isnan(demand_of(slice(start, start + BLOCK_MINUTES))).all(axis=0)
    return present


def required_tasks(demand: np.ndarray) -> np.ndarray:
    """(T, S): the tasks the policies would need to meet every target; NaN without data."""
    with np.errstate(all="ignore"):
        needed = np.ceil(np.nanmax(np.where(np.isnan(demand), -np.inf, demand), axis=1))
    needed[np.isinf(needed)] = np.nan
    return needed


def capped_minutes(capacity: np.ndarray, required: np.ndarray, max_capacity: np.ndarray) -> np.ndarray:
    """(T, S): minutes at max capacity that needed more."""
    return (capacity == max_capacity) & (required > max_capacity)
