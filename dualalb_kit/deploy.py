"""Deploy, diff and destroy a synthesized stack through the official CDK CLI.

The CLI (pinned in ``package.json``, run on the kit's Node) is the deploy engine: ``deploy``
and ``destroy`` run ``cdk deploy`` / ``cdk destroy`` against the pre-synthesized assembly
(``--app <assembly dir>``) on a :class:`~dualalb_kit.target.Target`: a sandbox (bootstrapped
on first use, with its dummy credentials) or AWS (a profile's or the environment's credentials;
the account must be bootstrapped). The stack's region (the spec's) is the target's region.

Each command runs in three steps: check the target (:func:`check_target`: credentials, an
endpoint that answers, the bootstrap stack), before any synthesis; prepare the assembly
(synthesized from a spec, or read); run the CDK CLI (``_run_cli``) with
:func:`cli_environment`.

``diff`` compares templates rather than reading the CLI's text: the stack's deployed template
(CloudFormation ``GetTemplate``) against the assembly's, resource by resource, down to the
property paths that differ. That answers "what would change" as data; it does not predict
replacements (``cdk diff`` does, from a change set, and prints them as text).
"""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from botocore.config import Config

from .assembly import Assembly, read_assembly
from .errors import BootstrapRequired, DeployError, DualAlbKitError, ValidationError
from .outputs import open_private, user_state_dir
from .runtime import cdk_cli, node_environment
from .target import CHECK_CONFIG, SANDBOX_ACCOUNT, SandboxNotRunning, Target, TargetError, as_target
from .template import template_diff

if TYPE_CHECKING:
    import pandas as pd

    from .spec import DeploymentSpec
    from .synth import Synthesis

__all__ = [
    "Assembly",
    "BootstrapRequired",
    "DeployError",
    "DeployInterrupted",
    "SandboxNotRunning",
    "Target",
    "TargetError",
    "check_target",
    "cli_environment",
    "deploy",
    "destroy",
    "diff",
    "ensure_deployed",
    "outputs_table",
    "stack_status",
    "template_diff",
]

TOOLKIT_STACK = "CDKToolkit"

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
_CLI_STOP_SECONDS = 10
"""How long a stopped CDK CLI gets to exit on SIGINT before it is killed."""
SANDBOX_PROBE_SECONDS = 2.0
SANDBOX_MISSES = 3
"""A CLI run against a sandbox that misses this many probes in a row (2 s apart) is stopped: a
sandbox that died (connections refused) is named within about 10 s, not after the CDK's 60 s of
retries. A probe waits up to 10 s for an answer, so a sandbox slowed by a busy machine is not
taken for a dead one (a hung one is named after about 40 s)."""
_WATCH_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 1})
_NOT_DEPLOYED = {"REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_COMPLETE"}
"""Stack statuses under which no template is in service (a diff starts from nothing)."""


class DeployInterrupted(KeyboardInterrupt):
    """A CLI run stopped by Ctrl-C (SIGINT) or SIGTERM; the CDK CLI was stopped with it.

    The message says what state the stack is in; ``stack_status`` is that status (``None``: no
    stack) and ``log_path`` the file holding the CLI's log up to the interruption.
    """

    def __init__(self, message: str, *, stack_status: str | None, log_path: Path) -> None:
        super().__init__(message)
        self.stack_status = stack_status
        self.log_path = log_path


Targetish = Target | str
"""A ``Target``, or ``"sandbox"`` (the one at ``$DUALALB_SANDBOX_URL``) / ``"aws"`` (:func:`as_target`)."""


