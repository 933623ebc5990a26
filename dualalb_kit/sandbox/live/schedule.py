"""Scheduled actions that happen: the live sandbox runs each Application Auto Scaling scheduled
action on an ECS service at its schedule, as AWS documents it.

Once a minute (the first data plane tick of each minute), for every scheduled action whose
schedule falls in a minute since the last evaluation (a minute the plane missed still fires, once):

- ``cron(minutes hours day-of-month month day-of-week year)``: AWS's six fields with ``* , - /``,
  names (``JAN``, ``MON``), ``?``, ``L``, ``W``, ``LW``, ``nL`` and ``n#k`` (parsed with the rules of
  :func:`dualalb_kit.validation.check_cron`), in the action's ``Timezone`` (default UTC);
- ``rate(N minute|minutes|hour|hours|day|days)``: every N units from the action's ``StartTime``
  (first run then) or, without one, from its creation (first run one interval later);
- ``at(yyyy-mm-ddThh:mm:ss)``: once, in the action's ``Timezone``;

only within its ``StartTime`` and ``EndTime`` (UTC). An action sets its scalable target's
``MinCapacity``/``MaxCapacity`` to its ``ScalableTargetAction`` (either may be left as is) and, when
the service's desired count is outside the new range, moves it to the nearest bound. Each run is
recorded as scaling activities worded like AWS's (``scheduled action name ... was triggered``;
``minimum capacity was set to 4 by scheduled action name ...``). A target whose
``SuspendedState`` suspends scheduled scaling runs none.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...errors import ValidationError
from ...validation import CRON_FIELDS, check_cron
from .autoscaling import Activity

DIMENSION = "ecs:service:DesiredCount"
CATCH_UP_MINUTES = 24 * 60
"""A plane that missed more minutes than this (a suspended laptop) runs only the last day's."""
_MINUTE = timedelta(minutes=1)
_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)", re.IGNORECASE)
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 24 * 60}


@dataclass(frozen=True)
class ScheduledAction:
    """One scheduled action on an ECS service's desired count, as DescribeScheduledActions lists it."""

    name: str
    resource_id: str
    """``service/<cluster>/<service>``."""
    schedule: str
    """``cron(...)``, ``rate(...)`` or ``at(...)``."""
    timezone: str = "UTC"
    start: datetime | None = None
    end: datetime | None = None
    created: datetime | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None


def read_scheduled_actions(autoscaling: Any) -> list[ScheduledAction]:
    """Every scheduled action on an ECS service's desired count (paginated)."""
    actions = []
    for page in autoscaling.get_paginator("describe_scheduled_actions").paginate(ServiceNamespace="ecs"):
        for action in page["ScheduledActions"]:
            if action.get("ScalableDimension") != DIMENSION:
                continue
            bounds = action.get("ScalableTargetAction") or {}
            actions.append(
                ScheduledAction(
                    name=action["ScheduledActionName"],
                    resource_id=action["ResourceId"],
                    schedule=action["Schedule"],
                    timezone=action.get("Timezone") or "UTC",
                    start=_utc(action.get("StartTime")),
                    end=_utc(action.get("EndTime")),
                    created=_utc(action.get("CreationTime")),
                    min_capacity=_capacity(bounds.get("MinCapacity")),
                    max_capacity=_capacity(bounds.get("MaxCapacity")),
                )
            )
    return actions


def fires(action: ScheduledAction, minute: datetime) -> bool:
    """Whether ``action`` runs in the UTC ``minute`` (second 0). Raises :class:`ValidationError`
    for a schedule or time zone AWS would not take."""
    if (action.start and minute < _floor(action.start)) or (action.end and minute > action.end):
        return False
    schedule = action.schedule.strip()
    zone = _zone(action)
    if schedule.startswith("cron(") and schedule.endswith(")"):
        return CronSchedule(schedule[5:-1]).matches(minute.astimezone(zone).replace(tzinfo=None))
    if match := _RATE.fullmatch(schedule):
        every = int(match[1]) * _UNIT_MINUTES[match[2].lower().rstrip("s")]
        if every < 1:
            raise ValidationError(f"{action.name}.Schedule", f"{schedule!r}: the rate must be at least 1")
        anchor = action.start or action.created
        if anchor is None:
            return False
        elapsed = int((minute - _floor(anchor)) / _MINUTE)
        first = 0 if action.start else every
        return elapsed >= first and elapsed % every == 0
    if match := _AT.fullmatch(schedule):
        when = datetime.fromisoformat(match[1]).replace(tzinfo=zone)
        return _floor(when.astimezone(UTC)) == minute
    raise ValidationError(
        f"{action.name}.Schedule", f"{schedule!r} is not cron(...), rate(N unit) or at(yyyy-mm-ddThh:mm:ss)"
    )


