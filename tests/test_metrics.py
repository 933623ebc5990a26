"""load_metrics against the sandbox: discovery, batching to GetMetricData's limits, NaN, throttling.

The stack is a small hand-written CloudFormation template shaped like the kit's: three services,
each behind both ALBs (six tagged target groups), an ECS cluster with Container Insights. A week
of synthetic traffic is published once per module; the frame is loaded over two weeks (the issue's
call-count case), the first of which has no data.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import boto3
import numpy as np
import pandas as pd
import pytest

import dualalb_kit.sandbox.cloudwatch  # noqa: F401  (until the sandbox server imports it)
from dualalb_kit.discovery import discover
from dualalb_kit.errors import ValidationError
from dualalb_kit.metrics import (
    CONTAINER_INSIGHTS_METRICS,
    ECS_METRICS,
    LOAD_BALANCER_METRICS,
    TARGET_GROUP_METRICS,
    fetch,
    load_metrics,
    metric_queries,
    metrics_client,
    minimum_calls,
    plan_batches,
    requests_per_service,
    time_index,
    time_window,
)
from dualalb_kit.sandbox.cloudwatch import inject_throttling
from dualalb_kit.tags import SYNTHETIC_TAG
from dualalb_kit.target import as_target
from dualalb_kit.traffic import LoadProfile, Spike, generate_traffic

SERVICES = ("order", "customer", "product")
STACK = "metrics-hand"
START, TRAFFIC_START, END = (
    "2025-01-06",
    "2025-01-13",
    "2025-01-20",
)  # Mondays: load two weeks, data in the second
ALL_METRICS = TARGET_GROUP_METRICS + LOAD_BALANCER_METRICS + ECS_METRICS + CONTAINER_INSIGHTS_METRICS


def hand_template() -> dict:
    """VPC, two subnets, an internet-facing and an internal ALB, per service a tagged target group and
    listener on each ALB, an ECS cluster (Container Insights on) and a tagged service per task."""
    resources: dict = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Cluster": {
            "Type": "AWS::ECS::Cluster",
            "Properties": {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
        },
        "TaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "app",
                "Cpu": "256",
                "Memory": "512",
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "ContainerDefinitions": [
                    {"Name": "app", "Image": "nginx", "PortMappings": [{"ContainerPort": 80}]}
                ],
            },
        },
    }
    for number, zone in enumerate("ab"):
        resources[f"Subnet{zone.upper()}"] = {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": {"Ref": "Vpc"},
                "CidrBlock": f"10.0.{number}.0/24",
                "AvailabilityZone": f"us-east-1{zone}",
            },
        }
    for side, scheme in (("External", "internet-facing"), ("Internal", "internal")):
        resources[f"{side}Alb"] = {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Scheme": scheme, "Subnets": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}]},
        }
    for port, service in enumerate(SERVICES, start=8080):
        for side in ("External", "Internal"):
            group = f"{service.title()}{side}TargetGroup"
            resources[group] = {
                "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                "Properties": {
                    "VpcId": {"Ref": "Vpc"},
                    "Port": 80,
                    "Protocol": "HTTP",
                    "TargetType": "ip",
                    "Tags": [
                        {"Key": "dualalb:service", "Value": service},
                        {"Key": "dualalb:alb", "Value": side.lower()},
                    ],
                },
            }
            resources[f"{group}Listener"] = {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Properties": {
                    "LoadBalancerArn": {"Ref": f"{side}Alb"},
                    "Port": port,
                    "Protocol": "HTTP",
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": group}}],
                },
            }
        resources[f"{service.title()}Service"] = {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "Cluster": {"Ref": "Cluster"},
                "ServiceName": service,
                "TaskDefinition": {"Ref": "TaskDefinition"},
                "DesiredCount": 2,
                "LaunchType": "FARGATE",
                "Tags": [{"Key": "dualalb:service", "Value": service}],
            },
        }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def counting_session() -> tuple[boto3.Session, dict[str, int]]:
    """A session on the sandbox's dummy credentials that counts GetMetricData calls and attempts."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    counts = {"calls": 0, "attempts": 0}

    def count(key: str):
        def handler(**_):
            counts[key] += 1

        return handler

    session.events.register("before-call.cloudwatch.GetMetricData", count("calls"))
    session.events.register("before-send.cloudwatch.GetMetricData", count("attempts"))
    return session, counts


