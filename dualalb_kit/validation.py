"""Rules on plain values shared by the spec and the constructs.

Each check raises :class:`ValidationError` naming the field path; none imports CDK, so the
spec (before synthesis) and the constructs (before jsii) apply the same rules.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ValidationError

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
SIDES = ("external", "internal")
"""The dual pattern's two load balancers, as the spec's keys, the construct's props and the
``dualalb:alb`` tag name them: the internet-facing one and the internal one."""
DEFAULT_MIN_CAPACITY = 1
DEFAULT_MAX_CAPACITY = 10
DEFAULT_REQUESTS_PER_TARGET = 1000
DEFAULT_TARGET_CPU_UTILIZATION = 50
"""Target tracking's defaults (the original's ``ServiceScalingPolicy``): fewest and most tasks,
ALB requests per target per minute, average CPU percent. The spec's ``scaling`` and the
construct's ``ServiceScalingPolicy`` both take them from here."""

_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

Condition = tuple[str, tuple[str, ...]]
"""A listener-rule condition as plain values: its field and its values (``*`` and ``?`` wildcards)."""
FORWARD_CONDITION_FIELDS = ("host-header", "path-pattern")
RULE_CONDITION_VALUES_MAX = 5
"""ALB's limit on the condition values of one listener rule."""
CONDITION_VALUE_MAX = 128
"""ELB's limit on one host-header or path-pattern value, in characters."""
RULES_PER_LISTENER_MAX = 100
"""ALB's quota of rules per listener (the default rule not counted)."""
TASKS_PER_SERVICE_MAX = 5000
"""ECS's quota of tasks per service (not adjustable): the most a desired count or a capacity can be."""
_TASKS_RULE = "ECS's quota of tasks per service"
INT32_MAX = 2**31 - 1
"""The largest count AWS's APIs take (their integers are 32-bit)."""
_INT32_RULE = "AWS's integers are 32-bit"
CAPACITY_BASE_MAX = 100_000
CAPACITY_WEIGHT_MAX = 1000
"""ECS's ranges for a capacity provider's ``base`` (0-100,000) and ``weight`` (0-1,000)."""
# ELB's syntax (CreateRule's HostHeaderConditionConfig and PathPatternConditionConfig, and the ALB
# guide's "Listener rules"): host names of A-Z a-z 0-9 - . with * and ? wildcards, at least one
# ".", only letters (or wildcards) after the last; paths of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & *
# ? (& written as &amp; by ELB), case-sensitive.
_HOST_HEADER = re.compile(r"[A-Za-z0-9.*?-]+")
_HOST_TOP_LEVEL = re.compile(r"[A-Za-z*?]+")
_PATH_PATTERN = re.compile(r"[A-Za-z0-9_.$/~\"'@:+&*?-]+")


@dataclass(frozen=True)
class ServiceRules:
    """The values of one service that the spec and the constructs check alike.

    ``field`` is the service's path (``tasks[1]``); ``listener_ports`` maps each side it listens on
    (``external``/``internal``) to its port; ``scaling`` has ``min_capacity``, ``max_capacity``,
    ``target_cpu_utilization`` and ``request_per_target``; ``strategy`` holds ``(provider, base,
    weight)`` triples reported under ``strategy_field`` (``None``: the stack's default); ``label``
    names the service in messages (``"task 'order' "``, default nothing); ``min_healthy_percent``
    and ``max_healthy_percent`` bound its rolling deployments (default 100 and 200);
    ``forward_conditions`` maps a side to the conditions of the service's rule on that side's
    listener (default none: the listener's default action) and ``https_sides`` are the sides
    where it brings certificates. ``deployment`` is its deployment strategy and options (default:
    rolling), reported under ``deployment_field`` (the task's own or the stack's), checked knowing
    whether the stack has ``alarms``.
    """

    field: str
    listener_ports: Mapping[str, int]
    desired_count: int
    scaling: Any
    strategy_field: str
    strategy: Sequence[tuple[str, int, int]] | None = None
    label: str = ""
    min_healthy_percent: int = 100
    max_healthy_percent: int = 200
    forward_conditions: Mapping[str, Sequence[Condition]] = dataclasses.field(default_factory=dict)
    https_sides: frozenset[str] = frozenset()
    deployment: DeploymentRules | None = None
    deployment_field: str = "deployment"
    alarms: bool = False


DEPLOYMENT_STRATEGIES = ("rolling", "blue_green", "linear", "canary")
"""ECS's built-in deployment strategies, as the spec names them (``ROLLING``, ``BLUE_GREEN``, ...)."""
DEPLOYMENT_MINUTES_MAX = 1440
"""ECS's limit on a bake time, in minutes (24 h)."""
DEPLOYMENT_CFN_MINUTES_MAX = 33 * 60
"""CloudFormation rejects a linear or canary deployment whose bake times add up beyond 33 h."""
LINEAR_STEP_PERCENT = (3.0, 100.0)
CANARY_PERCENT = (0.1, 100.0)
DEPLOYMENT_DEFAULTS = {
    "bake_time_minutes": 15,
    "linear_step_percent": 10.0,
    "linear_step_bake_time_minutes": 6,
    "canary_percent": 5.0,
    "canary_bake_time_minutes": 10,
}
"""ECS's defaults for the options a strategy leaves unset (bake time: blue/green, linear, canary)."""


@dataclass(frozen=True)
class DeploymentRules:
    """A service's deployment options as plain values (``None``: ECS's default).

    ``strategy`` is one of :data:`DEPLOYMENT_STRATEGIES`; times are minutes; ``rollback_on_alarms``
    ``None`` means on for blue_green/linear/canary when the stack has alarms, off for rolling.
    """

    strategy: str = "rolling"
    bake_time_minutes: float | None = None
    linear_step_percent: float | None = None
    linear_step_bake_time_minutes: float | None = None
    canary_percent: float | None = None
    canary_bake_time_minutes: float | None = None
    rollback_on_alarms: bool | None = None
    time_suffix: str = "_minutes"
    """How the times' field names end where they were given: ``_minutes`` in the spec, nothing
    for the construct's ``Duration`` props (``bake_time``)."""

    def field_name(self, name: str) -> str:
        """An option's name as the user gave it (``bake_time_minutes`` or ``bake_time``)."""
        return name.removesuffix("_minutes") + self.time_suffix if name.endswith("_minutes") else name

    @property
    def shifts_traffic(self) -> bool:
        """Whether ECS shifts traffic between two target groups (every strategy but rolling)."""
        return self.strategy != "rolling"

    def value(self, name: str) -> float:
        """An option's value, or ECS's default for it."""
        given = getattr(self, name)
        return DEPLOYMENT_DEFAULTS[name] if given is None else given

    def rolls_back_on_alarms(self, alarms: bool) -> bool:
        """Whether the service's alarms roll a deployment back, given whether the stack has alarms."""
        if self.rollback_on_alarms is None:
            return alarms and self.shifts_traffic
        return self.rollback_on_alarms


