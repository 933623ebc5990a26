"""Capacity and recommendations against the synthetic generator's model, whose truth is known.

The generator (``dualalb_kit.traffic``) documents how CPU, p99 and 5xx follow the load per task;
``LoadProfile.capacity_at`` solves that model for an SLO. ``fit_capacity`` only sees the metrics
frame, exactly as ``load_metrics`` would return it, and must find the same capacity.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from test_traffic import WEEK, resources

from dualalb_kit.capacity import CAPACITY_COLUMNS, SLO, capacity_from_points, capacity_table, fit_capacity
from dualalb_kit.errors import ValidationError
from dualalb_kit.scaling import (
    RECOMMENDATION_COLUMNS,
    apply_recommendations,
    changed_values,
    mixes_table,
    recommend_policies,
    schedule_table,
    simulate_target_tracking,
    task_sizes,
)
from dualalb_kit.spec import DeploymentSpec
from dualalb_kit.traffic import LoadProfile, Spike, published_frame, simulate

SPEC = DeploymentSpec.model_validate(
    {
        "stack_name": "demo",
        "spot": True,
        "tasks": [
            {
                "name": "web",
                "image": "nginx",
                "desired_count": 2,
                "external": {"port": 80},
                "internal": {"port": 80},
                "scaling": {"max_capacity": 20, "request_per_target": 1000, "target_cpu_utilization": 50},
            },
            {"name": "api", "image": "nginx", "desired_count": 2, "internal": {"port": 8080}},
        ],
    }
)


@functools.cache
def week_of(seed: int, task_capacity_rps: float, base_rate: float) -> pd.DataFrame:
    """A week of both services' metrics as ``load_metrics`` returns them (2 tasks each)."""
    profile = LoadProfile(base_rate=base_rate, task_capacity_rps=task_capacity_rps, seed=seed)
    stack = resources(desired=2)
    return published_frame(stack, simulate(stack, profile, WEEK), WEEK)


LIMITED = [  # seed, task capacity (requests/s), base rate (requests/s), SLO, what limits, confidence
    (1, 50, 60, SLO(), "cpu", "high"),
    (3, 80, 70, SLO(max_cpu=50), "cpu", "high"),
    (2, 30, 30, SLO(p99_ms=250), "latency", "high"),
    (7, 100, 90, SLO(p99_ms=200), "latency", "high"),
    # the busiest minutes reach 85 % of capacity and the SLO never breaks: the queueing curve says
    # where it would, 26 % past the held load, but an extrapolation stops 15 % past it
    (8, 20, 12, SLO(p99_ms=300), "latency", "low"),
    (5, 40, 70, SLO(p99_ms=5000, max_cpu=100), "errors", "high"),
    (6, 40, 45, SLO(p99_ms=5000, max_cpu=100, max_5xx_per_1k=10), "errors", "high"),
]


@pytest.mark.parametrize(("seed", "capacity_rps", "base_rate", "slo", "limit", "confidence"), LIMITED)
def test_fit_recovers_the_generators_capacity(seed, capacity_rps, base_rate, slo, limit, confidence):
    truth, truth_limit = LoadProfile(task_capacity_rps=capacity_rps).capacity_at(slo)
    assert truth_limit == limit
    table = fit_capacity(week_of(seed, capacity_rps, base_rate), slo)
    assert list(table.columns) == list(CAPACITY_COLUMNS)
    assert table["service"].tolist() == ["api", "web"]
    for row in table.itertuples():
        assert row.requests_per_task_at_slo == pytest.approx(truth, rel=0.15), row.service
        assert row.limited_by == limit
        assert row.confidence == confidence, row.note
        assert row.fit_r2 > 0.6
        assert row.observed_max_requests_per_task >= 0.5 * truth
        assert row.capacity_low <= row.requests_per_task_at_slo <= row.capacity_high
        assert pd.isna(row.change_at) and np.isnan(row.capacity_before_change)
        if confidence == "high":  # measured: the data show the SLO break just past it
            assert row.extrapolated_by < 0.05
            assert 0.85 * row.requests_per_task_at_slo <= row.capacity_low
            assert row.capacity_high <= 1.15 * row.requests_per_task_at_slo
            assert row.observed_minutes_over_slo > 0
        else:
            assert row.extrapolated_by == pytest.approx(0.15)
            assert row.requests_per_task_at_slo < truth and row.observed_minutes_over_slo <= 1
            assert "load test" in row.note
    # CPU is 3 + 90 u %, u = requests per second per task / capacity: 90 points per capacity
    expected_slope = 90 / (capacity_rps * 60) * 1000
    assert table["cpu_per_1k_requests"].tolist() == pytest.approx([expected_slope] * 2, rel=0.02)