def deploy(
    spec_or_assembly: DeploymentSpec | Synthesis | str | Path,
    target: Targetish = "sandbox",
    *,
    progress: bool = True,
) -> dict[str, str]:
    """Deploy a stack with ``cdk deploy`` in the stack's region; returns its outputs (name -> value).

    ``spec_or_assembly`` is a ``DeploymentSpec`` (synthesized first, lookups on the target), a
    ``Synthesis`` or an assembly directory. ``target`` is a ``Target`` or ``"sandbox"``
    (default; the sandbox at ``$DUALALB_SANDBOX_URL``; bootstrapped
    automatically; image assets are recorded in its ECR without a build, since no container runs
    there) or ``"aws"``. ``progress`` shows a bar driven by the CLI's resource events. Raises
    ``TargetError`` (``SandboxNotRunning``, ``BootstrapRequired``, credentials; nothing
    synthesized or changed), ``ValidationError`` (e.g. a ``--region`` that disagrees with the
    spec) or ``DeployError`` (the stack failed and rolled back; the message names the failed
    resources and why).
    """
    assembly, where = _prepare(spec_or_assembly, target, bootstrap=True)
    if where.kind == "sandbox":
        from .sandbox.assets import register_image_assets

        _bootstrap_sandbox(where, assembly, progress)
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
    target: Targetish = "sandbox",
    *,
    progress: bool = True,
) -> None:
    """Delete the stack with ``cdk destroy --force`` (a stack that does not exist is no error).

    Arguments and errors as for ``deploy``.
    """
    assembly, where = _prepare(spec_or_assembly, target)
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
    target: Targetish = "sandbox",
) -> pd.DataFrame:
    """What deploying would change: one row per resource added, removed or modified.

    Columns: ``logical_id``, ``type``, ``change`` (``added`` | ``removed`` | ``modified``) and
    ``property_paths`` (for ``modified``: the paths that differ, e.g.
    ``["Properties.DesiredCount"]``; empty otherwise). Compares the deployed template with the
    assembly's (see the module doc); a stack that is not deployed shows every resource added.
    """
    assembly, where = _prepare(spec_or_assembly, target)
    return template_diff(_deployed_template(where, assembly.stack_name), assembly.template)


def stack_status(
    stack_name: str,
    target: Targetish = "sandbox",
    *,
    region: str | None = None,
) -> str | None:
    """The stack's CloudFormation status (``CREATE_COMPLETE``, ...), ``None`` if it does not exist.

    ``region`` defaults to the target's (for ``"sandbox"`` us-east-1, for ``"aws"`` the
    environment's). Only "does not exist" reads as ``None``; any other failure to ask (no sandbox
    answers, denied, unreachable) raises ``TargetError``.
    """
    return _stack_status(as_target(target, region=region), stack_name)


def ensure_deployed(
    spec: DeploymentSpec,
    target: Targetish = "sandbox",
    *,
    outdir: str | Path | None = None,
    progress: bool = True,
) -> bool:
    """Deploy ``spec`` unless its stack exists (in any status); returns whether it deployed.

    A missing stack is synthesized into ``outdir`` (default ``cdk.out/<stack_name>``; lookups
    on the target) and deployed as :func:`deploy` does, in ``spec.region``. Errors as for
    :func:`stack_status` and :func:`deploy`.
    """
    where = as_target(target).in_region(spec.region)
    if _stack_status(where, spec.stack_name) is not None:
        return False
    from .synth import synth

    check_target(where, bootstrap=True)
    deploy(synth(spec, outdir, target=where, nag=False), where, progress=progress)
    return True


def outputs_table(outputs: Mapping[str, Any]) -> pd.DataFrame:
    """Stack outputs (name -> value, as :func:`deploy` returns them): columns ``output``, ``value``."""
    import pandas as pd

    return pd.DataFrame(sorted(outputs.items()), columns=["output", "value"])


# --- targets and inputs ----------------------------------------------------------------


def check_target(target: Target, *, bootstrap: bool = False) -> str:
    """Check ``target`` before any synthesis; returns its account.

    Credentials (none, expired, denied) and an endpoint that does not answer raise
    ``TargetError`` within about 2 s, in one line saying what to do. With ``bootstrap`` an AWS
    target must hold the CDK bootstrap stack (``BootstrapRequired``, with the command), asked
    once per ``Target`` (a front door's check and :func:`deploy`'s are one call); a sandbox is
    bootstrapped by :func:`deploy` itself.
    """
    account = target.account
    if bootstrap and target.kind == "aws" and "bootstrapped" not in target.checked:
        environment = f"aws://{account}/{target.region}"
        if _stack_status(target, TOOLKIT_STACK, config=CHECK_CONFIG) in (None, *_NOT_DEPLOYED):
            command = f"dualalb-kit cdk bootstrap {environment}"
            if target.profile:
                command += f" --profile {target.profile}"
            raise BootstrapRequired(
                f"{environment} is not bootstrapped for the CDK (no {TOOLKIT_STACK} stack): "
                f"bootstrap it once with `{command}`",
                command,
            )
        target.checked.add("bootstrapped")
    return account


