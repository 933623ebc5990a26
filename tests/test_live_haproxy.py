"""HAProxy as the sandbox's data plane: real HAProxy processes on 127.0.0.1 in front of tiny real
HTTP servers (threads of this process, each answering its own name), requests sent over loopback.

Needs Debian's ``haproxy`` (``/usr/sbin/haproxy``) and fails, saying what to install, without it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import signal
import socket
import ssl
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from dualalb_kit.errors import DataPlaneError, DualAlbKitError
from dualalb_kit.sandbox.live.access_log import AccessLog
from dualalb_kit.sandbox.live.certificate import issue_certificate
from dualalb_kit.sandbox.live.haproxy import HAProxy, check_installed
from dualalb_kit.sandbox.live.haproxy_config import render_config
from dualalb_kit.sandbox.live.model import (
    Action,
    Condition,
    DataPlaneConfig,
    HealthCheck,
    Listener,
    Rule,
    Target,
    TargetGroup,
)
from dualalb_kit.sandbox.server import free_port

pytestmark = pytest.mark.live

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
FAST_CHECKS = HealthCheck(
    path="/health", interval_s=1, timeout_s=1, healthy_threshold=2, unhealthy_threshold=2
)


@pytest.fixture(scope="module", autouse=True)
def haproxy_installed():
    """Fails every test of the module with the one-line install hint when HAProxy is missing."""
    check_installed()


class App:
    """A tiny HTTP target on 127.0.0.1: answers ``{"target": name, ...}`` as JSON, ``/health``
    with ``health_status``, ``/status/<code>`` with that code, ``/sleep/<seconds>`` that much later;
    counts what it served."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.health_status = 200
        self.served: Counter[str] = Counter()
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once on a kept-alive connection

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path == "/health":
                    status, body = app.health_status, b"health"
                else:
                    app.served[self.path] += 1
                    if self.path.startswith("/sleep/"):
                        time.sleep(float(self.path.split("/")[2]))
                    status = int(self.path.split("/")[2]) if self.path.startswith("/status/") else 200
                    body = json.dumps(
                        {
                            "target": app.name,
                            "path": self.path,
                            "forwarded_proto": self.headers.get("X-Forwarded-Proto"),
                            "forwarded_port": self.headers.get("X-Forwarded-Port"),
                            "forwarded_for": self.headers.get("X-Forwarded-For"),
                        }
                    ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # HAProxy closing a kept-alive connection at its stop is not news

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.target = Target("127.0.0.1", self.port)
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def apps():
    """``apps("a", "b")``: started targets, stopped after the test."""
    started: list[App] = []

    def make(*names: str) -> list[App]:
        new = [App(name) for name in names]
        started.extend(new)
        return new

    yield make
    for app in started:
        app.close()


@pytest.fixture
def access_log():
    with AccessLog() as log:
        yield log


@pytest.fixture
def proxy():
    with HAProxy() as running:
        yield running


def group(name: str, *apps: App, check: HealthCheck = FAST_CHECKS, protocol: str = "HTTP") -> TargetGroup:
    return TargetGroup(
        f"{ARN}:targetgroup/{name}/0123456789abcdef",
        name,
        protocol,
        check,
        300,
        tuple(app.target for app in apps),
    )


def forward(*pairs: tuple[TargetGroup, int]) -> Action:
    return Action("forward", forwards=tuple((tg.arn, weight) for tg, weight in pairs))


def listener(
    name: str, port: int, default: Action, *rules: Rule, protocol: str = "HTTP", lb: str = "ext"
) -> Listener:
    return Listener(f"{ARN}:listener/app/{lb}/1/{name}", lb, port, protocol, free_port(), default, rules)


def get(port: int, path: str = "/", host: str | None = None, ca_file: Path | None = None):
    """One request on a new connection: (status, JSON body or text, headers); over TLS verified
    against ``ca_file`` (host name 127.0.0.1) when it is given."""
    if ca_file:
        context = ssl.create_default_context(cafile=str(ca_file))
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host} if host else {})
        response = connection.getresponse()
        body = response.read().decode()
        with contextlib.suppress(ValueError):
            body = json.loads(body)
        return response.status, body, response.headers
    finally:
        connection.close()