def test_model_capacity_is_solved_from_the_documented_curves():
    profile = LoadProfile(task_capacity_rps=50, latency_seconds=0.05, latency_spread=0.4)
    # CPU: 3 + 90 u = 70 -> u = 67/90; latency: 0.05 e^(2.326 x 0.4) / (1 - 0.8 u) = 0.5 s
    assert profile.capacity_at(SLO()) == pytest.approx((67 / 90 * 50 * 60, "cpu"))
    latency_u = (1 - 0.05 * np.exp(2.3263479 * 0.4) / 0.5) / 0.8
    assert profile.capacity_at(SLO(max_cpu=100))[0] == pytest.approx(latency_u * 3000, rel=1e-6)


def test_load_far_below_capacity_is_a_low_confidence_extrapolation():
    metrics = week_of(4, 50, 15)  # the busiest minute is about 40 % of capacity
    table = fit_capacity(metrics, SLO())
    assert table["confidence"].tolist() == ["low", "low"]
    assert all("load test" in note for note in table["note"])
    recommendation = recommend_policies(metrics, SPEC)
    assert recommendation["request_per_target"].tolist() == [1000, 1000]  # api's default, web's own
    assert recommendation["confidence"].tolist() == ["low", "low"]
    assert all("dualalb-kit loadtest" in why for why in recommendation["why"])


def test_data_without_load_answers_nothing():
    quiet = week_of(4, 50, 15).copy()
    quiet.loc[quiet["metric"] != "RequestCount", "value"] = np.nan
    table = fit_capacity(quiet)
    assert table["service"].tolist() == ["api", "web"]
    assert table["requests_per_task_at_slo"].isna().all()
    assert table["limited_by"].isna().all()
    assert table["note"].tolist() == ["no minute with requests and a running task count: nothing to fit"] * 2


def test_error_noise_without_a_trend_is_never_a_confident_capacity():
    noise = np.random.default_rng(5)
    points = pd.DataFrame(
        {
            "requests_per_task": np.linspace(100, 1000, 500),
            "requests": np.full(500, 2000.0),
            "p99_ms": np.full(500, 100.0),
            "cpu_percent": np.full(500, 10.0),
            "errors_per_1k": np.where(noise.random(500) < 0.1, 1.5, 0.0),
        }
    )
    points.loc[points.index[-1], "errors_per_1k"] = 2.0  # the busiest minute happens to break it
    row = capacity_from_points(points, SLO())
    assert (row["limited_by"], row["confidence"]) == ("errors", "low")
    # 3 or 4 errors in 2,000 requests are within counting noise of the SLO's 2: no step breaks it
    assert row["observed_minutes_over_slo"] == 0
    assert row["requests_per_task_at_slo"] == row["held_requests_per_task"] == 1000
    assert "lower bound" in row["note"] and "--max-rps" in row["note"]


def ramp(steps: int, p99_ms: np.ndarray) -> pd.DataFrame:
    """A load test's curve on one task: steps of 2 requests/s (120 a minute) more each, CPU
    5 % + 1 % per 100 requests/min, no errors, p99 as given."""
    load = np.arange(1, steps + 1) * 120.0
    return pd.DataFrame(
        {
            "requests_per_task": load,
            "requests": load / 12,  # 5-second steps
            "p99_ms": p99_ms,
            "cpu_percent": 5 + load / 100,
            "errors_per_1k": 0.0,
        }
    )


def test_load_test_steps_give_the_last_step_within_the_slo_and_never_extrapolate():
    p99 = np.full(11, 60.0)
    p99[9:] = 900.0  # steps 10 and 11 break it: the load test stops after two
    row = capacity_from_points(ramp(11, p99), SLO())
    assert (row["requests_per_task_at_slo"], row["capacity_low"], row["capacity_high"]) == (1080, 1080, 1200)
    assert (row["limited_by"], row["confidence"], row["extrapolated_by"]) == ("latency", "high", 0)
    assert row["note"].startswith("latency limit at 1,080 requests/min per task: measured")
    assert row["observed_minutes_over_slo"] == 2 and pd.isna(row["change_at"])
    # one short step's p99 is often noise: a lone slow step with held steps after it is not the limit
    p99 = np.full(20, 60.0)
    p99[[4, 18, 19]] = 900.0
    row = capacity_from_points(ramp(20, p99), SLO())
    assert (row["requests_per_task_at_slo"], row["capacity_high"]) == (2160, 2280)
    # the first steps break it: nothing held, the capacity lies below the lowest step
    row = capacity_from_points(ramp(4, np.full(4, 900.0)), SLO())
    assert np.isnan(row["requests_per_task_at_slo"]) and row["capacity_high"] == 120
    assert (row["limited_by"], row["confidence"]) == ("latency", "low")
    assert "--start-rps" in row["note"]


