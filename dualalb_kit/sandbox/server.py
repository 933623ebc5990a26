"""The local AWS endpoint: moto's server on 127.0.0.1, in a thread of this process."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from ..extras import missing_extra
from ..target import (
    DEFAULT_REGION,
    SANDBOX_ACCOUNT,
    SANDBOX_URL_ENV,
    Target,
    not_a_target,
    running_sandbox_url,
    sandbox_answers,
    sandbox_environment,
)
from .moto_surface import check_moto_version

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

    from .live.plane import DataPlane

__all__ = [
    "SANDBOX_ACCOUNT",
    "SANDBOX_URL_ENV",
    "Sandbox",
    "free_port",
    "install_gap_fills",
    "running_sandbox_url",
    "sandbox_answers",
    "sandbox_environment",
    "serve",
    "use_target",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def install_gap_fills() -> None:
    """Install the sandbox's additions to moto in this process (idempotent): the CloudFormation
    models and stack behaviour, CloudWatch metric data and CloudTrail's LookupEvents."""
    from . import cloudformation, cloudtrail, cloudwatch, models

    for module in (cloudformation, cloudtrail, cloudwatch, models):
        module.install()


class Sandbox:
    """A local AWS endpoint (moto's server) listening on 127.0.0.1 only.

    Use as a context manager or with ``start()``/``stop()``. ``port`` defaults to a free one.
    The URL names ``localhost`` rather than ``127.0.0.1``: moto's CloudFormation reads the
    template URL's host to find S3 buckets, and only ``localhost`` resolves to its S3.

    ``live=True`` also runs the data plane (:class:`~dualalb_kit.sandbox.live.plane.DataPlane`, in
    :attr:`live`): deployed services run as local processes behind HAProxy; ``live_stacks`` limits
    it to those stacks (sandboxes in one process share moto's state, so a second one sees the
    first one's stacks).
    """

    def __init__(
        self,
        port: int | None = None,
        region: str = DEFAULT_REGION,
        *,
        live: bool = False,
        live_stacks: Iterable[str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.region = region
        self.want_live = live
        self.live_stacks = live_stacks
        self.live: DataPlane | None = None
        self._server: ThreadedMotoServer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def environment(self) -> dict[str, str]:
        """Environment variables for a child process that should use this sandbox."""
        return sandbox_environment(self.endpoint_url, self.region)

    @property
    def target(self) -> Target:
        """This sandbox as a :class:`~dualalb_kit.target.Target` (in its ``region``)."""
        return Target("sandbox", self.region, self.endpoint_url)

    def start(self) -> Sandbox:
        """Start listening (unless started already): first check that the installed moto is one
        the gap-fills support (:func:`~dualalb_kit.sandbox.moto_surface.check_moto_version`),
        then install them and start moto's server."""
        if self._server is None:
            check_moto_version()
            try:
                from moto.server import ThreadedMotoServer

                install_gap_fills()
            except ModuleNotFoundError as error:  # moto without its server or CloudFormation parts
                raise missing_extra(error, "the sandbox") from None

            quiet_request_log()
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
            self._server.start()
            if self.want_live:
                from .live.plane import DataPlane

                try:
                    self.live = DataPlane(self.target, stacks=self.live_stacks).start()
                except BaseException:
                    self.stop()
                    raise
        return self

    def stop(self) -> None:
        """Stop the data plane (every task process and HAProxy), then the endpoint."""
        if self.live is not None:
            self.live.stop()
            self.live = None
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def quiet_request_log() -> None:
    """Silence werkzeug's line per request; failed requests (logged as errors) still show."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def serve(port: int | None = None, *, live: bool = False) -> None:
    """Run a sandbox on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM), then stop it.

    Prints the URL and the environment another shell or notebook exports to use it.
    ``port`` defaults to a free one. The credentials printed are moto's dummy pair. ``live``
    runs the data plane too (deployed services run locally; its events print on stderr).
    """
    sandbox = Sandbox(port, live=live).start()
    print(f"dualalb-kit sandbox listening on {sandbox.endpoint_url} (Ctrl-C stops it)", flush=True)
    print("To use it from another shell (dummy credentials, valid only here):")
    for name, value in sandbox.environment.items():
        print(f"  export {name}={value}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("sandbox stopped")
    finally:
        sandbox.stop()


def use_target(
    target: Target | str = "sandbox",
    endpoint_url: str | None = None,
    *,
    region: str | None = None,
    profile: str | None = None,
) -> tuple[Target, Sandbox | None]:
    """The one ``Target`` a notebook or script passes on, and the sandbox it started (or ``None``).

    ``"sandbox"``: the sandbox at ``endpoint_url`` (checked to answer), else the running one in
    ``DUALALB_SANDBOX_URL``, else a new one started here (stop it when done). ``"aws"``:
    :meth:`Target.aws` with ``profile``. ``region`` (a spec's) is the target's region. A
    ``Target`` is returned as it is. The process environment is left alone.
    """
    if isinstance(target, Target):
        return target, None
    if target == "aws":
        return Target.aws(profile, region), None
    if target != "sandbox":
        raise not_a_target(target)
    own = None
    url = endpoint_url or running_sandbox_url()
    if url is None:
        own = Sandbox(region=region or DEFAULT_REGION).start()
        url = own.endpoint_url
    return Target.sandbox(url, region), own
