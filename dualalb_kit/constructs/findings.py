"""Acknowledged cdk-nag findings: each one carries the reason it is accepted."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept finding ``rule`` (``AwsSolutions-EC23``) on ``scope`` and its children, with ``reason``."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
