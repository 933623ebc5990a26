"""Specs that validated but that AWS would refuse (issue 27, item 2): each is one ValidationError
naming the field path and AWS's rule, raised before any synthesis. Plain validation, in process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dualalb_kit.errors import ValidationError
from dualalb_kit.spec import load_spec

PARAMS = sorted((Path(__file__).resolve().parents[1] / "params").glob("*.yaml"))
US_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def spec_with(task: dict | None = None, *, more_tasks: list[dict] | None = None, **fields: Any):
    web = {"name": "web", "image": "nginx", "external": {"port": 80}, **(task or {})}
    return load_spec({"stack_name": "limits", "tasks": [web, *(more_tasks or [])], **fields})


def shared(conditions: dict) -> list[dict]:
    """A second task on web's external port, told apart by ``conditions``."""
    return [{"name": "api", "image": "nginx", "external": {"port": 80, "forward_conditions": [conditions]}}]


def scheduled(cron: str) -> dict:
    return {"scaling": {"scheduled": [{"cron": cron, "min_capacity": 2}]}}


CRON = "tasks[0].scaling.scheduled[0].cron"

REFUSED = [
    # Application Auto Scaling's cron fields (EventBridge's cron reference)
    ("hour 25", {"task": scheduled("0 25 ? * MON *")}, CRON, "hours '25': 25 is outside 0-23"),
    ("day-of-week 8", {"task": scheduled("0 8 ? * 8 *")}, CRON, "day-of-week '8': 8 is outside 1-7"),
    ("garbage", {"task": scheduled("x y ? * MON *")}, CRON, "minutes 'x': 'X' is not a value"),
    ("month 13", {"task": scheduled("0 8 ? 13 MON *")}, CRON, "month '13': 13 is outside 1-12"),
    ("year 2300", {"task": scheduled("0 8 ? * MON 2300")}, CRON, "2300 is outside 1970-2199"),
    ("bad weekday name", {"task": scheduled("0 8 ? * MOX *")}, CRON, "'MOX' is not a value"),
    ("# with a list", {"task": scheduled("0 8 ? * 3#2,4 *")}, CRON, "# cannot be combined"),
    ("#6", {"task": scheduled("0 8 ? * 3#6 *")}, CRON, "# needs 1-5"),
    ("/ in day-of-week", {"task": scheduled("0 8 ? * MON/2 *")}, CRON, "/ is not taken here"),
    ("step 75", {"task": scheduled("0/75 * ? * * *")}, CRON, "/ needs an increment of 1-59"),
    ("W in hours", {"task": scheduled("0 8W ? * MON *")}, CRON, "hours '8W'"),
    ("wrapped", {"task": scheduled("cron(0 8 ? * MON *)")}, CRON, "without cron(...)"),
    ("rate", {"task": scheduled("rate(5 minutes)")}, CRON, "without cron(...)"),
    # ELB's host-header and path-pattern syntax
    (
        "host without a dot",
        {"more_tasks": shared({"host_header": ["shop"]})},
        "tasks[1].external.forward_conditions[0].host_header[0]",
        "at least one '.'",
    ),
    (
        "host with _",
        {"more_tasks": shared({"host_header": ["my_shop.example.com"]})},
        "tasks[1].external.forward_conditions[0].host_header[0]",
        "A-Z a-z 0-9 - .",
    ),
    (
        "host of 129 characters",
        {"more_tasks": shared({"host_header": ["a" * 125 + ".com"]})},
        "tasks[1].external.forward_conditions[0].host_header[0]",
        "is 129 characters long; ELB takes 1-128",
    ),
    (
        "path with a space",
        {"more_tasks": shared({"path_pattern": ["/a b/*"]})},
        "tasks[1].external.forward_conditions[0].path_pattern[0]",
        "is not a path pattern ELB matches",
    ),
    (
        "path of 129 characters",
        {"more_tasks": shared({"path_pattern": ["/" + "a" * 128]})},
        "tasks[1].external.forward_conditions[0].path_pattern[0]",
        "ELB takes 1-128",
    ),
    # the certificate's region and partition
    (
        "certificate in another region",
        {"task": {"external": {"port": 443, "cert_arn": US_CERT}}, "region": "eu-west-1"},
        "tasks[0].external.cert_arn",
        "the certificate is in aws:us-east-1, the stack in aws:eu-west-1",
    ),
    (
        "certificate in another partition",
        {"task": {"external": {"port": 443, "cert_arn": [US_CERT.replace("aws:", "aws-cn:", 1)]}}},
        "tasks[0].external.cert_arn[0]",
        "in aws-cn:us-east-1",
    ),
    # counts within ECS's bounds (and 32 bits)
    (
        "max beyond 32 bits",
        {"task": {"scaling": {"max_capacity": 2**31}}},
        "tasks[0].scaling.max_capacity",
        "2147483648 is above 5,000 (ECS's quota of tasks per service)",
    ),
    (
        "scheduled max 5001",
        {"task": {"scaling": {"scheduled": [{"cron": "0 8 ? * MON *", "max_capacity": 5001}]}}},
        "tasks[0].scaling.scheduled[0].max_capacity",
        "5001 is above 5,000",
    ),
    (
        "requests beyond 32 bits",
        {"task": {"scaling": {"request_per_target": 2**31}}},
        "tasks[0].scaling.request_per_target",
        "32-bit",
    ),
    (
        "weight 1001",
        {"task": {"capacity": [{"provider": "FARGATE", "weight": 1001}]}},
        "tasks[0].capacity[0].weight",
        "1001 is above 1,000",
    ),
    (
        "base 100001",
        {"task": {"capacity": [{"provider": "FARGATE", "base": 100_001}]}},
        "tasks[0].capacity[0].base",
        "100001 is above 100,000",
    ),
    # Route 53: one name for each ALB
    (
        "one record name for both ALBs",
        {"route53": {"external_record": "alb", "internal_record": "ALB"}},
        "route53.internal_record",
        "the two ALBs need distinct names",
    ),
    # ECS's task definition size
    (
        "70 KB environment",
        {"task": {"environment": {"BIG": "x" * 70_000}}},
        "tasks[0].environment",
        "ECS takes a task definition of at most 64 KiB",
    ),
    # CloudFormation's 500 resources, estimated before jsii
    (
        "200 tasks",
        {
            "more_tasks": [
                {"name": f"t{i}", "image": "nginx", "internal": {"port": 1000 + i}} for i in range(199)
            ]
        },
        "tasks",
        "200 services make at least 2800 resources; CloudFormation takes at most 500",
    ),
    (
        "61 listeners",
        {
            "more_tasks": [
                {"name": f"t{i}", "image": "nginx", "external": {"port": 1000 + i}} for i in range(60)
            ]
        },
        "tasks",
        "CloudFormation takes at most 500 per stack",
    ),
]