def target_of(port: int, path: str = "/", host: str | None = None) -> str:
    status, body, _ = get(port, path, host)
    assert status == 200, (path, host, status, body)
    return body["target"]


def poll(condition, timeout_s: float, interval_s: float = 0.05):
    """Poll ``condition`` until it returns something truthy; that value, or None on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval_s)
    return None


def haproxy_processes(folder: Path) -> list[psutil.Process]:
    """Running (not zombie) haproxy processes started with a configuration in ``folder``."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        if process.info["name"] == "haproxy" and process.info["status"] != psutil.STATUS_ZOMBIE:
            if any(str(folder) in part for part in process.info["cmdline"] or ()):
                found.append(process)
    return found


# --- routing --------------------------------------------------------------------------------


def test_rules_route_requests_by_priority_host_and_path(proxy, access_log, apps, tmp_path):
    api, web, shop, fallback = apps("api", "web", "shop", "fallback")
    groups = [group("api", api), group("web", web), group("shop", shop), group("fallback", fallback)]
    tg_api, tg_web, tg_shop, tg_fallback = groups
    https = listener("https", 443, forward((tg_web, 1)), protocol="HTTPS")
    other_http = listener("http81", 81, forward((tg_shop, 1)))
    body = 'teapot "#1" costs $5 \\ 100%\nline two é'
    main = listener(
        "http",
        80,
        forward((tg_fallback, 1)),
        # listed out of order: priority decides
        Rule(20, (Condition("path-pattern", ("/both/x",)),), forward((tg_api, 1))),
        Rule(10, (Condition("path-pattern", ("/both/*",)),), forward((tg_web, 1))),
        Rule(
            1,
            (Condition("host-header", ("API.example.com",)), Condition("path-pattern", ("/v?/*",))),
            forward((tg_api, 1)),
        ),
        Rule(2, (Condition("path-pattern", ("/static/*", "*.css")),), forward((tg_web, 1))),
        Rule(3, (Condition("host-header", ("*.shop.test", "shop-?.example.org")),), forward((tg_shop, 1))),
        Rule(
            4,
            (Condition("path-pattern", ("/teapot",)),),
            Action(
                "fixed-response",
                fixed_response={"StatusCode": "418", "ContentType": "text/plain", "MessageBody": body},
            ),
        ),
        Rule(
            5,
            (Condition("path-pattern", ("/empty",)),),
            Action("fixed-response", fixed_response={"StatusCode": "204"}),
        ),
        Rule(
            6,
            (Condition("path-pattern", ("/old/*",)),),
            Action(
                "redirect",
                redirect={
                    "Protocol": "HTTPS",
                    "Port": "443",
                    "Path": "/new/#{path}",
                    "StatusCode": "HTTP_301",
                },
            ),
        ),
        Rule(7, (Condition("path-pattern", ("/moved",)),), Action("redirect", redirect={"Port": "81"})),
    )
    certificate = issue_certificate(tmp_path / "tls", "us-east-1")
    config = DataPlaneConfig(
        (main, https, other_http), tuple(groups), access_log.port, str(certificate.server_pem)
    )
    proxy.start(config)
    port = main.local_port

    # host-header: case-insensitive, port ignored, ELB wildcards; ANDed with the path condition
    assert target_of(port, "/v1/users", "api.EXAMPLE.com:8080") == "api"
    assert target_of(port, "/v10/users", "api.example.com") == "fallback"  # ? is exactly one character
    assert target_of(port, "/v1/users", "other.example.com") == "fallback"  # both conditions must hold
    assert target_of(port, "/", "a.b.shop.test") == "shop"
    assert target_of(port, "/", "shop.test") == "fallback"  # "*." needs the dot
    assert target_of(port, "/", "shop-7.example.org") == "shop"
    # path-pattern: values ORed, case-sensitive, on the path without the query string
    assert target_of(port, "/static/app.js") == "web"
    assert target_of(port, "/css/site.css") == "web"
    assert target_of(port, "/STATIC/app.js") == "fallback"
    assert target_of(port, "/static/a?next=/v1/x") == "web"
    assert target_of(port, "/page?x=/static/") == "fallback"
    # the lower priority number wins when both rules match
    assert target_of(port, "/both/x") == "web"
    # fixed responses, byte for byte
    status, text, headers = get(port, "/teapot")
    assert (status, text, headers["Content-Type"]) == (418, body, "text/plain")
    status, text, _ = get(port, "/empty")
    assert (status, text) == (204, "")
    # redirects: a port of another listener of the same load balancer is its loopback port
    status, _, headers = get(port, "/old/a/b?x=1&y=2", "site.test:9999")
    assert status == 301
    assert headers["Location"] == f"https://site.test:{https.local_port}/new/old/a/b?x=1&y=2"
    status, answer, _ = get(https.local_port, "/new/old/a/b?x=1&y=2", ca_file=certificate.ca_file)
    assert (status, answer["target"], answer["forwarded_proto"], answer["forwarded_port"]) == (
        200,
        "web",
        "https",
        "443",
    )
    status, _, headers = get(port, "/moved", "site.test")
    assert (status, headers["Location"]) == (302, f"http://site.test:{other_http.local_port}/moved")
    status, _, headers = get(port, "/moved?q=1", "site.test")
    assert headers["Location"] == f"http://site.test:{other_http.local_port}/moved?q=1"
    # what ALB adds to a forwarded request
    _, answer, _ = get(port, "/anything")
    assert (answer["forwarded_proto"], answer["forwarded_port"], answer["forwarded_for"]) == (
        "http",
        "80",
        "127.0.0.1",
    )