@pytest.fixture(scope="module")
def stack(sandbox) -> str:
    session, _ = counting_session()
    cloudformation = session.client("cloudformation", endpoint_url=sandbox.endpoint_url)
    cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(hand_template()))
    cloudformation.get_waiter("stack_create_complete").wait(StackName=STACK, WaiterConfig={"Delay": 1})
    return STACK


@pytest.fixture(scope="module")
def traffic(sandbox, stack):
    profile = LoadProfile(
        base_rate=8,
        seed=42,
        service_weights={"order": 2.0, "product": 0.5},
        spikes=(Spike("2025-01-15 12:00", minutes=45, factor=4.0),),
    )
    return generate_traffic(
        stack,
        profile,
        TRAFFIC_START,
        END,
        target=as_target(endpoint_url=sandbox.endpoint_url, session=counting_session()[0]),
    )


@pytest.fixture(scope="module")
def loaded(sandbox, traffic):
    session, counts = counting_session()
    frame = load_metrics(
        STACK, START, END, target=as_target(endpoint_url=sandbox.endpoint_url, session=session)
    )
    return frame, counts


def second_week(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["timestamp"] >= pd.Timestamp(TRAFFIC_START, tz="UTC")].reset_index(drop=True)


def hourly(frame: pd.DataFrame, metric: str, stat: str) -> pd.Series:
    rows = frame[(frame["metric"] == metric) & (frame["stat"] == stat)]
    keys = [rows["service"].fillna("-"), rows["alb"].fillna("-"), rows["timestamp"].dt.floor("h")]
    return rows.groupby(keys, observed=True)["value"].sum()


@pytest.mark.sandbox
def test_discovery_finds_the_stacks_resources_from_its_tags(sandbox, stack):
    found = discover(
        stack, target=as_target(endpoint_url=sandbox.endpoint_url, session=counting_session()[0])
    )
    assert [(g.service, g.alb) for g in found.target_groups] == [
        (service, side) for service in sorted(SERVICES) for side in ("external", "internal")
    ]
    assert sorted(b.alb for b in found.load_balancers) == ["external", "internal"]
    assert all(g.dimension.startswith("targetgroup/metrics-hand-") for g in found.target_groups)
    assert all(b.dimension.startswith("app/metrics-hand-") for b in found.load_balancers)
    assert [(s.service, s.service_name, s.desired_count, s.container_insights) for s in found.services] == [
        (service, service, 2, True) for service in sorted(SERVICES)
    ]
    assert len(metric_queries(found)) == 6 * 11 + 2 * 2 + 3 * 3


@pytest.mark.sandbox
def test_unknown_stack_is_a_validation_error(sandbox):
    with pytest.raises(ValidationError, match=r"^stack_name: 'no-such-stack'"):
        load_metrics(
            "no-such-stack",
            START,
            END,
            target=as_target(endpoint_url=sandbox.endpoint_url, session=counting_session()[0]),
        )


@pytest.mark.sandbox
def test_frame_is_tidy_on_a_complete_minute_index(loaded):
    frame, _ = loaded
    assert list(frame.columns) == ["timestamp", "service", "alb", "metric", "stat", "value"]
    assert str(frame["timestamp"].dt.tz) == "UTC"
    minutes = 14 * 24 * 60
    assert len(frame) == (6 * 11 + 2 * 2 + 3 * 3) * minutes
    assert (
        frame.groupby(["service", "alb", "metric", "stat"], dropna=False, observed=True)
        .size()
        .eq(minutes)
        .all()
    )
    ecs = frame[frame["metric"].isin(["CPUUtilization", "MemoryUtilization", "RunningTaskCount"])]
    assert ecs["alb"].isna().all() and set(ecs["service"]) == set(SERVICES)
    alb_wide = frame[frame["metric"].isin(["HTTPCode_ELB_5XX_Count", "ActiveConnectionCount"])]
    assert alb_wide["service"].isna().all() and set(alb_wide["alb"]) == {"external", "internal"}