@pytest.mark.parametrize(("case", "given", "field", "rule"), REFUSED, ids=[case[0] for case in REFUSED])
def test_a_spec_aws_would_refuse_is_one_line_naming_the_field_and_the_rule(case, given, field, rule):
    with pytest.raises(ValidationError) as caught:
        spec_with(**given)
    assert caught.value.field == field
    assert rule in caught.value.reason
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "cron",
    [
        "0 8 ? * MON-FRI *",
        "30 6 ? * * *",
        "*/5 * ? * * *",
        "0 8 L * ? *",
        "0 8 LW * ? *",
        "0 8 15W * ? *",
        "0 8 ? * 3#2 *",
        "0 8 ? * FRI#1 *",
        "0 8 ? * 5L *",
        "0 8 ? * L *",
        "0,30 8-18/2 1-15 JAN,DEC ? 2030-2040",
        "0 8 ? dec-jan mon 2199",
    ],
)
def test_cron_expressions_aws_takes_pass(cron):
    spec_with(scheduled(cron))


@pytest.mark.parametrize(
    "conditions",
    [
        {"host_header": ["*.example.com", "shop?.example.com"]},
        {"path_pattern": ["/api/v1/*", "/a_b-c.$~'@:+&/?"]},
    ],
)
def test_condition_values_elb_takes_pass(conditions):
    spec_with(more_tasks=shared(conditions))


def test_a_certificate_of_the_stacks_region_passes():
    spec_with({"external": {"port": 443, "cert_arn": US_CERT}})


@pytest.mark.parametrize("path", PARAMS, ids=[path.name for path in PARAMS])
def test_every_shipped_params_file_still_validates(path):
    load_spec(path)


def test_a_stack_past_500_resources_that_the_estimate_lets_through_is_one_line_from_synth(tmp_path, capsys):
    """34 services pass the lower bound (476) but with alarms make 644 resources: aws-cdk-lib's
    TooManyResourcesInStack comes back as one line naming the biggest types, exit 2, nothing written."""
    import yaml

    from dualalb_kit.cli import main

    tasks = [
        {"name": f"s{i}", "image": "nginx", "container_port": 80, "internal": {"port": 8000 + i}}
        for i in range(34)
    ]
    params = tmp_path / "many.yaml"
    params.write_text(yaml.safe_dump({"stack_name": "many", "alarms": True, "tasks": tasks}))
    out = tmp_path / "assembly"
    assert main(["synth", str(params), "--no-nag", "--no-lint", "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert error == (
        "error: tasks: the stack would have 644 resources, CloudFormation takes at most 500 per stack "
        "(the most: 136 AWS::CloudWatch::Alarm, 69 AWS::IAM::Role, "
        "68 AWS::ApplicationAutoScaling::ScalingPolicy); "
        "split the services over several stacks, or turn off per-service options such as alarms\n"
    )
    assert not out.exists() and [path.name for path in tmp_path.iterdir()] == ["many.yaml"]
