"""boto3 clients from loose arguments, for callers of the older API; new code asks a ``Target``."""

from __future__ import annotations

from typing import Any

import boto3

from .target import DEFAULT_REGION, as_target

__all__ = ["DEFAULT_REGION", "aws_client"]


def aws_client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    session: boto3.Session | None = None,
    **options: Any,
) -> Any:
    """A boto3 client for ``service``: ``as_target(endpoint_url=, region=, session=).client(service)``.

    ``session`` (default: boto3's default session) makes the client; ``region`` defaults to the
    session's, else us-east-1; with an ``endpoint_url`` and no ``session`` the client signs with
    the sandbox's dummy credentials. ``options`` go to ``Session.client`` unchanged.
    """
    return as_target(endpoint_url=endpoint_url, region=region, session=session).client(service, **options)