def test_a_canary_weight_of_ten_percent_gets_ten_percent(proxy, access_log, apps):
    stable, canary, idle = apps("stable", "canary", "idle")
    groups = (group("stable", stable), group("canary", canary), group("idle", idle))
    main = listener(
        "http",
        80,
        forward((groups[0], 90), (groups[1], 10), (groups[2], 0)),
        Rule(1, (Condition("path-pattern", ("/off",)),), forward((groups[0], 0), (groups[1], 0))),
    )
    proxy.start(DataPlaneConfig((main,), groups, access_log.port))
    assert get(main.local_port, "/off")[0] == 503  # every weight 0: no target gets it
    connection = http.client.HTTPConnection("127.0.0.1", main.local_port, timeout=10)
    answers: Counter[str] = Counter()
    for _ in range(1000):
        connection.request("GET", "/")
        answers[json.loads(connection.getresponse().read())["target"]] += 1
    connection.close()
    assert sum(answers.values()) == 1000
    assert abs(answers["canary"] / 1000 - 0.10) <= 0.03, answers
    assert answers["stable"] == 1000 - answers["canary"]
    assert answers["idle"] == 0


# --- health checks --------------------------------------------------------------------------


def test_a_failing_target_leaves_the_rotation_and_comes_back(proxy, access_log, apps):
    good, flaky = apps("good", "flaky")
    tg = group("service", good, flaky)
    main = listener("http", 80, forward((tg, 1)))
    proxy.start(DataPlaneConfig((main,), (tg,), access_log.port))
    check = FAST_CHECKS
    slack_s = 3.0

    def state(app: App) -> str:
        return proxy.server_states()[(tg.arn, app.address)]

    assert poll(
        lambda: state(good) == "UP" and state(flaky) == "UP",
        check.healthy_threshold * check.interval_s + slack_s,
    )
    assert {target_of(main.local_port) for _ in range(10)} == {"good", "flaky"}

    flaky.health_status = 500
    assert poll(lambda: state(flaky) == "DOWN", check.unhealthy_threshold * check.interval_s + slack_s)
    assert state(good) == "UP"
    assert {target_of(main.local_port) for _ in range(20)} == {"good"}
    proxy.reload(DataPlaneConfig((main, listener("other", 81, forward((tg, 1)))), (tg,), access_log.port))
    assert state(flaky) == "DOWN"  # health states survive a reload
    assert {target_of(main.local_port) for _ in range(10)} == {"good"}

    flaky.health_status = 200
    assert poll(lambda: state(flaky) == "UP", check.healthy_threshold * check.interval_s + slack_s)
    assert {target_of(main.local_port) for _ in range(10)} == {"good", "flaky"}

    # fail-open, as ELBv2: with no healthy target left, every target gets requests again
    good.health_status = flaky.health_status = 503
    assert poll(
        lambda: state(good) == state(flaky) == "DOWN", check.unhealthy_threshold * check.interval_s + slack_s
    )
    assert {target_of(main.local_port) for _ in range(10)} == {"good", "flaky"}


