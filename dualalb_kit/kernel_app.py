"""The kit's Jupyter kernel: ipykernel whose IOPub publisher queues messages instead of dropping them.

ZeroMQ's publisher drops what exceeds its high-water mark (1,000 messages by default) while the
kernel's I/O thread has not yet passed them on. A cell that built the designer published 1,150
to 1,500 IOPub messages at once (a comm_open per widget, its layout and its style; 700-920 since
the designer's forms share layouts and styles, still close to the mark); on busy cores some were
dropped, and when the dropped ones were the cell's display or its idle status,
the notebook lost that output and a batch run waited out the IOPub timeout. With no mark, the
queue holds every message until the subscriber has it.

aws-cdk-lib's Python API talks to a Node process (jsii's) the kernel starts. Two defaults of
ipykernel would kill that process: an interrupt (JupyterLab's stop button, and jupyter_client's
first step of every shutdown) sends SIGINT to the kernel's whole process group, and at shutdown
ipykernel SIGTERMs its children. Node died mid-session (every later CDK call failed with "Broken
pipe" until a restart), jsii's temporary folders (2.4 MB a kernel) stayed in ``/tmp``, and a
shutdown took 2.6 s instead of 0.3 s (the kernel waited on its dead child until the kernel
manager SIGTERMed the kernel too). So the kit's kernel is interrupted by message (its kernel
spec says ``interrupt_mode: message``), signals only itself on an interrupt, and at shutdown
stops jsii's Node the way jsii does at exit.

Started by the ``dualalb-kit`` kernel spec as ``python -m dualalb_kit.kernel_app -f FILE``.
"""

from __future__ import annotations

import os
import signal

from .extras import missing_extra

try:
    import zmq
    from ipykernel.ipkernel import IPythonKernel
    from ipykernel.kernelapp import IPKernelApp
except ModuleNotFoundError as error:
    raise missing_extra(error, "the kit's Jupyter kernel") from None

from .runtime import stop_jsii


class KitKernel(IPythonKernel):
    """``IPythonKernel`` that keeps jsii's Node process out of interrupts and stops it first at
    shutdown."""

    def _send_interrupt_children(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the running cell stops; Node and its work go on

    def do_shutdown(self, restart: bool) -> dict:
        stop_jsii()
        return super().do_shutdown(restart)


class KitKernelApp(IPKernelApp):
    """``IPKernelApp`` running :class:`KitKernel`, with an unbounded IOPub send queue (``SNDHWM`` 0)."""

    kernel_class = KitKernel

    def init_iopub(self, context: zmq.Context) -> None:
        context.setsockopt(zmq.SNDHWM, 0)  # the default for the sockets made from here on
        super().init_iopub(context)


if __name__ == "__main__":
    KitKernelApp.launch_instance()
