"""Scheduled actions in the live sandbox, on a fixed clock: which minutes AWS's schedules name
(cron fields with ranges, steps, names, L, W and #; rate; at; time zones; start and end), and what
running them does through the sandbox's API (bounds set, desired count moved into them, activities
worded like AWS's, a late tick still firing once)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dualalb_kit.errors import ValidationError
from dualalb_kit.sandbox.live.autoscaling import Activity
from dualalb_kit.sandbox.live.schedule import ScheduledAction, Scheduler, fires
from dualalb_kit.target import as_target


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "minute", "expected"),
    [
        ("0/15 8-10 ? * MON-FRI *", "2026-12-07T08:15", True),  # a Monday
        ("0/15 8-10 ? * MON-FRI *", "2026-12-07T08:10", False),  # not on the 15-minute step
        ("0/15 8-10 ? * MON-FRI *", "2026-12-07T11:00", False),  # past the hours
        ("0/15 8-10 ? * MON-FRI *", "2026-12-05T08:15", False),  # a Saturday
        ("*/20 * ? * SUN,7 2027", "2027-01-02T00:40", True),  # Saturday as 7, year 2027
        ("*/20 * ? * SUN,7 2027", "2026-12-05T00:40", False),  # a Saturday of 2026
        ("5 0 1,15 */3 ? *", "2026-04-15T00:05", True),  # months 1, 4, 7, 10
        ("5 0 1,15 */3 ? *", "2026-05-15T00:05", False),
        ("0 22 ? NOV-FEB FRI *", "2026-01-02T22:00", True),  # a range that wraps past December
        ("0 22 ? NOV-FEB FRI *", "2026-03-06T22:00", False),
        ("0 12 L * ? *", "2026-02-28T12:00", True),  # the last day of the month
        ("0 12 L * ? *", "2026-11-29T12:00", False),
        ("0 12 15W * ? *", "2026-11-16T12:00", True),  # the 15th is a Sunday: Monday the 16th
        ("0 12 15W * ? *", "2026-11-15T12:00", False),
        ("0 12 1W * ? *", "2026-08-03T12:00", True),  # the 1st is a Saturday: Monday the 3rd
        ("0 12 LW * ? *", "2026-05-29T12:00", True),  # the 31st is a Sunday: Friday the 29th
        ("0 12 LW * ? *", "2026-05-31T12:00", False),
        ("0 12 ? * 6#3 *", "2026-11-20T12:00", True),  # the third Friday
        ("0 12 ? * 6#3 *", "2026-11-13T12:00", False),
        ("0 12 ? * 2L *", "2026-11-30T12:00", True),  # the last Monday
        ("0 12 ? * 2L *", "2026-11-23T12:00", False),
        ("0 12 ? * L *", "2026-11-28T12:00", True),  # L alone: Saturday
    ],
)
def test_cron_fields_name_the_minutes_aws_documents(cron, minute, expected):
    action = ScheduledAction("a", "service/c/s", f"cron({cron})")
    assert fires(action, utc(minute)) is expected


def test_cron_and_at_run_in_the_actions_time_zone_through_daylight_saving():
    berlin = ScheduledAction("a", "service/c/s", "cron(0 8 * * ? *)", timezone="Europe/Berlin")
    assert [fires(berlin, utc(m)) for m in ("2026-01-15T07:00", "2026-01-15T08:00")] == [True, False]
    assert fires(berlin, utc("2026-07-15T06:00")) is True  # CEST
    new_york = ScheduledAction("a", "service/c/s", "at(2026-12-07T09:30:00)", timezone="America/New_York")
    assert [fires(new_york, utc(m)) for m in ("2026-12-07T14:30", "2026-12-07T09:30")] == [True, False]
    in_utc = ScheduledAction("a", "service/c/s", "at(2026-12-07T09:30:45)")
    assert [fires(in_utc, utc(m)) for m in ("2026-12-07T09:30", "2026-12-07T09:31")] == [True, False]


def test_rate_counts_from_the_start_time_or_one_interval_after_creation_within_start_and_end():
    created = ScheduledAction("a", "service/c/s", "rate(5 minutes)", created=utc("2026-12-07T10:02:30"))
    minutes = ["10:02", "10:05", "10:07", "10:10", "10:12"]
    assert [fires(created, utc(f"2026-12-07T{m}")) for m in minutes] == [False, False, True, False, True]
    started = ScheduledAction(
        "a", "service/c/s", "rate(1 hour)", start=utc("2026-12-07T10:00"), end=utc("2026-12-07T12:00")
    )
    minutes = ["09:00", "10:00", "10:30", "11:00", "12:00", "13:00"]
    assert [fires(started, utc(f"2026-12-07T{m}")) for m in minutes] == [
        False,
        True,
        False,
        True,
        True,
        False,
    ]
    cron = ScheduledAction("a", "service/c/s", "cron(15 8 ? * MON-FRI *)", start=utc("2026-12-08T00:00"))
    assert [fires(cron, utc(m)) for m in ("2026-12-07T08:15", "2026-12-08T08:15")] == [False, True]


@pytest.mark.parametrize(
    ("schedule", "timezone", "message"),
    [
        ("cron(0 8 * * * *)", "UTC", "exactly one of day-of-month, day-of-week"),
        ("cron(0 8 ? * FUN *)", "UTC", "'FUN' is not a value"),
        ("rate(0 minutes)", "UTC", "at least 1"),
        ("every day", "UTC", "is not cron(...), rate(N unit) or at("),
        ("cron(0 8 * * ? *)", "Mars/Olympus", "not an IANA time zone"),
    ],
)
def test_a_schedule_aws_would_refuse_is_a_one_line_error(schedule, timezone, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        fires(ScheduledAction("a", "service/c/s", schedule, timezone=timezone), utc("2026-12-07T08:00"))
    assert "\n" not in str(raised.value)


@pytest.fixture
def service(sandbox):
    """An ECS service (desired count 3) registered as a scalable target (1-10) in the sandbox."""
    ecs = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("ecs")
    autoscaling = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client(
        "application-autoscaling"
    )
    ecs.create_cluster(clusterName="scheduled")
    family = ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "x", "memory": 512}]
    )
    ecs.create_service(
        cluster="scheduled",
        serviceName="web",
        taskDefinition=family["taskDefinition"]["taskDefinitionArn"],
        desiredCount=3,
    )
    resource = "service/scheduled/web"
    target = {
        "ServiceNamespace": "ecs",
        "ResourceId": resource,
        "ScalableDimension": "ecs:service:DesiredCount",
    }
    autoscaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=10)
    yield ecs, autoscaling, resource, target
    for action in autoscaling.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=resource)[
        "ScheduledActions"
    ]:
        autoscaling.delete_scheduled_action(**target, ScheduledActionName=action["ScheduledActionName"])
    autoscaling.deregister_scalable_target(**target)
    ecs.delete_service(cluster="scheduled", service="web", force=True)
    ecs.delete_cluster(cluster="scheduled")


def test_a_scheduled_action_sets_the_bounds_and_moves_the_desired_count_into_them(service):
    ecs, autoscaling, resource, target = service

    def desired(resource_id: str) -> int:
        return ecs.describe_services(cluster="scheduled", services=["web"])["services"][0]["desiredCount"]

    def set_desired(resource_id: str, count: int) -> None:
        ecs.update_service(cluster="scheduled", service="web", desiredCount=count)

    def bounds() -> tuple[int, int]:
        (found,) = autoscaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])[
            "ScalableTargets"
        ]
        return found["MinCapacity"], found["MaxCapacity"]

    autoscaling.put_scheduled_action(
        **target, ScheduledActionName="evening", Schedule="cron(0 20 ? * MON-FRI *)",
        ScalableTargetAction={"MaxCapacity": 2},
    )  # fmt: skip
    autoscaling.put_scheduled_action(
        **target, ScheduledActionName="morning", Schedule="at(2026-12-08T08:00:00)",
        ScalableTargetAction={"MinCapacity": 4, "MaxCapacity": 8},
    )  # fmt: skip
    activities: list[Activity] = []
    lines: list[str] = []
    elsewhere = Scheduler(autoscaling, desired, set_desired, activities.append, lines.append)
    elsewhere.evaluate(utc("2026-12-07T20:00:05"), {"service/scheduled/other"})  # not a service it runs
    assert (activities, bounds(), desired(resource)) == ([], (1, 10), 3)

    scheduler = Scheduler(autoscaling, desired, set_desired, activities.append, lines.append)
    scheduler.evaluate(utc("2026-12-07T19:59:10"), {resource})
    assert (activities, bounds(), desired(resource)) == ([], (1, 10), 3)
    scheduler.evaluate(utc("2026-12-07T20:00:05"), {resource})
    assert (bounds(), desired(resource)) == ((1, 2), 2)
    setting, moving = activities
    assert (setting.description, setting.cause) == (
        "Setting min capacity to 1 and max capacity to 2",
        "scheduled action name evening was triggered",
    )
    assert moving.description == "Setting desired count to 2."
    assert moving.cause == (
        "At 2026-12-07T20:00:05Z maximum capacity was set to 2 by scheduled action name evening, "
        "decreasing the capacity from 3 to 2."
    )
    assert (moving.old_capacity, moving.new_capacity) == (3, 2)
    scheduler.evaluate(utc("2026-12-07T20:00:50"), {resource})  # the same minute: not again
    assert len(activities) == 2

    # the plane's tick ran late: 08:00 passed while it was away, and the one-time action still runs
    scheduler.evaluate(utc("2026-12-08T08:03:20"), {resource})
    assert (bounds(), desired(resource)) == ((4, 8), 4)
    assert activities[-1].cause == (
        "At 2026-12-08T08:03:20Z minimum capacity was set to 4 by scheduled action name morning, "
        "increasing the capacity from 2 to 4."
    )
    assert len(activities) == 4  # the evening action (20:00) was not in the missed minutes
    assert lines[-1].startswith(f"{resource}: Setting desired count to 4.")


def test_a_suspended_target_and_an_impossible_action_change_nothing(service):
    ecs, autoscaling, resource, target = service
    autoscaling.put_scheduled_action(
        **target,
        ScheduledActionName="low",
        Schedule="cron(* * * * ? *)",
        ScalableTargetAction={"MaxCapacity": 1},
    )
    autoscaling.register_scalable_target(**target, SuspendedState={"ScheduledScalingSuspended": True})
    changes: list[tuple[str, int]] = []
    activities: list[Activity] = []
    lines: list[str] = []
    scheduler = Scheduler(
        autoscaling, lambda rid: 3, lambda rid, n: changes.append((rid, n)), activities.append, lines.append
    )
    scheduler.evaluate(utc("2026-12-07T10:00:00"), {resource})
    assert (changes, activities, lines) == ([], [], [])
    autoscaling.register_scalable_target(**target, SuspendedState={"ScheduledScalingSuspended": False})
    autoscaling.put_scheduled_action(
        **target,
        ScheduledActionName="low",
        Schedule="cron(* * * * ? *)",
        ScalableTargetAction={"MinCapacity": 20},
    )
    scheduler.evaluate(utc("2026-12-07T10:01:00"), {resource})
    assert (changes, activities) == ([], [])
    assert lines == [
        f"{resource}: scheduled action low not run: minimum capacity 20 would be above maximum capacity 10"
    ]
