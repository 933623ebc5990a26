"""The Jupyter kernel a batch run executes on: the kit's kernel spec, a socket-only manager and a
pool that starts the next run's kernel while the current run finishes."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

from ..extras import missing_extra

try:
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from traitlets import CaselessStrEnum, List, Unicode, default
except ModuleNotFoundError as error:
    raise missing_extra(error, "notebook batches") from None


SOCKET_PREFIX = "dualalb-kernel"
KERNEL_NAME = "dualalb-kit"
"""The Jupyter kernel the kit's notebooks run on (this environment's Python)."""


class LocalKernelManager(AsyncKernelManager):
    """Kernels on Unix sockets (IPC) rather than TCP: no port opens and no plain-text traffic.

    Each kernel's sockets live under a name of its own in the temporary directory,
    ``dualalb-kernel-<pid of the process that started it>-<random>``, and are removed when the
    kernel shuts down (or, when that process was killed, by the batch that ran it).
    """

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _unique_socket_prefix(self) -> str:
        return os.path.join(tempfile.gettempdir(), f"{SOCKET_PREFIX}-{os.getpid()}-{uuid.uuid4().hex}")


KERNEL_ARGV = [
    sys.executable,
    "-Xfrozen_modules=off",  # as ipykernel's own spec: lets the debugger see every module
    "-m",
    "dualalb_kit.kernel_app",
    "-f",
    "{connection_file}",
]
"""How the kit's kernel starts: this environment's Python running :mod:`dualalb_kit.kernel_app`."""

KERNEL_SPEC = {"argv": KERNEL_ARGV, "display_name": "Python (dualalb-kit)", "interrupt_mode": "message"}
"""The kit's kernel spec: interrupted by message, so the signal reaches the kernel and not jsii's
Node (see :mod:`dualalb_kit.kernel_app`)."""


def ensure_kernel() -> str:
    """Install the kit's kernel spec into this environment unless it is there as ``KERNEL_SPEC``
    says (an older spec is replaced); returns its name."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    specs = KernelSpecManager()
    try:
        installed = specs.get_kernel_spec(KERNEL_NAME).to_dict()
    except NoSuchKernel:
        installed = {}
    if any(installed.get(key) != value for key, value in KERNEL_SPEC.items()):
        source = write_kernel_spec(overrides=KERNEL_SPEC)
        try:
            specs.install_kernel_spec(str(source), KERNEL_NAME, prefix=sys.prefix)
        finally:
            shutil.rmtree(source)
    return KERNEL_NAME


class PooledKernelManager(LocalKernelManager):
    """A kernel started ahead of the run that uses it, in ``cwd``. It remembers the clients made
    for it: a run handed a started kernel (papermill's ``km=``) leaves its client's channels open."""

    cwd = Unicode("")
    clients = List()

    def client(self, **kwargs: Any) -> Any:
        made = super().client(**kwargs)
        self.clients = [*self.clients, made]
        return made

    def stop_clients(self) -> None:
        for made in self.clients:
            made.stop_channels()
        self.clients = []


class KernelPool:
    """The kit's kernels for one process's runs, each used once: the next run's kernel starts while
    the current run finishes, and a used one stops without being waited for.

    :meth:`take` gives a started kernel for a run in ``cwd`` (the one started ahead, else a new
    one); :meth:`release` asks the used kernel to shut down and returns at once, starting the next
    run's kernel when ``more_runs()`` says another run is coming. A released kernel is reaped
    (waited for, killed after its manager's ``shutdown_wait_time``, 5 s, its sockets removed) by
    the next :meth:`take` or by :meth:`close`.
    """

    def __init__(self, more_runs: Callable[[], bool]) -> None:
        self.more_runs = more_runs
        self._ready: PooledKernelManager | None = None
        self._retiring: list[PooledKernelManager] = []

    def take(self, cwd: str) -> PooledKernelManager:
        """A started kernel whose working directory is ``cwd``."""
        self._reap()
        kernel, self._ready = self._ready, None
        if kernel is not None and kernel.cwd == cwd and run_sync(kernel.is_alive)():
            return kernel
        if kernel is not None:
            self._retire(kernel)
        return self._start(cwd)

    def release(self, kernel: PooledKernelManager) -> None:
        """Ask the used ``kernel`` to shut down and, if more runs are coming, start the next one."""
        self._retire(kernel)
        if self._ready is None and self.more_runs():
            self._ready = self._start(kernel.cwd)

    def close(self) -> None:
        """Stop every kernel of the pool, the one started ahead included, and wait for them."""
        if self._ready is not None:
            self._retire(self._ready)
            self._ready = None
        self._reap()

    @staticmethod
    def _start(cwd: str) -> PooledKernelManager:
        kernel = PooledKernelManager(kernel_name=KERNEL_NAME, cwd=cwd)
        run_sync(kernel.start_kernel)(cwd=cwd)
        return kernel

    def _retire(self, kernel: PooledKernelManager) -> None:
        kernel.stop_clients()
        run_sync(kernel.request_shutdown)()
        self._retiring.append(kernel)

    def _reap(self) -> None:
        for kernel in self._retiring:
            run_sync(kernel.finish_shutdown)()
            run_sync(kernel.cleanup_resources)()
        self._retiring = []
