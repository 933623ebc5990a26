"""Application Auto Scaling's cron expressions (six fields, UTC).

As its PutScheduledAction reference and the EventBridge "Cron expressions reference"
(docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html) define them: six fields,
each with its values and wildcards; day-of-month takes L (last day), W (nearest weekday: 15W, LW),
day-of-week L (last: L, 5L) and # (3#2: the second Tuesday, alone in its field); exactly one of
day-of-month and day-of-week is '?'.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationError

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