@pytest.mark.sandbox
@pytest.mark.parametrize(("metric", "stat"), ALL_METRICS, ids=[f"{m}-{s}" for m, s in ALL_METRICS])
def test_hourly_sums_equal_what_was_published(loaded, traffic, metric, stat):
    frame, _ = loaded
    got, published = hourly(second_week(frame), metric, stat), hourly(traffic.published, metric, stat)
    assert len(got) == len(published) > 0
    pd.testing.assert_series_equal(got, published, check_exact=False, rtol=1e-9)


@pytest.mark.sandbox
def test_request_count_per_service_and_hour_matches_the_summary(loaded, traffic):
    frame, _ = loaded
    requests = frame[frame["metric"] == "RequestCount"].groupby("service")["value"].sum()
    assert requests.to_dict() == pytest.approx(traffic.requests)
    assert requests["order"] > requests["customer"] > requests["product"]  # the weights


@pytest.mark.sandbox
def test_missing_datapoints_are_nan_never_zero(loaded, traffic):
    frame, _ = loaded
    week = second_week(frame)
    np.testing.assert_array_equal(week["value"].isna(), traffic.published["value"].isna())
    assert frame[frame["timestamp"] < pd.Timestamp(TRAFFIC_START, tz="UTC")]["value"].isna().all()
    sparse = week[week["metric"] == "HTTPCode_Target_5XX_Count"]["value"]
    assert sparse.isna().sum() > 1000 and (sparse.dropna() > 0).all()


@pytest.mark.sandbox
def test_window_beyond_the_data_is_nan_and_not_marked_synthetic(sandbox, traffic):
    session, counts = counting_session()
    frame = load_metrics(
        STACK,
        "2024-12-01 00:00",
        "2024-12-01 06:00",
        target=as_target(endpoint_url=sandbox.endpoint_url, session=session),
    )
    assert len(frame) == 79 * 360 and frame["value"].isna().all()
    assert frame.attrs["synthetic"] is False and counts["calls"] == 1


@pytest.mark.sandbox
def test_synthetic_data_is_labelled(sandbox, loaded, traffic):
    frame, _ = loaded
    assert frame.attrs == {"stack_name": STACK, "period": 60, "synthetic": True}
    assert str(traffic).startswith("SYNTHETIC traffic for metrics-hand")
    window = discover(
        STACK, target=as_target(endpoint_url=sandbox.endpoint_url, session=counting_session()[0])
    ).tag_values(SYNTHETIC_TAG)
    assert set(window) == {"2025-01-13T00:00:00+00:00/2025-01-20T00:00:00+00:00"}


@pytest.mark.sandbox
def test_call_count_is_the_minimum_the_limits_allow(loaded):
    frame, counts = loaded
    queries, minutes = 79, 14 * 24 * 60  # 3 services x 2 ALBs x 11 + 2 ALBs x 2 + 3 services x 3
    assert minimum_calls(queries, minutes) == math.ceil(queries * minutes / 100_800) == 16
    assert counts["calls"] == counts["attempts"] == 16
    assert frame.loc[frame["timestamp"] < pd.Timestamp(TRAFFIC_START, tz="UTC"), "value"].isna().all()
    # the second week: everything but the minutes without 5xx (AWS publishes no zero counts)
    assert second_week(frame)["value"].notna().mean() == pytest.approx(0.898, abs=0.01)


