"""The Jupyter kernel a batch run executes on: the kit's kernel spec and a socket-only manager."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid

from ..extras import missing_extra

try:
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, default
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
