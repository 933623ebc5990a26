"""The load test: real Locust (in its child process) against the sample app on loopback."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import psutil
import pytest
from conftest import stop_tree

from dualalb_kit import ValidationError
from dualalb_kit.capacity import CAPACITY_COLUMNS, SLO
from dualalb_kit.cli import main
from dualalb_kit.loadtest import run_loadtest
from dualalb_kit.samples.local import run_local

CURVE = (
    "target_rps achieved_rps requests requests_per_task p50_ms p99_ms cpu_percent errors_per_1k failures"
).split()
"""The curve's columns as issue 12 names them (public interface)."""
NOISE_PROOF_SLO = SLO(p99_ms=3000)
"""A shared 2-core machine stalls single requests for hundreds of ms: the ramp must not stop on that."""


@pytest.fixture(scope="module")
def sample():
    with run_local() as running:
        yield running


def test_run_loadtest_steps_up_to_max_rps_and_measures_a_capacity(sample):
    seen = []
    result = run_loadtest(
        sample.order_url + "/",
        slo=NOISE_PROOF_SLO,
        max_rps=30,
        step_seconds=1.5,
        duration=15,
        service="order",
        on_step=seen.append,
    )
    curve = result.curve
    assert list(curve.columns) == CURVE
    assert curve["target_rps"].tolist() == [3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0, 30.0]
    assert result.stop_reason == "the ramp reached 30 requests/s after 10 steps"
    assert seen == curve.to_dict("records")
    planned = curve["target_rps"] * 1.5
    assert ((curve["requests"] - planned).abs() <= 0.15 * planned + 2).all(), curve
    assert (curve["requests_per_task"] == curve["achieved_rps"] * 60).all()
    assert (curve["errors_per_1k"] == 0).all() and (curve["failures"] == 0).all()
    assert (curve["p50_ms"] <= curve["p99_ms"]).all() and (curve["p50_ms"] > 0).all()
    order_pid = sample.services["order"].process.pid
    assert result.cpu_source.startswith(f"pid {order_pid} (")
    assert curve["cpu_percent"].between(0, 100).all() and curve["cpu_percent"].iloc[-1] > 0

    capacity = result.capacity
    assert list(capacity.columns) == list(CAPACITY_COLUMNS) and len(capacity) == 1
    row = capacity.iloc[0]
    assert row["service"] == "order"
    assert row["observed_max_requests_per_task"] == curve["requests_per_task"].max()
    assert row["requests_per_task_at_slo"] > 0 and row["limited_by"] in ("latency", "cpu", "errors")
    assert row["note"].startswith(f"{row['limited_by']} limit at ")
    assert row["cpu_per_1k_requests"] > 0
    assert capacity.attrs["slo"] == NOISE_PROOF_SLO and capacity.attrs["synthetic"] is False
    assert "locust" not in sys.modules and "gevent" not in sys.modules
    assert socket.socket.__module__ == "socket", "gevent's monkey-patching reached the caller"