@pytest.mark.sandbox
def test_next_token_pages_are_followed(sandbox, stack, traffic, loaded):
    session, counts = counting_session()
    index = time_index("2025-01-14", "2025-01-15", 60)
    queries = metric_queries(
        discover(stack, target=as_target(endpoint_url=sandbox.endpoint_url, session=session))
    )
    client = metrics_client(as_target(endpoint_url=sandbox.endpoint_url, session=session))
    paged = fetch(queries, index, 60, client, page_size=5000)
    paging_calls = counts["calls"]
    whole = fetch(queries, index, 60, client)
    pages = [
        math.ceil(sum(np.isin(whole[q][0], batch.periods).sum() for q in batch.queries) / 5000)
        for batch in plan_batches(len(queries), 1440)
    ]
    assert paging_calls == sum(pages) > len(pages)
    for (pages_at, pages_values), (at, values) in zip(paged, whole, strict=True):
        np.testing.assert_array_equal(pages_at, at)
        np.testing.assert_array_equal(pages_values, values)


@pytest.mark.sandbox
@pytest.mark.filterwarnings(r"ignore:Exception\(Throttling\) with code Throttling")
def test_throttling_is_retried_and_loses_no_datapoint(sandbox, traffic):
    window = ("2025-01-15", "2025-01-18")
    calm = load_metrics(
        STACK, *window, target=as_target(endpoint_url=sandbox.endpoint_url, session=counting_session()[0])
    )
    session, counts = counting_session()
    with inject_throttling(every=2) as throttle:
        stormy = load_metrics(
            STACK, *window, target=as_target(endpoint_url=sandbox.endpoint_url, session=session)
        )
    assert counts["calls"] == minimum_calls(79, 3 * 1440) == 4
    assert throttle.throttled >= 3 and counts["attempts"] == counts["calls"] + throttle.throttled
    pd.testing.assert_frame_equal(stormy, calm)


@pytest.mark.parametrize(
    ("queries", "periods", "calls"),
    [
        (79, 20160, 16),
        (72, 20160, 15),
        (79, 1440, 2),
        (600, 60, 2),
        (1, 201_600, 2),
        (30, 30_000, 9),
        (0, 10, 0),
    ],
)
def test_plan_meets_the_minimum_and_keeps_to_the_limits(queries, periods, calls):
    plan = plan_batches(queries, periods)
    assert len(plan) == minimum_calls(queries, periods) == calls
    covered = np.zeros((queries, periods), dtype=int)
    for batch in plan:
        assert len(batch.queries) <= 500 and len(batch.queries) * len(batch.periods) <= 100_800
        covered[batch.queries.start : batch.queries.stop, batch.periods.start : batch.periods.stop] += 1
    assert (covered == 1).all()


@pytest.mark.parametrize(
    ("start", "end", "period", "field"),
    [(START, END, 45, "period"), (END, START, 60, "end"), ("yesterday-ish", END, 60, "start")],
)
def test_time_index_rejects_bad_windows(start, end, period, field):
    with pytest.raises(ValidationError, match=rf"^{field}: "):
        time_index(start, end, period)


def test_time_window_defaults_to_the_last_full_hours():
    assert time_window("2026-01-05 06:00", "2026-01-05T12:00+02:00") == (
        pd.Timestamp("2026-01-05 06:00", tz="UTC"),
        pd.Timestamp("2026-01-05 10:00", tz="UTC"),
    )
    assert time_window(end="2026-01-05 12:00", hours=6)[0] == pd.Timestamp("2026-01-05 06:00", tz="UTC")
    start, end = time_window(hours=3)
    assert (
        end == end.floor("h") and end <= pd.Timestamp.now(tz="UTC") and end - start == pd.Timedelta(hours=3)
    )
    with pytest.raises(ValidationError, match=r"^start: "):
        time_window("yesterday-ish", END)


