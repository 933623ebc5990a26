"""Listeners: ports, forward conditions (host header, path pattern) and tasks sharing a port of an ALB."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ValidationError

SIDES = ("external", "internal")
"""The dual pattern's two load balancers, as the spec's keys, the construct's props and the
``dualalb:alb`` tag name them: the internet-facing one and the internal one."""

Condition = tuple[str, tuple[str, ...]]
"""A listener-rule condition as plain values: its field and its values (``*`` and ``?`` wildcards)."""

FORWARD_CONDITION_FIELDS = ("host-header", "path-pattern")

RULE_CONDITION_VALUES_MAX = 5
"""ALB's limit on the condition values of one listener rule."""

CONDITION_VALUE_MAX = 128
"""ELB's limit on one host-header or path-pattern value, in characters."""

RULES_PER_LISTENER_MAX = 100
"""ALB's quota of rules per listener (the default rule not counted)."""

# ELB's syntax (CreateRule's HostHeaderConditionConfig and PathPatternConditionConfig, and the ALB
# guide's "Listener rules"): host names of A-Z a-z 0-9 - . with * and ? wildcards, at least one
# ".", only letters (or wildcards) after the last; paths of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & *
# ? (& written as &amp; by ELB), case-sensitive.
_HOST_HEADER = re.compile(r"[A-Za-z0-9.*?-]+")

_HOST_TOP_LEVEL = re.compile(r"[A-Za-z*?]+")

_PATH_PATTERN = re.compile(r"[A-Za-z0-9_.$/~\"'@:+&*?-]+")


@dataclass(frozen=True)
class ListenerUse:
    """One service on one listener (side and port): the service's path, its rule's conditions
    there (none: the listener's default action) and whether it brings certificates there."""

    service: str
    side: str
    port: int
    conditions: Sequence[Condition] = ()
    https: bool = False

    @property
    def field(self) -> str:
        return f"{self.service}.{self.side}"


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


def check_shared_listeners(uses: Sequence[ListenerUse]) -> None:
    """The services on one port of one ALB: at most one without conditions (the listener's
    default), no two whose conditions can match the same request, all HTTP or all HTTPS."""
    first = uses[0]
    where = f"port {first.port} of the {first.side} ALB"
    defaults = [use for use in uses if not use.conditions]
    if len(defaults) > 1:
        raise ValidationError(
            f"{defaults[1].field}.port",
            f"{where} is already used by {defaults[0].service}; "
            "tasks sharing a port need forward_conditions (all but one)",
        )
    for use in uses[1:]:
        if use.https != first.https:
            raise ValidationError(
                use.field, f"{where} is shared with {first.service}; give both certificates or neither"
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
                    f"{_describe(use.conditions)} overlaps {other.service}'s "
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


def check_idle_timeout(field: str, seconds: float) -> None:
    """An ALB's idle timeout, in seconds (1-4000)."""
    if not 1 <= seconds <= 4000:
        raise ValidationError(field, f"{seconds:g} s is outside 1-4000 s")