def test_a_ramp_that_stopped_before_the_slo_broke_is_a_measured_lower_bound():
    row = capacity_from_points(ramp(6, np.full(6, 60.0)), SLO())
    # CPU's line would reach 70 % at 6,500 requests/min: a load test's answer is what it measured
    assert (row["requests_per_task_at_slo"], row["extrapolated_by"], row["confidence"]) == (720, 0, "low")
    assert np.isnan(row["capacity_high"]) and row["capacity_low"] == 720
    assert row["limited_by"] == "cpu"
    assert row["note"].startswith("cpu limit at 720 requests/min per task or more: a measured lower bound")
    assert row["note"].endswith("rerun with a higher --max-rps")


def test_a_short_window_or_low_confidence_never_lowers_max_capacity():
    metrics = week_of(1, 50, 60)
    night = metrics[(metrics["timestamp"].dt.hour >= 2) & (metrics["timestamp"].dt.hour < 4)]
    night = night[night["timestamp"] < night["timestamp"].min() + pd.Timedelta(hours=2)]
    rows = recommend_policies(night, SPEC).set_index("service")
    assert rows.at["web", "max_capacity"] >= 20 and rows.at["api", "max_capacity"] >= 10
    quiet = recommend_policies(week_of(4, 50, 15), SPEC).set_index("service")
    assert quiet["max_capacity"].tolist() == [10, 20]  # api, web: low confidence keeps the ceiling


def test_the_replay_reads_healthy_hosts_as_load_metrics_loads_them():
    profile = LoadProfile(base_rate=60, task_capacity_rps=50, seed=1)
    stack = resources(desired=2, container_insights=False)
    metrics = published_frame(stack, simulate(stack, profile, WEEK[:1440]), WEEK[:1440])
    assert "RunningTaskCount" not in set(metrics["metric"])
    result = simulate_target_tracking(metrics, {"web": SPEC.tasks[0].scaling, "api": SPEC.tasks[1].scaling})
    assert (result.tasks["observed_tasks"] == 2).all()  # HealthyHostCount's Minimum
    assert set(result.policy_metrics["policy"]) == {"cpu", "requests:external", "requests:internal"}


def test_applying_keeps_desired_count_within_the_new_bounds_and_replaces_old_schedules():
    busy = SPEC.model_copy(deep=True)
    busy.tasks[1].desired_count = 12
    busy.tasks[1].scaling.max_capacity = 12
    recommendation = recommend_policies(week_of(1, 50, 60), busy).set_index("service")
    updated = apply_recommendations(busy, recommendation.reset_index())
    api = updated.tasks[1]
    assert api.scaling.min_capacity <= api.desired_count <= api.scaling.max_capacity
    assert api.desired_count == min(12, recommendation.at["api", "max_capacity"])


def test_a_load_test_row_must_name_a_task():
    measured = pd.DataFrame(
        [
            {
                "service": "http://127.0.0.1:8080/",
                "requests_per_task_at_slo": 600.0,
                "limited_by": "latency",
                "confidence": "high",
            }
        ]
    )
    with pytest.raises(
        ValidationError, match="capacity.service: not a task of the spec: http://127.0.0.1:8080/"
    ):
        recommend_policies(week_of(1, 50, 60), SPEC, capacity=measured)


def replay_within_truth(metrics, recommendation, truth):
    """Share of minutes whose requests per task stay within the model's true capacity."""
    policies = {row.service: row._asdict() for row in recommendation.itertuples()}
    result = simulate_target_tracking(metrics, policies, {"web": 2, "api": 2})
    tasks = result.tasks.pivot(index="timestamp", columns="service", values="tasks")
    requests = (
        metrics[metrics["metric"] == "RequestCount"]
        .pivot_table(index="timestamp", columns="service", values="value", aggfunc="sum")
        .reindex(tasks.index)
        .fillna(0)
    )
    return (requests / tasks <= truth).mean()


