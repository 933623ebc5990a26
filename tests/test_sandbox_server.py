"""The sandbox server: ``serve()`` as the CLI runs it, loopback only, quiet request log."""

from __future__ import annotations

import signal
import subprocess
import sys

import boto3
import pytest
from conftest import stop_tree

from dualalb_kit.sandbox.server import SANDBOX_URL_ENV, Sandbox, free_port, running_sandbox_url


def sts_account(endpoint_url: str) -> str:
    client = boto3.client(
        "sts",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client.get_caller_identity()["Account"]


@pytest.mark.slow
def test_serve_prints_url_and_environment_answers_and_stops_on_interrupt():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", f"from dualalb_kit.sandbox.server import serve; serve({port})"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith(f"dualalb-kit sandbox listening on http://localhost:{port}")
        for _ in range(3):
            assert sts_account(f"http://localhost:{port}") == "123456789012"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        stdout = first_line + process.stdout.read()
        stderr = process.stderr.read()
    finally:
        stop_tree(process)
    assert process.returncode == 0
    assert f"export AWS_ENDPOINT_URL=http://localhost:{port}" in stdout
    assert f"export {SANDBOX_URL_ENV}=http://localhost:{port}" in stdout
    assert stdout.rstrip().endswith("sandbox stopped")
    assert "POST / HTTP/1.1" not in stdout + stderr  # no line per request


def test_sandbox_listens_on_loopback_only_and_is_found_through_the_environment(monkeypatch):
    with Sandbox() as sandbox:
        assert sandbox._server._server.server_address == ("127.0.0.1", sandbox.port)
        monkeypatch.setenv(SANDBOX_URL_ENV, sandbox.endpoint_url)
        assert running_sandbox_url() == sandbox.endpoint_url
        assert sts_account(sandbox.endpoint_url) == "123456789012"
    assert running_sandbox_url() is None


def test_cloudtrail_lookup_answers_with_no_events(sandbox):
    """The CDK CLI asks CloudTrail after a failed deploy; moto alone answers with a server error."""
    client = boto3.client(
        "cloudtrail",
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert client.lookup_events(MaxResults=5)["Events"] == []
