"""The Jupyter kernel a batch run executes on: the kit's kernel spec and a socket-only manager."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid

from jupyter_client.manager import AsyncKernelManager
from traitlets import CaselessStrEnum, default

KERNEL_NAME = "dualalb-kit"
"""The Jupyter kernel the kit's notebooks run on (this environment's Python)."""


class LocalKernelManager(AsyncKernelManager):
    """Kernels on Unix sockets (IPC) rather than TCP: no port opens and no plain-text traffic.

    Each kernel's sockets live under a name of its own in the temporary directory and are
    removed when the kernel shuts down.
    """

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _unique_socket_prefix(self) -> str:
        return os.path.join(tempfile.gettempdir(), f"dualalb-kernel-{uuid.uuid4().hex}")


def ensure_kernel() -> str:
    """Install the kit's kernel spec into this environment unless it is there; returns its name."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(kernel_name=KERNEL_NAME, display_name="Python (dualalb-kit)", prefix=sys.prefix)
    return KERNEL_NAME