def test_drain_stops_new_requests_to_a_target(proxy, access_log, apps):
    staying, leaving = apps("staying", "leaving")
    tg = group("service", staying, leaving)
    main = listener("http", 80, forward((tg, 1)))
    proxy.start(DataPlaneConfig((main,), (tg,), access_log.port))
    proxy.drain(tg.arn, leaving.address)
    assert proxy.server_states()[(tg.arn, leaving.address)] == "DRAIN"
    assert {target_of(main.local_port) for _ in range(10)} == {"staying"}
    proxy.reload(DataPlaneConfig((main, listener("other", 81, forward((tg, 1)))), (tg,), access_log.port))
    assert proxy.server_states()[(tg.arn, leaving.address)] == "DRAIN"  # kept, as health states are
    assert {target_of(main.local_port) for _ in range(10)} == {"staying"}


# --- access log -------------------------------------------------------------------------------


def test_the_access_log_records_every_request(proxy, access_log, apps):
    (app,) = apps("app")
    tg, empty = group("app", app), group("nobody")
    main = listener(
        "http",
        80,
        forward((tg, 1)),
        Rule(1, (Condition("path-pattern", ("/none",)),), forward((empty, 1))),
        Rule(
            2,
            (Condition("path-pattern", ("/fixed",)),),
            Action("fixed-response", fixed_response={"StatusCode": "200"}),
        ),
    )
    tcp_group = group("app-tcp", app, protocol="TCP")
    nlb = listener("tcp", 7000, forward((tcp_group, 1)), protocol="TCP", lb="net")
    config = DataPlaneConfig((main, nlb), (tg, empty, tcp_group), access_log.port)
    began = dt.datetime.now(dt.UTC)
    proxy.start(config)
    sent: Counter[tuple[str, int]] = Counter()
    for _ in range(30):
        sent["/", get(main.local_port, "/")[0]] += 1
    for _ in range(5):
        sent["/status/503", get(main.local_port, "/status/503")[0]] += 1
    for _ in range(4):
        sent["/none", get(main.local_port, "/none")[0]] += 1
    for _ in range(3):
        sent["/fixed", get(main.local_port, "/fixed")[0]] += 1
    for _ in range(2):
        assert get(nlb.local_port, "/over-tcp")[0] == 200
    assert sent == {("/", 200): 30, ("/status/503", 503): 5, ("/none", 503): 4, ("/fixed", 200): 3}

    expected = sum(sent.values()) + 2
    assert access_log.wait_for(expected, timeout_s=10)
    assert not access_log.wait_for(expected + 1, timeout_s=1)  # exactly the requests sent
    records = access_log.drain()
    ended = dt.datetime.now(dt.UTC)
    assert len(records) == expected
    assert all(began - dt.timedelta(seconds=1) <= record.time <= ended for record in records)
    frontend, backend = proxy.names.frontends[main.arn], proxy.names.backends[tg.arn]
    assert proxy.names.listener_arn(frontend) == main.arn and proxy.names.target_group_arn(backend) == tg.arn

    answered = [r for r in records if r.target_group == backend]
    assert Counter(r.status for r in answered) == {200: 30, 503: 5}
    for record in answered:
        assert record.listener == frontend and record.server == app.address
        assert record.response_ms is not None and 0 <= record.response_ms <= record.total_ms < 5000
        assert record.bytes > 0 and record.request_bytes > 0
        assert not record.from_haproxy  # the target's own 503 too
    nobody = [r for r in records if r.target_group == proxy.names.backends[empty.arn]]
    assert len(nobody) == 4
    assert all(
        r.status == 503 and r.from_haproxy and r.server is None and r.response_ms is None for r in nobody
    )
    fixed = [r for r in records if r.target_group is None and r.listener == frontend]
    assert len(fixed) == 3
    assert all(r.status == 200 and not r.from_haproxy and r.server is None for r in fixed)
    flows = [r for r in records if r.listener == proxy.names.frontends[nlb.arn]]
    assert len(flows) == 2
    assert all(r.status is None and r.server == app.address and r.bytes > 0 for r in flows)


