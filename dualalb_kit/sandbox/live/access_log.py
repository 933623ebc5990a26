"""HAProxy's request log: the log format the configuration asks for, and :class:`AccessLog`, which
receives the lines (syslog over TCP on 127.0.0.1) and turns them into :class:`Record` values."""

from __future__ import annotations

import contextlib
import re
import socketserver
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from .haproxy_names import FAIL_OPEN_PREFIX

# One log line per request, fields separated by one space; none of them can contain a space
# (names are sanitized, <NOSRV> and the termination state have none).
_LOG_FIELDS = "%Ts.%ms %f %b %s {status} {response} {total} %B %U %ts"
HTTP_LOG_FORMAT = _LOG_FIELDS.format(status="%ST", response="%Tr", total="%Ta")
TCP_LOG_FORMAT = _LOG_FIELDS.format(status="-", response="-1", total="%Tt")


@dataclass(frozen=True)
class Record:
    """One request (or, on an NLB, one TCP flow) as HAProxy logged it."""

    time: datetime
    """When HAProxy accepted the request (UTC, millisecond resolution; on a keep-alive connection,
    when the connection became ready for this request)."""
    listener: str
    """HAProxy's frontend name (``<load balancer>:<port>``); :meth:`.haproxy_names.Names.listener_arn`
    maps it."""
    target_group: str | None
    """HAProxy's backend name (:meth:`.haproxy_names.Names.target_group_arn` maps it), or None when
    the listener answered itself (redirect, fixed response)."""
    server: str | None
    """The target, ``host:port``, or None when no target was reached (HAProxy's ``<NOSRV>``)."""
    status: int | None
    """HTTP status sent to the client; None for TCP flows."""
    response_ms: float | None
    """Milliseconds from the request sent to the target to its response headers received
    (HAProxy's ``Tr``, ALB's TargetResponseTime); None when no target answered. 1 ms resolution."""
    total_ms: float
    """Milliseconds from the request received to the last byte of the response sent (``Ta``); for
    TCP, the whole flow (``Tt``). 1 ms resolution."""
    bytes: int
    """Bytes sent to the client (response headers and body)."""
    request_bytes: int
    """Bytes received from the client (request headers and body)."""
    termination_state: str
    """HAProxy's termination state: ``--`` normal, ``SC`` target refused, ``sH`` target timed out,
    ``LR`` answered by HAProxy itself, ``CD`` client went away, ..."""
    from_haproxy: bool
    """True for HAProxy's own 502/503/504 (no target, connection refused, timeout, bad answer),
    the ALB's ``HTTPCode_ELB_5XX``; False for a target's 5XX passed through."""


_LINE = re.compile(
    r"(?P<seconds>\d+)\.(?P<ms>\d{3}) (?P<frontend>\S+) (?P<backend>\S+) (?P<server>\S+) "
    r"(?P<status>-?\d+|-) (?P<response>-?\d+) (?P<total>-?\d+) (?P<bytes>\d+) (?P<request>\d+) "
    r"(?P<state>[A-Za-z-]{2,4})\s*$"
)


def parse_line(line: str) -> Record | None:
    """A :class:`Record` from one syslog line HAProxy sent (RFC 3164 or 5424 framing, the message
    in this module's log format), or None for anything else (HAProxy's notices)."""
    message = re.sub(r"^<\d{1,3}>", "", line.strip())
    if "]: " in message:
        message = message.split("]: ", 1)[1]
    match = _LINE.match(message) or _LINE.search(message)
    if match is None:
        return None
    fields = match.groupdict()
    status = None if fields["status"] == "-" or int(fields["status"]) < 0 else int(fields["status"])
    response = int(fields["response"])
    server = None if fields["server"] == "<NOSRV>" else fields["server"].removeprefix(FAIL_OPEN_PREFIX)
    state = fields["state"]
    return Record(
        time=datetime.fromtimestamp(int(fields["seconds"]) + int(fields["ms"]) / 1000, tz=UTC),
        listener=fields["frontend"],
        target_group=None if fields["backend"] == fields["frontend"] else fields["backend"],
        server=server,
        status=status,
        response_ms=float(response) if response >= 0 else None,
        total_ms=float(max(int(fields["total"]), 0)),
        bytes=int(fields["bytes"]),
        request_bytes=int(fields["request"]),
        termination_state=state,
        from_haproxy=status in (502, 503, 504) and (response < 0 or state[:1] in set("SsPRIDUK")),
    )


class AccessLog:
    """A syslog receiver on ``127.0.0.1:<port>`` (a free port unless given) in a thread, for
    HAProxy's request logs: :meth:`drain` hands over the :class:`Record` values that arrived.

    HAProxy forwards its log ring over TCP (syslog over TCP, one line a message), one connection
    per worker (an old worker of a reload keeps its own until it leaves), so no record is lost
    to a full UDP buffer and HAProxy binds no socket beyond loopback for it.

    >>> with AccessLog() as log:  # doctest: +SKIP
    ...     config = DataPlaneConfig(listeners, groups, log_port=log.port)
    """

    def __init__(self, port: int = 0) -> None:
        self._records: list[Record] = []
        self._arrived = threading.Condition()
        self.unparsed = 0
        """Lines that were not request records (HAProxy's notices)."""
        receiver = self

        class Lines(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(ConnectionError):  # a worker that leaves at a reload
                    for line in self.rfile:
                        receiver._take(line.decode(errors="replace"))

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            block_on_close = False
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", port), Lines)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"haproxy-log-{self.port}"
        )
        self._thread.daemon = True
        self._thread.start()

    def _take(self, line: str) -> None:
        record = parse_line(line)
        with self._arrived:
            if record is None:
                self.unparsed += 1 if line.strip() else 0
            else:
                self._records.append(record)
                self._arrived.notify_all()

    def drain(self) -> list[Record]:
        """The records that arrived since the last call, oldest first."""
        with self._arrived:
            records, self._records = self._records, []
        return records

    def wait_for(self, count: int, timeout_s: float = 10.0) -> bool:
        """Wait until at least ``count`` records are waiting to be drained; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while len(self._records) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
        return True

    def close(self) -> None:
        """Stop listening (connections HAProxy still holds end when HAProxy stops)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> AccessLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
