"""Deploy, diff and destroy a synthesized stack through the official CDK CLI.

The CLI (pinned in ``package.json``, run on the kit's Node) is the deploy engine: ``deploy``
and ``destroy`` run ``cdk deploy`` / ``cdk destroy`` against the pre-synthesized assembly
(``--app <assembly dir>``). ``target="sandbox"`` points the CLI at the local sandbox (its URL
from ``endpoint_url``, else ``DUALALB_SANDBOX_URL``) with the sandbox's dummy credentials and
bootstraps it on first use; ``target="aws"`` uses the environment's credentials and real AWS.

``diff`` compares templates rather than reading the CLI's text: the stack's deployed template
(CloudFormation ``GetTemplate``) against the assembly's, resource by resource, down to the
property paths that differ. That answers "what would change" as data; it does not predict
replacements (``cdk diff`` does, from a change set, and prints them as text).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .aws import aws_client
from .errors import ValidationError
from .progress import ProgressBar, parse_event
from .runtime import cdk_cli, node_environment
from .sandbox.assets import register_image_assets
from .sandbox.server import SANDBOX_ACCOUNT, SANDBOX_URL_ENV, sandbox_answers, sandbox_environment

if TYPE_CHECKING:
    from .spec import DeploymentSpec
    from .synth import Synthesis

TARGETS = ("sandbox", "aws")
TOOLKIT_STACK = "CDKToolkit"
DIFF_COLUMNS = ["logical_id", "type", "change", "property_paths"]

_PLAIN_LOG = {"FORCE_COLOR": "0"}
"""No colour codes in the CLI's log (``node_environment`` already turns its internet calls off)."""
_CLI_FLAGS = ["--no-notices", "--no-color"]

_STATUS_MEANING = {
    "ROLLBACK_COMPLETE": "rolled back; the new stack holds no resources and the next deploy replaces it",
    "UPDATE_ROLLBACK_COMPLETE": "rolled back; the previous stack is intact",
    "ROLLBACK_FAILED": "rollback failed; delete the stack before deploying again",
    "UPDATE_ROLLBACK_FAILED": "rollback failed; the stack needs attention",
    "DELETE_FAILED": "some resources could not be deleted",
}
_NOT_DEPLOYED = {"REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_COMPLETE"}
"""Stack statuses under which no template is in service (a diff starts from nothing)."""


class TargetError(RuntimeError):
    """The target cannot be used as asked (no sandbox answers, AWS not bootstrapped, no credentials).

    Nothing was changed; the message says what to do. The CLI exits 2.
    """


class SandboxNotRunning(TargetError):
    """``target="sandbox"`` and no sandbox answers at the given or configured URL."""


