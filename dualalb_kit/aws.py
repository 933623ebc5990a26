"""The one place the kit builds boto3 clients: for the local sandbox, a caller's session, or AWS."""

from __future__ import annotations

from typing import Any

import boto3

DEFAULT_REGION = "us-east-1"


def aws_client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    session: boto3.Session | None = None,
    **options: Any,
) -> Any:
    """A boto3 client for ``service``.

    ``session`` (default: boto3's default session) makes the client, so a caller's session sees
    (and can count) every call. ``region`` defaults to the session's, else us-east-1.
    ``endpoint_url`` defaults to the session's (``AWS_ENDPOINT_URL`` when set, else AWS itself);
    with an ``endpoint_url`` and no ``session`` the client signs with the sandbox's dummy
    credentials (:func:`dualalb_kit.sandbox.sandbox_environment`), which open nothing elsewhere.
    ``options`` go to ``Session.client`` unchanged (e.g. ``config=botocore.config.Config(...)``).
    """
    if session is None:
        session = _default_session()
        if endpoint_url is not None:
            options = {**_sandbox_credentials(endpoint_url), **options}
    region = region or session.region_name or DEFAULT_REGION
    return session.client(service, region_name=region, endpoint_url=endpoint_url, **options)


def _default_session() -> boto3.Session:
    """boto3's module-level session (what ``boto3.client`` uses), created on first use."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION


def _sandbox_credentials(endpoint_url: str) -> dict[str, str]:
    from .sandbox.server import sandbox_environment

    environment = sandbox_environment(endpoint_url)
    return {
        "aws_access_key_id": environment["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": environment["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": environment["AWS_SESSION_TOKEN"],
    }
