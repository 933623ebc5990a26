"""``dualalb-kit destroy`` on a terminal without ``--yes``: it asks, and only ``y`` deletes.

The CLI runs as a process whose stdin, stdout and stderr are a real pseudo-terminal; the test
reads the prompt from the terminal before it types the answer, and checks the stack in the
session's sandbox (and the DeleteStack calls its CloudFormation received) afterwards.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import stop_tree
from moto.cloudformation.models import CloudFormationBackend

from dualalb_kit.target import as_target

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parent.parent
STACK = "destroy-prompt"  # this module's own stack: no other test deploys or deletes it


def dualalb_kit_env() -> dict[str, str]:
    return {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}


def on_a_terminal(
    args: list[str], cwd: Path, answer: str, prompt: str, timeout: float = 300
) -> tuple[int, str]:
    """Run ``dualalb-kit ARGS`` on a pseudo-terminal, type ``answer`` once ``prompt`` shows on it,
    and return the exit code and everything the terminal showed (CRLF as LF). Fails if the
    process ends or ``timeout`` passes before the prompt shows."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "dualalb_kit.cli", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=dualalb_kit_env(),
    )
    os.close(slave)
    shown = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while True:
            if not answered and prompt.encode() in shown.replace(b"\r\n", b"\n"):
                os.write(master, answer.encode() + b"\n")
                answered = True
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no end within {timeout} s; the terminal showed:\n{shown.decode()}"
            ready, _, _ = select.select([master], [], [], min(remaining, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every process holding the terminal has closed it
                break
            if not chunk:
                break
            shown += chunk
        code = process.wait(timeout=60)
    finally:
        os.close(master)
        stop_tree(process)
    text = shown.decode(errors="replace").replace("\r\n", "\n")
    assert answered, f"the prompt {prompt!r} never showed; the terminal showed:\n{text}"
    return code, text


def stack_status(url: str) -> str | None:
    cloudformation = as_target(endpoint_url=url).client("cloudformation")
    statuses = [
        s["StackStatus"] for s in cloudformation.describe_stacks()["Stacks"] if s["StackName"] == STACK
    ]
    live = [status for status in statuses if status != "DELETE_COMPLETE"]
    return live[0] if live else (statuses[0] if statuses else None)


@pytest.fixture(scope="module")
def deployed(sandbox, tmp_path_factory):
    """``params/internal-only.yaml`` as stack ``destroy-prompt``, deployed into the sandbox;
    yields (params file, working folder); destroyed with ``--yes`` at the end if still there."""
    url = sandbox.endpoint_url
    folder = tmp_path_factory.mktemp("destroy-prompt")
    data = yaml.safe_load((ROOT / "params" / "internal-only.yaml").read_text())
    data["stack_name"] = STACK
    params = folder / f"{STACK}.yaml"
    params.write_text(yaml.safe_dump(data))
    common = [str(params), "--endpoint-url", url, "--no-progress"]
    command = [sys.executable, "-m", "dualalb_kit.cli"]
    run = {"cwd": folder, "env": dualalb_kit_env(), "capture_output": True, "text": True, "check": False}
    deploy = subprocess.run([*command, "deploy", *common], **run)
    assert deploy.returncode == 0, deploy.stderr
    assert stack_status(url) == "CREATE_COMPLETE"
    yield params, folder
    if stack_status(url) not in (None, "DELETE_COMPLETE"):
        cleanup = subprocess.run([*command, "destroy", *common, "--yes"], **run)
        assert cleanup.returncode == 0, cleanup.stderr


@pytest.fixture
def delete_stack_calls(monkeypatch):
    """The stack (name or id) of each DeleteStack call the sandbox's CloudFormation receives (moto's
    server runs in this process) during the test."""
    calls: list[str] = []
    original = CloudFormationBackend.delete_stack

    def counted(self, name_or_stack_id: str) -> None:
        calls.append(name_or_stack_id)
        return original(self, name_or_stack_id)

    monkeypatch.setattr(CloudFormationBackend, "delete_stack", counted)
    return calls


def prompt_for(url: str) -> str:
    return f"Delete stack {STACK} on the sandbox at {url} (us-east-1)? [y/N] "


def test_answering_n_keeps_the_stack_and_exits_1(sandbox, deployed, delete_stack_calls):
    params, folder = deployed
    url = sandbox.endpoint_url
    prompt = prompt_for(url)
    code, shown = on_a_terminal(
        ["destroy", str(params), "--endpoint-url", url, "--no-progress"], folder, "n", prompt
    )
    assert code == 1, shown
    assert shown.splitlines() == [
        f"{STACK} on the sandbox at {url} (us-east-1)",
        prompt + "n",  # the prompt, then the answer the terminal echoed
        f"kept {STACK}",
    ]
    assert delete_stack_calls == []
    assert stack_status(url) == "CREATE_COMPLETE"
    events = (
        as_target(endpoint_url=url)
        .client("cloudformation")
        .describe_stack_events(StackName=STACK)["StackEvents"]
    )
    assert not [e for e in events if e["ResourceStatus"].startswith("DELETE")]


def test_answering_y_destroys_the_stack_once_and_exits_0(sandbox, deployed, delete_stack_calls):
    params, folder = deployed
    url = sandbox.endpoint_url
    prompt = prompt_for(url)
    (stack,) = as_target(endpoint_url=url).client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    stack_id = stack["StackId"]
    code, shown = on_a_terminal(
        ["destroy", str(params), "--endpoint-url", url, "--no-progress"], folder, "y", prompt
    )
    assert code == 0, shown
    lines = shown.splitlines()
    assert lines[:2] == [f"{STACK} on the sandbox at {url} (us-east-1)", prompt + "y"]
    assert lines[-1] == f"destroyed {STACK}"
    assert delete_stack_calls == [stack_id]  # the CDK CLI deletes by the stack's id, once
    assert stack_status(url) in (None, "DELETE_COMPLETE")
    cloudformation = as_target(endpoint_url=url).client("cloudformation")
    (gone,) = cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
    assert gone["StackStatus"] == "DELETE_COMPLETE"
    events = cloudformation.describe_stack_events(StackName=stack_id)["StackEvents"]
    deletions = [
        e["ResourceStatus"]
        for e in events
        if e["LogicalResourceId"] == STACK and "DELETE" in e["ResourceStatus"]
    ]
    assert sorted(deletions) == ["DELETE_COMPLETE", "DELETE_IN_PROGRESS"]
