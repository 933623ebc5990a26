"""HAProxy's names for what a data plane configuration holds, and back to the ELBv2 ARNs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .model import DataPlaneConfig

FAIL_OPEN_PREFIX = "failopen-"
"""Name prefix of the backup server that stands for a target when none is healthy."""


def _sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-") or "x"


def _unique(keys_and_bases: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Key -> base name; a base shared by several keys gets a short hash of each key appended."""
    pairs = list(keys_and_bases)
    counts: dict[str, int] = {}
    for _, base in pairs:
        counts[base] = counts.get(base, 0) + 1
    return {
        key: base if counts[base] == 1 else f"{base}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
        for key, base in pairs
    }


@dataclass(frozen=True)
class Names:
    """HAProxy's names for what a configuration holds, both ways: a frontend per listener
    (``<load balancer>:<port>``), a backend per target group (its sanitized name, with a short hash
    of its ARN only when two would collide), a server per target (``host:port``). Backend names do
    not change as other target groups come and go, so records from before a reload still map."""

    frontends: dict[str, str]
    """Listener ARN -> frontend name."""
    backends: dict[str, str]
    """Target group ARN -> backend name."""

    def listener_arn(self, frontend: str) -> str | None:
        return next((arn for arn, name in self.frontends.items() if name == frontend), None)

    def target_group_arn(self, backend: str) -> str | None:
        return next((arn for arn, name in self.backends.items() if name == backend), None)


def names(config: DataPlaneConfig) -> Names:
    """The frontend and backend names :func:`~.haproxy_config.render_config` gives ``config``'s listeners and
    target groups."""
    frontends = _unique(
        (listener.arn, f"{_sanitize(listener.load_balancer)}:{listener.port}")
        for listener in config.listeners
    )
    backends = _unique((group.arn, _sanitize(group.name)) for group in config.target_groups)
    return Names(frontends, backends)


def server_name(host: str, port: int) -> str:
    """A target's server name: ``host:port``."""
    return f"{host}:{port}"
