"""What HAProxy (the sandbox's data plane) adds to a request's latency, on loopback.

Run: ``.venv/bin/python benchmarks/bench_haproxy.py [--rate 200] [--seconds 20]``

A trivial HTTP service (an asyncio server in its own process, answering ``ok`` with keep-alive)
is called at ``--rate`` requests a second for ``--seconds``, alternately directly and through
HAProxy (:class:`~dualalb_kit.sandbox.live.haproxy.HAProxy` serving one listener that forwards to
it, request logs on, as in the sandbox), so both see the same machine at the same moments. The
load is open-loop: each request leaves at its scheduled time on an idle kept-alive connection
(a new one when none is idle), whatever the earlier ones are doing, and its latency is counted
from the scheduled time, so a stall shows up in the latencies instead of slowing the schedule.
The first ``--warmup`` seconds are not counted.

Printed: median and p99 of both, the differences (the goal: HAProxy adds < 1 ms to the median and
< 5 ms to the p99), and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


async def serve() -> None:
    """The trivial service: prints its port, answers every request on a connection with ``ok``."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=256)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


class Route:
    """Kept-alive connections to one port, reused when idle, opened when none is."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.latencies_ms: list[float] = []
        self.errors = 0

    async def call(self, scheduled: float, counted: bool) -> None:
        loop = asyncio.get_running_loop()
        try:
            reader, writer = (
                self.idle.pop() if self.idle else await asyncio.open_connection("127.0.0.1", self.port)
            )
            writer.write(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            ok = head.startswith(b"HTTP/1.1 200")
        except (OSError, asyncio.IncompleteReadError, StopIteration):
            self.errors += counted
            return
        elapsed_ms = (loop.time() - scheduled) * 1000
        self.idle.append((reader, writer))
        if counted:
            if ok:
                self.latencies_ms.append(elapsed_ms)
            else:
                self.errors += 1


async def drive(routes: list[Route], rate: float, seconds: float, warmup: float) -> None:
    """Open loop: request ``i`` leaves at ``start + i / rate`` on ``routes[i % len(routes)]``."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    total = int((warmup + seconds) * rate)
    tasks = set()
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(routes[i % len(routes)].call(scheduled, counted=i >= warmup * rate))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    for route in routes:
        for _, writer in route.idle:
            writer.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests a second, both routes together")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return

    from dualalb_kit.sandbox.live.access_log import AccessLog
    from dualalb_kit.sandbox.live.haproxy import HAProxy, check_installed
    from dualalb_kit.sandbox.live.model import (
        Action,
        DataPlaneConfig,
        HealthCheck,
        Listener,
        Target,
        TargetGroup,
    )
    from dualalb_kit.sandbox.server import free_port

    binary = check_installed()
    version = subprocess.run([binary, "-v"], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    load_before = os.getloadavg()
    service = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    try:
        service_port = int(service.stdout.readline())
        group = TargetGroup(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/bench/0123456789abcdef",
            "bench",
            "HTTP",
            HealthCheck(),
            targets=(Target("127.0.0.1", service_port),),
        )
        listener = Listener(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/bench/1/2",
            "bench",
            80,
            "HTTP",
            free_port(),
            Action("forward", forwards=((group.arn, 1),)),
        )
        with AccessLog() as log, HAProxy() as proxy:
            proxy.start(DataPlaneConfig((listener,), (group,), log.port))
            direct, through = Route(service_port), Route(listener.local_port)
            began = time.perf_counter()
            asyncio.run(drive([direct, through], args.rate, args.seconds, args.warmup))
            wall = time.perf_counter() - began
            log.wait_for(len(through.latencies_ms) + through.errors + int(args.warmup * args.rate / 2), 5)
            logged = len(log.drain())
    finally:
        service.terminate()
        service.wait(timeout=10)
    load_after = os.getloadavg()

    print(
        f"{version}; {args.rate:g} requests/s for {args.seconds:g} s (+{args.warmup:g} s warm-up), "
        f"alternating direct / through HAProxy, open loop, {wall:.1f} s wall; {os.cpu_count()} CPUs, "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    rows = []
    for name, route in (("direct", direct), ("through HAProxy", through)):
        rows.append(
            (
                name,
                len(route.latencies_ms),
                route.errors,
                statistics.median(route.latencies_ms),
                percentile(route.latencies_ms, 0.99),
            )
        )
    print(f"  {'':<17} {'requests':>9} {'errors':>7} {'median ms':>10} {'p99 ms':>8}")
    for name, count, errors, median, p99 in rows:
        print(f"  {name:<17} {count:>9} {errors:>7} {median:>10.3f} {p99:>8.3f}")
    median_added = rows[1][3] - rows[0][3]
    p99_added = rows[1][4] - rows[0][4]
    print(
        f"  {'HAProxy adds':<17} {'':>9} {'':>7} {median_added:>10.3f} {p99_added:>8.3f}"
        f"   (goal: < 1 ms median {'met' if median_added < 1 else 'MISSED'}, "
        f"< 5 ms p99 {'met' if p99_added < 5 else 'MISSED'})"
    )
    print(f"  access log records received: {logged} (requests through HAProxy, warm-up included)")


if __name__ == "__main__":
    main()
