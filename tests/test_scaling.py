"""Target-tracking replay against hand-computed expectations.

Conventions of these tests: minute t's datapoint is evaluated at the end of minute t, so an
action decided then shows as the task count of minute t+1. Request targets are 1000 per target,
the scale-in threshold is 900 (90 %).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import dualalb_kit.scaling.engine as scaling_engine
import dualalb_kit.scaling.series as scaling_series
from dualalb_kit import ValidationError
from dualalb_kit.cost import compare_mixes as cost_compare_mixes
from dualalb_kit.scaling import (
    TaskSize,
    grid_totals,
    policies_from_spec,
    recommendation_table,
    simulate_grid,
    simulate_target_tracking,
    task_sizes,
)
from dualalb_kit.spec import ScalingSpec, load_spec

START = pd.Timestamp("2026-01-05 00:00", tz="UTC")
REQUESTS_ONLY = SimpleNamespace(max_capacity=10, request_per_target=1000, target_cpu_utilization=None)


def tidy(
    series: dict[tuple[str, str | None, str, str], list[float]], minutes: int | None = None
) -> pd.DataFrame:
    """A load_metrics-shaped frame from {(service, alb, metric, stat): per-minute values}."""
    frames = []
    for (service, alb, metric, stat), values in series.items():
        grid = pd.date_range(START, periods=len(values), freq="1min")
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": grid,
                    "service": service,
                    "alb": alb,
                    "metric": metric,
                    "stat": stat,
                    "value": values,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def requests(values, service: str = "web", alb: str = "external") -> dict:
    return {(service, alb, "RequestCount", "Sum"): [float(v) for v in values]}


def tasks_of(result, service: str = "web") -> list[int]:
    return result.tasks.loc[result.tasks["service"] == service, "tasks"].tolist()


def test_step_load_scales_out_after_three_minutes_to_the_proportional_count():
    # 1900 req on 2 tasks = 950/target: neither above 1000 nor below 900. From minute 10, 4500 req
    # = 2250/target; minutes 10, 11, 12 breach, so minute 13 runs ceil(2 x 2250 / 1000) = 5 tasks.
    metrics = tidy(requests([1900] * 10 + [4500] * 30))
    result = simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count=2)
    assert tasks_of(result) == [2] * 13 + [5] * 27
    assert result.activities[["from_tasks", "to_tasks"]].values.tolist() == [[2, 5]]
    assert result.activities["timestamp"].tolist() == [START + pd.Timedelta(minutes=13)]
    # 4500 / 5 = 900 is not below 0.9 x 1000, so no scale-in follows.
    assert result.capped.empty
    metric = result.policy_metrics.set_index("timestamp")["value"]
    assert metric[START + pd.Timedelta(minutes=12)] == 2250
    assert metric[START + pd.Timedelta(minutes=13)] == 900


def test_scale_out_never_passes_max_capacity_and_capped_minutes_are_reported():
    metrics = tidy(requests([1900] * 10 + [4500] * 30))
    scaling = SimpleNamespace(max_capacity=4, request_per_target=1000, target_cpu_utilization=None)
    result = simulate_target_tracking(metrics, scaling, desired_count=2)
    assert tasks_of(result) == [2] * 13 + [4] * 27
    assert max(tasks_of(result)) == 4
    # Capped: at max capacity while the policy needs ceil(4500 / 1000) = 5 tasks, minutes 13-39.
    capped = result.capped
    assert capped["timestamp"].tolist() == list(
        pd.date_range(START + pd.Timedelta(minutes=13), periods=27, freq="1min")
    )
    assert set(capped["required"]) == {5.0}
    assert result.summary().loc["web", "capped_minutes"] == 27


def test_scale_in_waits_fifteen_datapoints_below_ninety_percent():
    # 4 tasks, 1000 req = 250/target < 900 from minute 0: minutes 0-14 are 15 datapoints, so
    # minute 15 runs max(ceil(1000 / 1000), min 1) = 1 task.
    result = simulate_target_tracking(tidy(requests([1000] * 30)), REQUESTS_ONLY, desired_count=4)
    assert tasks_of(result) == [4] * 15 + [1] * 15
    # Fourteen datapoints are not enough.
    result = simulate_target_tracking(
        tidy(requests([1000] * 14 + [3800] * 16)), REQUESTS_ONLY, desired_count=4
    )
    assert tasks_of(result) == [4] * 30


def test_scale_in_respects_min_capacity():
    scaling = ScalingSpec(max_capacity=10, min_capacity=3, request_per_target=1000, target_cpu_utilization=50)
    metrics = tidy(requests([1000] * 30))
    assert tasks_of(simulate_target_tracking(metrics, scaling, desired_count=6)) == [6] * 15 + [3] * 15


def test_scale_in_is_blocked_during_the_scale_out_cooldown():
    # 4500 req on 2 tasks for minutes 0-2 -> 5 tasks from minute 3. Then 1000 req: 200/target,
    # below from minute 3; the 15th datapoint is minute 17, so with the default 300 s cooldown
    # (scale-out at minute 2, scale-in allowed from minute 7) minute 18 runs 1 task.
    metrics = tidy(requests([4500] * 3 + [1000] * 37))
    result = simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count=2)
    assert tasks_of(result) == [2] * 3 + [5] * 15 + [1] * 22
    # A 1200 s scale-out cooldown holds scale-in until the end of minute 2 + 20 = 22.
    result = simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count=2, scale_out_cooldown=1200)
    assert tasks_of(result) == [2] * 3 + [5] * 20 + [1] * 17


def test_scale_in_cooldown_spaces_scale_ins_and_scale_out_may_interrupt_it():
    # 10 tasks, 4000 req = 400/target: scale-in at the end of minute 14 to ceil(4000 / 1000) = 4.
    # From minute 15, 1000 req = 250/target on 4 tasks: the alarm stays in ALARM, but the next
    # scale-in waits for the 300 s scale-in cooldown: end of minute 19, to 1 task from minute 20.
    metrics = tidy(requests([4000] * 15 + [1000] * 15))
    assert (
        tasks_of(simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count=10))
        == [10] * 15 + [4] * 5 + [1] * 10
    )
    # 8000 req from minute 15 = 2000/target on 4 tasks: minutes 15-17 breach and the scale-out to
    # 8 happens inside the scale-in cooldown (which it may), from minute 18.
    metrics = tidy(requests([4000] * 15 + [8000] * 15))
    assert (
        tasks_of(simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count=10))
        == [10] * 15 + [4] * 3 + [8] * 12
    )


def cpu_and_requests(cpu: float, request_count: float, running: float, minutes: int = 40) -> pd.DataFrame:
    return tidy(
        {
            ("web", None, "CPUUtilization", "Average"): [cpu] * minutes,
            ("web", None, "RunningTaskCount", "Average"): [running] * minutes,
            ("web", "external", "RequestCount", "Sum"): [request_count] * minutes,
        }
    )


BOTH = SimpleNamespace(max_capacity=10, request_per_target=1000, target_cpu_utilization=50)


def test_with_two_policies_the_larger_demand_wins_on_scale_out():
    # CPU: 90 % on 2 observed tasks = 180 %-tasks of work; on 2 simulated tasks 90 % > 50 %, wants
    # ceil(180 / 50) = 4. Requests: 2600 on 2 = 1300 > 1000, wants ceil(2.6) = 3. Minute 3 runs 4.
    result = simulate_target_tracking(cpu_and_requests(90, 2600, 2), BOTH, desired_count=2)
    assert tasks_of(result) == [2] * 3 + [4] * 37
    # Then CPU is 180 / 4 = 45 %, not below 0.9 x 50 = 45, while requests are 650 < 900: scale-in
    # needs every policy, so 4 tasks stay.
    at_minute_3 = result.policy_metrics.loc[
        result.policy_metrics["timestamp"] == START + pd.Timedelta(minutes=3)
    ]
    assert dict(zip(at_minute_3["policy"], at_minute_3["value"], strict=True)) == {
        "cpu": 45.0,
        "requests:external": 650.0,
    }


def test_one_policy_above_target_is_enough_to_scale_out():
    # CPU is low (10 % x 2 tasks), requests need ceil(3500 / 1000) = 4.
    result = simulate_target_tracking(cpu_and_requests(10, 3500, 2, minutes=10), BOTH, desired_count=2)
    assert tasks_of(result) == [2] * 3 + [4] * 7


def test_scale_in_only_when_all_policies_agree_and_to_the_largest_remaining_demand():
    # 6 tasks. CPU 20 % x 6 = 120 %-tasks: 20 % < 45 %, wants ceil(120 / 50) = 3. Requests 1200:
    # 200/target < 900, wants ceil(1.2) = 2. Both below for 15 minutes: minute 15 runs 3.
    result = simulate_target_tracking(cpu_and_requests(20, 1200, 6, minutes=30), BOTH, desired_count=6)
    assert tasks_of(result) == [6] * 15 + [3] * 15


def test_each_target_group_is_its_own_request_policy():
    # 3000 req on the external ALB and 600 on the internal one, 2 tasks: external 1500 > 1000
    # wants 3; internal 300 is below. Summing the two (3600) would have asked for 4.
    metrics = tidy({**requests([3000] * 10), **requests([600] * 10, alb="internal")})
    result = simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count=2)
    assert tasks_of(result) == [2] * 3 + [3] * 7
    assert sorted(result.policy_metrics["policy"].unique()) == ["requests:external", "requests:internal"]


def test_missing_datapoints_do_nothing():
    nan = float("nan")
    # Above target at minutes 0, 2, 4 with gaps between: the gaps neither break nor extend the
    # run, so the third breaching datapoint is minute 4 and minute 5 runs ceil(2500 / 1000) = 3.
    result = simulate_target_tracking(
        tidy(requests([2500, nan, 2500, nan, 2500, 2500])), REQUESTS_ONLY, desired_count=2
    )
    assert tasks_of(result) == [2] * 5 + [3]
    # Below target for minutes 0-9, no data for 20 minutes, below again from minute 30: the
    # 15th below datapoint is minute 34; nothing happens in the gap.
    result = simulate_target_tracking(
        tidy(requests([1000] * 10 + [nan] * 20 + [1000] * 10)), REQUESTS_ONLY, desired_count=4
    )
    assert tasks_of(result) == [4] * 35 + [1] * 5
    gap = result.policy_metrics["value"].iloc[10:30]
    assert gap.isna().all()
    # No data at all: the count never moves.
    result = simulate_target_tracking(tidy(requests([nan] * 20)), REQUESTS_ONLY, desired_count=3)
    assert tasks_of(result) == [3] * 20
    assert result.tasks["required"].isna().all()


def test_a_policy_missing_a_datapoint_blocks_scale_in_that_minute():
    # Both policies below for 15 minutes except that CPU has no datapoint at minute 14: the
    # all-agree rule fails there and holds at minute 15, so the scale-in lands one minute later.
    cpu = [20.0] * 14 + [float("nan")] + [20.0] * 15
    metrics = tidy(
        {
            ("web", None, "CPUUtilization", "Average"): cpu,
            ("web", None, "RunningTaskCount", "Average"): [6.0] * 30,
            ("web", "external", "RequestCount", "Sum"): [1200.0] * 30,
        }
    )
    assert tasks_of(simulate_target_tracking(metrics, BOTH, desired_count=6)) == [6] * 16 + [3] * 14


def test_cpu_work_falls_back_to_healthy_hosts_and_start_defaults_to_the_observed_count():
    # No RunningTaskCount: observed tasks = the larger HealthyHostCount of the two ALBs (3).
    # CPU 80 % x 3 = 240 %-tasks; the start is the observed 3 tasks, 80 % > 50 %, wants ceil(4.8) = 5.
    metrics = tidy(
        {
            ("web", None, "CPUUtilization", "Average"): [80.0] * 6,
            ("web", "external", "HealthyHostCount", "Average"): [3.0] * 6,
            ("web", "internal", "HealthyHostCount", "Average"): [2.0] * 6,
        }
    )
    scaling = SimpleNamespace(max_capacity=10, request_per_target=None, target_cpu_utilization=50)
    result = simulate_target_tracking(metrics, scaling)
    assert tasks_of(result) == [3] * 3 + [5] * 3
    assert result.tasks["observed_tasks"].tolist() == [3.0] * 6
    assert result.policy_metrics["value"].tolist()[2:4] == [80.0, 48.0]


def test_services_are_simulated_together_exactly_as_alone():
    web = requests([1900] * 10 + [4500] * 30 + [500] * 30)
    api = requests([800] * 20 + [3000] * 50, service="api", alb="internal")
    settings = {"web": REQUESTS_ONLY, "api": ScalingSpec(max_capacity=3, request_per_target=1000)}
    together = simulate_target_tracking(tidy({**web, **api}), settings, desired_count={"web": 2, "api": 1})
    alone_web = simulate_target_tracking(tidy(web), REQUESTS_ONLY, desired_count=2)
    alone_api = simulate_target_tracking(tidy(api), settings["api"], desired_count=1)
    assert tasks_of(together, "web") == tasks_of(alone_web)
    assert tasks_of(together, "api") == tasks_of(alone_api, "api")
    summary = together.summary()
    assert summary.loc["api", "peak_tasks"] == 3
    assert summary.loc["web", "scale_outs"] == 1 and summary.loc["web", "scale_ins"] == 1
    assert np.isclose(summary.loc["web", "task_hours"], sum(tasks_of(alone_web)) / 60)


def test_synthetic_flag_travels_to_the_result():
    metrics = tidy(requests([1000] * 5))
    assert simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count=1).synthetic is False
    metrics.attrs["synthetic"] = True
    assert simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count=1).synthetic is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m.assign(timestamp=m["timestamp"].dt.tz_localize(None)), "metrics.timestamp"),
        (lambda m: m.assign(timestamp=START + (m["timestamp"] - START) * 5), "metrics.timestamp"),
        (lambda m: m.drop(columns="stat"), "metrics"),
        (lambda m: m.assign(metric="Other"), "metrics"),
    ],
)
def test_bad_frames_are_validation_errors(change, field):
    with pytest.raises(ValidationError) as error:
        simulate_target_tracking(change(tidy(requests([1000] * 5))), REQUESTS_ONLY, desired_count=1)
    assert error.value.field == field


def test_bad_settings_are_validation_errors():
    metrics = tidy(requests([1000] * 5))
    with pytest.raises(ValidationError, match=r"^scaling\.web: no scaling settings"):
        simulate_target_tracking(metrics, {"api": REQUESTS_ONLY})
    with pytest.raises(ValidationError, match=r"^scaling: need 0 <= min_capacity <= max_capacity"):
        simulate_target_tracking(metrics, {"max_capacity": 2, "min_capacity": 3, "request_per_target": 10})
    with pytest.raises(ValidationError, match=r"^desired_count\.web"):
        simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count={"api": 1})


# -- what-if grid, costs and the recommendation ----------------------------------------------------

TWO_SERVICES = tidy(
    {
        **requests([1900] * 10 + [4500] * 30 + [500] * 30),
        **requests([800] * 20 + [3000] * 50, service="api", alb="internal"),
    }
)
PER_SERVICE = {
    "web": ScalingSpec(max_capacity=10, min_capacity=4, request_per_target=1000, target_cpu_utilization=50),
    "api": {"max_capacity": 3, "request_per_target": 1000},
}
SIZES = {"web": TaskSize(256, 512), "api": TaskSize(1024, 2048, ({"provider": "FARGATE_SPOT", "weight": 1},))}
# Round prices: on-demand 0.04 per vCPU-hour and 0.004 per GB-hour, spot a quarter of that.
PRICES = {
    "us-east-1": {
        "FARGATE": {"vcpu_hour": 0.04, "gb_hour": 0.004},
        "FARGATE_SPOT": {"vcpu_hour": 0.01, "gb_hour": 0.001},
    }
}


def test_grid_rows_are_single_runs_at_each_grid_point():
    grid = simulate_grid(
        TWO_SERVICES,
        PER_SERVICE,
        request_per_target=[500, 1000],
        max_capacity=[3, 10],
        desired_count={"web": 5, "api": 1},
    )
    assert list(grid.columns) == [
        "request_per_target",
        "max_capacity",
        "service",
        "task_hours",
        "peak_tasks",
        "capped_minutes",
        "scale_outs",
        "scale_ins",
    ]
    assert grid[["request_per_target", "max_capacity", "service"]].values.tolist() == [
        [target, capacity, service]
        for target in (500, 1000)
        for capacity in (3, 10)
        for service in ("api", "web")
    ]
    own_min_and_cpu = {"web": (4, 50), "api": (1, None)}
    for row in grid.to_dict("records"):
        service, own_min, own_cpu = row["service"], *own_min_and_cpu[row["service"]]
        alone = simulate_target_tracking(
            TWO_SERVICES.loc[TWO_SERVICES["service"] == service],
            SimpleNamespace(
                max_capacity=row["max_capacity"],
                min_capacity=min(own_min, row["max_capacity"]),
                request_per_target=row["request_per_target"],
                target_cpu_utilization=own_cpu,
            ),
            desired_count={"web": 5, "api": 1}[service],
        ).summary()
        assert {column: row[column] for column in alone.columns} == alone.loc[service].to_dict()
    # By hand: web at 1000 per target and max 3 starts at 3 (its desired 5 is above the max, its
    # min 4 is lowered to 3); 4500 requests need 5 tasks for minutes 10-39, so 30 capped minutes.
    web = grid.set_index(["request_per_target", "max_capacity", "service"]).loc[(1000, 3, "web")]
    assert web["capped_minutes"] == 30 and web["peak_tasks"] == 3 and web["task_hours"] == 70 * 3 / 60


def test_summary_prices_each_service_at_its_own_size_and_mix():
    # api: 1 vCPU, 2 GB on spot = 0.01 + 2 x 0.001 = 0.012 per task-hour.
    # web: 0.25 vCPU, 0.5 GB on-demand = 0.25 x 0.04 + 0.5 x 0.004 = 0.012 per task-hour.
    result = simulate_target_tracking(TWO_SERVICES, PER_SERVICE, desired_count={"web": 5, "api": 1})
    summary = result.summary(SIZES, pricing={"regions": PRICES})
    assert summary["cost_usd"].to_dict() == pytest.approx(
        {service: summary.loc[service, "task_hours"] * 0.012 for service in ("api", "web")}
    )
    grid = simulate_grid(
        TWO_SERVICES,
        PER_SERVICE,
        [1000],
        [10],
        {"web": 5, "api": 1},
        sizes=SIZES,
        pricing={"regions": PRICES},
    )
    assert grid.set_index("service")["cost_usd"].to_dict() == pytest.approx(summary["cost_usd"].to_dict())
    with pytest.raises(ValidationError, match=r"^sizes\.web: no task size"):
        result.summary({"api": SIZES["api"]})


def test_spot_mixes_sum_the_services_each_at_its_own_size():
    result = simulate_target_tracking(TWO_SERVICES, PER_SERVICE, desired_count={"web": 5, "api": 1})
    hours = result.summary()["task_hours"]
    mixes = result.compare_mixes(SIZES, pricing={"regions": PRICES}).set_index("mix")
    # All on-demand: api 1 vCPU + 2 GB = 0.048 per task-hour, web 0.012; all spot is a quarter of that.
    on_demand = hours["api"] * 0.048 + hours["web"] * 0.012
    assert mixes.loc["all on-demand", "cost"] == pytest.approx(on_demand)
    assert mixes.loc["all spot", "cost"] == pytest.approx(on_demand / 4)
    assert mixes.loc["all spot", "saving"] == pytest.approx(0.75)
    assert mixes.loc["all spot", "spot_task_hours"] == pytest.approx(hours.sum())
    each = [
        cost_compare_mixes(
            result.tasks[result.tasks["service"] == service],
            SIZES[service].cpu,
            SIZES[service].memory,
            pricing={"regions": PRICES},
        ).set_index("mix")
        for service in ("api", "web")
    ]
    assert mixes["on_demand_cost"].to_dict() == pytest.approx((each[0] + each[1])["on_demand_cost"].to_dict())
    assert mixes.attrs["region"] == "us-east-1"


def test_grid_totals_sum_the_services_per_grid_point():
    rows = [  # (request_per_target, max_capacity, service, capped_minutes, cost_usd)
        (500, 4, "api", 0, 1.0),
        (500, 4, "web", 7, 1.0),
        (1000, 4, "api", 0, 2.0),
        (1000, 4, "web", 0, 1.5),
        (1000, 10, "api", 0, 2.0),
        (1000, 10, "web", 0, 1.5),
        (2000, 10, "api", 0, 3.0),
        (2000, 10, "web", 0, 3.0),
    ]
    grid = pd.DataFrame(
        rows, columns=["request_per_target", "max_capacity", "service", "capped_minutes", "cost_usd"]
    )
    totals = grid_totals(grid)
    assert totals.values.tolist() == [
        [500, 4, 7, 2.0],
        [1000, 4, 0, 3.5],
        [1000, 10, 0, 3.5],
        [2000, 10, 0, 6.0],
    ]


def test_recommendation_table_shows_the_capacity_interval_and_measured_minutes_over_slo():
    recommendations = pd.DataFrame(
        {
            "service": ["api", "web"],
            "requests_per_task_at_slo": [12003.4, np.nan],
            "limited_by": ["latency", None],
            "current_request_per_target": [1000, 500],
            "request_per_target": [8402, 500],
            "current_target_cpu_utilization": [70.0, 70.0],
            "target_cpu_utilization": [49.0, 70.0],
            "current_min_capacity": [1, 1],
            "current_max_capacity": [4, 4],
            "min_capacity": [2, 1],
            "max_capacity": [8, 4],
            "headroom": [0.3, np.nan],
            "minutes_over_slo": [3, np.nan],
            "peak_tasks": [5, 2],
            "current_cost_per_month_usd": [30.111, 20.0],
            "cost_per_month_usd": [40.0, 20.0],
            "confidence": ["high", "low"],
            "observed_minutes_over_slo": [12, 0],
            "capacity_low": [10800.2, np.nan],
            "capacity_high": [13250.0, 950.0],
        }
    )
    table = recommendation_table(recommendations)
    columns = table.columns.tolist()
    assert columns[1:4] == ["requests/min per task at SLO", "capacity interval", "limited by"]
    assert columns[columns.index("minutes over SLO") + 1] == "measured minutes over SLO"
    assert table["capacity interval"].tolist() == ["10,800-13,250", "?-950"]
    assert table["measured minutes over SLO"].tolist() == [12, 0]
    # a frame without them (an older recommendation) keeps the table as it was
    older = recommendation_table(
        recommendations.drop(columns=["observed_minutes_over_slo", "capacity_low", "capacity_high"])
    )
    assert "capacity interval" not in older and "measured minutes over SLO" not in older
    assert older.columns.tolist() == [
        name for name in columns if name not in ("capacity interval", "measured minutes over SLO")
    ]


def test_task_sizes_follow_the_spec():
    spec = load_spec(
        {
            "stack_name": "s",
            "spot": True,
            "tasks": [
                {"name": "a", "image": "i", "cpu": 512, "memory": 1024, "internal": {"port": 80}},
                {
                    "name": "b",
                    "image": "i",
                    "internal": {"port": 81},
                    "capacity": [{"provider": "FARGATE", "base": 1, "weight": 1}],
                },
            ],
        }
    )
    sizes = task_sizes(spec)
    assert (sizes["a"].cpu, sizes["a"].memory) == (512, 1024)
    assert [(c.provider, c.base, c.weight) for c in sizes["a"].strategy] == [("FARGATE_SPOT", 0, 1)]
    assert [(c.provider, c.base, c.weight) for c in sizes["b"].strategy] == [("FARGATE", 1, 1)]


def test_policies_from_spec_are_each_tasks_scaling_and_desired_count():
    spec = load_spec(
        {
            "stack_name": "s",
            "tasks": [
                {
                    "name": "web",
                    "image": "i",
                    "desired_count": 2,
                    "external": {"port": 80},
                    "scaling": {"max_capacity": 8, "request_per_target": 1000},
                },
                {"name": "api", "image": "i", "desired_count": 1, "internal": {"port": 81}},
            ],
        }
    )
    policies = policies_from_spec(spec)
    assert policies["desired_count"] == {"web": 2, "api": 1}
    assert policies["scaling"]["web"] == ScalingSpec(max_capacity=8, request_per_target=1000)
    explicit = simulate_target_tracking(
        TWO_SERVICES, {task.name: task.scaling for task in spec.tasks}, {"web": 2, "api": 1}
    )
    result = simulate_target_tracking(TWO_SERVICES, **policies)
    pd.testing.assert_frame_equal(result.tasks, explicit.tasks)
    assert (tasks_of(result)[0], tasks_of(result, "api")[0]) == (2, 1)


def test_bad_grids_are_validation_errors():
    with pytest.raises(ValidationError, match=r"^max_capacity: give a list"):
        simulate_grid(TWO_SERVICES, PER_SERVICE, [1000], [])
    with pytest.raises(ValidationError, match=r"^request_per_target: give a list"):
        simulate_grid(TWO_SERVICES, PER_SERVICE, 1000, [4])


# -- long windows: minutes replayed in blocks, frames read in row chunks, a grid in one replay ------


def test_alarm_runs_and_cooldowns_carry_across_replay_blocks(monkeypatch):
    # Blocks of 10 minutes. Breaches at minutes 9, 10, 11 straddle a boundary: minute 12 runs
    # ceil(2 x 2250 / 1000) = 5. From minute 20, 500 req = 0.5 tasks' worth: the 15 datapoints of the
    # scale-in run (minutes 20-34) cross two boundaries, so minute 35 runs max(1, min 1) = 1.
    monkeypatch.setattr(scaling_engine, "BLOCK_MINUTES", 10)
    metrics = tidy(requests([1900] * 9 + [4500] * 11 + [500] * 20))
    result = simulate_target_tracking(metrics, REQUESTS_ONLY, desired_count=2)
    assert tasks_of(result) == [2] * 12 + [5] * 23 + [1] * 5
    assert result.activities[["from_tasks", "to_tasks"]].values.tolist() == [[2, 5], [5, 1]]


def test_frames_read_in_row_chunks_replay_as_a_whole(monkeypatch):
    whole = simulate_target_tracking(TWO_SERVICES, PER_SERVICE, desired_count={"web": 5, "api": 1})
    monkeypatch.setattr(scaling_series, "ROWS_AT_ONCE", 7)
    chunked = simulate_target_tracking(TWO_SERVICES, PER_SERVICE, desired_count={"web": 5, "api": 1})
    pd.testing.assert_frame_equal(chunked.tasks, whole.tasks)
    pd.testing.assert_frame_equal(chunked.policy_metrics, whole.policy_metrics)
    # Every chunk is checked: 2-minute spacing seen chunk by chunk, half a minute off in the last row.
    two_minutes = tidy(requests([1000] * 20)).assign(timestamp=lambda m: START + (m["timestamp"] - START) * 2)
    with pytest.raises(ValidationError, match="datapoints are 2 minutes apart"):
        simulate_target_tracking(two_minutes, REQUESTS_ONLY, desired_count=1)
    late = tidy(requests([1000] * 20))
    late.loc[19, "timestamp"] += pd.Timedelta(seconds=30)
    with pytest.raises(ValidationError, match="replays 1-minute datapoints"):
        simulate_target_tracking(late, REQUESTS_ONLY, desired_count=1)


def test_categorical_labels_replay_as_plain_strings():
    # Categories out of order, one unused and one (zzz) with no metric the replay reads.
    other = tidy({("zzz", None, "MemoryUtilization", "Average"): [50.0] * 70})
    metrics = pd.concat([TWO_SERVICES, other], ignore_index=True)
    labels = {"service": pd.CategoricalDtype(["web", "zzz", "unused", "api"])}
    labels |= {column: "category" for column in ("alb", "metric", "stat")}
    plain = simulate_target_tracking(metrics, PER_SERVICE, desired_count={"web": 5, "api": 1})
    categorical = simulate_target_tracking(metrics.astype(labels), PER_SERVICE, {"web": 5, "api": 1})
    assert categorical.tasks["service"].cat.categories.tolist() == ["api", "web"]
    pd.testing.assert_frame_equal(categorical.tasks, plain.tasks)
    pd.testing.assert_frame_equal(categorical.activities, plain.activities)


def test_grid_in_one_replay_equals_each_grid_point_replayed_alone(monkeypatch):
    # simulate_grid replays all grid points side by side and sums the counts itself; here against
    # simulate_target_tracking(...).summary() per grid point, with costs, a disabled request
    # policy, changed alarm options, a gap in the data, and blocks and chunks smaller than the frame.
    monkeypatch.setattr(scaling_engine, "BLOCK_MINUTES", 16)
    monkeypatch.setattr(scaling_series, "ROWS_AT_ONCE", 50)
    cpu = tidy({("web", None, "CPUUtilization", "Average"): [30.0] * 20 + [90.0] * 30 + [20.0] * 20})
    running = tidy({("web", None, "RunningTaskCount", "Average"): [4.0] * 70})
    metrics = pd.concat([TWO_SERVICES, cpu, running], ignore_index=True)
    metrics.loc[[5, 6, 100], "value"] = np.nan
    options = {"scale_in_cooldown": 120, "scale_out_datapoints": 2, "scale_in_datapoints": 10}
    desired = {"web": 5, "api": 1}
    pricing = {"regions": PRICES}
    grid = simulate_grid(
        metrics, PER_SERVICE, [500, None, 1000], [3, 10], desired, sizes=SIZES, pricing=pricing, **options
    )
    own = {"web": (4, 50), "api": (1, None)}  # min capacity and CPU target of PER_SERVICE
    expected = []
    for target in (500, None, 1000):
        for capacity in (3, 10):
            at_point = {
                service: {
                    "max_capacity": capacity,
                    "min_capacity": min(low, capacity),
                    "request_per_target": target,
                    "target_cpu_utilization": cpu_target,
                }
                for service, (low, cpu_target) in own.items()
            }
            result = simulate_target_tracking(metrics, at_point, desired, **options)
            summary = result.summary(SIZES, pricing=pricing).reset_index()
            expected.append(summary.assign(request_per_target=target, max_capacity=capacity))
    expected = pd.concat(expected, ignore_index=True).astype({"service": str})
    pd.testing.assert_frame_equal(grid, expected[list(grid.columns)], check_exact=True)
    assert grid["capped_minutes"].sum() > 0 and grid["scale_ins"].sum() > 0
