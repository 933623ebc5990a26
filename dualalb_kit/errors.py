"""The kit's exceptions for what a user can meet: one base class, one line each."""

from __future__ import annotations

from pathlib import Path


class DualAlbKitError(Exception):
    """Base of every error the kit reports to a user on one line (the CLI exits 2 on these)."""


class ValidationError(DualAlbKitError, ValueError):
    """Bad user input, reported on one line that names the field path.

    ``ValidationError("tasks[1].internal.port", "70000 is not a port (1-65535)")`` reads
    ``tasks[1].internal.port: 70000 is not a port (1-65535)``.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = " ".join(message.split())
        super().__init__(f"{field}: {self.reason}" if field else self.reason)


class MissingExtraError(DualAlbKitError, ImportError):
    """A feature needs an optional part of the kit that is not installed.

    ``MissingExtraError("the sandbox", "sandbox", "moto")`` reads
    ``the sandbox needs the [sandbox] extra (moto is not installed): pip install 'dualalb-kit[sandbox]'``.
    """

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.extra = extra
        super().__init__(
            f"{feature} needs the [{extra}] extra ({module} is not installed): "
            f"pip install 'dualalb-kit[{extra}]'"
        )


class UnsupportedMotoError(DualAlbKitError):
    """The installed moto is not a version the sandbox's gap-fills were tested with."""


class DataPlaneError(DualAlbKitError):
    """The sandbox's live data plane (HAProxy, the task processes) cannot do what was asked: HAProxy
    is missing, a configuration it cannot serve, a reload it refused, or a process that died."""


class NoDataError(DualAlbKitError):
    """A stack's metrics hold no datapoint in the window asked for, so there is nothing to report or fit."""


class DeployError(DualAlbKitError, RuntimeError):
    """A CDK CLI run that failed, with the reason in one readable message (a ``RuntimeError`` too).

    ``failures`` lists the failed resources (``logical_id``, ``type``, ``status``, ``reason``),
    ``stack_status`` is the stack's status afterwards (``None`` if it does not exist), ``log``
    holds the CLI's full output and ``log_path`` the file it was written to.
    """

    def __init__(
        self,
        message: str,
        *,
        log: str,
        failures: list[dict[str, str]],
        stack_status: str | None,
        log_path: Path | None = None,
    ) -> None:
        super().__init__(message)
        self.log = log
        self.failures = failures
        self.stack_status = stack_status
        self.log_path = log_path


class LoadTestError(DualAlbKitError, RuntimeError):
    """A load test's Locust process stopped or stopped answering; the message ends with its last
    log lines (a ``RuntimeError`` too)."""


class LiveDemoError(DualAlbKitError, RuntimeError):
    """The live demo cannot go on: its stack's tasks did not settle, or the live sandbox serves no
    external listener of it (a ``RuntimeError`` too)."""


class MetricDataError(DualAlbKitError, RuntimeError):
    """CloudWatch's ``GetMetricData`` answered a query with a status other than ``Complete`` or
    ``PartialData`` (a ``RuntimeError`` too)."""


class SampleStartError(DualAlbKitError, RuntimeError):
    """A local sample service did not start: it exited, printed no address or did not answer its
    health check in time (a ``RuntimeError`` too). ``log`` holds what it wrote on stderr."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class ToolchainError(DualAlbKitError, FileNotFoundError):
    """A part of the kit's toolchain is not installed: the pinned CDK CLI or the notebook widget
    manager (a ``FileNotFoundError`` too); the message says how to install it."""


class TargetError(DualAlbKitError, RuntimeError):
    """The target cannot be used as asked (no sandbox answers, no or expired credentials, access
    denied, AWS not bootstrapped). Nothing was changed; the one-line message says what to do.
    The CLI exits 2. ``reason`` is the message without the terminal's advice (the designer gives
    a notebook's)."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class SandboxNotRunning(TargetError):
    """A sandbox target and no sandbox answers at the given or configured URL."""


class BootstrapRequired(TargetError):
    """``target="aws"`` and the account/region has no CDK bootstrap stack; carries the command."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(message)
        self.command = command


class ContextLookupError(ValidationError):
    """A context lookup that cannot be answered (no such VPC, unsupported provider, ...).

    A ``ValidationError``: the field is ``vpc`` for VPC lookups (the spec field that asked).
    """

    def __init__(self, provider: str, message: str) -> None:
        super().__init__("vpc" if provider == "vpc-provider" else "", message)