# --- reloads and the process --------------------------------------------------------------------


def test_a_reload_under_load_drops_no_request(proxy, access_log, apps):
    first, second = apps("first", "second")
    tg_first, tg_second = group("first", first), group("second", second)
    main = listener("http", 80, forward((tg_first, 1)))
    proxy.start(DataPlaneConfig((main,), (tg_first, tg_second), access_log.port))
    stop = threading.Event()
    results: dict[str, Counter] = {"fresh": Counter(), "keep-alive": Counter()}

    def client(kind: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", main.local_port, timeout=10)
        while not stop.is_set():
            try:
                if kind == "fresh":
                    connection.close()
                connection.request("GET", "/")
                response = connection.getresponse()
                response.read()
                results[kind][response.status] += 1
            except (OSError, http.client.HTTPException) as error:
                results[kind][type(error).__name__] += 1
                connection.close()
            time.sleep(0.005)
        connection.close()

    clients = [threading.Thread(target=client, args=(kind,)) for kind in results]
    for thread in clients:
        thread.start()
    try:
        assert poll(lambda: all(sum(counts.values()) >= 20 for counts in results.values()), 10)
        extra = listener("extra", 8080, forward((tg_second, 1)))
        rule = Rule(1, (Condition("path-pattern", ("/second/*",)),), forward((tg_second, 1)))
        main_with_rule = Listener(
            main.arn,
            main.load_balancer,
            main.port,
            main.protocol,
            main.local_port,
            main.default_action,
            (rule,),
        )
        proxy.reload(DataPlaneConfig((main_with_rule, extra), (tg_first, tg_second), access_log.port))
        seen = {kind: sum(counts.values()) for kind, counts in results.items()}
        assert poll(lambda: all(sum(results[kind].values()) >= seen[kind] + 20 for kind in results), 10)
        proxy.reload(DataPlaneConfig((main_with_rule,), (tg_first, tg_second), access_log.port))
        seen = {kind: sum(counts.values()) for kind, counts in results.items()}
        assert poll(lambda: all(sum(results[kind].values()) >= seen[kind] + 20 for kind in results), 10)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=15)
    assert all(set(counts) == {200} for counts in results.values()), results
    assert target_of(main.local_port, "/second/x") == "second"
    assert target_of(main.local_port, "/") == "first"