@pytest.fixture
def sample_up():
    """``dualalb-kit sample up`` as a user runs it; yields it and order's URL, stops it with Ctrl-C."""
    up = subprocess.Popen(
        [sys.executable, "-m", "dualalb_kit.cli", "sample", "up"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = next(line for line in up.stdout if line.startswith("curl "))
        yield up, line.split()[1]
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.communicate(timeout=30)
        finally:
            stop_tree(up)


@pytest.mark.slow
def test_cli_against_sample_up_prints_progress_the_curve_with_units_and_the_capacity(sample_up, capsys):
    up, order_url = sample_up
    code = main(
        ["loadtest", order_url, "--max-rps", "20", "--step-seconds", "1", "--duration", "10"]
        + ["--service", "order", "--p99-ms", "3000"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    progress = err.splitlines()
    assert [line.split(" requests/s:")[0] for line in progress] == [str(rate) for rate in range(2, 21, 2)]
    first, rest = out.split("\n", 1)
    assert first.startswith(
        f"Load test of {order_url}: the ramp reached 20 requests/s after 10 steps; CPU pid "
    )
    cpu_pid = int(first.split("CPU pid ")[1].split()[0])
    assert cpu_pid in [child.pid for child in psutil.Process(up.pid).children()]
    assert first.endswith("/samples/app/service.py), percent of one core")
    header = rest.splitlines()[1].split(")")
    assert [column.split(" (")[0].strip() for column in header[:-1]] == CURVE
    assert len(rest.splitlines()) == 1 + 1 + 10 + 1 + 1 + len(CAPACITY_COLUMNS) - 1
    assert "Capacity of order within the SLO (p99 <= 3000 ms, CPU <= 70 %, 5xx <= 1 per 1,000):" in out
    capacity = re.search(r"\n  requests_per_task_at_slo: (\S+) requests/min per task\n", out).group(1)
    note = re.search(r"\n  note: (.*)\n$", out).group(1)
    assert float(capacity.replace(",", "")) > 0 or (capacity == "nan" and note)


def test_a_dead_loopback_port_stops_after_two_failed_steps_and_cpu_is_nan_with_a_note(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    code = main(["loadtest", url, "--max-rps", "10", "--step-seconds", "1", "--duration", "10", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["stop_reason"] == "SLO broken at 2 requests/s: 1000.0 errors per 1,000 requests above 1"
    assert document["cpu_source"] == f"not measured: no process of this user listens on port {port}"
    curve = pd.DataFrame(document["curve"])
    assert list(curve.columns) == CURVE
    assert curve["target_rps"].tolist() == [1.0, 2.0]
    assert (curve["errors_per_1k"] == 1000).all() and (curve["failures"] == curve["requests"]).all()
    assert curve["cpu_percent"].isna().all()
    [capacity] = document["capacity"]
    assert list(capacity) == list(CAPACITY_COLUMNS)
    assert (capacity["service"], capacity["requests_per_task_at_slo"]) == (url, None)
    assert capacity["note"].endswith(
        "2 steps ran, a fit needs at least 10; "
        f"CPU not measured: no process of this user listens on port {port}"
    )


class RedirectEverywhere(BaseHTTPRequestHandler):
    """Answers ``/`` with a redirect to ``/elsewhere`` and counts the requests that follow it."""

    followed = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/elsewhere":
            type(self).followed += 1
        self.send_response(302 if self.path == "/" else 200)
        self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_) -> None:
        pass


def test_redirects_are_not_followed():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RedirectEverywhere)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_loadtest(
            f"http://127.0.0.1:{server.server_port}/", max_rps=5, step_seconds=1, duration=1
        )
    finally:
        server.shutdown()
        server.server_close()
    [step] = result.curve.to_dict("records")
    assert abs(step["requests"] - 5) <= 2 and step["failures"] == 0 and step["errors_per_1k"] == 0
    assert RedirectEverywhere.followed == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://example.com/",
            "url: example.com is not on loopback; to load-test a deployed endpoint you name, "
            "pass allow_remote=True (--allow-remote)",
        ),
        (
            "http://10.0.0.5:8080/",
            "url: 10.0.0.5 is not on loopback; to load-test a deployed endpoint you name, "
            "pass allow_remote=True (--allow-remote)",
        ),
        ("ftp://127.0.0.1/", "url: 'ftp://127.0.0.1/' is not an http:// or https:// URL with a host"),
    ],
)
def test_a_url_off_loopback_is_refused_before_any_traffic(url, message):
    with pytest.raises(ValidationError) as raised:
        run_loadtest(url)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_rps": 0}, "max_rps: 0 is not a rate in (0, 2000] requests/s"),
        ({"step_seconds": 0.5}, "step_seconds: 0.5 is shorter than 1 s"),
        ({"duration": 3}, "duration: 3 is not between step_seconds (5) and 3600 s"),
        ({"start_rps": 500}, "start_rps: 500 is not a rate in (0, max_rps=200]"),
        ({"tasks": 0}, "tasks: 0 is not a positive whole number of tasks"),
    ],
)
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(ValidationError) as raised:
        run_loadtest("http://127.0.0.1:9/", **options)
    assert str(raised.value) == message


def test_cli_refuses_a_remote_url_with_exit_2(capsys):
    assert main(["loadtest", "http://example.com/"]) == 2
    assert capsys.readouterr().err == (
        "error: url: example.com is not on loopback; to load-test a deployed endpoint you name, "
        "pass allow_remote=True (--allow-remote)\n"
    )