@dataclass(frozen=True)
class _ListenerUse:
    """One service on one listener (side and port)."""

    service: ServiceRules
    side: str
    port: int

    @property
    def field(self) -> str:
        return f"{self.service.field}.{self.side}"

    @property
    def conditions(self) -> Sequence[Condition]:
        return self.service.forward_conditions.get(self.side, ())


def check_services(services: Sequence[ServiceRules]) -> None:
    """Listeners, ports, scaling and capacity of every service; tasks share a port of an ALB only
    when forward conditions tell them apart (see :func:`check_shared_listeners`)."""
    if not services:
        raise ValidationError("tasks", "at least one task is required")
    listeners: dict[tuple[str, int], list[_ListenerUse]] = {}
    for service in services:
        if not service.listener_ports:
            raise ValidationError(service.field, f"{service.label}needs external, internal or both")
        for side, port in service.listener_ports.items():
            check_port(f"{service.field}.{side}.port", port)
            use = _ListenerUse(service, side, port)
            check_forward_conditions(f"{use.field}.forward_conditions", use.conditions)
            listeners.setdefault((side, port), []).append(use)
        scaling = service.scaling
        check_scaling(
            service.field,
            desired_count=service.desired_count,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            target_cpu_utilization=scaling.target_cpu_utilization,
            request_per_target=scaling.request_per_target,
        )
        memory = scaling.target_memory_utilization
        if memory is not None and not 0 < memory <= 100:
            raise ValidationError(
                f"{service.field}.scaling.target_memory_utilization", f"{memory:g} is outside (0, 100]"
            )
        for index, action in enumerate(scaling.scheduled or ()):
            check_scheduled_scaling(
                f"{service.field}.scaling.scheduled[{index}]",
                cron=action.cron,
                min_capacity=action.min_capacity,
                max_capacity=action.max_capacity,
            )
        if service.strategy is not None:
            check_capacity_strategy(service.strategy_field, service.strategy)
        check_deployment(
            service.field,
            min_healthy_percent=service.min_healthy_percent,
            max_healthy_percent=service.max_healthy_percent,
        )
        if service.deployment is not None:
            check_deployment_strategy(service.deployment_field, service.deployment, alarms=service.alarms)
    for uses in listeners.values():
        check_shared_listeners(uses)


