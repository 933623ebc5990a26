"""The sample service: one small HTTP service that answers as order, customer or product.

Its role and wiring come from the environment (defaults in brackets):

- ``serviceName`` the role it answers as [``sample``]; ``order`` also calls its dependencies
- ``versionNum`` the version it reports [``1.0``]
- ``PRODUCT_SVC_URL``, ``CUSTOMER_SVC_URL`` where order finds product and customer [unset: not called]
- ``DEPENDENCY_TIMEOUT`` seconds order waits for both dependencies together [``2``]
- ``WORK_MS`` CPU milliseconds each ``GET /`` spends computing, as real work would [``0``]; its
  thread's own CPU time, so a busy machine makes the request slower, not the work smaller
- ``HOST`` [``127.0.0.1``; the image sets ``0.0.0.0``], ``PORT`` [``8080``; ``0`` picks a free one]

``GET /`` answers one JSON object per line: its own line, then on order one line per dependency
(product, then customer), each either the dependency's own line or
``{"service": "product", "url": ..., "error": ...}``. Status 200, or 502 when a dependency failed.
``GET /health`` answers ``{"status": "ok", ...}`` for load-balancer health checks.
On start it prints ``<role> listening on http://HOST:PORT`` on stdout.
``python service.py healthcheck`` probes ``/health`` on ``PORT`` (the image's HEALTHCHECK).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic, thread_time

AGGREGATOR_ROLE = "order"
DEPENDENCIES = (("product", "PRODUCT_SVC_URL"), ("customer", "CUSTOMER_SVC_URL"))
"""(role, environment variable) of what the aggregator calls, in answer order."""

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Calls between services go straight to the URL, never through an HTTP proxy from the environment."""


def _compact(document: dict) -> str:
    return json.dumps(document, separators=(",", ":"))


def _describe_failure(error: BaseException, timeout: float) -> str:
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(reason, (TimeoutError, socket.timeout, FutureTimeout)):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, json.JSONDecodeError):
        return "answer is not JSON"
    return f"{type(reason).__name__}: {reason}"


def _fetch_first_line(url: str, timeout: float) -> dict:
    with _NO_PROXY.open(url, timeout=timeout) as response:
        first_line = response.read(64 * 1024).decode("utf-8", "replace").partition("\n")[0]
    return json.loads(first_line)


def fetch_dependencies(dependencies: list[tuple[str, str]], timeout: float) -> list[dict]:
    """Ask each ``(role, url)`` concurrently; wait at most ``timeout`` seconds for all of them.

    Returns one document per dependency, in the given order: the dependency's own first line,
    or ``{"service": role, "url": url, "error": reason}``.
    """
    if not dependencies:
        return []
    deadline = monotonic() + timeout
    executor = ThreadPoolExecutor(max_workers=len(dependencies), thread_name_prefix="dependency")
    futures = [executor.submit(_fetch_first_line, url, timeout) for _, url in dependencies]
    answers = []
    for (role, url), future in zip(dependencies, futures, strict=True):
        try:
            answers.append(future.result(timeout=max(0.0, deadline - monotonic())))
        except Exception as error:  # every failure becomes part of the answer
            answers.append({"service": role, "url": url, "error": _describe_failure(error, timeout)})
    executor.shutdown(wait=False, cancel_futures=True)
    return answers


def spend_cpu(seconds: float) -> None:
    """Compute for ``seconds`` of this thread's CPU time."""
    until = thread_time() + seconds
    while thread_time() < until:
        sum(range(200))


class SampleHandler(BaseHTTPRequestHandler):
    """``GET /`` and ``GET /health``; the role comes from the server's environment snapshot."""

    server_version = "dualalb-sample/1.0"
    sys_version = ""
    server: SampleServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.partition("?")[0]
        if path == "/health":
            self._reply(200, [{"status": "ok", "service": self.server.role}])
        elif path == "/":
            spend_cpu(self.server.work_seconds)
            own = {"service": self.server.role, "version": self.server.version}
            answers = fetch_dependencies(self.server.dependencies, self.server.dependency_timeout)
            failed = any("error" in answer for answer in answers)
            self._reply(502 if failed else 200, [own, *answers])
        else:
            self._reply(404, [{"service": self.server.role, "error": f"no such path: {path}"}])

    def _reply(self, status: int, documents: list[dict]) -> None:
        body = "".join(_compact(document) + "\n" for document in documents).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.path != "/health":  # health checks every few seconds would drown the log
            super().log_request(code, size)


class SampleServer(ThreadingHTTPServer):
    """A threading HTTP server (a thread per request) that carries the service's role and wiring.

    Its listen backlog is 128 (http.server's default is 5): under load, clients would otherwise
    wait out 1-second SYN retries, and a load test would measure the accept queue, not the service.
    """

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, environment: dict[str, str]) -> None:
        self.role = environment.get("serviceName", "sample")
        self.version = environment.get("versionNum", "1.0")
        self.dependency_timeout = float(environment.get("DEPENDENCY_TIMEOUT", "2"))
        self.work_seconds = float(environment.get("WORK_MS", "0")) / 1000.0
        self.dependencies = [
            (role, environment[variable])
            for role, variable in DEPENDENCIES
            if self.role == AGGREGATOR_ROLE and environment.get(variable)
        ]
        address = (environment.get("HOST", "127.0.0.1"), int(environment.get("PORT", "8080")))
        super().__init__(address, SampleHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def healthcheck(environment: dict[str, str]) -> int:
    """Probe ``/health`` on this machine's ``PORT``: 0 when it answers 200, else 1."""
    url = f"http://127.0.0.1:{environment.get('PORT', '8080')}/health"
    try:
        with _NO_PROXY.open(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


def serve(environment: dict[str, str]) -> None:
    """Serve until SIGTERM or Ctrl-C."""
    server = SampleServer(environment)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{server.role} listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str]) -> int:
    environment = dict(os.environ)
    if argv[1:] == ["healthcheck"]:
        return healthcheck(environment)
    if argv[1:]:
        print("usage: service.py [healthcheck]", file=sys.stderr)
        return 2
    serve(environment)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
