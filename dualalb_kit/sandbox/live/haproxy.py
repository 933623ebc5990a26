"""HAProxy as the data plane of every ALB and NLB in the sandbox, on 127.0.0.1 only.

:class:`HAProxy` runs the configuration :func:`~.haproxy_config.render_config` makes
(master-worker, a private temporary folder), reloads it without dropping a connection, reports
health states and drains targets through HAProxy's runtime API, and stops it. What is modelled
from ELBv2, and what is not, is told in :mod:`.haproxy_config`; the request log it sends is
received by :class:`~.access_log.AccessLog`.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import psutil

from ...errors import DataPlaneError
from .haproxy_config import render_config
from .haproxy_names import FAIL_OPEN_PREFIX, Names, names
from .model import DataPlaneConfig

__all__ = ["HAProxy", "check_installed"]

MINIMUM_VERSION = (2, 6)
"""The oldest HAProxy the template is written for (``option idle-close-on-response``)."""


def _find_binary() -> str | None:
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin:/sbin")


def check_installed(binary: str | None = None) -> str:
    """The path of the ``haproxy`` executable; raises :class:`DataPlaneError` (one line naming
    Debian's package) when it is missing or older than 2.6."""
    found = binary if binary and Path(binary).exists() else (None if binary else _find_binary())
    if found is None:
        raise DataPlaneError(
            "HAProxy is not installed (the sandbox's live data plane runs every ALB and NLB on it): "
            "install Debian's package haproxy: apt-get install haproxy"
        )
    seen = _version(found)
    match = re.search(r"version (\d+)\.(\d+)", seen)
    if match is None or tuple(map(int, match.groups())) < MINIMUM_VERSION:
        raise DataPlaneError(
            f"{found} is not HAProxy 2.6 or newer ({seen or 'no version'}): install Debian's package "
            "haproxy: apt-get install haproxy"
        )
    return found


@functools.lru_cache(maxsize=8)
def _version(binary: str) -> str:
    answer = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=30, check=False)
    return (answer.stdout.strip().splitlines() or [""])[0]


# --- names -------------------------------------------------------------------------------

# --- the process ---------------------------------------------------------------------------