class BootstrapRequired(TargetError):
    """``target="aws"`` and the account/region has no CDK bootstrap stack; carries the command."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(message)
        self.command = command


class DeployError(RuntimeError):
    """A CLI run that failed, with the reason in one readable message.

    ``failures`` lists the failed resources (``logical_id``, ``type``, ``status``, ``reason``),
    ``stack_status`` is the stack's status afterwards (``None`` if it does not exist), and
    ``log`` holds the CLI's full output.
    """

    def __init__(
        self, message: str, *, log: str, failures: list[dict[str, str]], stack_status: str | None
    ) -> None:
        super().__init__(message)
        self.log = log
        self.failures = failures
        self.stack_status = stack_status


@dataclass(frozen=True)
class Assembly:
    """A synthesized cloud assembly holding one stack.

    ``artifact_id`` selects the stack in CLI commands; ``stack_name`` is its CloudFormation name.
    """

    directory: Path
    artifact_id: str
    stack_name: str
    template: dict[str, Any]
    account: str | None
    region: str | None


@dataclass(frozen=True)
class Target:
    """Where the CLI and boto3 go: ``endpoint_url`` is ``None`` for AWS itself."""

    name: str
    endpoint_url: str | None
    region: str
    environment: dict[str, str]

    def client(self, service: str) -> Any:
        return aws_client(service, region=self.region, endpoint_url=self.endpoint_url)


def deploy(
    spec_or_assembly: DeploymentSpec | Synthesis | str | Path,
    target: str = "sandbox",
    *,
    endpoint_url: str | None = None,
    progress: bool = True,
) -> dict[str, str]:
    """Deploy a stack with ``cdk deploy``; returns its outputs (name -> value).

    ``spec_or_assembly`` is a ``DeploymentSpec`` (synthesized first, lookups against the
    target), a ``Synthesis`` or an assembly directory. ``target`` is ``"sandbox"`` (default;
    bootstrapped automatically; image assets are recorded in its ECR without a build, since no
    container runs there) or ``"aws"``. ``progress`` shows a bar driven by the CLI's
    resource events. Raises ``SandboxNotRunning`` / ``BootstrapRequired`` (nothing changed) or
    ``DeployError`` (the stack failed and rolled back; the message names the failed resources
    and why).
    """
    assembly, where = _prepare(spec_or_assembly, target, endpoint_url)
    _ensure_bootstrapped(where, assembly, progress)
    if where.name == "sandbox":
        register_image_assets(
            assembly.directory, where.client("ecr"), account=SANDBOX_ACCOUNT, region=where.region
        )
    with tempfile.TemporaryDirectory(prefix="dualalb-outputs-") as scratch:
        outputs_file = Path(scratch) / "outputs.json"
        args = [
            "deploy",
            assembly.artifact_id,
            "--app",
            str(assembly.directory),
            "--require-approval",
            "never",
        ]
        _run_cli(
            [*args, "--outputs-file", str(outputs_file)],
            where,
            assembly,
            f"deploy {assembly.stack_name}",
            total=len(assembly.template.get("Resources", {})) + 1,
            progress=progress,
        )
        written = json.loads(outputs_file.read_text()) if outputs_file.exists() else {}
    return {key: str(value) for key, value in written.get(assembly.stack_name, {}).items()}


def destroy(
    spec_or_assembly: DeploymentSpec | Synthesis | str | Path,
    target: str = "sandbox",
    *,
    endpoint_url: str | None = None,
    progress: bool = True,
) -> None:
    """Delete the stack with ``cdk destroy --force`` (a stack that does not exist is no error).

    Arguments and errors as for ``deploy``.
    """
    assembly, where = _prepare(spec_or_assembly, target, endpoint_url)
    _run_cli(
        ["destroy", assembly.artifact_id, "--app", str(assembly.directory), "--force"],
        where,
        assembly,
        f"destroy {assembly.stack_name}",
        total=len(assembly.template.get("Resources", {})) + 1,
        progress=progress,
    )


def diff(
    spec_or_assembly: DeploymentSpec | Synthesis | str | Path,
    target: str = "sandbox",
    *,
    endpoint_url: str | None = None,
) -> pd.DataFrame:
    """What deploying would change: one row per resource added, removed or modified.

    Columns: ``logical_id``, ``type``, ``change`` (``added`` | ``removed`` | ``modified``) and
    ``property_paths`` (for ``modified``: the paths that differ, e.g.
    ``["Properties.DesiredCount"]``; empty otherwise). Compares the deployed template with the
    assembly's (see the module doc); a stack that is not deployed shows every resource added.
    """
    assembly, where = _prepare(spec_or_assembly, target, endpoint_url)
    return template_diff(_deployed_template(where, assembly.stack_name), assembly.template)


def stack_status(
    stack_name: str, target: str = "sandbox", *, endpoint_url: str | None = None, region: str | None = None
) -> str | None:
    """The stack's CloudFormation status (``CREATE_COMPLETE``, ...), ``None`` if it does not exist.

    ``region`` defaults to us-east-1 for the sandbox, the environment's region for AWS. Only
    "does not exist" reads as ``None``; any other failure to ask (no sandbox answers, denied,
    unreachable) raises ``TargetError``.
    """
    return _stack_status(_target(target, _endpoint(target, endpoint_url), region), stack_name)


def ensure_deployed(
    spec: DeploymentSpec,
    target: str = "sandbox",
    *,
    endpoint_url: str | None = None,
    outdir: str | Path | None = None,
    progress: bool = True,
) -> bool:
    """Deploy ``spec`` unless its stack exists (in any status); returns whether it deployed.

    A missing stack is synthesized into ``outdir`` (default ``cdk.out/<stack_name>``; lookups
    against the target) and deployed as :func:`deploy` does. Errors as for :func:`stack_status`
    and :func:`deploy`.
    """
    if stack_status(spec.stack_name, target, endpoint_url=endpoint_url, region=spec.region) is not None:
        return False
    from .synth import synth

    endpoint = _endpoint(target, endpoint_url)
    deploy(
        synth(spec, outdir, endpoint_url=endpoint, nag=False),
        target,
        endpoint_url=endpoint,
        progress=progress,
    )
    return True


def outputs_table(outputs: Mapping[str, Any]) -> pd.DataFrame:
    """Stack outputs (name -> value, as :func:`deploy` returns them): columns ``output``, ``value``."""
    return pd.DataFrame(sorted(outputs.items()), columns=["output", "value"])


def template_diff(deployed: dict[str, Any], proposed: dict[str, Any]) -> pd.DataFrame:
    """Resource changes from template ``deployed`` to template ``proposed`` (columns as in ``diff``)."""
    before, after = deployed.get("Resources", {}), proposed.get("Resources", {})
    rows = []
    for logical_id in sorted(after.keys() - before.keys()):
        rows.append((logical_id, after[logical_id].get("Type", ""), "added", []))
    for logical_id in sorted(before.keys() & after.keys()):
        paths = _differing_paths(before[logical_id], after[logical_id])
        if paths:
            rows.append((logical_id, after[logical_id].get("Type", ""), "modified", paths))
    for logical_id in sorted(before.keys() - after.keys()):
        rows.append((logical_id, before[logical_id].get("Type", ""), "removed", []))
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def _differing_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """Paths (``Properties.Tags[1].Value``) at which two JSON values differ, depth first."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths = []
        for key in sorted(before.keys() | after.keys(), key=str):
            child = f"{path}.{key}" if path else str(key)
            if key not in before or key not in after:
                paths.append(child)
            else:
                paths.extend(_differing_paths(before[key], after[key], child))
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            p
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for p in _differing_paths(b, a, f"{path}[{i}]")
        ]
    return [] if before == after else [path]


