"""Scaling analysis: replay observed load through ECS target tracking, recommend policies that keep
an SLO at the lowest cost, and put them into a spec.

One concern per module, in the order the data flows:

| module | owns |
|---|---|
| ``series`` | the metrics frame as (minutes, services) arrays |
| ``settings`` | scaling settings read from ScalingSpec-like objects, checked |
| ``engine`` | the replay on arrays: alarms, proportional steps, cooldowns |
| ``simulate`` | :func:`simulate_target_tracking` (the model in its docstring), its result and task sizes |
| ``grid`` | :func:`simulate_grid`: what-if over request targets x max capacities |
| ``outcome`` | the load a recommendation replays; a replay judged against the SLO and priced |
| ``targets`` | how each value of a recommended policy is chosen |
| ``schedule`` | scheduled actions for a daily or weekly pattern |
| ``reasons`` | why, in words, and the load test that would settle it |
| ``recommendation`` | :func:`recommend_policies` |
| ``spec_patch`` | :func:`apply_recommendations`, :func:`changed_values` |
| ``tables`` | the frames above for people |
"""

from ..cost import HOURS_PER_MONTH
from .engine import BLOCK_MINUTES, replay
from .grid import GRID, grid_totals, simulate_grid
from .reasons import LOADTEST_REACH, loadtest_command
from .recommendation import RECOMMENDATION_COLUMNS, SLO_MINUTES, TIGHTENING, recommend_policies
from .schedule import DAY_TYPES
from .series import ALBS, MINUTE, ROWS_AT_ONCE
from .settings import POLICIES, POLICY_METRICS
from .simulate import (
    ALL_ON_DEMAND,
    SimulationResult,
    TaskSize,
    policies_from_spec,
    simulate_target_tracking,
    task_sizes,
)
from .spec_patch import apply_recommendations, changed_values
from .tables import mixes_table, recommendation_table, schedule_table
from .targets import FULL_WEEK, PUBLIC_FLOOR

__all__ = [
    "ALBS",
    "ALL_ON_DEMAND",
    "BLOCK_MINUTES",
    "DAY_TYPES",
    "FULL_WEEK",
    "GRID",
    "HOURS_PER_MONTH",
    "LOADTEST_REACH",
    "MINUTE",
    "POLICIES",
    "POLICY_METRICS",
    "PUBLIC_FLOOR",
    "RECOMMENDATION_COLUMNS",
    "ROWS_AT_ONCE",
    "SLO_MINUTES",
    "TIGHTENING",
    "SimulationResult",
    "TaskSize",
    "apply_recommendations",
    "changed_values",
    "grid_totals",
    "loadtest_command",
    "mixes_table",
    "policies_from_spec",
    "recommend_policies",
    "recommendation_table",
    "replay",
    "schedule_table",
    "simulate_grid",
    "simulate_target_tracking",
    "task_sizes",
]
