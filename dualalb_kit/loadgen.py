"""The Locust side of :mod:`dualalb_kit.loadtest`, run as a child process by path, never imported.

Importing Locust monkey-patches the whole process for gevent (sockets, threads, time), so it runs
here, alone: ``python loadgen.py PLAN_JSON``. ``PLAN_JSON`` holds ``host`` (``scheme://host:port``),
``path``, ``rates`` (requests per second, one per step), ``step_seconds``, ``timeout_seconds`` (per
request) and ``cpu_pid`` (the process whose CPU to measure, or null). After each step it prints one
JSON line on stdout: ``target_rps``, ``seconds`` (the step's measured length), ``requests``,
``failures``, ``errors`` (5xx answers plus requests without an answer), ``p50_ms``, ``p99_ms``
(Locust's percentiles; null without requests) and ``cpu_percent`` (of one core; null when not
measured). It sends nothing but ``GET path`` to ``host``, never follows a redirect (a 3xx is an
answer), and stops after the last step; the parent may stop it earlier with SIGTERM.
"""

from __future__ import annotations

import json
import math
import random
import sys
from time import perf_counter

from .extras import missing_extra

try:
    import gevent
    from locust import task
    from locust.contrib.fasthttp import FastHttpUser
    from locust.env import Environment
except ModuleNotFoundError as error:
    raise missing_extra(error, "the load generator") from None

import psutil

SPAWN_RATE = 100
"""Users started per second when a step adds users (Locust warns above 100)."""
USER_RPS = 1.0
"""Requests per second one user sends at most: a step at R rps runs ceil(R / USER_RPS) users."""


class StepUser(FastHttpUser):
    """One simulated user: ``GET path`` every ``pace`` seconds, started at a random offset.

    ``pace`` and ``path`` are set on the class, for every user, before each step. The first request
    waits a random part of one pace so that users do not fire in lockstep; a user whose request
    takes longer than the pace goes on at once (it never catches up with bursts).
    """

    abstract = True
    path = "/"
    pace = 1.0

    def on_start(self) -> None:
        gevent.sleep(random.uniform(0.0, self.pace))
        self.next_start = perf_counter()

    def wait_time(self) -> float:
        self.next_start = max(self.next_start + self.pace, perf_counter())
        return self.next_start - perf_counter()

    @task
    def get(self) -> None:
        self.client.get(self.path)


class ErrorCounter:
    """Counts 5xx answers and requests without an answer (status 0) from Locust's request events."""

    def __init__(self) -> None:
        self.errors = 0

    def __call__(self, response=None, exception=None, **_) -> None:
        status = getattr(response, "status_code", 0) or 0
        if status >= 500 or (exception is not None and status == 0):
            self.errors += 1


class CpuMeter:
    """CPU seconds of a process and its children, to turn into a percentage of one core per step."""

    def __init__(self, pid: int | None) -> None:
        self.process = psutil.Process(pid) if pid else None

    def seconds(self) -> float:
        if self.process is None:
            return math.nan
        total = 0.0
        for process in [self.process, *self.process.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total


def run_plan(plan: dict) -> None:
    user = type(
        "User",
        (StepUser,),
        {
            "abstract": False,
            "host": plan["host"],
            "path": plan["path"],
            "network_timeout": plan["timeout_seconds"],
            "connection_timeout": plan["timeout_seconds"],
            "max_redirects": 0,
        },
    )
    environment = Environment(user_classes=[user], host=plan["host"])
    runner = environment.create_local_runner()
    counter = ErrorCounter()
    environment.events.request.add_listener(counter)
    cpu = CpuMeter(plan["cpu_pid"])
    for rate in plan["rates"]:
        users = math.ceil(rate / USER_RPS)
        user.pace = users / rate
        runner.start(users, SPAWN_RATE)
        runner.spawning_greenlet.join()
        environment.stats.reset_all()
        counter.errors = 0
        started, cpu_started = perf_counter(), cpu.seconds()
        gevent.sleep(plan["step_seconds"])
        seconds, total = perf_counter() - started, environment.stats.total
        cpu_percent = (cpu.seconds() - cpu_started) / seconds * 100.0
        step = {
            "target_rps": rate,
            "seconds": seconds,
            "requests": total.num_requests,
            "failures": total.num_failures,
            "errors": counter.errors,
            "p50_ms": total.get_response_time_percentile(0.5) if total.num_requests else None,
            "p99_ms": total.get_response_time_percentile(0.99) if total.num_requests else None,
            "cpu_percent": None if math.isnan(cpu_percent) else cpu_percent,
        }
        print(json.dumps(step), flush=True)
    runner.quit()


if __name__ == "__main__":
    run_plan(json.loads(sys.argv[1]))
