"""ELB's rules on a target-group health check."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ValidationError
from .limits import check_range

_HTTP_CODES = re.compile(r"\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*")

HEALTH_CHECK_PATH_MAX = 1024
"""ELB's limit on a health-check path, in characters."""

HEALTH_CHECK_INTERVAL_SECONDS = (5, 300)

HEALTH_CHECK_TIMEOUT_SECONDS = (2, 120)

HEALTH_CHECK_THRESHOLD = (2, 10)

HEALTHY_HTTP_CODES = {"HTTP": (200, 499), "GRPC": (0, 99)}
"""Matcher code ranges ELB accepts: HTTP (and HTTP/2) status codes, or gRPC status codes."""


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
    check_range(f"{field}.interval_seconds", interval_seconds, HEALTH_CHECK_INTERVAL_SECONDS, "s")
    check_range(f"{field}.timeout_seconds", timeout_seconds, HEALTH_CHECK_TIMEOUT_SECONDS, "s")
    if timeout_seconds >= interval_seconds:
        raise ValidationError(
            f"{field}.timeout_seconds",
            f"{timeout_seconds} s must be shorter than interval_seconds {interval_seconds} s",
        )
    check_range(f"{field}.healthy_threshold", check.healthy_threshold, HEALTH_CHECK_THRESHOLD)
    check_range(f"{field}.unhealthy_threshold", check.unhealthy_threshold, HEALTH_CHECK_THRESHOLD)
    low, high = HEALTHY_HTTP_CODES["GRPC" if grpc else "HTTP"]
    codes_field = f"{field}.healthy_http_codes"
    syntax = f"codes {low}-{high} as 200, 200,202 or 200-299"
    if not _HTTP_CODES.fullmatch(healthy_http_codes):
        raise ValidationError(codes_field, f"{healthy_http_codes!r} is not a list of {syntax}")
    for part in healthy_http_codes.split(","):
        first, _, last = part.partition("-")
        if not low <= int(first) <= int(last or first) <= high:
            raise ValidationError(codes_field, f"{part!r} is outside {low}-{high} (or a range backwards)")