def check_port(field: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise ValidationError(field, f"{port} is not a port (1-65535)")


def check_forward_conditions(field: str, conditions: Sequence[Condition]) -> None:
    """Host-header and path-pattern conditions only, each field once, 1-5 values in all."""
    seen: set[str] = set()
    for index, (condition_field, values) in enumerate(conditions):
        if condition_field not in FORWARD_CONDITION_FIELDS:
            raise ValidationError(
                f"{field}[{index}]",
                f"{condition_field!r} conditions cannot tell tasks apart; use "
                f"{' or '.join(FORWARD_CONDITION_FIELDS)}",
            )
        if condition_field in seen:
            raise ValidationError(
                f"{field}[{index}]", f"{condition_field} is given twice; list its values once"
            )
        if not values:
            raise ValidationError(f"{field}[{index}]", f"{condition_field} has no values")
        for number, value in enumerate(values):
            check_condition_value(
                f"{field}[{index}].{condition_field.replace('-', '_')}[{number}]", condition_field, value
            )
        seen.add(condition_field)
    total = sum(len(values) for _, values in conditions)
    if total > RULE_CONDITION_VALUES_MAX:
        raise ValidationError(
            field, f"{total} values; a listener rule takes at most {RULE_CONDITION_VALUES_MAX}"
        )


def check_condition_value(field: str, condition_field: str, value: str) -> None:
    """One host-header or path-pattern value as ELB accepts it: at most
    :data:`CONDITION_VALUE_MAX` characters of its syntax (``*`` and ``?`` are wildcards)."""
    if not value or len(value) > CONDITION_VALUE_MAX:
        raise ValidationError(
            field,
            f"is {len(value)} characters long; ELB takes 1-{CONDITION_VALUE_MAX} per {condition_field} value",
        )
    if condition_field == "host-header":
        if not _HOST_HEADER.fullmatch(value):
            raise ValidationError(
                field, f"{value!r} is not a host name ELB matches (A-Z a-z 0-9 - . and the wildcards * ?)"
            )
        if "." not in value or not _HOST_TOP_LEVEL.fullmatch(value.rsplit(".", 1)[1]):
            raise ValidationError(
                field, f"{value!r}: ELB needs at least one '.' and only letters after the last (example.com)"
            )
    elif not _PATH_PATTERN.fullmatch(value):
        raise ValidationError(
            field,
            f"{value!r} is not a path pattern ELB matches "
            "(A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & and the wildcards * ?)",
        )


def check_shared_listeners(uses: Sequence[_ListenerUse]) -> None:
    """The services on one port of one ALB: at most one without conditions (the listener's
    default), no two whose conditions can match the same request, all HTTP or all HTTPS."""
    first = uses[0]
    where = f"port {first.port} of the {first.side} ALB"
    defaults = [use for use in uses if not use.conditions]
    if len(defaults) > 1:
        raise ValidationError(
            f"{defaults[1].field}.port",
            f"{where} is already used by {defaults[0].service.field}; "
            "tasks sharing a port need forward_conditions (all but one)",
        )
    for use in uses[1:]:
        if (use.side in use.service.https_sides) != (first.side in first.service.https_sides):
            raise ValidationError(
                use.field, f"{where} is shared with {first.service.field}; give both certificates or neither"
            )
    conditional = [use for use in uses if use.conditions]
    if len(conditional) > RULES_PER_LISTENER_MAX:
        raise ValidationError(
            f"{conditional[RULES_PER_LISTENER_MAX].field}.forward_conditions",
            f"{len(conditional)} rules on {where}; an ALB listener takes at most {RULES_PER_LISTENER_MAX}",
        )
    for index, use in enumerate(conditional):
        for other in conditional[:index]:
            if conditions_overlap(use.conditions, other.conditions):
                raise ValidationError(
                    f"{use.field}.forward_conditions",
                    f"{_describe(use.conditions)} overlaps {other.service.field}'s "
                    f"{_describe(other.conditions)} on {where}; one request would match both",
                )


def conditions_overlap(first: Sequence[Condition], second: Sequence[Condition]) -> bool:
    """Whether one request can match both rules: on every field both constrain, some value of
    one and some value of the other match a common string (hosts compare case-insensitively)."""
    other = dict(second)
    for condition_field, values in first:
        if condition_field not in other:
            continue
        fold = str.lower if condition_field == "host-header" else str
        if not any(_globs_intersect(fold(a), fold(b)) for a in values for b in other[condition_field]):
            return False
    return True


def _describe(conditions: Sequence[Condition]) -> str:
    return " and ".join(f"{name} {', '.join(values)}" for name, values in conditions)


@functools.cache
def _globs_intersect(first: str, second: str) -> bool:
    """Whether some string matches both patterns (``*``: any run of characters, ``?``: one)."""
    if not first or not second:
        return first.strip("*") == "" and second.strip("*") == ""
    head, rest = first[0], first[1:]
    other_head, other_rest = second[0], second[1:]
    if head == "*":
        return _globs_intersect(rest, second) or _globs_intersect(first, other_rest)
    if other_head == "*":
        return _globs_intersect(first, other_rest) or _globs_intersect(rest, second)
    return (head == other_head or "?" in (head, other_head)) and _globs_intersect(rest, other_rest)


def check_scaling(
    field: str,
    *,
    desired_count: int,
    min_capacity: int,
    max_capacity: int,
    target_cpu_utilization: float,
    request_per_target: int,
) -> None:
    """``field`` is the task's path; scaling fields are reported under ``<field>.scaling``."""
    if desired_count < 0:
        raise ValidationError(f"{field}.desired_count", f"{desired_count} is negative")
    if min_capacity < 0:
        raise ValidationError(f"{field}.scaling.min_capacity", f"{min_capacity} is negative")
    if max_capacity < 1:
        raise ValidationError(f"{field}.scaling.max_capacity", f"{max_capacity} must be at least 1")
    _check_at_most(f"{field}.scaling.max_capacity", max_capacity, TASKS_PER_SERVICE_MAX, _TASKS_RULE)
    if min_capacity > max_capacity:
        raise ValidationError(
            f"{field}.scaling.min_capacity", f"{min_capacity} is above max_capacity {max_capacity}"
        )
    if desired_count > max_capacity:
        raise ValidationError(
            f"{field}.desired_count", f"{desired_count} is above scaling.max_capacity {max_capacity}"
        )
    if not 0 < target_cpu_utilization <= 100:
        raise ValidationError(
            f"{field}.scaling.target_cpu_utilization",
            f"{target_cpu_utilization} is outside (0, 100]",
        )
    if request_per_target <= 0:
        raise ValidationError(f"{field}.scaling.request_per_target", f"{request_per_target} must be above 0")
    _check_at_most(f"{field}.scaling.request_per_target", request_per_target, INT32_MAX, _INT32_RULE)


def check_scheduled_scaling(
    field: str, *, cron: str, min_capacity: int | None, max_capacity: int | None
) -> None:
    """A scheduled action: Application Auto Scaling's six cron fields (UTC) and new bounds."""
    check_cron(f"{field}.cron", cron)
    if min_capacity is None and max_capacity is None:
        raise ValidationError(field, "sets neither min_capacity nor max_capacity")
    if min_capacity is not None and min_capacity < 0:
        raise ValidationError(f"{field}.min_capacity", f"{min_capacity} is negative")
    if max_capacity is not None and max_capacity < 1:
        raise ValidationError(f"{field}.max_capacity", f"{max_capacity} must be at least 1")
    for name, value in (("min_capacity", min_capacity), ("max_capacity", max_capacity)):
        if value is not None:
            _check_at_most(f"{field}.{name}", value, TASKS_PER_SERVICE_MAX, _TASKS_RULE)
    if min_capacity is not None and max_capacity is not None and min_capacity > max_capacity:
        raise ValidationError(f"{field}.min_capacity", f"{min_capacity} is above max_capacity {max_capacity}")


# Application Auto Scaling's cron expressions, as its PutScheduledAction reference and the
# EventBridge "Cron expressions reference" (docs.aws.amazon.com/eventbridge/latest/userguide/
# eb-cron-expressions.html) define them: six fields, each with its values and wildcards; day-of-month
# takes L (last day), W (nearest weekday: 15W, LW), day-of-week L (last: L, 5L) and # (3#2: the
# second Tuesday, alone in its field); exactly one of day-of-month and day-of-week is '?'.
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    wildcards: str
    names: tuple[str, ...] = ()

    @property
    def rule(self) -> str:
        values = f"{self.low}-{self.high}"
        if self.names:
            values += f" or {self.names[0]}-{self.names[-1]}"
        return f"{self.name} takes {values} and {' '.join(self.wildcards)}"


CRON_FIELDS = (
    _CronField("minutes", 0, 59, ",-*/"),
    _CronField("hours", 0, 23, ",-*/"),
    _CronField("day-of-month", 1, 31, ",-*?/LW"),
    _CronField("month", 1, 12, ",-*/", _MONTHS),
    _CronField("day-of-week", 1, 7, ",-*?L#", _WEEKDAYS),
    _CronField("year", 1970, 2199, ",-*/"),
)
"""Application Auto Scaling's six cron fields (UTC): values, names and wildcards of each."""
_CRON_EXAMPLE = "e.g. '0 8 ? * MON-FRI *'"


def check_cron(field: str, cron: str) -> None:
    """Application Auto Scaling's cron fields (the text inside ``cron(...)``, UTC): six fields,
    each value in its range (:data:`CRON_FIELDS`), its wildcards only, and exactly one of
    day-of-month and day-of-week ``?``."""
    parts = cron.split()
    if cron.strip().startswith(("cron(", "rate(", "at(")):
        raise ValidationError(
            field,
            f"{cron!r}: give the six cron fields without cron(...) (rate and at are not taken), "
            f"{_CRON_EXAMPLE}",
        )
    if len(parts) != len(CRON_FIELDS):
        raise ValidationError(
            field,
            f"{cron!r} is not six cron fields (minutes hours day-of-month month day-of-week year), "
            f"{_CRON_EXAMPLE}",
        )
    for spec, part in zip(CRON_FIELDS, parts, strict=True):
        problem = _cron_field_problem(spec, part.upper())
        if problem:
            raise ValidationError(
                field, f"{cron!r}: {spec.name} {part!r}: {problem}; {spec.rule} (AWS's cron)"
            )
    if (parts[2] == "?") == (parts[4] == "?"):
        raise ValidationError(field, f"{cron!r}: exactly one of day-of-month, day-of-week is '?'")


def _cron_field_problem(spec: _CronField, text: str) -> str | None:
    """What is wrong with one cron field (upper case), or ``None``."""
    if text == "?":
        return None if "?" in spec.wildcards else "? is not taken here"
    items = text.split(",")
    if "#" in text and len(items) > 1:
        return "# cannot be combined with other values (one # expression per field)"
    for item in items:
        problem = _cron_item_problem(spec, item)
        if problem:
            return problem
    return None


def _cron_item_problem(spec: _CronField, item: str) -> str | None:
    if spec.name == "day-of-month" and item in ("L", "LW"):
        return None
    if spec.name == "day-of-week" and item == "L":
        return None
    if "W" in spec.wildcards and item.endswith("W"):
        return _cron_value_problem(spec, item[:-1], names=False)
    if "L" in spec.wildcards and spec.name == "day-of-week" and item.endswith("L"):
        return _cron_value_problem(spec, item[:-1])
    if "#" in spec.wildcards and "#" in item:
        day, _, nth = item.partition("#")
        if nth not in ("1", "2", "3", "4", "5"):
            return "# needs 1-5 after it (the nth weekday of the month)"
        return _cron_value_problem(spec, day)
    base, slash, step = item.partition("/")
    if slash:
        if "/" not in spec.wildcards:
            return "/ is not taken here"
        if not step.isdigit() or not 1 <= int(step) <= spec.high:
            return f"/ needs an increment of 1-{spec.high}"
    if base == "*":
        return None
    first, dash, last = base.partition("-")
    return _cron_value_problem(spec, first) or (_cron_value_problem(spec, last) if dash else None)


def _cron_value_problem(spec: _CronField, value: str, *, names: bool = True) -> str | None:
    if names and value in spec.names:
        return None
    if not value.isdigit():
        return f"{value!r} is not a value" if value else "a value is missing"
    if not spec.low <= int(value) <= spec.high:
        return f"{int(value)} is outside {spec.low}-{spec.high}"
    return None


def check_deployment(field: str, *, min_healthy_percent: int, max_healthy_percent: int) -> None:
    """Rolling-deployment bounds, in percent of the desired count; ``field`` is the task's path."""
    if not 0 <= min_healthy_percent <= 100:
        raise ValidationError(f"{field}.min_healthy_percent", f"{min_healthy_percent} is outside 0-100")
    if not 100 <= max_healthy_percent <= 2000:
        raise ValidationError(f"{field}.max_healthy_percent", f"{max_healthy_percent} is outside 100-2000")
    if max_healthy_percent <= min_healthy_percent:
        raise ValidationError(
            f"{field}.max_healthy_percent",
            f"{max_healthy_percent} must be above min_healthy_percent {min_healthy_percent} "
            "or a deployment cannot start a new task",
        )


def check_deployment_strategy(field: str, rules: DeploymentRules, *, alarms: bool) -> None:
    """ECS's rules on a deployment strategy and its options; ``field`` is the options' path
    (``tasks[0].deployment`` or the stack's ``deployment``); ``alarms`` whether the stack creates
    the service's alarms."""
    if rules.strategy not in DEPLOYMENT_STRATEGIES:
        raise ValidationError(
            f"{field}.strategy", f"{rules.strategy!r} is not one of {', '.join(DEPLOYMENT_STRATEGIES)}"
        )
    for name, strategy in (
        ("linear_step_percent", "linear"),
        ("linear_step_bake_time_minutes", "linear"),
        ("canary_percent", "canary"),
        ("canary_bake_time_minutes", "canary"),
    ):
        if getattr(rules, name) is not None and rules.strategy != strategy:
            raise ValidationError(
                f"{field}.{rules.field_name(name)}", f"is for strategy {strategy}, not {rules.strategy}"
            )
    for name in ("bake_time_minutes", "linear_step_bake_time_minutes", "canary_bake_time_minutes"):
        minutes = getattr(rules, name)
        whole = minutes is None or float(minutes).is_integer()
        if not whole or not 0 <= (minutes or 0) <= DEPLOYMENT_MINUTES_MAX:
            raise ValidationError(
                f"{field}.{rules.field_name(name)}",
                f"{minutes:g} min is not whole minutes in 0-{DEPLOYMENT_MINUTES_MAX} (24 h)",
            )
    percents = {"linear_step_percent": LINEAR_STEP_PERCENT, "canary_percent": CANARY_PERCENT}
    for name, (low, high) in percents.items():
        percent = getattr(rules, name)
        tenths = None if percent is None else percent * 10
        if tenths is not None and (not low <= percent <= high or abs(tenths - round(tenths)) > 1e-9):
            raise ValidationError(
                f"{field}.{name}", f"{percent:g} is not a multiple of 0.1 in {low:g}-{high:g} percent"
            )
    total = _deployment_minutes(rules)
    if total > DEPLOYMENT_CFN_MINUTES_MAX:
        raise ValidationError(
            field,
            f"bake times add up to {total:g} minutes; CloudFormation rejects a {rules.strategy} deployment "
            f"beyond {DEPLOYMENT_CFN_MINUTES_MAX} (33 h)",
        )
    if rules.rollback_on_alarms and not alarms:
        raise ValidationError(
            f"{field}.rollback_on_alarms", "needs alarms (the service's alarms are what ECS watches)"
        )


def _deployment_minutes(rules: DeploymentRules) -> float:
    """The bake times CloudFormation adds up for a linear or canary deployment (0 for the others)."""
    if rules.strategy == "canary":
        return rules.value("bake_time_minutes") + rules.value("canary_bake_time_minutes")
    if rules.strategy == "linear":
        step = rules.value("linear_step_percent")
        steps = 100 / step - 1 if (100 / step).is_integer() else int(100 // step)
        return rules.value("bake_time_minutes") + rules.value("linear_step_bake_time_minutes") * steps
    return 0


def check_idle_timeout(field: str, seconds: float) -> None:
    """An ALB's idle timeout, in seconds (1-4000)."""
    if not 1 <= seconds <= 4000:
        raise ValidationError(field, f"{seconds:g} s is outside 1-4000 s")


LOAD_BALANCERS = ("alb", "nlb")
"""The dual pattern's load balancer types: Application (HTTP) or Network (TCP/TLS)."""
NLB_PROTOCOLS = ("TCP", "TLS")
"""Listener protocols a task may ask for behind an NLB (the targets get TCP either way)."""


@dataclass(frozen=True)
class NlbRules:
    """A task's values only an NLB stack checks: its listener ``protocol`` (``TCP``/``TLS``,
    ``None``: TLS where the listener has a certificate, else TCP) and whether it sets an ALB
    target-group ``protocol_version``."""

    protocol: str | None = None
    protocol_version: str | None = None


def check_nlb_services(
    services: Sequence[ServiceRules], nlb: Sequence[NlbRules], *, cert_key: str = "cert"
) -> None:
    """What a Network Load Balancer cannot do, checked before :func:`check_services`: listener
    rules (``forward_conditions``, so no two tasks share a port of one NLB), request-count
    scaling (a ``request_per_target`` other than :data:`DEFAULT_REQUESTS_PER_TARGET`, which is then
    unused), an HTTP protocol version; and a protocol that fits the certificates (TLS needs one,
    TCP takes none). ``nlb[i]`` belongs to ``services[i]``; ``cert_key`` names the certificate
    field in messages (``cert`` in the construct, ``cert_arn`` in the spec)."""
    owners: dict[tuple[str, int], str] = {}
    for service, rules in zip(services, nlb, strict=True):
        if service.deployment is not None and service.deployment.shifts_traffic:
            raise ValidationError(
                f"{service.deployment_field}.strategy",
                f"{service.deployment.strategy}: this kit shifts traffic with ALB listener rules; "
                "behind an NLB use rolling",
            )
        if rules.protocol is not None and rules.protocol not in NLB_PROTOCOLS:
            raise ValidationError(
                f"{service.field}.protocol",
                f"{rules.protocol!r} is not an NLB listener protocol here ({', '.join(NLB_PROTOCOLS)})",
            )
        if rules.protocol_version is not None:
            raise ValidationError(
                f"{service.field}.protocol_version",
                "is an ALB target-group setting (HTTP1, HTTP2, GRPC); an NLB forwards TCP",
            )
        requests = service.scaling.request_per_target
        if requests != DEFAULT_REQUESTS_PER_TARGET:
            raise ValidationError(
                f"{service.field}.scaling.request_per_target",
                f"{requests}: request-count scaling needs an ALB (an NLB counts no requests); "
                f"leave it at {DEFAULT_REQUESTS_PER_TARGET} and track target_cpu_utilization "
                "or target_memory_utilization",
            )
        for side, port in service.listener_ports.items():
            field = f"{service.field}.{side}"
            if service.forward_conditions.get(side):
                raise ValidationError(
                    f"{field}.forward_conditions",
                    "an NLB listener has no rules to route by host or path; give the task a port of its own",
                )
            if (side, port) in owners:
                raise ValidationError(
                    f"{field}.port",
                    f"port {port} of the {side} NLB is already used by {owners[side, port]}; "
                    "an NLB listener forwards to one task",
                )
            owners[side, port] = service.field
            has_certificate = side in service.https_sides
            if rules.protocol == "TLS" and not has_certificate:
                raise ValidationError(
                    f"{field}.{cert_key}", "protocol TLS needs a certificate on this listener"
                )
            if rules.protocol == "TCP" and has_certificate:
                raise ValidationError(
                    f"{field}.{cert_key}",
                    "a certificate needs protocol TLS (or no protocol); TCP passes bytes through",
                )


def check_capacity_strategy(field: str, strategy: Sequence[tuple[str, int, int]]) -> None:
    """``strategy`` is ``(provider, base, weight)`` triples; ``field`` the strategy's path."""
    if not strategy:
        raise ValidationError(field, "needs at least one capacity provider")
    with_base = []
    for index, (provider, base, weight) in enumerate(strategy):
        item = f"{field}[{index}]"
        if provider not in CAPACITY_PROVIDERS:
            raise ValidationError(
                f"{item}.provider",
                f"{provider!r} is not a capacity provider ({', '.join(CAPACITY_PROVIDERS)})",
            )
        if base < 0:
            raise ValidationError(f"{item}.base", f"{base} is negative")
        if weight < 0:
            raise ValidationError(f"{item}.weight", f"{weight} is negative")
        _check_at_most(f"{item}.base", base, CAPACITY_BASE_MAX, "ECS's largest base")
        _check_at_most(f"{item}.weight", weight, CAPACITY_WEIGHT_MAX, "ECS's largest weight")
        if base > 0:
            with_base.append(provider)
    if len(with_base) > 1:
        raise ValidationError(field, f"base is set on more than one provider ({', '.join(with_base)})")
    if all(weight == 0 for _, _, weight in strategy):
        raise ValidationError(field, "all weights are zero; at least one provider needs a weight above 0")


def check_dns_name(field: str, name: str, *, single_label: bool = False) -> None:
    """A DNS name (``svc.local``) or, with ``single_label``, one label (``internal``)."""
    labels = name.lower().rstrip(".").split(".")
    if single_label and len(labels) != 1:
        raise ValidationError(field, f"{name!r} must be one DNS label (letters, digits, hyphens)")
    if not name or len(name) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        raise ValidationError(field, f"{name!r} is not a DNS name")


# AWS's own formats (CloudFormation, EC2, ACM, ELB). Each check names the field it was given.

STACK_NAME_MAX = 128
"""CloudFormation's limit on a stack name, in characters."""
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ACCOUNT = re.compile(r"\d{12}")
_CLUSTER_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_RESOURCE_ID = {
    "vpc": re.compile(r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
    "subnet": re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
}
_ACM_CERTIFICATE_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:acm:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:certificate/[A-Za-z0-9-]+"
)
_HTTP_CODES = re.compile(r"\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*")
HEALTH_CHECK_PATH_MAX = 1024
"""ELB's limit on a health-check path, in characters."""
HEALTH_CHECK_INTERVAL_SECONDS = (5, 300)
HEALTH_CHECK_TIMEOUT_SECONDS = (2, 120)
HEALTH_CHECK_THRESHOLD = (2, 10)
HEALTHY_HTTP_CODES = {"HTTP": (200, 499), "GRPC": (0, 99)}
"""Matcher code ranges ELB accepts: HTTP (and HTTP/2) status codes, or gRPC status codes."""


def check_stack_name(field: str, name: str) -> None:
    """CloudFormation's rule: a letter, then ASCII letters, digits and hyphens, at most 128 characters."""
    if len(name) > STACK_NAME_MAX:
        raise ValidationError(
            field, f"is {len(name)} characters long; a stack name has at most {STACK_NAME_MAX}"
        )
    if not _STACK_NAME.fullmatch(name):
        raise ValidationError(
            field, f"{name!r} is not a stack name (an ASCII letter, then ASCII letters, digits, hyphens)"
        )


def check_cluster_name(field: str, name: str) -> None:
    """ECS's rule for a cluster name: 1-255 ASCII letters, digits, hyphens and underscores."""
    if not _CLUSTER_NAME.fullmatch(name):
        raise ValidationError(
            field, f"{name!r} is not an ECS cluster name (1-255 letters, digits, hyphens, underscores)"
        )


def check_account(field: str, account: str) -> None:
    """An AWS account id: exactly 12 digits."""
    if not _ACCOUNT.fullmatch(account):
        raise ValidationError(field, f"{account!r} is not an AWS account id (12 digits)")


def check_resource_id(field: str, kind: str, resource_id: str) -> None:
    """An EC2 id of ``kind`` (``vpc``, ``subnet``): the prefix, then 8 or 17 lowercase hex digits."""
    if not _RESOURCE_ID[kind].fullmatch(resource_id):
        raise ValidationError(field, f"{resource_id!r} is not a {kind} id ({kind}- and 8 or 17 hex digits)")


def check_certificate_arn(field: str, arn: str) -> None:
    """An ACM certificate ARN: ``arn:aws:acm:REGION:ACCOUNT:certificate/ID``."""
    if not _ACM_CERTIFICATE_ARN.fullmatch(arn):
        raise ValidationError(
            field, f"{arn!r} is not an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)"
        )


@functools.cache
def region_partitions() -> Mapping[str, str]:
    """Every region of every partition in the endpoint data botocore ships, to its partition
    (``aws``, ``aws-cn``, ...); read on first use, as JSON (botocore's loader would import its
    HTTP stack too)."""
    from importlib.resources import files

    endpoints = json.loads(files("botocore").joinpath("data", "endpoints.json").read_text())
    return {
        region: partition["partition"]
        for partition in endpoints["partitions"]
        for region in partition["regions"]
    }


def known_regions() -> frozenset[str]:
    """Every region botocore knows."""
    return frozenset(region_partitions())


def check_certificate_region(field: str, arn: str, region: str) -> None:
    """An ACM certificate ARN in the stack's ``region`` and its partition: ELB takes only
    certificates of its own region."""
    partition, _, arn_region = arn.split(":")[1:4]
    expected = region_partitions().get(region, "aws")
    if (partition, arn_region) != (expected, region):
        raise ValidationError(
            field,
            f"the certificate is in {partition}:{arn_region}, the stack in {expected}:{region}; "
            "ELB uses only ACM certificates of its own region (request or import one there)",
        )


def check_region(field: str, region: str) -> None:
    """A region botocore knows (``us-east-1``, ``eu-west-1``, ...)."""
    if region not in known_regions():
        raise ValidationError(field, f"{region!r} is not an AWS region botocore knows (e.g. us-east-1)")


def check_image(field: str, image: str) -> None:
    """A container image reference: not empty, no whitespace."""
    if not image.strip():
        raise ValidationError(field, "is empty; give an image such as public.ecr.aws/nginx/nginx:stable")
    if any(character.isspace() for character in image):
        raise ValidationError(field, f"{image!r} is not an image reference (it contains whitespace)")


def check_health_check(field: str, check: Any, *, grpc: bool = False) -> None:
    """ELB's rules on a target-group health check; ``field`` is its path (``tasks[0].health_check``).

    ``check`` has ``path``, ``healthy_http_codes``, ``interval_seconds``, ``timeout_seconds``,
    ``healthy_threshold`` and ``unhealthy_threshold``; ``grpc`` selects gRPC status codes (0-99)
    for ``healthy_http_codes`` instead of HTTP's (200-499).
    """
    path, healthy_http_codes = check.path, check.healthy_http_codes
    interval_seconds, timeout_seconds = check.interval_seconds, check.timeout_seconds
    if not path.startswith("/"):
        raise ValidationError(f"{field}.path", f"{path!r} must start with /")
    if len(path) > HEALTH_CHECK_PATH_MAX or not path.isascii() or " " in path:
        raise ValidationError(
            f"{field}.path",
            f"is not a URL path (ASCII, no spaces, at most {HEALTH_CHECK_PATH_MAX} characters)",
        )
    _check_range(f"{field}.interval_seconds", interval_seconds, HEALTH_CHECK_INTERVAL_SECONDS, "s")
    _check_range(f"{field}.timeout_seconds", timeout_seconds, HEALTH_CHECK_TIMEOUT_SECONDS, "s")
    if timeout_seconds >= interval_seconds:
        raise ValidationError(
            f"{field}.timeout_seconds",
            f"{timeout_seconds} s must be shorter than interval_seconds {interval_seconds} s",
        )
    _check_range(f"{field}.healthy_threshold", check.healthy_threshold, HEALTH_CHECK_THRESHOLD)
    _check_range(f"{field}.unhealthy_threshold", check.unhealthy_threshold, HEALTH_CHECK_THRESHOLD)
    low, high = HEALTHY_HTTP_CODES["GRPC" if grpc else "HTTP"]
    codes_field = f"{field}.healthy_http_codes"
    syntax = f"codes {low}-{high} as 200, 200,202 or 200-299"
    if not _HTTP_CODES.fullmatch(healthy_http_codes):
        raise ValidationError(codes_field, f"{healthy_http_codes!r} is not a list of {syntax}")
    for part in healthy_http_codes.split(","):
        first, _, last = part.partition("-")
        if not low <= int(first) <= int(last or first) <= high:
            raise ValidationError(codes_field, f"{part!r} is outside {low}-{high} (or a range backwards)")


TASK_DEFINITION_BYTES_MAX = 64 * 1024
"""ECS's limit on a task definition's size (64 KiB, its JSON as RegisterTaskDefinition takes it)."""
ENVIRONMENT_BYTES_MAX = TASK_DEFINITION_BYTES_MAX - 4 * 1024
"""What this kit leaves a container's environment: the task definition's limit less 4 KiB, above
what the rest of its task definitions take (image, roles, log and port settings: about 2 KiB)."""


def check_environment(field: str, environment: Mapping[str, str]) -> None:
    """A container's environment that fits ECS's task definition (``field`` is its path): measured
    as ECS receives it, ``[{"name": ..., "value": ...}, ...]`` in JSON."""
    size = len(json.dumps([{"name": k, "value": v} for k, v in environment.items()]).encode())
    if size > ENVIRONMENT_BYTES_MAX:
        raise ValidationError(
            field,
            f"takes {size / 1024:.1f} KiB; ECS takes a task definition of at most "
            f"{TASK_DEFINITION_BYTES_MAX // 1024} KiB, so the environment may take "
            f"{ENVIRONMENT_BYTES_MAX // 1024} KiB here; "
            "keep large values in S3, SSM or Secrets Manager",
        )


STACK_RESOURCES_MAX = 500
"""CloudFormation's limit on the resources of one stack."""
RESOURCES_PER_SERVICE = 14
RESOURCES_PER_SECOND_LISTENER = 5
"""The fewest resources a service adds to a stack (its service, task definition, roles, log
group, target group, listener or rule, security group rules, scalable target and policies), and
what listening on both ALBs adds: counted in templates synthesized from the shipped params files
and from 1-4 plain tasks (the same numbers in each; options such as alarms add more)."""


def check_stack_size(field: str, listener_sides: Sequence[int]) -> None:
    """A lower bound of the stack's resources under CloudFormation's :data:`STACK_RESOURCES_MAX`,
    before any synthesis; ``listener_sides`` has each service's number of ALB sides (1 or 2).
    A stack this passes may still be over (the bound counts only what every service adds)."""
    estimate = sum(
        RESOURCES_PER_SERVICE + RESOURCES_PER_SECOND_LISTENER * (sides - 1) for sides in listener_sides
    )
    if estimate > STACK_RESOURCES_MAX:
        raise ValidationError(
            field,
            f"{len(listener_sides)} services make at least {estimate} resources; CloudFormation takes at "
            f"most {STACK_RESOURCES_MAX} per stack (split the services over several stacks)",
        )


LOCAL_COMMAND_MAX_ARGUMENTS = 100
"""The most arguments a task's ``local.command`` takes (program included)."""
LOCAL_ARGUMENT_MAX_CHARS = 4096
"""The longest argument (and ``local.cwd``) a task's local command takes, in characters."""


def check_local_command(field: str, command: Any) -> None:
    """A task's local command (``field`` is its path, ``tasks[1].local.command``): a list of 1 to
    :data:`LOCAL_COMMAND_MAX_ARGUMENTS` non-empty strings of at most
    :data:`LOCAL_ARGUMENT_MAX_CHARS` characters, without NUL."""
    if isinstance(command, str) or not isinstance(command, Sequence):
        raise ValidationError(
            field, f"give the command as a list of arguments ([python, server.py]), got {command!r}"
        )
    if not command:
        raise ValidationError(field, "is empty; give the program and its arguments")
    if len(command) > LOCAL_COMMAND_MAX_ARGUMENTS:
        raise ValidationError(field, f"has {len(command)} arguments; at most {LOCAL_COMMAND_MAX_ARGUMENTS}")
    for index, argument in enumerate(command):
        _check_argument(f"{field}[{index}]", argument)


def check_local_cwd(field: str, cwd: Any, *, directory: bool = False) -> None:
    """A task's local working directory (``tasks[1].local.cwd``): a string like a command's
    argument; with ``directory`` also an existing directory (the spec looks at the disk; the
    constructs do no I/O)."""
    _check_argument(field, cwd)
    if directory and not Path(cwd).is_dir():
        raise ValidationError(field, f"{cwd!r} is not a directory")


def _check_argument(field: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ValidationError(field, f"{value!r} is not a string (quote it in YAML)")
    if not value:
        raise ValidationError(field, "is empty")
    if len(value) > LOCAL_ARGUMENT_MAX_CHARS:
        raise ValidationError(field, f"is {len(value)} characters long; at most {LOCAL_ARGUMENT_MAX_CHARS}")
    if "\0" in value:
        raise ValidationError(field, "contains a NUL character")


def _check_range(field: str, value: int, bounds: tuple[int, int], unit: str = "") -> None:
    low, high = bounds
    if not low <= value <= high:
        suffix = f" {unit}" if unit else ""
        raise ValidationError(field, f"{value}{suffix} is outside {low}-{high}{suffix}")


def _check_at_most(field: str, value: int, high: int, rule: str) -> None:
    """``value`` at most ``high``; ``rule`` says whose limit it is, in words."""
    if value > high:
        raise ValidationError(field, f"{value} is above {high:,} ({rule})")


_CREDENTIAL_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL", re.I
)
_CREDENTIAL_VALUE = re.compile(
    r"(?:AKIA|ASIA)[A-Z0-9]{16}"  # an AWS access key id
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"  # a URL with user:password@
)


def credential_warnings(field: str, environment: Mapping[str, str]) -> list[str]:
    """One warning per environment variable that looks like a credential (by name or value).

    ``field`` is the environment's path (``tasks[0].environment``). The values never appear in
    the warnings.
    """
    return [
        f"{field}.{name}: looks like a credential; environment values are stored in plain text in "
        "the template and tree.json. Keep it in Secrets Manager (or SSM SecureString) and pass "
        "it to the container as an ECS secret"
        for name, value in environment.items()
        if looks_like_credential(name, value)
    ]


def looks_like_credential(name: str, value: str) -> bool:
    """Whether an environment variable looks like a credential: its name (``DB_PASSWORD``) or its
    value (an AWS access key id, a private key, a URL with a password); an empty value never does."""
    return bool(value) and bool(_CREDENTIAL_NAME.search(name) or _CREDENTIAL_VALUE.search(value))


# The database of WordPress and Laravel (the Database construct) and Laravel's code directory.

SERVERLESS_CAPACITY_ACU = (0.0, 256.0)
"""Aurora Serverless v2 capacity range in ACUs, in steps of 0.5 (0 pauses an idle writer)."""
BACKUP_RETENTION_DAYS = (1, 35)
"""RDS's range for automated backups, in days."""
RETAINED_DATABASE_IN_NEW_VPC = (
    "retain keeps the database running in the VPC the stack creates, so deleting the stack would "
    "fail on its subnets; keep a final snapshot (the default) or use an existing VPC"
)
_DATABASE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_DB_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")


DATABASE_DEFAULTS: Mapping[str, Any] = {
    "aurora_serverless": False,
    "single_db_instance": False,
    "database_instance_type": None,
    "backup_retention_days": 7,
    "serverless_min_capacity": 0.5,
    "serverless_max_capacity": 4,
    "database_name": None,
}
"""The database values :func:`check_database` reads, with the defaults it assumes for missing ones."""


def check_database(prefix: str, values: Mapping[str, Any], names: Mapping[str, str] | None = None) -> None:
    """One database as the spec, ``Database``, ``WordPress`` and ``Laravel`` all check it: one
    variant (Aurora provisioned, Aurora Serverless v2, or one instance), its capacity range,
    instance class, backup retention and database name.

    ``values`` has the keys of :data:`DATABASE_DEFAULTS` (others are ignored):
    ``database_instance_type`` is the class as given (``t4g.medium``; ``None``: the default),
    ``backup_retention_days`` may be fractional (a Duration of hours), ``database_name`` ``None``
    is not checked. ``prefix`` is the options' path (``laravel``); ``names`` maps a key to the
    caller's field name where they differ (``{"backup_retention_days": "backup_retention"}``).
    """
    rules = {**DATABASE_DEFAULTS, **{key: values[key] for key in DATABASE_DEFAULTS if key in values}}

    def field(key: str) -> str:
        name = (names or {}).get(key, key)
        return f"{prefix}.{name}" if prefix else name

    if rules["aurora_serverless"] and rules["single_db_instance"]:
        raise ValidationError(
            field("single_db_instance"), "cannot be combined with aurora_serverless; choose one"
        )
    if rules["database_instance_type"] is not None:
        if rules["aurora_serverless"]:
            raise ValidationError(
                field("database_instance_type"),
                "a Serverless v2 writer is db.serverless; set capacities instead",
            )
        check_db_instance_type(field("database_instance_type"), rules["database_instance_type"])
    low, high = SERVERLESS_CAPACITY_ACU
    fewest, most = rules["serverless_min_capacity"], rules["serverless_max_capacity"]
    for key, value in (("serverless_min_capacity", fewest), ("serverless_max_capacity", most)):
        if not low <= value <= high or value * 2 != int(value * 2):
            raise ValidationError(
                field(key), f"{value:g} is not an ACU count ({low:g}-{high:g} in steps of 0.5)"
            )
    if most < 1:
        raise ValidationError(field("serverless_max_capacity"), f"{most:g} is below 1 ACU")
    if fewest > most:
        raise ValidationError(
            field("serverless_min_capacity"), f"{fewest:g} is above serverless_max_capacity ({most:g})"
        )
    days, (shortest, longest) = rules["backup_retention_days"], BACKUP_RETENTION_DAYS
    if days != int(days) or not shortest <= days <= longest:
        raise ValidationError(
            field("backup_retention_days"),
            f"{days:g} days is not a whole number of days in {shortest}-{longest}",
        )
    if rules["database_name"] is not None:
        check_database_name(field("database_name"), rules["database_name"])


def check_db_instance_type(field: str, instance_type: str) -> None:
    """An RDS instance class without its ``db.`` prefix (``t4g.medium``, ``r6g.large``)."""
    if instance_type.startswith("db."):
        raise ValidationError(
            field, f"{instance_type!r}: give the class without 'db.' ({instance_type[3:]!r})"
        )
    if not _DB_INSTANCE_TYPE.fullmatch(instance_type):
        raise ValidationError(field, f"{instance_type!r} is not an instance class such as t4g.medium")


def check_database_name(field: str, name: str) -> None:
    """MySQL's database name as RDS creates it: a letter, then letters, digits or _, at most 64."""
    if not _DATABASE_NAME.fullmatch(name):
        raise ValidationError(
            field, f"{name!r} is not a database name (a letter, then letters, digits or _, at most 64)"
        )


def check_code_directory(field: str, code: str | os.PathLike[str]) -> None:
    """A container image's build context: a directory holding a ``Dockerfile``."""
    path = Path(code)
    if not path.is_dir():
        raise ValidationError(field, f"{str(code)!r} is not a directory")
    if not (path / "Dockerfile").is_file():
        raise ValidationError(field, f"{str(code)!r} has no Dockerfile")
