"""The kit's exceptions for what a user can meet: one base class, one line each."""

from __future__ import annotations


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
