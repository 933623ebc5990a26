"""The one-box text forms of the spec's lists and mappings, both ways: comma lists, forward
conditions, scheduled actions and environment lines. A part the form cannot read goes to
validation as typed, so the spec's error names it."""

from __future__ import annotations

import re
from typing import Any

CONDITION_KEYS = {"host": "host_header", "path": "path_pattern"}
"""The forward conditions' text form: ``host: a.example.com, b.example.com; path: /api/*``."""
_BOUND = re.compile(r"(?:^|\s+)(min|max)=(\S*)")
"""A scheduled action's ``min=N`` / ``max=N`` token; the rest of its line is the cron text as typed."""


def comma_list(text: str) -> list[str]:
    """``a, b,, c`` as ``["a", "b", "c"]``."""
    return [item.strip() for item in text.split(",") if item.strip()]


def optional_value(text: str, kind: type) -> Any:
    """An optional value's box: empty is ``None``; text that is not a ``kind`` goes to validation as is."""
    if not text.strip():
        return None
    try:
        return kind(text.strip())
    except ValueError:
        return text


def scheduled(text: str) -> list[dict[str, Any]] | None:
    """Scheduled actions, one a line: the six cron fields, then ``min=N`` and/or ``max=N``
    (a bound that is not a whole number goes to validation as is, which names it)."""
    actions = []
    for line in filter(str.strip, text.splitlines()):
        bounds = {f"{key}_capacity": optional_value(value, int) for key, value in _BOUND.findall(line)}
        actions.append({"cron": _BOUND.sub("", line).strip(), **bounds})
    return actions or None


def scheduled_text(actions: list[dict[str, Any]] | None) -> str:
    """:func:`scheduled`'s text of ``actions``."""
    return "\n".join(
        " ".join(
            [
                action["cron"],
                *(
                    f"{key}={action[f'{key}_capacity']}"
                    for key in ("min", "max")
                    if action.get(f"{key}_capacity") is not None
                ),
            ]
        )
        for action in actions or ()
    )


def conditions(text: str) -> list[dict[str, list[str]]] | None:
    """Forward conditions, one per ``;`` part (a part without ``host:`` or ``path:`` is a condition
    without a field, which validation names)."""
    found = []
    for part in filter(str.strip, text.split(";")):
        kind, _, values = part.partition(":")
        key = CONDITION_KEYS.get(kind.strip().lower())
        found.append({key: comma_list(values)} if key else {})
    return found or None


def conditions_text(listener: dict[str, Any] | None) -> str:
    """:func:`conditions`' text of a listener's ``forward_conditions``."""
    short = {key: name for name, key in CONDITION_KEYS.items()}
    return "; ".join(
        f"{short[key]}: {', '.join(values)}"
        for condition in (listener or {}).get("forward_conditions") or ()
        for key, values in condition.items()
    )


def environment(text: str) -> dict[str, str]:
    """``KEY=value`` lines as a mapping (blank lines skipped; a line without ``=`` is a key with no value)."""
    pairs = (line.partition("=") for line in text.splitlines() if line.strip())
    return {key.strip(): value.strip() for key, _, value in pairs}


def environment_text(variables: dict[str, str]) -> str:
    """:func:`environment`'s text of ``variables``."""
    return "\n".join(f"{key}={value}" for key, value in variables.items())


def certificates(text: str) -> str | list[str] | None:
    """A listener's ``cert_arn`` from comma-separated ARNs: one is a string, none is ``None``."""
    arns = comma_list(text)
    return arns[0] if len(arns) == 1 else arns or None


def certificates_text(listener: dict[str, Any] | None) -> str:
    """:func:`certificates`' text of a listener's ``cert_arn``."""
    cert = (listener or {}).get("cert_arn")
    return ", ".join(cert) if isinstance(cert, list) else cert or ""