def test_a_target_removed_by_a_reload_finishes_its_in_flight_request(proxy, access_log, apps):
    leaving, staying = apps("leaving", "staying")
    tg = group("service", leaving)
    main = listener("http", 80, forward((tg, 1)))
    proxy.start(DataPlaneConfig((main,), (tg,), access_log.port))
    answer: list = []
    request = threading.Thread(target=lambda: answer.append(get(main.local_port, "/sleep/1.5")))
    request.start()
    assert poll(lambda: leaving.served["/sleep/1.5"], 5)  # in flight at the target
    replaced = TargetGroup(
        tg.arn, tg.name, tg.protocol, tg.health_check, tg.deregistration_delay_s, (staying.target,)
    )
    proxy.reload(DataPlaneConfig((main,), (replaced,), access_log.port))
    assert {target_of(main.local_port) for _ in range(10)} == {"staying"}  # no new request to it
    request.join(timeout=10)
    assert answer and answer[0][0] == 200 and answer[0][1]["target"] == "leaving"


def test_a_refused_reload_keeps_serving_the_previous_configuration(proxy, access_log, apps):
    (app,) = apps("app")
    tg = group("app", app)
    main = listener("http", 80, forward((tg, 1)))
    proxy.start(DataPlaneConfig((main,), (tg,), access_log.port))
    taken = listener("taken", 81, forward((tg, 1)))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken.local_port))
        squatter.listen()
        with pytest.raises(DataPlaneError, match="refused the reload"):
            proxy.reload(DataPlaneConfig((main, taken), (tg,), access_log.port))
    assert proxy.failure() is None
    assert proxy.config.listeners == (main,)
    assert target_of(main.local_port) == "app"
    with pytest.raises(DataPlaneError, match="rejects the configuration|not among the target groups"):
        proxy.reload(
            DataPlaneConfig((listener("bad", 82, forward((group("unknown"), 1))),), (tg,), access_log.port)
        )
    assert target_of(main.local_port) == "app"


def test_stop_leaves_no_haproxy_process(access_log, apps):
    """Counted among this HAProxy's own processes (its master and every worker it forked, found by
    process id and by the private folder on their command line): other HAProxy instances may run
    beside the test."""
    (app,) = apps("app")
    tg = group("app", app)
    main = listener("http", 80, forward((tg, 1)))
    config = DataPlaneConfig((main,), (tg,), access_log.port)
    proxy = HAProxy()
    proxy.start(config)
    folder = proxy.folder
    assert len(haproxy_processes(folder)) == 2  # the master and its worker
    family = [psutil.Process(proxy.pid), *psutil.Process(proxy.pid).children(recursive=True)]
    proxy.reload(config)  # the old worker may still be finishing when stop comes
    family += psutil.Process(proxy.pid).children(recursive=True)
    assert len({member.pid for member in family}) >= 3
    proxy.stop()
    assert haproxy_processes(folder) == []
    assert [member for member in family if alive(member)] == []
    assert not folder.exists()
    proxy.stop()  # twice is fine


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_every_socket_haproxy_opens_is_on_loopback(proxy, access_log, apps, tmp_path):
    (app,) = apps("app")
    tg, tcp_group = group("app", app), group("app-tcp", app, protocol="TCP")
    listeners = (
        listener("http", 80, forward((tg, 1))),
        listener("https", 443, forward((tg, 1)), protocol="HTTPS"),
        listener("tcp", 7000, forward((tcp_group, 1)), protocol="TCP", lb="net"),
    )
    proxy.start(
        DataPlaneConfig(
            listeners,
            (tg, tcp_group),
            access_log.port,
            str(issue_certificate(tmp_path, "us-east-1").server_pem),
        )
    )
    assert target_of(listeners[0].local_port) == "app"
    assert access_log.wait_for(1)
    family = [psutil.Process(proxy.pid), *psutil.Process(proxy.pid).children(recursive=True)]
    sockets = [connection for member in family for connection in member.net_connections(kind="inet")]
    listening = {(c.laddr.ip, c.laddr.port) for c in sockets if c.status == psutil.CONN_LISTEN}
    assert listening == {("127.0.0.1", item.local_port) for item in listeners}
    assert sockets and all(c.laddr.ip == "127.0.0.1" for c in sockets), sockets


