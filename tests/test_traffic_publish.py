"""Publishing synthetic metrics: the JSON body is botocore's own, the sandbox reads it back exactly."""

from __future__ import annotations

import datetime as dt
import urllib.request
from urllib.parse import urlencode

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.serialize import create_serializer
from test_traffic import WEEK, resources

from dualalb_kit.metrics import ALB
from dualalb_kit.traffic import LoadProfile, json_put_metric_data, publish, put_batches, simulate

SESSION = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def cloudwatch(sandbox, **config):
    return SESSION.client("cloudwatch", endpoint_url=sandbox.endpoint_url, config=Config(**config))


def request_count_sum(client, dimensions: dict[str, str], start: dt.datetime, minutes: int) -> list[float]:
    """Per-minute Sum of RequestCount for one target group, read through GetMetricData."""
    metric = {
        "Namespace": ALB,
        "MetricName": "RequestCount",
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
    }
    answer = client.get_metric_data(
        MetricDataQueries=[{"Id": "q", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}],
        StartTime=start,
        EndTime=start + dt.timedelta(minutes=minutes),
        ScanBy="TimestampAscending",
    )
    return answer["MetricDataResults"][0]["Values"]


@pytest.mark.sandbox
def test_the_encoded_body_is_byte_for_byte_what_botocore_would_send(sandbox):
    index = WEEK[:120]
    items = [
        item
        for s in simulate(resources(), LoadProfile(seed=4), index)
        if s.namespace == ALB
        for item in s.items(index)
    ]
    batch = next(put_batches(iter(items)))
    assert len(batch) == 1000 and any("Values" in item for item in batch)
    client = cloudwatch(sandbox, disable_request_compression=True)
    sent: list[bytes] = []
    client.meta.events.register(
        "before-send.cloudwatch.PutMetricData", lambda request, **_: sent.append(request.body)
    )

    json_put_metric_data(client)(ALB, batch)

    service = client.meta.service_model
    serializer = create_serializer(
        service.resolved_protocol, include_validation=True
    )  # validates the items too
    expected = serializer.serialize_to_request(
        {"Namespace": ALB, "MetricData": batch}, service.operation_model("PutMetricData")
    )["body"]
    assert sent == [expected]


@pytest.mark.sandbox
def test_publish_counts_calls_and_datapoints_and_every_value_comes_back(sandbox):
    index = WEEK[2 * 1440 : 3 * 1440]  # a Wednesday no other test publishes
    series = simulate(resources(), LoadProfile(seed=11), index)
    items = {
        ns: [i for s in series if s.namespace == ns for i in s.items(index)]
        for ns in {s.namespace for s in series}
    }

    calls, datapoints = publish(cloudwatch(sandbox), series, index)

    assert calls == sum(len(list(put_batches(iter(group)))) for group in items.values())
    assert datapoints == sum(len(group) for group in items.values())
    requests = next(
        s for s in series if s.metric == "RequestCount" and "targetgroup/web-external/9" in str(s.dimensions)
    )
    got = request_count_sum(
        cloudwatch(sandbox), dict(requests.dimensions), index[0].to_pydatetime(), len(index)
    )
    assert got == requests.values[~np.isnan(requests.values)].tolist()


@pytest.mark.sandbox
def test_a_query_protocol_put_still_goes_through_motos_parser(sandbox):
    """Older SDKs and the AWS CLI v1 send form-encoded PutMetricData; the JSON fast path leaves it be."""
    start = dt.datetime(2025, 2, 10, 6, 0, tzinfo=dt.UTC)
    dimensions = {"LoadBalancer": "app/query/1", "TargetGroup": "targetgroup/query/1"}
    form = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": ALB}
    for number, (minute, value) in enumerate([(0, 7.0), (2, 3.5)], start=1):
        member = f"MetricData.member.{number}"
        form |= {
            f"{member}.MetricName": "RequestCount",
            f"{member}.Timestamp": (start + dt.timedelta(minutes=minute)).isoformat(),
            f"{member}.Value": str(value),
            f"{member}.Unit": "Count",
        }
        for position, (name, dimension) in enumerate(dimensions.items(), start=1):
            form |= {
                f"{member}.Dimensions.member.{position}.Name": name,
                f"{member}.Dimensions.member.{position}.Value": dimension,
            }
    request = urllib.request.Request(
        sandbox.endpoint_url,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250210/us-east-1/monitoring/aws4_request",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200

    assert request_count_sum(cloudwatch(sandbox), dimensions, start, 3) == [7.0, 3.5]


@pytest.mark.sandbox
def test_publishing_into_a_window_that_holds_traffic_refuses_keeps_or_adds(sandbox):
    """A rerun of notebook 03's traffic cell gives the same requests, never twice as many."""
    import json

    from test_metrics import hand_template

    from dualalb_kit import ValidationError
    from dualalb_kit.metrics import load_metrics, requests_per_service
    from dualalb_kit.traffic import generate_traffic

    stack = "rerun-hand"
    cloudformation = SESSION.client("cloudformation", endpoint_url=sandbox.endpoint_url)
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(hand_template()))
    cloudformation.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 1})
    profile = LoadProfile(base_rate=5, seed=3)
    start, end, later = "2025-03-03 00:00", "2025-03-03 06:00", "2025-03-03 07:00"

    def requests(until: str = end) -> dict[str, float]:
        frame = load_metrics(stack, start, until, target=sandbox.target)
        return requests_per_service(frame).to_dict()

    first = generate_traffic(stack, profile, start, end, target=sandbox.target)
    assert first.kept_minutes == 0 and requests() == pytest.approx(first.requests)
    with pytest.raises(ValidationError, match=r"^if_published: rerun-hand already holds synthetic traffic "):
        generate_traffic(stack, profile, start, end, target=sandbox.target)
    rerun = generate_traffic(stack, profile, start, end, target=sandbox.target, if_published="keep")
    assert (rerun.datapoints, rerun.put_calls, rerun.kept_minutes) == (0, 0, 360)
    assert sum(rerun.requests.values()) == 0 and requests() == pytest.approx(first.requests)
    assert "360 minutes already held synthetic traffic and were kept" in str(rerun)
    longer = generate_traffic(stack, profile, start, later, target=sandbox.target, if_published="keep")
    assert longer.kept_minutes == 360 and longer.datapoints > 0
    assert requests() == pytest.approx(first.requests)  # the first six hours as they were
    hour_more = {name: total + longer.requests[name] for name, total in first.requests.items()}
    assert requests(later) == pytest.approx(hour_more)
    generate_traffic(stack, profile, start, end, target=sandbox.target, if_published="add")
    assert requests() == pytest.approx({name: 2 * total for name, total in first.requests.items()})
    with pytest.raises(ValidationError, match=r"^if_published: 'replace' is not one of refuse, keep, add$"):
        generate_traffic(stack, profile, start, end, target=sandbox.target, if_published="replace")