def test_requests_per_service_sums_both_albs():
    frame = pd.DataFrame(
        {
            "service": ["web", "web", "web", "api", "api"],
            "alb": ["external", "internal", None, "internal", None],
            "metric": ["RequestCount", "RequestCount", "CPUUtilization", "RequestCount", "RequestCount"],
            "value": [10.0, 5.0, 99.0, np.nan, 7.0],
        }
    )
    assert requests_per_service(frame).to_dict() == {"api": 7.0, "web": 15.0}
    assert requests_per_service(frame).name == "requests"
    assert requests_per_service(frame).dtype == "int64"  # shown as 15, not 15.0


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_deployed_sample_with_a_week_of_traffic(sandbox):
    """params/sample.yaml through the CDK CLI: order on both ALBs, customer and product internal."""
    from dualalb_kit.deploy import deploy
    from dualalb_kit.spec import load_spec

    spec = load_spec("params/sample.yaml").model_copy(update={"stack_name": "metrics-sample"})
    deploy(spec, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
    session, counts = counting_session()
    traffic = generate_traffic(
        "metrics-sample",
        LoadProfile(seed=5),
        TRAFFIC_START,
        END,
        target=as_target(endpoint_url=sandbox.endpoint_url, session=session),
    )
    frame = load_metrics(
        "metrics-sample",
        TRAFFIC_START,
        END,
        target=as_target(endpoint_url=sandbox.endpoint_url, session=session),
    )
    pairs = frame[frame["metric"] == "RequestCount"][["service", "alb"]].drop_duplicates()
    assert sorted(map(tuple, pairs.to_numpy())) == [
        ("customer", "internal"),
        ("order", "external"),
        ("order", "internal"),
        ("product", "internal"),
    ]
    assert frame.attrs["synthetic"] is True and counts["calls"] == minimum_calls(
        4 * 11 + 2 * 2 + 3 * 3, 7 * 1440
    )
    for metric, stat in ALL_METRICS:
        got, published = hourly(frame, metric, stat), hourly(traffic.published, metric, stat)
        assert len(got) == len(published) > 0, metric
        np.testing.assert_allclose(
            got.to_numpy(), published.to_numpy(), rtol=1e-9, err_msg=f"{metric} {stat}"
        )
    np.testing.assert_array_equal(frame["value"].isna(), traffic.published["value"].isna())


@pytest.fixture(scope="module")
def cloudwatch(sandbox):
    return counting_session()[0].client("cloudwatch", endpoint_url=sandbox.endpoint_url)


@pytest.mark.sandbox
class TestSandboxCloudWatch:
    """The gap-fills in dualalb_kit.sandbox.cloudwatch, through the wire."""

    def query(self, stat: str, number: int = 0) -> dict:
        metric = {
            "Namespace": "Test/Gaps",
            "MetricName": "Latency",
            "Dimensions": [{"Name": "Id", "Value": "x"}],
        }
        return {"Id": f"q{number}", "MetricStat": {"Metric": metric, "Period": 60, "Stat": stat}}

    def test_percentiles_are_nearest_rank_over_values_and_counts(self, cloudwatch):
        moment = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
        cloudwatch.put_metric_data(
            Namespace="Test/Gaps",
            MetricData=[
                {
                    "MetricName": "Latency",
                    "Dimensions": [{"Name": "Id", "Value": "x"}],
                    "Timestamp": moment,
                    "Values": [0.1, 0.2, 0.5],
                    "Counts": [10, 5, 1],
                }
            ],
        )
        stats = ["p50", "p90", "p99", "Average", "Sum", "SampleCount", "Minimum", "Maximum"]
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=[self.query(s, n) for n, s in enumerate(stats)],
            StartTime=moment,
            EndTime=moment + dt.timedelta(minutes=2),
        )
        values = {stats[int(r["Id"][1:])]: r["Values"] for r in answer["MetricDataResults"]}
        # 16 samples: rank 8 -> 0.1, rank 15 -> 0.2, rank 16 -> 0.5; the empty second minute is absent
        assert values == {
            "p50": [0.1],
            "p90": [0.2],
            "p99": [0.5],
            "Average": [pytest.approx(2.5 / 16)],
            "Sum": [pytest.approx(2.5)],
            "SampleCount": [16.0],
            "Minimum": [0.1],
            "Maximum": [0.5],
        }

    def test_more_than_500_queries_is_refused(self, cloudwatch):
        moment = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
        with pytest.raises(cloudwatch.exceptions.ClientError, match="greater than 500"):
            cloudwatch.get_metric_data(
                MetricDataQueries=[self.query("Sum", n) for n in range(501)],
                StartTime=moment,
                EndTime=moment + dt.timedelta(minutes=1),
            )

    def test_more_than_1000_items_a_put_is_refused(self, cloudwatch):
        item = {"MetricName": "Latency", "Value": 1.0}
        with pytest.raises(cloudwatch.exceptions.ClientError, match="greater than 1000"):
            cloudwatch.put_metric_data(Namespace="Test/Gaps", MetricData=[item] * 1001)


