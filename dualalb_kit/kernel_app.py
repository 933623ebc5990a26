"""The kit's Jupyter kernel: ipykernel whose IOPub publisher queues messages instead of dropping them.

ZeroMQ's publisher drops what exceeds its high-water mark (1,000 messages by default) while the
kernel's I/O thread has not yet passed them on. A cell that builds the designer publishes 1,150
to 1,500 IOPub messages at once (a comm_open per widget, its layout and its style); on busy
cores some were dropped, and when the dropped ones were the cell's display or its idle status,
the notebook lost that output and a batch run waited out the IOPub timeout. With no mark, the
queue holds every message until the subscriber has it.

Started by the ``dualalb-kit`` kernel spec as ``python -m dualalb_kit.kernel_app -f FILE``.
"""

from __future__ import annotations

import zmq
from ipykernel.kernelapp import IPKernelApp


class KitKernelApp(IPKernelApp):
    """``IPKernelApp`` with an unbounded IOPub send queue (``SNDHWM`` 0)."""

    def init_iopub(self, context: zmq.Context) -> None:
        context.setsockopt(zmq.SNDHWM, 0)  # the default for the sockets made from here on
        super().init_iopub(context)


if __name__ == "__main__":
    KitKernelApp.launch_instance()
