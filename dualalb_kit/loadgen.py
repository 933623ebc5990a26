"""The Locust side of :mod:`dualalb_kit.loadtest`, run as a child process by path, never imported.

Importing Locust monkey-patches the whole process for gevent (sockets, threads, time), so it runs
here, alone: ``python loadgen.py PLAN_JSON``. ``PLAN_JSON`` holds ``host`` (``scheme://host:port``),
``path``, ``timeout_seconds`` (per request), ``max_in_flight`` and ``cpu_pid`` (the process whose
CPU to measure, or null). The parent then sends one step a line on stdin, ``{"rate": R, "seconds":
S}``, and reads one JSON line per step on stdout; end of stdin ends the child.

**Open loop.** A step sends ``GET path`` on a fixed schedule: request ``k`` is due at
``start + k / R`` for every ``k / R < S``, whether or not earlier requests were answered, and each
runs in its own greenlet of one :class:`OpenLoopUser` (Locust's ``FastHttpUser`` with its
geventhttpclient pool, the pattern Locust documents for concurrent requests from one user). A
request's response time is measured from the time it was **due**, not from when it left, and it is
counted in the step it was due in; so a slow server cannot slow the client down and hide its own
queue (no coordinated omission), and a client that fell behind (a busy machine) shows as latency,
with ``late_ms`` saying how much of it was the client's. Locust's own users are closed loop (a user
waits for its answer before its wait time starts, whatever the ``wait_time``), and a
``LoadTestShape`` sets users, not arrivals: neither keeps a rate on a server that slows down.

After the step's ``S`` seconds the child waits until the step's requests are answered or time out
(``timeout_seconds``, plus 5 s for a slow body), so each step starts on a drained client and the
next line reports the whole step. At most ``max_in_flight`` requests are outstanding at once; a
request due beyond that is not sent and counts as unanswered (an error with the timeout as its
response time). Each line: ``target_rps``, ``seconds`` (the step's measured length), ``requests``
(due in the step, answered or not), ``failures``, ``errors`` (5xx answers plus requests without an
answer), ``p50_ms``, ``p99_ms`` (Locust's percentiles from the due time; null without requests),
``cpu_percent`` (of one core over the step; null when not measured) and ``late_ms`` (the 99th
percentile of how late the client sent a request). It sends nothing but ``GET path`` to ``host``
and never follows a redirect (a 3xx is an answer).
"""

from __future__ import annotations

import json
import math
import sys
from time import perf_counter

import psutil

try:
    import gevent
    from gevent.pool import Group
    from locust.contrib.fasthttp import FastHttpUser
    from locust.env import Environment
except ModuleNotFoundError as error:
    if not __package__:  # run by path: the parent checked for Locust; nothing of the kit to import
        raise
    from .extras import missing_extra

    raise missing_extra(error, "the load generator") from None

DRAIN_SLACK_SECONDS = 5.0
"""Beyond the request timeout, how long a step waits for its last answers (a body that trickles)."""


class ClientLimitError(Exception):
    """A request that was due while ``max_in_flight`` requests were outstanding: not sent.

    Never raised: Locust counts it as the request's failure. Not a ``DualAlbKitError``, as this
    script runs by path with nothing of the kit imported.
    """


class OpenLoopUser(FastHttpUser):
    """``GET path`` on a schedule, each request in its own greenlet, timed from when it was due.

    Never run by Locust's user loop: :func:`run_plan` calls :meth:`run_step` once per step.
    ``host``, ``path``, the timeouts and ``concurrency`` (the connection pool: ``max_in_flight``)
    are set on a subclass made per plan.
    """

    abstract = True
    path = "/"
    max_redirects = 0

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.client.request_event = FromDueTime(environment.events.request)
        self.lateness: list[float] = []

    def run_step(self, name: str, rate: float, seconds: float, cpu: CpuMeter) -> tuple[float, float, int]:
        """Send the step's requests on schedule, then wait for them: (the step's length in seconds,
        CPU seconds of the measured process in it, requests still unanswered after the wait)."""
        group = Group()
        self.lateness = []
        count = max(1, math.ceil(rate * seconds - 1e-9))
        cpu_started, start = cpu.seconds(), perf_counter()
        for k in range(count):
            due = start + k / rate
            delay = due - perf_counter()
            if delay > 0:
                gevent.sleep(delay)
            if len(group) >= self.concurrency:
                self.not_sent(name, due)
            else:
                group.spawn(self.send, name, due)
        gevent.sleep(max(0.0, start + seconds - perf_counter()))
        length, cpu_seconds = perf_counter() - start, cpu.seconds() - cpu_started
        group.join(timeout=self.network_timeout + DRAIN_SLACK_SECONDS)
        unfinished = len(group)
        group.kill(block=True, timeout=5)
        return length, cpu_seconds, unfinished

    def send(self, name: str, due: float) -> None:
        self.lateness.append(perf_counter() - due)
        self.client.get(self.path, name=name, context={"due": due})

    def not_sent(self, name: str, due: float) -> None:
        self.environment.events.request.fire(
            request_type="GET",
            name=name,
            response_time=self.network_timeout * 1000.0,
            response_length=0,
            response=None,
            context={"due": due},
            exception=ClientLimitError(f"{self.concurrency} requests outstanding: not sent"),
        )


