"""The synthetic traffic model: load shape, consistency between metrics, seeding, limits, refusal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dualalb_kit.discovery import EcsService, LoadBalancer, StackResources, TargetGroup
from dualalb_kit.errors import ValidationError
from dualalb_kit.metrics import time_index
from dualalb_kit.target import as_target
from dualalb_kit.traffic import (
    MAX_ITEMS_PER_PUT,
    LoadProfile,
    Spike,
    generate_traffic,
    is_sandbox_endpoint,
    put_batches,
    simulate,
)

EXTERNAL = LoadBalancer("external", "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/ext/1")
INTERNAL = LoadBalancer("internal", "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/int/2")


def resources(desired: int = 2, container_insights: bool = True) -> StackResources:
    """Two services: ``web`` on both ALBs, ``api`` on the internal one; no AWS needed."""

    def group(service: str, balancer: LoadBalancer) -> TargetGroup:
        arn = f"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/{service}-{balancer.alb}/9"
        return TargetGroup(service, balancer.alb, arn, balancer)

    def ecs(service: str) -> EcsService:
        arn = f"arn:aws:ecs:us-east-1:1:service/cluster/{service}"
        return EcsService(service, "cluster", service, arn, desired, container_insights)

    groups = (group("api", INTERNAL), group("web", EXTERNAL), group("web", INTERNAL))
    return StackResources("demo", (EXTERNAL, INTERNAL), groups, (ecs("api"), ecs("web")))


def by_metric(series, metric: str, dimension_value: str):
    return next(s for s in series if s.metric == metric and dimension_value in dict(s.dimensions).values())


WEEK = time_index("2025-01-06", "2025-01-13", 60)  # Monday to Monday


def test_rate_follows_diurnal_curve_weekend_and_spikes():
    profile = LoadProfile(
        base_rate=10,
        diurnal_amplitude=0.5,
        peak_hour=14,
        weekend_factor=0.5,
        spikes=(Spike("2025-01-07 03:00", minutes=10, factor=4),),
        service_weights={"web": 2},
    )
    rate = pd.Series(profile.rate(WEEK, "web"), index=WEEK)
    assert rate["2025-01-06 14:00"] == pytest.approx(2 * 10 * 1.5)  # weekday peak
    assert rate["2025-01-06 02:00"] == pytest.approx(2 * 10 * 0.5)  # weekday trough (14 h later)
    assert rate["2025-01-11 14:00"] == pytest.approx(2 * 10 * 1.5 * 0.5)  # Saturday peak
    spike_minute = rate["2025-01-07 03:05"]
    assert spike_minute == pytest.approx(4 * 2 * 10 * (1 + 0.5 * np.cos(2 * np.pi * (3 + 5 / 60 - 14) / 24)))
    assert rate["2025-01-07 03:10"] < spike_minute / 3  # spike over after 10 minutes
    assert profile.rate(WEEK, "api")[0] == pytest.approx(profile.rate(WEEK, "web")[0] / 2)


def test_same_seed_same_data_other_seed_other_data():
    first, again = (simulate(resources(), LoadProfile(seed=7), WEEK[:600]) for _ in range(2))
    other = simulate(resources(), LoadProfile(seed=8), WEEK[:600])
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.values, b.values)
    requests = [by_metric(run, "RequestCount", "targetgroup/web-external/9").values for run in (first, other)]
    assert not np.array_equal(*requests)


def test_metrics_are_consistent_with_each_other_and_the_load():
    profile = LoadProfile(base_rate=60, task_capacity_rps=40, seed=3)
    series = simulate(resources(desired=2), profile, WEEK)
    group = "targetgroup/web-external/9"
    requests = by_metric(series, "RequestCount", group).values
    codes = sum(np.nan_to_num(by_metric(series, f"HTTPCode_Target_{c}XX_Count", group).values) for c in "245")
    np.testing.assert_array_equal(codes, np.nan_to_num(requests))
    np.testing.assert_allclose(by_metric(series, "RequestCountPerTarget", group).values, requests / 2)
    assert set(by_metric(series, "HealthyHostCount", group).values) == {2.0}
    assert set(by_metric(series, "UnHealthyHostCount", group).values) == {0.0}

    latency = by_metric(series, "TargetResponseTime", group)
    p50, p90, p99 = (latency.statistic(p) for p in ("p50", "p90", "p99"))
    assert np.all(p50 <= p90) and np.all(p90 <= p99) and np.all(p50 < p99)
    values, counts = latency.distribution
    np.testing.assert_array_equal(counts.sum(axis=1), np.nan_to_num(requests))
    assert (counts > 0).sum(axis=1).max() <= 20  # within PutMetricData's 150 values an item

    # web's total load (both ALBs) drives its CPU and latency: busy minutes are hotter and slower
    total = np.nan_to_num(requests) + np.nan_to_num(
        by_metric(series, "RequestCount", "targetgroup/web-internal/9").values
    )
    cpu = by_metric(series, "CPUUtilization", "web").values
    assert np.corrcoef(total, cpu)[0, 1] > 0.95
    busy, quiet = total > np.quantile(total, 0.9), total < np.quantile(total, 0.1)
    assert p99[busy].mean() > p99[quiet].mean()
    assert by_metric(series, "RunningTaskCount", "web").values[0] == 2.0


def test_external_and_internal_split_and_alb_totals():
    series = simulate(resources(), LoadProfile(internal_share=0.25, seed=1), WEEK[:1440])
    external = np.nansum(by_metric(series, "RequestCount", "targetgroup/web-external/9").values)
    internal = np.nansum(by_metric(series, "RequestCount", "targetgroup/web-internal/9").values)
    assert internal / (external + internal) == pytest.approx(0.25, abs=0.01)
    connections = by_metric(series, "ActiveConnectionCount", "app/ext/1").values
    assert np.nansum(connections) == pytest.approx(0.4 * external, rel=0.01)


def test_counts_are_published_only_when_nonzero():
    series = simulate(resources(), LoadProfile(base_rate=1, server_error_rate=0.001, seed=2), WEEK[:1440])
    errors = by_metric(series, "HTTPCode_Target_5XX_Count", "targetgroup/web-external/9").values
    assert np.isnan(errors).sum() > 1000  # most minutes have no 5xx: nothing published
    assert np.all(errors[~np.isnan(errors)] > 0)
    latency = by_metric(series, "TargetResponseTime", "targetgroup/api-internal/9")
    requests = by_metric(series, "RequestCount", "targetgroup/api-internal/9").values
    np.testing.assert_array_equal(np.isnan(latency.statistic("p50")), np.isnan(requests))


def test_container_insights_off_publishes_no_running_task_count():
    series = simulate(resources(container_insights=False), LoadProfile(), WEEK[:60])
    assert not [s for s in series if s.metric == "RunningTaskCount"]


def test_put_batches_stay_within_put_metric_data_limits():
    series = simulate(resources(), LoadProfile(), WEEK[:1440])
    items = [item for s in series for item in s.items(WEEK[:1440])]
    batches = list(put_batches(iter(items)))
    assert sum(len(b) for b in batches) == len(items)
    assert max(len(b) for b in batches) == MAX_ITEMS_PER_PUT
    assert all(len(item.get("Values", ())) <= 150 for item in items)


@pytest.mark.parametrize(
    ("field", "value"),
    [("base_rate", -1.0), ("diurnal_amplitude", 1.5), ("internal_share", -0.1), ("task_capacity_rps", 0.0)],
)
def test_profile_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValidationError, match=rf"^profile\.{field}: "):
        LoadProfile(**{field: value})


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:5000", True),
        ("http://127.0.0.1:4566", True),
        ("http://[::1]:5000", True),
        ("https://monitoring.us-east-1.amazonaws.com", False),
        ("http://10.0.0.5:5000", False),
        (None, False),
    ],
)
def test_is_sandbox_endpoint(url, local):
    assert is_sandbox_endpoint(url) is local


@pytest.mark.parametrize("url", ["https://monitoring.us-east-1.amazonaws.com", None])
def test_generate_traffic_refuses_a_real_endpoint(url):
    with pytest.raises(ValidationError, match=r"^endpoint_url: .*not a local sandbox"):
        generate_traffic(
            "demo", LoadProfile(), "2025-01-06", "2025-01-07", target=as_target(endpoint_url=url)
        )
