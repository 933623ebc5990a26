"""Progress of a CDK CLI run: its resource-event lines parsed into a tqdm bar.

The CLI prints one line per CloudFormation stack event while it deploys or destroys::

    dualalb-sample |  3/25 | 12:00:01 PM | CREATE_COMPLETE      | AWS::EC2::VPC | Vpc
    dualalb-sample |     4 | 12:00:09 PM | DELETE_COMPLETE      | AWS::ECS::Cluster | Cluster

(``done/total`` while deploying, a running count while destroying). ``parse_event`` reads such
a line; ``ProgressBar`` moves a ``tqdm.auto`` bar with them, which is a text bar in a terminal
and an ipywidgets bar in a notebook.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from tqdm.auto import tqdm
from tqdm.notebook import tqdm as notebook_tqdm

_EVENT_LINE = re.compile(
    r"^(?P<stack>[^\s|]+)\s*\|"
    r"(?:\s*(?P<done>\d+)(?:/(?P<total>\d+))?\s*\|)?"
    r"\s*(?P<time>[^|]+?)\s*\|"
    r"\s*(?P<status>[A-Z_]+)\s*\|"
    r"\s*(?P<type>\S+)\s*\|"
    r"\s*(?P<logical_id>\S+)\s?(?P<reason>.*)$"
)


@dataclass(frozen=True)
class ResourceEvent:
    """One stack event as the CLI printed it. ``done``/``total`` are ``None`` where not printed;
    ``status`` may be cut short by the CLI's column width (``UPDATE_ROLLBACK_COMPLET``)."""

    stack: str
    status: str
    resource_type: str
    logical_id: str
    reason: str = ""
    done: int | None = None
    total: int | None = None


def parse_event(line: str) -> ResourceEvent | None:
    """The resource event on a line of CLI output, or ``None`` for any other line."""
    match = _EVENT_LINE.match(line.strip())
    if match is None:
        return None
    return ResourceEvent(
        stack=match["stack"],
        status=match["status"],
        resource_type=match["type"],
        logical_id=match["logical_id"],
        reason=match["reason"].strip(),
        done=int(match["done"]) if match["done"] else None,
        total=int(match["total"]) if match["total"] else None,
    )


class ProgressBar:
    """A tqdm bar over resources, moved by ``ResourceEvent``s; ``enabled=False`` shows nothing.

    The bar is drawn in a notebook or on a terminal; when stderr is a pipe or a file (CI logs),
    the stage gets one line on stderr when it ends instead of a stream of ``\\r`` updates.
    ``total`` is the expected number of events counted (the CLI's own total replaces it when
    printed). Use as a context manager, or call ``close()``; call ``finish()`` first when the
    stage succeeded, else a bar short of its total ends red.
    """

    def __init__(self, description: str, total: int | None = None, *, enabled: bool = True) -> None:
        drawn = enabled and (issubclass(tqdm, notebook_tqdm) or sys.stderr.isatty())
        self._line = enabled and not drawn
        self._bar = tqdm(total=total, desc=description, unit="resource", disable=not drawn, leave=True)
        self._description, self._total, self._done = description, total, 0
        if drawn and isinstance(self._bar, notebook_tqdm):
            _one_line(self._bar.container)

    def update(self, event: ResourceEvent) -> None:
        self._total = event.total if event.total is not None else self._total
        self._done = max(self._done, event.done or 0)
        if event.total is not None and event.total != self._bar.total:
            self._bar.total = event.total
        if event.done is not None and event.done > self._bar.n:
            self._bar.update(event.done - self._bar.n)
        self._bar.set_postfix_str(f"{event.status} {event.logical_id}", refresh=True)

    def finish(self) -> None:
        """The stage succeeded: the bar ends full (green in a notebook), however many of the
        resources it counted the CLI printed an event for (bootstrap prints 12 of 15)."""
        if self._bar.total and self._bar.n < self._bar.total:
            self._bar.update(self._bar.total - self._bar.n)
        self._done = self._total or self._done

    def close(self) -> None:
        if self._line:
            total = f"/{self._total}" if self._total else ""
            print(f"{self._description}: {self._done}{total} resources", file=sys.stderr, flush=True)
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _one_line(container) -> None:
    """Keep a notebook bar on one line: its label (``deploy dualalb-sample: 80%``) never shrinks,
    so it never wraps at the stack name's hyphen; the event after the bar takes the rest of the
    width and is cut, not wrapped, when it is longer."""
    label, _, postfix = container.children
    label.layout.flex = "0 0 auto"
    postfix.layout.flex = "1 1 0"
    postfix.layout.min_width = "0"
    postfix.layout.overflow = "hidden"