class FromDueTime:
    """Locust's request event, with each request's response time counted from when it was due."""

    def __init__(self, event) -> None:
        self.event = event

    def fire(self, **meta) -> None:
        due = meta.get("context", {}).get("due")
        if due is not None:
            meta["response_time"] = (perf_counter() - due) * 1000.0
        self.event.fire(**meta)


class ErrorCounter:
    """Counts, per step name, 5xx answers and requests without an answer (status 0)."""

    def __init__(self) -> None:
        self.errors: dict[str, int] = {}

    def __call__(self, name: str = "", response=None, exception=None, **_) -> None:
        status = getattr(response, "status_code", 0) or 0
        if status >= 500 or (exception is not None and status == 0):
            self.errors[name] = self.errors.get(name, 0) + 1


class CpuMeter:
    """CPU seconds of a process and its children, to turn into a percentage of one core per step;
    NaN (not measured) once the process is gone (a server that restarted, HAProxy reloaded)."""

    def __init__(self, pid: int | None) -> None:
        try:
            self.process = psutil.Process(pid) if pid else None
        except psutil.NoSuchProcess:
            self.process = None

    def seconds(self) -> float:
        if self.process is None:
            return math.nan
        try:
            family = [self.process, *self.process.children(recursive=True)]
        except psutil.NoSuchProcess:
            return math.nan
        total = 0.0
        for process in family:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                if process is self.process:
                    return math.nan
                continue  # a child that exited: its time is in no one's count any more
            total += times.user + times.system
        return total


def run_plan(plan: dict, commands=sys.stdin) -> None:
    user_class = type(
        "User",
        (OpenLoopUser,),
        {
            "abstract": False,
            "host": plan["host"],
            "path": plan["path"],
            "network_timeout": plan["timeout_seconds"],
            "connection_timeout": plan["timeout_seconds"],
            "concurrency": plan["max_in_flight"],
        },
    )
    environment = Environment(user_classes=[user_class], host=plan["host"])
    environment.create_local_runner()  # its request listener fills environment.stats
    counter = ErrorCounter()
    environment.events.request.add_listener(counter)
    cpu = CpuMeter(plan["cpu_pid"])
    user = user_class(environment)
    for index, line in enumerate(commands):
        command = json.loads(line)
        name = f"step {index}"
        seconds, cpu_seconds, unfinished = user.run_step(name, command["rate"], command["seconds"], cpu)
        cpu_percent = cpu_seconds / seconds * 100.0
        entry = environment.stats.get(name, "GET") if (name, "GET") in environment.stats.entries else None
        requests = entry.num_requests if entry else 0
        late = sorted(user.lateness)
        step = {
            "target_rps": command["rate"],
            "seconds": seconds,
            "requests": requests + unfinished,
            "failures": (entry.num_failures if entry else 0) + unfinished,
            "errors": counter.errors.get(name, 0) + unfinished,
            "p50_ms": entry.get_response_time_percentile(0.5) if requests else None,
            "p99_ms": entry.get_response_time_percentile(0.99) if requests else None,
            "cpu_percent": None if math.isnan(cpu_percent) else cpu_percent,
            "late_ms": late[min(len(late) - 1, int(0.99 * len(late)))] * 1000.0 if late else None,
        }
        print(json.dumps(step), flush=True)
    environment.runner.quit()


if __name__ == "__main__":
    run_plan(json.loads(sys.argv[1]))