def test_a_crash_is_reported_not_restarted(proxy, access_log, apps):
    (app,) = apps("app")
    tg = group("app", app)
    proxy.start(DataPlaneConfig((listener("http", 80, forward((tg, 1))),), (tg,), access_log.port))
    assert proxy.failure() is None
    worker = psutil.Process(proxy.pid).children()[0]
    os.kill(worker.pid, signal.SIGKILL)
    reason = poll(proxy.failure, 10)
    assert reason and "exited with code" in reason and "\n" not in reason
    with pytest.raises(DataPlaneError, match="exited with code"):
        proxy.server_states()
    with pytest.raises(DataPlaneError, match="exited with code"):
        proxy.start(proxy.config)  # not restarted behind the caller's back
    proxy.stop()
    assert proxy.failure() is None and proxy.pid is None


# --- errors --------------------------------------------------------------------------------


def test_a_missing_haproxy_names_debians_package(tmp_path):
    with pytest.raises(DualAlbKitError) as raised:
        HAProxy(binary=str(tmp_path / "no-haproxy")).start(DataPlaneConfig((), (), free_port()))
    message = str(raised.value)
    assert isinstance(raised.value, DataPlaneError)
    assert "apt-get install haproxy" in message and "\n" not in message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("https without certificate", "needs a certificate"),
        ("udp listener", "protocol UDP is not served"),
        ("unknown target group", "not among the target groups"),
        ("tcp listener with rules", "default action only"),
        ("http listener to tcp group", "cannot forward"),
        ("bad matcher", "matcher"),
        ("remote target", "not on loopback"),
    ],
)
def test_what_haproxy_cannot_serve_is_one_line(change, message):
    tg = TargetGroup(f"{ARN}:targetgroup/a/1", "a", "HTTP", HealthCheck())
    tcp = TargetGroup(f"{ARN}:targetgroup/t/1", "t", "TCP", HealthCheck(protocol="TCP"))
    rule = Rule(1, (Condition("path-pattern", ("/x",)),), forward((tg, 1)))
    listeners = {
        "https without certificate": listener("l", 443, forward((tg, 1)), protocol="HTTPS"),
        "udp listener": listener("l", 53, forward((tcp, 1)), protocol="UDP"),
        "unknown target group": listener("l", 80, Action("forward", forwards=(("arn:nothing", 1),))),
        "tcp listener with rules": listener("l", 80, forward((tcp, 1)), rule, protocol="TCP"),
        "http listener to tcp group": listener("l", 80, forward((tcp, 1))),
        "bad matcher": listener("l", 80, forward((tg, 1))),
        "remote target": listener("l", 80, forward((tg, 1))),
    }
    groups = (tg, tcp)
    if change == "bad matcher":
        groups = (TargetGroup(tg.arn, "a", "HTTP", HealthCheck(matcher="2xx")), tcp)
    if change == "remote target":
        groups = (TargetGroup(tg.arn, "a", "HTTP", HealthCheck(), targets=(Target("10.0.1.7", 80),)), tcp)
    with pytest.raises(DataPlaneError, match=message) as raised:
        render_config(
            DataPlaneConfig((listeners[change],), groups, 1514), admin_socket=Path("/tmp/admin.sock")
        )
    assert "\n" not in str(raised.value)


def test_log_port_zero_renders_no_request_logs():
    tg = TargetGroup(
        f"{ARN}:targetgroup/a/1", "a", "HTTP", HealthCheck(), targets=(Target("127.0.0.1", 8080),)
    )
    text = render_config(
        DataPlaneConfig((listener("l", 80, forward((tg, 1))),), (tg,), 0),
        admin_socket=Path("/tmp/admin.sock"),
    )
    assert "ring " not in text and "log-format" not in text and "\n    log " not in text
