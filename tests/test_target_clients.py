"""The kit's one boto3 client factory: the sandbox's dummy credentials, a caller's session, options."""

from __future__ import annotations

import boto3
from botocore.config import Config

from dualalb_kit.sandbox import sandbox_environment
from dualalb_kit.target import as_target


def test_an_endpoint_without_a_session_signs_with_the_sandbox_credentials(sandbox):
    client = as_target(endpoint_url=sandbox.endpoint_url, region="eu-west-1").client("sts")
    credentials = client._request_signer._credentials
    environment = sandbox_environment(sandbox.endpoint_url)
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        environment["AWS_ACCESS_KEY_ID"],
        environment["AWS_SECRET_ACCESS_KEY"],
        environment["AWS_SESSION_TOKEN"],
    )
    assert client.meta.region_name == "eu-west-1" and client.meta.endpoint_url == sandbox.endpoint_url
    assert client.get_caller_identity()["Account"] == "123456789012"


def test_a_session_makes_the_client_and_sees_its_calls(sandbox):
    session = boto3.Session(aws_access_key_id="mine", aws_secret_access_key="mine", region_name="eu-west-2")
    calls = []
    session.events.register("before-call.sts.GetCallerIdentity", lambda **_: calls.append(1))
    client = as_target(endpoint_url=sandbox.endpoint_url, session=session).client(
        "sts", config=Config(retries={"mode": "adaptive"})
    )
    client.get_caller_identity()
    assert client._request_signer._credentials.access_key == "mine"
    assert client.meta.region_name == "eu-west-2" and calls == [1]
    assert client.meta.config.retries["mode"] == "adaptive"


def test_the_region_defaults_to_the_session_then_us_east_1(monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert (
        as_target(session=boto3.Session(region_name="ap-south-1")).client("sts").meta.region_name
        == "ap-south-1"
    )
    assert as_target(session=boto3.Session()).client("sts").meta.region_name == "us-east-1"