def _ask(path: Path, command: str, timeout_s: float = 5.0) -> str:
    """One command on an HAProxy CLI socket (the runtime API or the master CLI); the answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout_s)
        client.connect(str(path))
        client.sendall(command.encode() + b"\n")
        client.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := client.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


@dataclass(frozen=True)
class _Processes:
    failed_reloads: int
    workers: tuple[int, ...]
    old_workers: tuple[int, ...]


def _parse_show_proc(text: str) -> _Processes:
    failed, workers, old, section = 0, [], [], None
    for line in text.splitlines():
        if line.startswith("# workers"):
            section = workers
        elif line.startswith("# old workers"):
            section = old
        elif line.startswith("#"):
            section = None
        elif fields := line.split():
            if len(fields) > 1 and fields[1] == "master":
                found = re.search(r"failed: (\d+)", line)
                failed = int(found.group(1)) if found else 0
            elif section is not None and fields[0].isdigit():
                section.append(int(fields[0]))
    return _Processes(failed, tuple(workers), tuple(old))


def _stop_family(process: subprocess.Popen, timeout_s: float) -> None:
    """SIGTERM to the master (it stops its workers at once), then SIGKILL whatever is left."""
    try:
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
    _, alive = psutil.wait_procs(family, timeout=timeout_s if process.poll() is None else 2)
    for member in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(alive, timeout=timeout_s)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout_s)


def _abandon(process: subprocess.Popen, folder: Path) -> None:
    """What an :class:`HAProxy` nobody stopped leaves behind, cleared when it is collected or at exit."""
    _stop_family(process, 5.0)
    shutil.rmtree(folder, ignore_errors=True)


_SERVER_STATES = (
    ("UP", "UP"),
    ("no check", "UP"),
    ("DOWN", "DOWN"),
    ("MAINT", "MAINT"),
    ("DRAIN", "DRAIN"),
    ("NOLB", "DRAIN"),
)


class HAProxy:
    """One HAProxy (master-worker) serving a :class:`DataPlaneConfig` on 127.0.0.1.

    It lives in a private temporary folder (configuration, runtime API socket ``admin.sock``,
    master CLI ``master.sock``, server states, HAProxy's own output ``haproxy.log``) that
    :meth:`stop` removes. Use it as a context manager, or call :meth:`stop`; a crash is reported by
    :meth:`failure`, never restarted.

    >>> with HAProxy() as proxy:  # doctest: +SKIP
    ...     proxy.start(config)
    ...     proxy.reload(new_config)
    ...     proxy.server_states()
    """

    def __init__(self, *, binary: str | None = None, timeout_s: float = 15.0) -> None:
        self._binary = binary
        self.timeout_s = timeout_s
        """How long start, reload and stop wait for HAProxy."""
        self._process: subprocess.Popen | None = None
        self._folder: Path | None = None
        self._config: DataPlaneConfig | None = None
        self._names = Names({}, {})
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize | None = None
        self._log_mark = 0

    check_installed = staticmethod(check_installed)

    # paths and state

    @property
    def folder(self) -> Path:
        if self._folder is None:
            raise DataPlaneError("HAProxy is not started")
        return self._folder

    @property
    def admin_socket(self) -> Path:
        return self.folder / "admin.sock"

    @property
    def master_socket(self) -> Path:
        return self.folder / "master.sock"

    @property
    def config_path(self) -> Path:
        return self.folder / "haproxy.cfg"

    @property
    def pid(self) -> int | None:
        """The master's process id, while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    @property
    def config(self) -> DataPlaneConfig | None:
        """What HAProxy serves now."""
        return self._config

    @property
    def names(self) -> Names:
        """Frontend and backend names of what HAProxy serves now (to map records back to ARNs)."""
        return self._names

    def __enter__(self) -> HAProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # lifecycle

    def start(self, config: DataPlaneConfig) -> None:
        """Write ``config``'s configuration, start HAProxy and return once it serves it.
        Raises :class:`DataPlaneError` when HAProxy is missing, rejects the configuration or
        exits while starting (with its own reason), and after a crash until :meth:`stop`."""
        with self._lock:
            if self._process is not None:
                if (reason := self.failure()) is not None:
                    raise DataPlaneError(f"{reason} (stop() it before starting it again)")
                raise DataPlaneError("HAProxy is already started; reload() changes what it serves")
            binary = check_installed(self._binary)
            self._folder = Path(tempfile.mkdtemp(prefix="dualalb-haproxy-"))
            try:
                text = render_config(config, admin_socket=self.admin_socket)
                self._validate(binary, text)
                self.config_path.write_text(text)
                (self.folder / "server-state").write_text("1\n")  # an empty state file, version 1
                log = (self.folder / "haproxy.log").open("ab")
                try:
                    self._process = subprocess.Popen(
                        [
                            binary,
                            "-W",
                            "-db",
                            "-f",
                            str(self.config_path),
                            "-S",
                            f"{self.master_socket},mode,600",
                        ],
                        cwd=self.folder,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                finally:
                    log.close()
                self._finalizer = weakref.finalize(self, _abandon, self._process, self.folder)
                self._wait_until(lambda processes: bool(processes.workers), "start")
            except BaseException:
                self._stop_locked()
                raise
            self._log_mark = self._log_size()
            self._config = config
            self._names = names(config)

    def reload(self, config: DataPlaneConfig) -> None:
        """Serve ``config`` instead, without refusing or dropping a connection: the configuration
        is checked first (HAProxy's ``-c``), health states are kept (``show servers state``), the
        master starts a new worker that takes over the listening sockets, and the old one finishes
        its in-flight requests. Raises :class:`DataPlaneError` when HAProxy refuses it; what was
        served before stays served."""
        with self._lock:
            self._require_running()
            binary = check_installed(self._binary)
            text = render_config(config, admin_socket=self.admin_socket)
            self._validate(binary, text)
            before = _parse_show_proc(self._master("show proc"))
            previous = self.config_path.read_text()
            self._log_mark = self._log_size()
            (self.folder / "server-state").write_text(self.runtime("show servers state"))
            self._write(self.config_path, text)
            with contextlib.suppress(OSError):  # the master re-executes itself and drops the line
                self._master("reload")
            try:
                self._wait_until(
                    lambda processes: any(pid not in before.workers for pid in processes.workers),
                    "reload",
                    failed_reloads=before.failed_reloads,
                )
            except DataPlaneError:
                self._write(self.config_path, previous)
                raise
            self._log_mark = self._log_size()
            self._config = config
            self._names = names(config)

    def stop(self) -> None:
        """Stop the master and every worker (old ones too) and remove the private folder."""
        with self._lock:
            self._stop_locked()

    def failure(self) -> str | None:
        """Why HAProxy is not running although it was started and not stopped (its exit code and
        last alert), or None while it runs (or was never started)."""
        process = self._process
        if process is None or process.poll() is None:
            return None
        return f"HAProxy exited with code {process.returncode}: {self._last_words()}"

    poll = failure
    """Another name for :meth:`failure` (as a process is polled)."""

    # the runtime API

    def runtime(self, command: str) -> str:
        """One command on the worker's runtime API (``show stat``, ``show servers state``, ...)."""
        return _ask(self.admin_socket, command, self.timeout_s)

    def server_states(self) -> dict[tuple[str, str], str]:
        """(target group ARN, ``host:port``) -> ``UP``, ``DOWN``, ``MAINT`` or ``DRAIN``, from the
        runtime API's ``show stat``. A target whose state is changing counts as what it still is
        (``UP 1/2``, failing its first check, is UP: it still gets requests)."""
        self._require_running()
        answer = self.runtime("show stat -1 4 -1")
        rows = csv.DictReader(io.StringIO(answer.lstrip("# ")))
        states = {}
        for row in rows:
            arn = self._names.target_group_arn(row.get("pxname") or "")
            server = row.get("svname") or ""
            if arn is None or server.startswith(FAIL_OPEN_PREFIX):
                continue
            status = row.get("status") or ""
            states[(arn, server)] = next(
                (state for prefix, state in _SERVER_STATES if status.startswith(prefix)), status
            )
        return states

    def drain(self, target_group_arn: str, target: str) -> None:
        """Stop sending new requests to ``target`` (``host:port``) of a target group while its
        in-flight requests finish (HAProxy's ``drain`` state). The state survives reloads (with
        the health states) for as long as the target stays in the configuration."""
        self._require_running()
        backend = self._names.backends.get(target_group_arn)
        if backend is None:
            raise DataPlaneError(f"target group {target_group_arn} is not served")
        for server in (target, FAIL_OPEN_PREFIX + target):
            answer = self.runtime(f"set server {backend}/{server} state drain").strip()
            if answer:
                raise DataPlaneError(f"HAProxy would not drain {target} of {target_group_arn}: {answer}")

    # internals

    def _require_running(self) -> None:
        if self._process is None:
            raise DataPlaneError("HAProxy is not started")
        if (reason := self.failure()) is not None:
            raise DataPlaneError(reason)

    def _master(self, command: str) -> str:
        return _ask(self.master_socket, command, self.timeout_s)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        partial = path.with_suffix(".partial")
        partial.write_text(text)
        os.replace(partial, path)

    def _validate(self, binary: str, text: str) -> None:
        candidate = self.folder / "candidate.cfg"
        candidate.write_text(text)
        answer = subprocess.run(
            [binary, "-c", "-q", "-f", str(candidate)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if answer.returncode != 0:
            alerts = [line for line in (answer.stdout + answer.stderr).splitlines() if "ALERT" in line]
            reason = alerts[0] if alerts else (answer.stdout + answer.stderr).strip()
            raise DataPlaneError(f"HAProxy rejects the configuration: {' '.join(reason.split())}")

    def _wait_until(self, ready, what: str, failed_reloads: int | None = None) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            if (reason := self.failure()) is not None:
                raise DataPlaneError(f"HAProxy stopped during {what}: {reason.split(': ', 1)[1]}")
            with contextlib.suppress(OSError):
                processes = _parse_show_proc(self._master("show proc"))
                if failed_reloads is not None and processes.failed_reloads > failed_reloads:
                    raise DataPlaneError(f"HAProxy refused the reload: {self._last_words()}")
                if ready(processes):
                    worker = str(processes.workers[0])
                    if re.search(rf"^Pid: {worker}$", self.runtime("show info"), re.MULTILINE):
                        return
            if time.monotonic() > deadline:
                raise DataPlaneError(
                    f"HAProxy did not finish its {what} within {self.timeout_s:g} s: {self._last_words()}"
                )
            time.sleep(0.05)

    def _log_size(self) -> int:
        try:
            return (self.folder / "haproxy.log").stat().st_size
        except OSError:
            return 0

    def _last_words(self) -> str:
        """HAProxy's first alert since the last start or reload it finished (else its last line)."""
        try:
            with (self.folder / "haproxy.log").open("rb") as output:
                output.seek(self._log_mark)
                lines = output.read().decode(errors="replace").splitlines()
        except (OSError, DataPlaneError):
            return "no output"
        alerts = [line for line in lines if "[ALERT]" in line]
        chosen = alerts[0] if alerts else (lines[-1] if lines else "no output")
        return " ".join(re.sub(r"^\[\w+\]\s+\(\d+\) : ", "", chosen).split())

    def _stop_locked(self) -> None:
        if self._process is not None:
            _stop_family(self._process, self.timeout_s)
            if self._finalizer is not None:
                self._finalizer.detach()
        self._process, self._finalizer, self._config, self._log_mark = None, None, None, 0
        self._names = Names({}, {})
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
