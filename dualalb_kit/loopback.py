"""Whether a host is this machine: the one rule the sandbox-only and load-test guards share."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str | None) -> bool:
    """``localhost`` or a loopback address; any other name counts as remote (no DNS lookup)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
