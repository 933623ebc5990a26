"""Ctrl-C (or a notebook's stop button) during CDK work without breaking jsii.

aws-cdk-lib's Python API sends each call to jsii's Node process as one request on a pipe and reads
one answer. A ``KeyboardInterrupt`` raised while Python waits for that answer leaves it unread, and
the next call reads it as its own: a later synthesis then fails with ``'dict' object has no
attribute 'ref'`` or "should be created in the scope of a Stack", until the kernel restarts.

Inside :func:`interrupts_between_jsii_calls`, a SIGINT that arrives while a jsii call is in
progress (including the Python callbacks Node makes during it) is held until that call has
returned, then delivered there; one that arrives between calls is delivered at once. So an
interrupted synthesis stops within one jsii call, and the pipe stays in step for the next one.

The kit's own kernel (:mod:`dualalb_kit.kernel_app`) signals only itself on an interrupt, so Node
lives on; a SIGINT sent to the whole process group (a terminal's Ctrl-C) stops Node as well.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_CALLBACK_ANSWER = "sync_complete"
"""The provider call that answers a callback; its non-callback answer ends the call that asked."""


class _HoldingProvider:
    """jsii's kernel provider, counting the calls in progress and delivering a held SIGINT once
    none is. A call answered with a callback stays in progress until the callback's answer
    (``sync_complete``) is answered with a result or an error."""

    def __init__(self, inner: Any, deliver: Callable[[], None]) -> None:
        from jsii._kernel.types import Callback

        self.inner = inner
        self.in_progress = 0
        self.held = False
        self._deliver = deliver
        self._callback = Callback

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if not callable(method) or name.startswith("_"):
            return method
        answers_callback = name == _CALLBACK_ANSWER

        def call(*args: Any, **kwargs: Any) -> Any:
            self.in_progress += 1
            ended = 1  # this call
            try:
                response = method(*args, **kwargs)
                if isinstance(response, self._callback):
                    ended -= not answers_callback  # the call now waits for its callback's answer
                else:
                    ended += answers_callback  # and so does the call that asked for the callback
                return response
            except BaseException:
                ended += answers_callback
                raise
            finally:
                self.in_progress -= ended
                if self.in_progress == 0 and self.held:
                    self.held = False
                    self._deliver()

        return call


@contextmanager
def interrupts_between_jsii_calls() -> Iterator[None]:
    """Hold SIGINT while a jsii call is in progress and deliver it (to the handler in force before)
    right after; at once between calls. Nothing changes outside the main thread (only it gets
    signals), when jsii is already wrapped (nested use), when SIGINT is ignored (a Node started
    meanwhile inherits that) or when its handler was not set from Python (it could not be put back)."""
    from jsii._runtime import kernel

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if in_main else None
    if previous in (None, signal.SIG_IGN) or isinstance(kernel.provider, _HoldingProvider):
        yield
        return

    def deliver() -> None:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous == signal.SIG_DFL:  # stop the work, as Python's own handler would
            raise KeyboardInterrupt

    provider = _HoldingProvider(kernel.provider, deliver)

    def on_sigint(_signum: int, _frame: Any) -> None:
        if provider.in_progress:
            provider.held = True
        else:
            deliver()

    kernel.provider = provider
    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        kernel.provider = provider.inner
        if provider.held:  # arrived during a call that ended in an error
            deliver()