@pytest.mark.parametrize(("seed", "base_rate"), [(1, 60), (9, 200)])
def test_recommended_policy_keeps_the_slo_and_costs_no_more_than_a_current_policy_that_does(seed, base_rate):
    metrics = week_of(seed, 50, base_rate)
    truth, _ = LoadProfile(task_capacity_rps=50).capacity_at(SLO())
    recommendation = recommend_policies(metrics, SPEC)
    assert list(recommendation.columns[: len(RECOMMENDATION_COLUMNS)]) == list(RECOMMENDATION_COLUMNS)
    within = replay_within_truth(metrics, recommendation, truth)
    assert (within >= 0.99).all(), within
    rows = recommendation.set_index("service")
    assert (rows["confidence"] == "high").all()
    for service, share in (("web", 0.7), ("api", 1.0)):
        if rows.at[service, "why"].startswith("the current policy already keeps the SLO for less"):
            assert rows.loc[service, ["request_per_target", "target_cpu_utilization"]].tolist() == [1000, 50]
            continue
        # web sends 70 % of its requests to the external ALB: its per-target request target is 70 %
        # of what a task may carry with 30 % headroom; api has one ALB. The capacity is the load up
        # to which 99 % of minutes keep the SLO: CPU noise (1 point) puts it 3-7 % below the model's
        # mean crossing, never above it
        target = rows.at[service, "request_per_target"]
        assert truth * 0.7 * share * 0.92 <= target <= truth * 0.7 * share
        # CPU at that load: 3 + 90 x 0.7 x C / 3000 = 47-48 %, below the 49 % of a 70 % SLO less 30 %
        assert rows.at[service, "target_cpu_utilization"] == 49
        assert rows.at[service, "min_capacity"] >= (2 if service == "web" else 1)
        assert rows.at[service, "max_capacity"] >= 2 * rows.at[service, "peak_tasks"] - 1
    # the current policies, with min 2 behind the internet-facing ALB as the recommendation keeps
    current = recommendation.assign(
        request_per_target=[1000, 1000],
        target_cpu_utilization=[50, 50],
        min_capacity=[1, 2],
        max_capacity=[10, 20],
    )
    current_within = replay_within_truth(metrics, current, truth)
    policies = {row.service: row._asdict() for row in current.itertuples()}
    replayed = simulate_target_tracking(metrics, policies, {"web": 2, "api": 2})
    week_to_month = 730 / (7 * 24)
    current_cost = replayed.summary(task_sizes(SPEC), region="us-east-1")["cost_usd"] * week_to_month
    for service in ("api", "web"):
        if current_within[service] >= 0.99:
            assert rows.at[service, "cost_per_month_usd"] <= round(current_cost[service], 2) + 0.01


def test_a_load_tests_capacity_replaces_the_fitted_one():
    measured = pd.DataFrame(
        [
            {
                "service": "web",
                "requests_per_task_at_slo": 600.0,
                "limited_by": "latency",
                "observed_max_requests_per_task": 650.0,
                "cpu_per_1k_requests": np.nan,
                "fit_r2": 0.97,
                "confidence": "high",
                "note": "load test",
            }
        ]
    )
    rows = recommend_policies(week_of(1, 50, 60), SPEC, capacity=measured).set_index("service")
    assert rows.at["web", "requests_per_task_at_slo"] == 600.0
    assert rows.at["web", "request_per_target"] == 290  # 600 x 0.7 headroom x 0.7 external share
    assert rows.at["api", "limited_by"] == "cpu"  # still fitted


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"p99_ms": 0}, "slo.p99_ms: 0 must be positive"),
        ({"max_cpu": 120}, "slo.max_cpu: 120 is not a CPU percentage in (0, 100]"),
        ({"max_5xx_per_1k": -1}, "slo.max_5xx_per_1k: -1 is negative"),
    ],
)
def test_slo_rejects_impossible_limits(arguments, message):
    with pytest.raises(ValidationError) as error:
        SLO(**arguments)
    assert str(error.value) == message


def test_recommendation_rejects_a_bad_headroom():
    with pytest.raises(ValidationError, match="headroom: 1.5 is not a fraction"):
        recommend_policies(week_of(1, 50, 60), SPEC, headroom=1.5)