class CronSchedule:
    """AWS's six cron fields (the text inside ``cron(...)``), checked by
    :func:`~dualalb_kit.validation.check_cron`; :meth:`matches` a local wall-clock minute."""

    def __init__(self, fields: str) -> None:
        check_cron("Schedule", fields)
        minutes, hours, days, months, weekdays, years = (part.upper() for part in fields.split())
        self.minutes = _values(CRON_FIELDS[0], minutes)
        self.hours = _values(CRON_FIELDS[1], hours)
        self.months = _values(CRON_FIELDS[3], months)
        self.years = _values(CRON_FIELDS[5], years)
        self.days = days
        self.weekdays = weekdays

    def matches(self, local: datetime) -> bool:
        """Whether the wall-clock minute ``local`` (naive, in the schedule's time zone) is one of its."""
        return (
            local.minute in self.minutes
            and local.hour in self.hours
            and local.month in self.months
            and local.year in self.years
            and self._day_matches(local.date())
        )

    def _day_matches(self, day: date) -> bool:
        if self.days == "?":
            return any(_weekday_item_matches(item, day) for item in self.weekdays.split(","))
        return any(_day_item_matches(item, day) for item in self.days.split(","))


def _aws_weekday(day: date) -> int:
    """AWS's day-of-week number: 1 Sunday ... 7 Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: date, wanted: int) -> int:
    """The day of ``day``'s month that ``wantedW`` means: the weekday nearest to day ``wanted``,
    not leaving the month (Saturday 1st -> Monday 3rd; Sunday on the last day -> Friday)."""
    last = _last_day(day)
    if wanted > last:
        return 0  # 31W in a 30-day month: no day
    weekday = date(day.year, day.month, wanted).weekday()  # Monday 0 ... Sunday 6
    if weekday == 5:
        return wanted - 1 if wanted > 1 else wanted + 2
    if weekday == 6:
        return wanted + 1 if wanted < last else wanted - 2
    return wanted


def _day_item_matches(item: str, day: date) -> bool:
    if item == "L":
        return day.day == _last_day(day)
    if item == "LW":
        return day.day == _nearest_weekday(day, _last_day(day))
    if item.endswith("W"):
        return day.day == _nearest_weekday(day, int(item[:-1]))
    return day.day in _values(CRON_FIELDS[2], item)


def _weekday_item_matches(item: str, day: date) -> bool:
    spec = CRON_FIELDS[4]
    weekday = _aws_weekday(day)
    if item == "L":
        return weekday == spec.high  # Saturday, the week's last day
    if item.endswith("L"):
        return weekday == _number(spec, item[:-1]) and day.day + 7 > _last_day(day)
    if "#" in item:
        wanted, _, nth = item.partition("#")
        return weekday == _number(spec, wanted) and (day.day - 1) // 7 + 1 == int(nth)
    return weekday in _values(spec, item)


def _number(spec: Any, value: str) -> int:
    """A field value: a number or one of the field's names (``JAN`` 1, ``SUN`` 1)."""
    return spec.low + spec.names.index(value) if value in spec.names else int(value)


def _values(spec: Any, text: str) -> frozenset[int]:
    """Every value a cron field's items (``*``, ``a``, ``a-b`` (wrapping past the end), ``*/s``,
    ``a/s``, ``a-b/s``, comma-separated) stand for."""
    found: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            first, last = spec.low, spec.high
        else:
            first_text, dash, last_text = base.partition("-")
            first = _number(spec, first_text)
            last = _number(spec, last_text) if dash else (spec.high if step_text else first)
        span = (
            range(first, last + 1)
            if first <= last
            else [*range(first, spec.high + 1), *range(spec.low, last + 1)]
        )
        found.update(list(span)[::step])
    return frozenset(found)