# --- inputs and targets ---------------------------------------------------------------


def _prepare(spec_or_assembly: Any, target: str, endpoint_url: str | None) -> tuple[Assembly, Target]:
    """The assembly (synthesized from a spec against the target) and the target's CLI environment."""
    endpoint = _endpoint(target, endpoint_url)
    assembly = load_assembly(spec_or_assembly, endpoint_url=endpoint)
    if target == "sandbox" and assembly.account not in (None, SANDBOX_ACCOUNT):
        raise ValidationError(
            "account",
            f"the sandbox answers for account {SANDBOX_ACCOUNT}, the stack is bound to {assembly.account}; "
            f"set account to {SANDBOX_ACCOUNT} or leave it empty",
        )
    return assembly, _target(target, endpoint, assembly.region)


def _endpoint(target: str, endpoint_url: str | None) -> str | None:
    """The sandbox URL for ``target="sandbox"`` (checked to answer), ``endpoint_url`` for AWS."""
    if target not in TARGETS:
        raise ValidationError("target", f"{target!r} is not a target; use one of {', '.join(TARGETS)}")
    if target == "aws":
        return endpoint_url
    url = endpoint_url or os.environ.get(SANDBOX_URL_ENV)
    how = (
        "Start one with `dualalb-kit sandbox` (it prints its URL) and pass that URL "
        f"(--endpoint-url / endpoint_url=) or export {SANDBOX_URL_ENV}=URL; in Python, "
        "`with Sandbox() as sandbox: deploy(spec, endpoint_url=sandbox.endpoint_url)`."
    )
    if not url:
        raise SandboxNotRunning(
            f"no sandbox URL: no endpoint_url given and {SANDBOX_URL_ENV} is not set. {how}"
        )
    # moto finds the uploaded template by the URL's host, which must read ``localhost``.
    url = url.rstrip("/").replace("://127.0.0.1:", "://localhost:")
    if not sandbox_answers(url):
        raise SandboxNotRunning(f"no sandbox answers at {url}. {how}")
    return url