def test_weekly_pattern_gets_weekday_and_weekend_schedules_that_save():
    rows = recommend_policies(week_of(1, 50, 60), SPEC).set_index("service")
    actions = rows.at["api", "scheduled_actions"]
    schedules = [action["cron"] for action in actions]
    # the profile peaks at 14:00 UTC and weekends carry 60 %: one raise and one fall per day type
    assert [s.split(" ")[4] for s in schedules] == ["MON-FRI", "MON-FRI", "SAT-SUN", "SAT-SUN"]
    raise_hour, fall_hour = (int(s.split(" ")[1]) for s in schedules[:2])
    assert raise_hour < 14 < fall_hour
    assert actions[0]["min_capacity"] > rows.at["api", "min_capacity"] == actions[1]["min_capacity"]
    assert all(action["max_capacity"] == rows.at["api", "max_capacity"] for action in actions)
    assert rows.at["api", "scheduled_saving_per_month_usd"] > 0
    table = schedule_table(rows.reset_index())
    assert table.columns.tolist() == [
        "service",
        "cron",
        "min_capacity",
        "max_capacity",
        "saving_per_month_usd",
    ]
    assert table[table["service"] == "api"]["cron"].tolist() == schedules


def test_flat_load_with_a_one_off_spike_or_a_single_day_gets_no_schedule():
    spike = Spike("2025-01-11 20:00", minutes=45, factor=2.5)  # once, on a Saturday evening
    profile = LoadProfile(base_rate=60, diurnal_amplitude=0, weekend_factor=1, seed=3, spikes=(spike,))
    stack = resources(desired=2)
    flat = published_frame(stack, simulate(stack, profile, WEEK), WEEK)
    assert recommend_policies(flat, SPEC)["scheduled_actions"].tolist() == [[], []]
    one_day = week_of(1, 50, 60)
    one_day = one_day[one_day["timestamp"] < one_day["timestamp"].min() + pd.Timedelta(days=1)]
    assert recommend_policies(one_day, SPEC)["scheduled_saving_per_month_usd"].tolist() == [0.0, 0.0]


def test_apply_recommendations_changes_only_the_scaling_values():
    recommendation = recommend_policies(week_of(1, 50, 60), SPEC)
    updated = apply_recommendations(SPEC, recommendation)
    rows = recommendation.set_index("service")
    for index, task in enumerate(updated.tasks):
        for name in ("request_per_target", "target_cpu_utilization", "min_capacity", "max_capacity"):
            assert getattr(task.scaling, name) == rows.at[task.name, name], (task.name, name)
        assert task.model_dump(exclude={"scaling"}) == SPEC.tasks[index].model_dump(exclude={"scaling"})
        assert [action.model_dump() for action in task.scaling.scheduled] == rows.at[
            task.name, "scheduled_actions"
        ]
    changes = changed_values(SPEC, updated)
    assert set(changes["field"].str.split(".").str[:2].str.join(".")) == {
        "tasks[0].scaling",
        "tasks[1].scaling",
    }
    assert "tasks[1].scaling.scheduled[0].cron" in set(changes["field"])
    web_target = changes.set_index("field").loc["tasks[0].scaling.request_per_target"]
    assert web_target.tolist() == [1000, rows.at["web", "request_per_target"]]
    with pytest.raises(ValidationError, match="recommendations.service: 'cart' is not a task"):
        apply_recommendations(SPEC, recommendation.assign(service="cart"))


def test_recommendations_on_a_dask_cluster_match_one_process():
    from distributed import Client, LocalCluster

    metrics = week_of(1, 50, 60)
    alone = recommend_policies(metrics, SPEC)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            spread = recommend_policies(metrics, SPEC, client=client)
    pd.testing.assert_frame_equal(spread, alone)
    assert spread.attrs["window_hours"] == alone.attrs["window_hours"] == 168


def test_capacity_table_has_units_in_its_headers():
    table = capacity_table(fit_capacity(week_of(1, 50, 60)))
    assert table.columns.tolist() == [
        "service",
        "requests/min per task at SLO",
        "90 % interval low",
        "90 % interval high",
        "extrapolated %",
        "limited by",
        "busiest requests/min per task",
        "CPU % per 1k requests/min",
        "p99 at no load (ms)",
        "fit R²",
        "confidence",
        "note",
    ]
    assert table["p99 at no load (ms)"].tolist() == [127.0, 127.0]  # 50 ms x e^(2.326 x 0.4)


def test_spot_mix_table_prices_per_month():
    metrics = week_of(1, 50, 60)
    replayed = simulate_target_tracking(metrics, {"web": SPEC.tasks[0].scaling, "api": SPEC.tasks[1].scaling})
    mixes = replayed.compare_mixes(task_sizes(SPEC))
    table = mixes_table(mixes)
    assert mixes.attrs["window_hours"] == 168
    assert table["USD/month"].tolist() == pytest.approx((mixes["cost"] * 730 / 168).round(2).tolist())
    assert table.columns.tolist()[-2:] == ["USD/month", "saving %"]
    assert table.loc[table["mix"] == "all on-demand", "saving %"].item() == 0
