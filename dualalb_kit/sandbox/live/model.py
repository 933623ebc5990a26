"""The live data plane's view of what is deployed: plain, frozen values read from the sandbox's
ELBv2 and ECS state, from which HAProxy's configuration and the task processes are made.

Every field is what the AWS API reports (ports, thresholds, weights), except ``local_port``,
the loopback port the sandbox serves a listener on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, order=True)
class Target:
    """One registered target: a task's container port on loopback."""

    host: str
    port: int


@dataclass(frozen=True)
class HealthCheck:
    """A target group's health check, as ELBv2 describes it (seconds, counts, HTTP codes)."""

    path: str = "/"
    protocol: str = "HTTP"
    interval_s: int = 30
    timeout_s: int = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher: str = "200"
    """HTTP codes: ``200``, ``200,202`` or ``200-299``."""


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    name: str
    protocol: str
    health_check: HealthCheck
    deregistration_delay_s: int = 300
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class Condition:
    """A listener rule condition: ``host-header`` or ``path-pattern`` and its values (ELB wildcards)."""

    field: Literal["host-header", "path-pattern"]
    values: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    """A listener action. ``forward``: (target group ARN, weight) pairs; ``redirect``: ELBv2's
    RedirectConfig; ``fixed-response``: ELBv2's FixedResponseConfig."""

    type: Literal["forward", "redirect", "fixed-response"]
    forwards: tuple[tuple[str, int], ...] = ()
    redirect: dict[str, str] = field(default_factory=dict)
    fixed_response: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    priority: int
    conditions: tuple[Condition, ...]
    action: Action


@dataclass(frozen=True)
class Listener:
    """A listener of an ALB (HTTP/HTTPS) or NLB (TCP), served on ``local_port`` on loopback."""

    arn: str
    load_balancer: str
    """The load balancer's name."""
    port: int
    protocol: str
    local_port: int
    default_action: Action
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class DataPlaneConfig:
    """Everything HAProxy serves: listeners, target groups, where request logs go (the port on
    127.0.0.1 an ``AccessLog`` listens on: syslog over TCP), and the PEM file (certificate and key)
    HTTPS listeners present."""

    listeners: tuple[Listener, ...]
    target_groups: tuple[TargetGroup, ...]
    log_port: int
    certificate_pem: str | None = None