def cli_environment(target: Target) -> dict[str, str]:
    """The environment the CDK CLI runs in: the target's (:attr:`Target.environment`), the kit's
    Node first on ``PATH``, no colour codes, no telemetry or version check."""
    return {**node_environment(target.environment), **_PLAIN_LOG}


def _prepare(spec_or_assembly: Any, target: Targetish, *, bootstrap: bool = False) -> tuple[Assembly, Target]:
    """The target in the stack's region, checked (:func:`check_target`) before a spec is
    synthesized (lookups on the target), and the one-stack assembly."""
    from .spec import DeploymentSpec
    from .synth import Synthesis, synth

    where = as_target(target)
    if isinstance(spec_or_assembly, DeploymentSpec):
        where = where.in_region(spec_or_assembly.region)
        check_target(where, bootstrap=bootstrap)
        assembly = read_assembly(synth(spec_or_assembly, target=where, nag=False).assembly_dir)
    else:
        directory = (
            spec_or_assembly.assembly_dir if isinstance(spec_or_assembly, Synthesis) else spec_or_assembly
        )
        assembly = read_assembly(directory)
        where = where.in_region(assembly.region) if assembly.region else where
        check_target(where, bootstrap=bootstrap)
    if where.kind == "sandbox" and assembly.account not in (None, SANDBOX_ACCOUNT):
        raise ValidationError(
            "account",
            f"the sandbox answers for account {SANDBOX_ACCOUNT}, the stack is bound to {assembly.account}; "
            f"set account to {SANDBOX_ACCOUNT} or leave it empty",
        )
    return assembly, where


# --- bootstrap --------------------------------------------------------------------------


def _bootstrap_sandbox(where: Target, assembly: Assembly, progress: bool) -> None:
    """Bootstrap the sandbox in the target's region unless it is."""
    if _stack_status(where, TOOLKIT_STACK) not in (None, *_NOT_DEPLOYED):
        return
    environment = f"aws://{assembly.account or SANDBOX_ACCOUNT}/{where.region}"
    _run_cli(["bootstrap", environment], where, None, "bootstrap sandbox", total=None, progress=progress)


def _stack_status(where: Target, stack_name: str, *, config: Config | None = None) -> str | None:
    """The stack's status, ``None`` if it does not exist; ``TargetError`` if the target cannot be asked."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = where.client("cloudformation", config=config).describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise where.problem(error) from None
    except BotoCoreError as error:
        raise where.problem(error) from None
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
    """Run the CDK CLI with a progress bar; returns its log, raises ``DeployError`` on failure.

    The log is also written, as it comes, to a file beside the assembly (:func:`cli_log_path`).
    Interrupted (Ctrl-C, or SIGTERM where the caller turns it into ``KeyboardInterrupt``), the
    CLI is stopped and ``DeployInterrupted`` says what state the stack is in.
    """
    from .progress import ProgressBar, parse_event  # tqdm's notebook bar loads ipywidgets: only when run

    command = [*cdk_cli(), *args, *_CLI_FLAGS]
    cwd = assembly.directory if assembly else Path(tempfile.gettempdir())
    stack_name = assembly.stack_name if assembly else TOOLKIT_STACK
    log_path = cli_log_path(assembly)
    lines: list[str] = []
    with ProgressBar(description, total, enabled=progress) as bar, _open_log(log_path) as log_file:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=cli_environment(where),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        watch = _SandboxWatch(where, stack_name, on_lost=process.kill)
        try:
            for line in process.stdout or ():
                lines.append(line)
                log_file.write(line)
                event = parse_event(line)
                if event is not None and event.done is not None:
                    bar.update(event)
            returncode = process.wait()
            if returncode == 0:
                bar.finish()
        except KeyboardInterrupt:
            _stop(process)
            raise _interrupted(description, where, stack_name, log_path) from None
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            watch.stop()
    log = "".join(lines)
    if watch.lost:
        raise _sandbox_lost(description, where, stack_name, watch.last_status, log, log_path)
    if returncode != 0:
        raise _failure(description, where, stack_name, log, log_path)
    return log


class _SandboxWatch:
    """While a CDK CLI run goes on against a sandbox, ask it for the stack's status every
    :data:`SANDBOX_PROBE_SECONDS`; after :data:`SANDBOX_MISSES` unanswered probes in a row call
    ``on_lost`` (which stops the run) and set ``lost``. Does nothing for AWS itself."""

    def __init__(self, where: Target, stack_name: str, on_lost: Callable[[], None]) -> None:
        self.where, self.stack_name, self.on_lost = where, stack_name, on_lost
        self.lost = False
        self.last_status: str | None | _Unknown = _UNKNOWN
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sandbox-watch", daemon=True)
        if where.kind == "sandbox":
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        misses = 0
        while not self._stopped.wait(SANDBOX_PROBE_SECONDS):
            try:
                self.last_status = _stack_status(self.where, self.stack_name, config=_WATCH_CONFIG)
                misses = 0
            except TargetError:
                misses += 1
                if misses >= SANDBOX_MISSES and not self._stopped.is_set():
                    self.lost = True
                    self.on_lost()
                    return


class _Unknown:
    """The stack's status before the sandbox was first asked."""