class Scheduler:
    """Runs the scheduled actions once per minute; see the module doc.

    :param autoscaling: an Application Auto Scaling client (reads actions and targets, registers bounds).
    :param desired_count: ``resource_id -> the service's desired count now``.
    :param set_desired: ``(resource_id, capacity) -> None`` (UpdateService).
    :param record: called with each scaling activity (kept with target tracking's).
    :param report: called with one line per action run or refused.
    """

    def __init__(
        self,
        autoscaling: Any,
        desired_count: Callable[[str], int],
        set_desired: Callable[[str, int], None],
        record: Callable[[Activity], None],
        report: Callable[[str], None],
    ) -> None:
        self.autoscaling = autoscaling
        self.desired_count = desired_count
        self.set_desired = set_desired
        self.record = record
        self.report = report
        self._last_minute: datetime | None = None
        self._refused: set[tuple[str, str]] = set()

    def evaluate(self, now: datetime, resources: set[str]) -> None:
        """Run every action on ``resources`` (the services the plane runs) due in a minute after
        the last evaluation, up to ``now``'s (UTC); nothing when that minute was evaluated already.
        The first evaluation looks at ``now``'s minute only."""
        minute = _floor(now)
        minutes = list(self._minutes_since_last(minute))
        if not minutes:
            return
        due = []
        for action in read_scheduled_actions(self.autoscaling):
            if action.resource_id not in resources:
                continue
            try:
                when = next((m for m in reversed(minutes) if fires(action, m)), None)
            except ValidationError as error:
                self._refuse(action, str(error))
                continue
            if when is not None:
                due.append((when, action.name, action))
        if not due:
            self._last_minute = minute
            return
        targets = {
            target["ResourceId"]: target
            for page in self.autoscaling.get_paginator("describe_scalable_targets").paginate(
                ServiceNamespace="ecs", ScalableDimension=DIMENSION
            )
            for target in page["ScalableTargets"]
        }
        for _, _, action in sorted(due, key=lambda item: item[:2]):
            target = targets.get(action.resource_id)
            if target is None or (target.get("SuspendedState") or {}).get("ScheduledScalingSuspended"):
                continue
            self._run(action, target, now)
        self._last_minute = minute  # only now: a minute whose actions failed is looked at again

    def _minutes_since_last(self, minute: datetime) -> Iterator[datetime]:
        if self._last_minute is None:
            yield minute
            return
        first = max(self._last_minute + _MINUTE, minute - (CATCH_UP_MINUTES - 1) * _MINUTE)
        while first <= minute:
            yield first
            first += _MINUTE

    def _run(self, action: ScheduledAction, target: dict, now: datetime) -> None:
        low = int(target["MinCapacity"]) if action.min_capacity is None else action.min_capacity
        high = int(target["MaxCapacity"]) if action.max_capacity is None else action.max_capacity
        if low > high:
            self._refuse(action, f"minimum capacity {low} would be above maximum capacity {high}")
            return
        self.autoscaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=action.resource_id,
            ScalableDimension=DIMENSION,
            MinCapacity=low,
            MaxCapacity=high,
        )
        target["MinCapacity"], target["MaxCapacity"] = low, high
        current = self.desired_count(action.resource_id)
        self._add(
            action.resource_id,
            now,
            f"Setting min capacity to {low} and max capacity to {high}",
            f"scheduled action name {action.name} was triggered",
            current,
            current,
        )
        wanted = min(max(current, low), high)
        if wanted == current:
            return
        self.set_desired(action.resource_id, wanted)
        bound = "minimum" if wanted > current else "maximum"
        verb = "increasing" if wanted > current else "decreasing"
        self._add(
            action.resource_id,
            now,
            f"Setting desired count to {wanted}.",
            f"At {now:%Y-%m-%dT%H:%M:%SZ} {bound} capacity was set to {wanted} by scheduled action name "
            f"{action.name}, {verb} the capacity from {current} to {wanted}.",
            current,
            wanted,
        )

    def _add(self, resource_id: str, now: datetime, description: str, cause: str, old: int, new: int) -> None:
        self.record(Activity(resource_id, now, description, cause, old, new))
        self.report(f"{resource_id}: {description} ({cause})")

    def _refuse(self, action: ScheduledAction, why: str) -> None:
        """Report once per action and reason that an action cannot run."""
        if (action.name, why) not in self._refused:
            self._refused.add((action.name, why))
            self.report(f"{action.resource_id}: scheduled action {action.name} not run: {why}")


def _zone(action: ScheduledAction) -> ZoneInfo:
    try:
        return ZoneInfo(action.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{action.name}.Timezone", f"{action.timezone!r} is not an IANA time zone"
        ) from None


def _floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _utc(value: Any) -> datetime | None:
    """A timestamp botocore parsed (aware, or naive UTC), in UTC; None stays None."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _capacity(value: Any) -> int | None:
    return None if value is None else int(value)