# -- an independent round trip: hand-written datapoints in, exactly them out ----------------------

ROUND_TRIP_START = dt.datetime(2025, 2, 3, 10, 0, tzinfo=dt.UTC)  # no other test publishes here
ROUND_TRIP_END = ROUND_TRIP_START + dt.timedelta(minutes=3)  # minute 1 has no datapoint: NaN


def minute(number: int) -> dt.datetime:
    return ROUND_TRIP_START + dt.timedelta(minutes=number, seconds=20)


def put(namespace: str, dimensions: dict[str, str], name: str, at: int, **datum) -> dict:
    """One plain put_metric_data call's arguments, dimensions spelled as AWS names them."""
    return {
        "Namespace": namespace,
        "MetricData": [
            {
                "MetricName": name,
                "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()],
                "Timestamp": minute(at),
                **datum,
            }
        ],
    }


def aws_dimensions(client) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The order service's external target group, the external ALB and the order ECS service,
    as CloudWatch dimensions, read straight from CloudFormation and ELB (not through discovery)."""
    resources = client("cloudformation").describe_stack_resources(StackName=STACK)["StackResources"]
    physical = {row["LogicalResourceId"]: row["PhysicalResourceId"] for row in resources}
    balancer = physical["ExternalAlb"].split(":loadbalancer/")[1]  # app/<name>/<id>
    group = physical["OrderExternalTargetGroup"].split(":")[-1]  # targetgroup/<name>/<id>
    cluster = physical["Cluster"].rsplit("/", 1)[-1]
    return (
        {"LoadBalancer": balancer, "TargetGroup": group},
        {"LoadBalancer": balancer},
        {"ClusterName": cluster, "ServiceName": "order"},
    )


@pytest.mark.sandbox
def test_hand_published_datapoints_come_back_exactly_through_get_metric_data_only(sandbox, stack):
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )

    def client(service: str):
        return session.client(service, endpoint_url=sandbox.endpoint_url)

    group, balancer, service = aws_dimensions(client)
    cloudwatch = client("cloudwatch")
    alb, ecs, insights = "AWS/ApplicationELB", "AWS/ECS", "ECS/ContainerInsights"
    for call in (
        put(alb, group, "RequestCount", 0, Value=30.0),
        put(alb, group, "RequestCount", 0, Value=12.0),
        put(alb, group, "RequestCount", 2, Value=7.0),
        put(alb, group, "RequestCountPerTarget", 0, Value=21.0),
        put(alb, group, "RequestCountPerTarget", 2, Value=3.5),
        put(alb, group, "TargetResponseTime", 0, Values=[0.1, 0.3, 0.9], Counts=[6, 3, 1]),
        put(alb, group, "TargetResponseTime", 2, Value=0.05),
        put(alb, group, "HTTPCode_Target_2XX_Count", 0, Value=40.0),
        put(alb, group, "HTTPCode_Target_2XX_Count", 2, Value=7.0),
        put(alb, group, "HTTPCode_Target_4XX_Count", 0, Value=2.0),
        put(alb, group, "HTTPCode_Target_5XX_Count", 2, Value=1.0),
        put(alb, group, "HealthyHostCount", 0, Values=[2.0, 1.0]),
        put(alb, group, "HealthyHostCount", 2, Value=2.0),
        put(alb, group, "UnHealthyHostCount", 0, Values=[0.0, 1.0]),
        put(alb, group, "UnHealthyHostCount", 2, Value=0.0),
        put(alb, balancer, "HTTPCode_ELB_5XX_Count", 0, Value=3.0),
        put(alb, balancer, "ActiveConnectionCount", 0, Values=[15.0, 5.0]),
        put(alb, balancer, "ActiveConnectionCount", 2, Value=9.0),
        put(ecs, service, "CPUUtilization", 0, Values=[40.0, 60.0]),
        put(ecs, service, "CPUUtilization", 2, Value=35.0),
        put(ecs, service, "MemoryUtilization", 0, Value=25.0),
        put(insights, service, "RunningTaskCount", 0, Value=2.0),
        put(insights, service, "RunningTaskCount", 2, Value=3.0),
    ):
        cloudwatch.put_metric_data(**call)

    operations: list[str] = []
    session.events.register(
        "before-call",
        lambda model, **_: operations.append(f"{model.service_model.endpoint_prefix}:{model.name}"),
    )
    frame = load_metrics(
        STACK,
        ROUND_TRIP_START,
        ROUND_TRIP_END,
        target=as_target(endpoint_url=sandbox.endpoint_url, session=session),
    )

    assert [op for op in operations if op.startswith("monitoring:")] == ["monitoring:GetMetricData"]
    assert all(op.split(":")[1].startswith(("Describe", "List", "Get")) for op in operations), operations
    assert len(frame) == 79 * 3
    found = frame.dropna(subset=["value"])
    rows = [
        (int(row.timestamp.minute), row.service, row.alb, row.metric, row.stat, row.value)
        for row in found.itertuples()
    ]
    # percentiles are nearest-rank over 10 samples (6 x 0.1, 3 x 0.3, 1 x 0.9): ranks 5, 9 and 10
    assert sorted(rows, key=str) == sorted(
        [
            (0, "order", "external", "RequestCount", "Sum", 42.0),
            (2, "order", "external", "RequestCount", "Sum", 7.0),
            (0, "order", "external", "RequestCountPerTarget", "Sum", 21.0),
            (2, "order", "external", "RequestCountPerTarget", "Sum", 3.5),
            (0, "order", "external", "TargetResponseTime", "Average", pytest.approx(0.24)),
            (2, "order", "external", "TargetResponseTime", "Average", 0.05),
            (0, "order", "external", "TargetResponseTime", "p50", 0.1),
            (2, "order", "external", "TargetResponseTime", "p50", 0.05),
            (0, "order", "external", "TargetResponseTime", "p90", 0.3),
            (2, "order", "external", "TargetResponseTime", "p90", 0.05),
            (0, "order", "external", "TargetResponseTime", "p99", 0.9),
            (2, "order", "external", "TargetResponseTime", "p99", 0.05),
            (0, "order", "external", "HTTPCode_Target_2XX_Count", "Sum", 40.0),
            (2, "order", "external", "HTTPCode_Target_2XX_Count", "Sum", 7.0),
            (0, "order", "external", "HTTPCode_Target_4XX_Count", "Sum", 2.0),
            (2, "order", "external", "HTTPCode_Target_5XX_Count", "Sum", 1.0),
            (0, "order", "external", "HealthyHostCount", "Minimum", 1.0),
            (2, "order", "external", "HealthyHostCount", "Minimum", 2.0),
            (0, "order", "external", "UnHealthyHostCount", "Maximum", 1.0),
            (2, "order", "external", "UnHealthyHostCount", "Maximum", 0.0),
            (0, None, "external", "HTTPCode_ELB_5XX_Count", "Sum", 3.0),
            (0, None, "external", "ActiveConnectionCount", "Sum", 20.0),
            (2, None, "external", "ActiveConnectionCount", "Sum", 9.0),
            (0, "order", None, "CPUUtilization", "Average", 50.0),
            (2, "order", None, "CPUUtilization", "Average", 35.0),
            (0, "order", None, "MemoryUtilization", "Average", 25.0),
            (0, "order", None, "RunningTaskCount", "Average", 2.0),
            (2, "order", None, "RunningTaskCount", "Average", 3.0),
        ],
        key=str,
    )