_UNKNOWN = _Unknown()


def _sandbox_lost(
    description: str,
    where: Target,
    stack_name: str,
    last_status: str | None | _Unknown,
    log: str,
    log_path: Path,
) -> DeployError:
    """The run stopped because the sandbox stopped answering: where, what the stack was, what to do."""
    if isinstance(last_status, _Unknown):
        state, status = f"the status of stack {stack_name} was never read", None
    else:
        seen = "did not exist" if last_status is None else f"was {last_status}"
        state, status = f"stack {stack_name} {seen} when last seen", last_status
    message = (
        f"{description} failed: the sandbox at {where.address} stopped answering "
        f"({SANDBOX_MISSES} probes {SANDBOX_PROBE_SECONDS:g} s apart), so the CDK CLI was stopped; "
        f"{state}. Start the sandbox again and deploy again (the full CDK CLI log: {log_path})"
    )
    return DeployError(message, log=log, failures=[], stack_status=status, log_path=log_path)


def cli_log_path(assembly: Assembly | None) -> Path:
    """Where a CDK CLI run's full log goes: ``<assembly dir>.cdk.log`` beside the assembly
    (the bootstrap's, which has none: ``CDKToolkit.cdk.log`` in the kit's per-user private
    folder, :func:`~dualalb_kit.outputs.user_state_dir`)."""
    if assembly is None:
        return user_state_dir() / f"{TOOLKIT_STACK}.cdk.log"
    return assembly.directory.with_name(f"{assembly.directory.name}.cdk.log")


def _open_log(path: Path) -> TextIO:
    """The CLI's log file opened for writing, 0600, never through a symbolic link; a place that
    cannot hold it (a folder, a link, no permission) is one ``DualAlbKitError``."""
    try:
        return open_private(path)
    except OSError as error:
        reason = "a symbolic link" if error.errno == errno.ELOOP else error.strerror
        raise DualAlbKitError(
            f"cannot write the CDK CLI log {path} ({reason}); the CDK CLI did not start"
        ) from None


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the CDK CLI as Ctrl-C would, and kill it if it does not exit in time."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=_CLI_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _interrupted(description: str, where: Target, stack_name: str, log_path: Path) -> DeployInterrupted:
    """What an interruption left: the stack's status in words, with the log's path."""
    try:
        status = _stack_status(where, stack_name)
    except TargetError:
        status = None
        state = "its state could not be read"
    else:
        state = _interrupted_state(stack_name, status)
    message = f"{description} interrupted; the CDK CLI was stopped and {state}"
    return DeployInterrupted(message, stack_status=status, log_path=log_path)


def _interrupted_state(stack_name: str, status: str | None) -> str:
    if status is None:
        return f"stack {stack_name} does not exist"
    if status == "REVIEW_IN_PROGRESS":
        return f"stack {stack_name} is REVIEW_IN_PROGRESS: its change set never ran, it holds no resources"
    if status.endswith("_IN_PROGRESS"):
        return f"stack {stack_name} is {status}: CloudFormation carries on without the CLI"
    meaning = _STATUS_MEANING.get(status)
    return f"stack {stack_name} is {status}" + (f" ({meaning})" if meaning else "")


def _failure(description: str, where: Target, stack_name: str, log: str, log_path: Path) -> DeployError:
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
    message = "\n".join([headline + ":", *details, f"(the full CDK CLI log: {log_path})"])
    return DeployError(message, log=log, failures=failures, stack_status=status, log_path=log_path)


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