def _target(target: str, endpoint_url: str | None, region: str | None) -> Target:
    environment = node_environment()
    environment.update(_PLAIN_LOG)
    if target == "sandbox":
        region = region or "us-east-1"
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            environment.pop(name, None)
        environment.update(sandbox_environment(endpoint_url, region))
        return Target(target, endpoint_url, region, environment)
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    for name in ("AWS_ENDPOINT_URL", SANDBOX_URL_ENV):  # a sandbox session's leftovers must not redirect AWS
        environment.pop(name, None)
    if endpoint_url:
        environment["AWS_ENDPOINT_URL"] = endpoint_url
    environment.setdefault("AWS_REGION", region)
    return Target(target, endpoint_url, region, environment)


def load_assembly(
    spec_or_assembly: DeploymentSpec | Synthesis | str | Path, *, endpoint_url: str | None = None
) -> Assembly:
    """The one-stack assembly behind a spec (synthesized, lookups at ``endpoint_url``), a
    ``Synthesis`` or an assembly directory."""
    from .spec import DeploymentSpec
    from .synth import Synthesis, synth

    if isinstance(spec_or_assembly, DeploymentSpec):
        spec_or_assembly = synth(spec_or_assembly, endpoint_url=endpoint_url, nag=False)
    directory = Path(
        spec_or_assembly.assembly_dir if isinstance(spec_or_assembly, Synthesis) else spec_or_assembly
    )
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise ValidationError("assembly", f"{directory} is not a cloud assembly (no manifest.json)")
    artifacts = json.loads(manifest_path.read_text()).get("artifacts", {})
    stacks = {name: a for name, a in artifacts.items() if a.get("type") == "aws:cloudformation:stack"}
    if len(stacks) != 1:
        raise ValidationError(
            "assembly", f"{directory} holds {len(stacks)} stacks ({', '.join(stacks)}); expected one"
        )
    ((artifact_id, artifact),) = stacks.items()
    account, region = _environment_of(artifact.get("environment", ""))
    template = json.loads((directory / artifact["properties"]["templateFile"]).read_text())
    stack_name = artifact["properties"].get("stackName", artifact_id)
    return Assembly(directory.resolve(), artifact_id, stack_name, template, account, region)


def _environment_of(environment: str) -> tuple[str | None, str | None]:
    """``aws://ACCOUNT/REGION`` -> (account, region), ``None`` for ``unknown-*`` parts."""
    account, _, region = environment.removeprefix("aws://").partition("/")
    return (
        None if not account or account.startswith("unknown-") else account,
        None if not region or region.startswith("unknown-") else region,
    )


# --- bootstrap --------------------------------------------------------------------------


def _ensure_bootstrapped(where: Target, assembly: Assembly, progress: bool) -> None:
    """Bootstrap the sandbox if it is not; for AWS, say how to bootstrap if it is not."""
    if _stack_status(where, TOOLKIT_STACK) not in (None, *_NOT_DEPLOYED):
        return
    if where.name == "aws":
        account = assembly.account or _aws_account(where)
        command = f"dualalb-kit cdk bootstrap aws://{account}/{where.region}"
        raise BootstrapRequired(
            f"aws://{account}/{where.region} is not bootstrapped for the CDK (no {TOOLKIT_STACK} stack). "
            f"Bootstrap it once with:\n  {command}",
            command,
        )
    environment = f"aws://{assembly.account or SANDBOX_ACCOUNT}/{where.region}"
    _run_cli(["bootstrap", environment], where, None, "bootstrap sandbox", total=None, progress=progress)


def _aws_account(where: Target) -> str:
    try:
        return where.client("sts").get_caller_identity()["Account"]
    except Exception as error:
        raise TargetError(f"no usable AWS credentials in the environment ({type(error).__name__})") from None


