"""Run the sample's three services as local processes on 127.0.0.1 (no Docker needed).

The processes are wired through the same environment variables as the deployed containers:
order gets ``PRODUCT_SVC_URL`` and ``CUSTOMER_SVC_URL`` pointing at the local product and customer.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import monotonic, sleep

from .. import arguments as kinds
from ..errors import DualAlbKitError, SampleStartError, ValidationError
from . import SAMPLE_APP_DIR, SAMPLE_HEALTH_CHECK_PATH, SAMPLE_ROLES

SERVICE_SCRIPT = SAMPLE_APP_DIR / "service.py"
STARTUP_TIMEOUT = 15.0
"""Seconds a service may take to print its address and answer ``/health``."""

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class LocalService:
    """One running sample service: its ``role``, its ``url``, the process and its stderr log."""

    role: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 5 s); stopping twice is harmless."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class LocalSample:
    """The three running services, by role."""

    services: dict[str, LocalService]

    @property
    def order_url(self) -> str:
        """Where to send ``GET /``: the order service."""
        return self.services["order"].url

    def stop(self, role: str) -> None:
        """Stop one service (to see how order answers without it)."""
        self.services[role].stop()


def start_service(
    role: str, log_dir: Path, *, port: int = 0, environment: Mapping[str, str] | None = None
) -> LocalService:
    """Start ``sample_app/service.py`` as ``role`` on 127.0.0.1:``port`` (0: a free port).

    ``environment`` adds to (and overrides) the inherited one. Returns once ``/health`` answers;
    raises :class:`SampleStartError` (with the service's log) when it does not within
    ``STARTUP_TIMEOUT``.
    """
    log_path = log_dir / f"{role}.log"
    child_environment = {
        **os.environ,
        "serviceName": role,
        "versionNum": "1.0",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        **(environment or {}),
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(SERVICE_SCRIPT)],
            env=child_environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    service = LocalService(role=role, url="", process=process, log_path=log_path)
    try:
        service.url = _read_listening_url(process, monotonic() + STARTUP_TIMEOUT)
        _wait_for_health(service, monotonic() + STARTUP_TIMEOUT)
    except SampleStartError as error:
        service.stop()
        log_text = log_path.read_text(errors="replace").strip()
        raise SampleStartError(f"{role} service did not start: {error}", log=log_text) from None
    return service


def _read_listening_url(process: subprocess.Popen, deadline: float) -> str:
    """The URL from the service's first stdout line, ``<role> listening on http://HOST:PORT``."""
    readable, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - monotonic()))
    line = process.stdout.readline() if readable else ""
    if " listening on http://" not in line:
        state = f"exited with {process.poll()}" if process.poll() is not None else "printed no address"
        raise SampleStartError(state)
    return line.rsplit(" ", 1)[-1].strip()


def _wait_for_health(service: LocalService, deadline: float) -> None:
    while True:
        try:
            with _NO_PROXY.open(service.url + SAMPLE_HEALTH_CHECK_PATH, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if service.process.poll() is not None or monotonic() > deadline:
            raise SampleStartError(f"{SAMPLE_HEALTH_CHECK_PATH} did not answer at {service.url}")
        sleep(0.05)


def _check_ports(ports: Mapping[str, int]) -> None:
    for role, port in ports.items():
        if role not in SAMPLE_ROLES:
            raise ValidationError(f"ports.{role}", f"not a sample role; choose {', '.join(SAMPLE_ROLES)}")
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValidationError(f"ports.{role}", f"{port!r} is not a port (0-65535, 0 picks a free one)")


@contextmanager
def run_local(
    ports: Mapping[str, int] | None = None,
    *,
    dependency_timeout: float = 2.0,
    log_dir: Path | None = None,
) -> Iterator[LocalSample]:
    """Run order, customer and product on 127.0.0.1 and stop them on exit.

    :param ports: port per role (``{"order": 8000}``); unnamed roles and 0 get a free port.
    :param dependency_timeout: seconds order waits for product and customer. Default 2.
    :param log_dir: where each service's stderr goes (``<role>.log``). Default: a temporary directory.

    Yields a :class:`LocalSample` once every ``/health`` answers; ``.order_url`` is the one to curl.
    """
    ports = dict(ports or {})
    _check_ports(ports)
    with ExitStack() as stack:
        logs = Path(log_dir) if log_dir else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        services: dict[str, LocalService] = {}

        def start(role: str, environment: Mapping[str, str] | None = None) -> LocalService:
            services[role] = start_service(role, logs, port=ports.get(role, 0), environment=environment)
            stack.callback(services[role].stop)
            return services[role]

        product = start("product")
        customer = start("customer")
        start(
            "order",
            {
                "PRODUCT_SVC_URL": product.url,
                "CUSTOMER_SVC_URL": customer.url,
                "DEPENDENCY_TIMEOUT": str(dependency_timeout),
            },
        )
        yield LocalSample(services={role: services[role] for role in SAMPLE_ROLES})


def main(argv: list[str] | None = None) -> int:
    """``dualalb-kit sample up``: run the three services, print the order URL, stop on Ctrl-C.

    Exit 0 after Ctrl-C or SIGTERM, 1 when a service fails to start or exits on its own.
    """
    parser = argparse.ArgumentParser(
        prog="dualalb-kit sample up",
        description="Run the sample's order, customer and product services on 127.0.0.1 (no Docker, no "
        "AWS), print their URLs, and stop them on Ctrl-C. Order answers GET / with its own line and "
        "those of product and customer.",
    )
    kinds.typed_options(
        parser,
        ("--port", kinds.port, 0, "order's port on 127.0.0.1 (default: a free one)"),
        ("--timeout", kinds.positive, 2.0, "seconds order waits for its dependencies (default 2)"),
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with run_local({"order": args.port}, dependency_timeout=args.timeout) as sample:
            for role, service in sample.services.items():
                print(f"{role:<9} {service.url}")
            print(f"\ncurl {sample.order_url}/\n\nCtrl-C stops the services.", flush=True)
            return _wait_while_running(sample)
    except KeyboardInterrupt:
        return 0
    except DualAlbKitError as error:
        print(error, file=sys.stderr)
        if isinstance(error, SampleStartError) and error.log:
            print(error.log, file=sys.stderr)
        return 1


def _wait_while_running(sample: LocalSample) -> int:
    """Sleep until a service exits on its own (then print its log and return 1) or Ctrl-C."""
    while True:
        sleep(0.5)
        for service in sample.services.values():
            if service.process.poll() is not None:
                log_text = service.log_path.read_text(errors="replace").strip()
                print(f"{service.role} exited with {service.process.returncode}\n{log_text}", file=sys.stderr)
                return 1


if __name__ == "__main__":
    raise SystemExit(main())