def _stack_status(where: Target, stack_name: str) -> str | None:
    """The stack's status, ``None`` if it does not exist; ``TargetError`` if AWS cannot be asked."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = where.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise TargetError(f"cannot read stack {stack_name} on {where.name}: {error}") from None
    except BotoCoreError as error:
        raise TargetError(f"cannot reach {where.name} ({type(error).__name__}: {error})") from None
    return stacks[0]["StackStatus"] if stacks else None


def _deployed_template(where: Target, stack_name: str) -> dict[str, Any]:
    """The template in service for ``stack_name`` (``{}`` when none is)."""
    if _stack_status(where, stack_name) in (None, *_NOT_DEPLOYED):
        return {}
    body = where.client("cloudformation").get_template(StackName=stack_name, TemplateStage="Original")[
        "TemplateBody"
    ]
    if isinstance(body, str):
        import yaml

        body = yaml.safe_load(body)
    return dict(body)


# --- running the CLI ---------------------------------------------------------------------


def _run_cli(
    args: list[str],
    where: Target,
    assembly: Assembly | None,
    description: str,
    *,
    total: int | None,
    progress: bool,
) -> str:
    """Run the CDK CLI with a progress bar; returns its log, raises ``DeployError`` on failure."""
    command = [*cdk_cli(), *args, *_CLI_FLAGS]
    cwd = assembly.directory if assembly else Path(tempfile.gettempdir())
    lines: list[str] = []
    with ProgressBar(description, total, enabled=progress) as bar:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=where.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        try:
            for line in process.stdout or ():
                lines.append(line)
                event = parse_event(line)
                if event is not None and event.done is not None:
                    bar.update(event)
            returncode = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
    log = "".join(lines)
    if returncode != 0:
        raise _failure(description, where, assembly.stack_name if assembly else TOOLKIT_STACK, log)
    return log


def _failure(description: str, where: Target, stack_name: str, log: str) -> DeployError:
    """One readable error: the failed resources and their reasons, else the CLI's own error line."""
    try:
        status = _stack_status(where, stack_name)
    except TargetError:
        status = None
    meaning = _STATUS_MEANING.get(status or "")  # other statuses: the run failed before the stack changed
    failures = _failed_resources(where, stack_name) if meaning else []
    headline = f"{description} failed" + (f" ({status}: {meaning})" if meaning else "")
    if failures:
        details = [f"  {f['logical_id']} ({f['type']}) {f['status']}: {f['reason']}" for f in failures]
    else:
        details = [f"  {_cli_error_line(log)}"]
    message = "\n".join([headline + ":", *details, "(the full CDK CLI log is in the exception's .log)"])
    return DeployError(message, log=log, failures=failures, stack_status=status)


def _failed_resources(where: Target, stack_name: str) -> list[dict[str, str]]:
    """Resources that failed in the stack's latest operation (not those merely cancelled)."""
    events = where.client("cloudformation").describe_stack_events(StackName=stack_name)["StackEvents"]
    failures: dict[str, dict[str, str]] = {}
    for event in events:  # newest first; stop at the operation's start
        is_stack = (
            event["LogicalResourceId"] == stack_name and event["ResourceType"] == "AWS::CloudFormation::Stack"
        )
        if is_stack and event.get("ResourceStatusReason") == "User Initiated":
            break
        reason = event.get("ResourceStatusReason") or ""
        if event["ResourceStatus"].endswith("_FAILED") and not is_stack and "cancelled" not in reason:
            failures.setdefault(
                event["LogicalResourceId"],
                {
                    "logical_id": event["LogicalResourceId"],
                    "type": event["ResourceType"],
                    "status": event["ResourceStatus"],
                    "reason": reason,
                },
            )
    return list(reversed(failures.values()))


def _cli_error_line(log: str) -> str:
    """The CLI's error summary: its first ``‣`` line, else its ``❌`` line, else its last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for marker in ("‣", "❌"):
        marked = next((line for line in lines if line.startswith(marker)), None)
        if marked:
            return marked.removeprefix(marker).strip()
    return lines[-1] if lines else "the CDK CLI exited without output"
