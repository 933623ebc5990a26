"""The load test: real Locust (in its child process) against the sample app on loopback."""

from __future__ import annotations

import json
import math
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
from dualalb_kit.loadtest import REPEAT_COLUMNS, _capacity, _one_ramp, run_loadtest, step_line
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
        repeats=1,
    )
    curve = result.curve
    assert list(curve.columns) == CURVE
    assert curve["target_rps"].tolist() == [3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0, 30.0]
    assert result.stop_reason == "the ramp reached 30 requests/s after 10 steps"
    assert [{name: row[name] for name in CURVE} for row in seen] == curve.to_dict("records")
    assert pd.Series([row["late_ms"] for row in seen]).equals(result.steps["late_ms"])  # NaN equals NaN
    planned = curve["target_rps"] * 1.5
    assert ((curve["requests"] - planned).abs() <= 0.15 * planned + 2).all(), curve
    assert list(result.steps.columns) == ["repeat", *CURVE, "late_ms", "counted"]
    assert result.steps["counted"].all() and (result.steps["repeat"] == 1).all()
    assert result.steps[CURVE].equals(curve)
    assert len(result.repeats) == 1 and result.median_repeat == 1 and math.isnan(result.spread_percent)
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
        + ["--service", "order", "--p99-ms", "3000", "--repeats", "2"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    progress = err.splitlines()
    steps = [line.split(" requests/s:")[0] for line in progress if not line.startswith("repeat ")]
    assert steps == [str(rate) for rate in range(2, 21, 2)] * 2
    assert [line.split(":")[0] for line in progress if line.startswith("repeat ")] == ["repeat 1", "repeat 2"]
    assert progress[10].startswith("repeat 1: ") and progress[21].startswith("repeat 2: ")
    first, rest = out.split("\n", 1)
    assert first.startswith(
        f"Load test of {order_url}: the ramp reached 20 requests/s after 10 steps; CPU pid "
    )
    cpu_pid = int(first.split("CPU pid ")[1].split()[0])
    assert cpu_pid in [child.pid for child in psutil.Process(up.pid).children()]
    assert first.endswith("/samples/app/service.py), percent of one core")
    lines = rest.splitlines()
    assert re.fullmatch(r"Repeat [12] of 2 \(the median\):", lines[1])
    header = lines[2].split(")")
    assert [column.split(" (")[0].strip() for column in header[:-1]] == CURVE
    assert lines[14] == "Repeats (capacity and capacity_high in requests/min per task):"
    assert lines[15].split() == ["repeat", *REPEAT_COLUMNS[1:]]
    assert [line.split()[0] for line in lines[16:18]] == ["1", "2"]
    assert lines[18].startswith("Spread: ") and lines[18].endswith(
        " % ((max - min) / median of the repeats' capacities)"
    )
    # blank, the curve's title, header and 10 steps, blank, the repeats' title, header and 2 rows,
    # the spread, blank, the capacity's title and its columns
    assert len(lines) == 1 + 1 + 1 + 10 + 1 + 1 + 1 + 2 + 1 + 1 + 1 + len(CAPACITY_COLUMNS) - 1
    assert "Capacity of order within the SLO (p99 <= 3000 ms, CPU <= 70 %, 5xx <= 1 per 1,000):" in out
    capacity = re.search(r"\n  requests_per_task_at_slo: (\S+) requests/min per task\n", out).group(1)
    note = re.search(r"\n  note: (.*)\n", out).group(1)
    assert float(capacity.replace(",", "")) > 0 or (capacity == "nan" and note)
    assert "the median of 2 repeats" in note


def test_a_dead_loopback_port_stops_after_two_failed_steps_and_cpu_is_nan_with_a_note(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    code = main(["loadtest", url, "--max-rps", "10", "--step-seconds", "1", "--duration", "10", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["stop_reason"] == (
        "SLO broken at 1 requests/s in 2 steps in a row: 1000.0 errors per 1,000 requests above 1"
    )
    assert document["cpu_source"] == f"not measured: no process of this user listens on port {port}"
    curve = pd.DataFrame(document["curve"])
    assert list(curve.columns) == CURVE
    assert curve["target_rps"].tolist() == [1.0, 1.0]  # the breaking step, measured again
    assert (curve["errors_per_1k"] == 1000).all() and (curve["failures"] == curve["requests"]).all()
    assert curve["cpu_percent"].isna().all()
    [capacity] = document["capacity"]
    assert list(capacity) == list(CAPACITY_COLUMNS)
    assert (capacity["service"], capacity["requests_per_task_at_slo"]) == (url, None)
    assert "the SLO is broken at the lowest load measured" in capacity["note"]
    assert f"; CPU not measured: no process of this user listens on port {port}; " in capacity["note"]
    assert capacity["note"].endswith("3 found no capacity)")
    repeats = pd.DataFrame(document["repeats"])  # --repeats defaults to 3
    assert list(repeats.columns) == list(REPEAT_COLUMNS) and repeats["repeat"].tolist() == [1, 2, 3]
    assert repeats["requests_per_task_at_slo"].isna().all() and (repeats["steps"] == 2).all()
    assert document["spread_percent"] is None and document["median_repeat"] in (1, 2, 3)
    steps = pd.DataFrame(document["steps"])
    assert steps["counted"].tolist() == [False, True] * 3


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
            f"http://127.0.0.1:{server.server_port}/", max_rps=5, step_seconds=1, duration=1, repeats=1
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
        ({"duration": 3}, "duration: 3 is not between step_seconds (20) and 3600 s"),
        ({"start_rps": 500}, "start_rps: 500 is not a rate in (0, max_rps=200]"),
        ({"tasks": 0}, "tasks: 0 is not a positive whole number of tasks"),
        ({"repeats": 0}, "repeats: 0 is not a whole number of repeats in [1, 10]"),
        ({"repeats": 11}, "repeats: 11 is not a whole number of repeats in [1, 10]"),
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


SLOW_SERVER = """
import sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

worker = threading.Lock()  # one request at a time, 100 ms each: 10 requests/s


class Slow(BaseHTTPRequestHandler):
    def do_GET(self):
        with worker:
            time.sleep(0.1)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


server = Server(("127.0.0.1", 0), Slow)
print(server.server_port, flush=True)
server.serve_forever()
"""
"""A server with a fixed service time of 100 ms and one worker: it serves 10 requests/s, and
requests beyond that wait in its queue. Its own process, so that its CPU is its own."""


@pytest.fixture(scope="module")
def slow_server():
    server = subprocess.Popen([sys.executable, "-c", SLOW_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(server.stdout.readline())}/"
    finally:
        stop_tree(server)
        server.stdout.close()


def test_open_loop_load_shows_the_queue_of_a_server_slower_than_the_rate_and_repeats_agree(slow_server):
    result = run_loadtest(
        slow_server,
        slo=SLO(p99_ms=1200),
        max_rps=30,
        start_rps=6,
        step_seconds=2,
        duration=10,
        service="slow",
        repeats=3,
        refine_steps=0,  # the coarse ramp's rules; refining is tested on its own
    )
    steps = result.steps
    assert len(result.repeats) == 3 and set(steps["repeat"]) == {1, 2, 3}
    for _, ramp in steps.groupby("repeat"):
        # 6 and 12 requests/s held (12 is 20 % past the server's 10: a queue of 4 after 2 s), 18
        # broke and broke again when measured again: the ramp stopped before 24 and 30
        assert ramp["target_rps"].tolist() == [6.0, 12.0, 18.0, 18.0], ramp
        assert ramp["counted"].tolist() == [True, True, False, True]
        # open loop: every request due was sent, also past what the server serves (a closed-loop
        # client would have slowed down to about 10 requests/s and seen no queue)
        assert (ramp["requests"] == ramp["target_rps"] * 2).all(), ramp
        assert ((ramp["achieved_rps"] - ramp["target_rps"]).abs() <= 0.05 * ramp["target_rps"]).all()
        # latency from the due time grows with the queue: 8 requests/s too many for 2 s leave 16
        # waiting at the end (1.6 s), half that for the median request
        p50, p99 = ramp["p50_ms"].tolist(), ramp["p99_ms"].tolist()
        assert p50[0] < 400 and p99[0] < 600, ramp
        assert p50[0] < p50[1] < p50[2] and p99[0] < p99[1] < p99[2], ramp
        assert p50[2] >= 600 and p99[2] >= 1500 and p99[3] >= 1500, ramp
        assert (ramp["errors_per_1k"] == 0).all()
    repeats = result.repeats
    assert (repeats["limited_by"] == "latency").all()
    assert (
        repeats["stop_reason"].str.startswith("SLO broken at 18 requests/s in 2 steps in a row: p99 ").all()
    )
    # each repeat's capacity is its busiest step within the SLO (12 requests/s = 720 a minute), a
    # measured lower bound bracketed by the first that broke (18 requests/s)
    assert repeats["requests_per_task_at_slo"].between(700, 740).all(), repeats
    assert repeats["capacity_high"].between(1060, 1100).all(), repeats
    assert result.spread_percent <= 15
    [row] = result.capacity.to_dict("records")
    median = repeats.iloc[result.median_repeat - 1]
    assert row["requests_per_task_at_slo"] == median["requests_per_task_at_slo"]
    assert row["held_requests_per_task"] == row["requests_per_task_at_slo"] and row["extrapolated_by"] == 0
    assert (row["capacity_low"], row["capacity_high"]) == (
        row["held_requests_per_task"],
        median["capacity_high"],
    )
    assert row["note"].startswith("latency limit at ") and "the median of 3 repeats" in row["note"]
    assert result.curve.equals(
        steps.loc[steps["repeat"] == result.median_repeat, CURVE].reset_index(drop=True)
    )


def _step(rate: float, p99_ms: float) -> dict:
    """A step's line as the Locust process prints it: 2 s at ``rate``, no errors, CPU unknown."""
    return {
        "target_rps": rate,
        "seconds": 2.0,
        "requests": int(rate * 2),
        "failures": 0,
        "errors": 0,
        "p50_ms": p99_ms / 2,
        "p99_ms": p99_ms,
        "cpu_percent": None,
        "late_ms": 1.0,
    }


@pytest.mark.parametrize(
    ("p99s", "measured", "counted", "stop"),
    [
        # one slow step in the middle, fine when measured again: the ramp goes on
        ([100, 900, 100, 100, 100], [10, 20, 20, 30, 40], [1, 0, 1, 1, 1], "the ramp reached 40"),
        # the last step breaks once only: measured again, it holds, the SLO held at every step
        ([100, 100, 100, 900, 100], [10, 20, 30, 40, 40], [1, 1, 1, 0, 1], "the ramp reached 40"),
        # two breaking steps in a row stop the ramp early
        ([100, 100, 900, 900], [10, 20, 30, 30], [1, 1, 0, 1], "SLO broken at 30 requests/s in 2 steps"),
    ],
)
def test_a_single_breaking_step_is_measured_again_and_decides_nothing_alone(p99s, measured, counted, stop):
    answers = iter(p99s)
    sent = []

    def measure(rate: float, seconds: float) -> dict:
        sent.append(rate)
        return _step(rate, next(answers))

    steps, stop_reason = _one_ramp(measure, [10.0, 20.0, 30.0, 40.0], 2.0, SLO(), 1, None)
    assert sent == measured and [step["counted"] for step in steps] == [bool(flag) for flag in counted]
    assert stop_reason.startswith(stop)
    capacity = _capacity(pd.DataFrame([step for step in steps if step["counted"]]), SLO(), "x", False, "n/a")
    assert capacity["requests_per_task_at_slo"] > 0  # never NaN when the ramp stops early
    if stop.startswith("the ramp"):
        assert (
            capacity["requests_per_task_at_slo"] == 40 * 60 and "a measured lower bound" in capacity["note"]
        )
    else:
        assert capacity["requests_per_task_at_slo"] == 20 * 60 and capacity["limited_by"] == "latency"


def test_a_ramp_that_broke_is_refined_between_the_last_step_that_held_and_the_one_that_broke():
    """20 held, 30 broke twice: 22, 24, 26 and 28 are climbed the same way (26 breaks twice), so
    the capacity is 24 requests/s bracketed by 26, not 20 bracketed by 30."""
    limit = 25.0
    sent = []

    def measure(rate: float, seconds: float) -> dict:
        sent.append(rate)
        return _step(rate, 100 if rate <= limit else 900)

    steps, stop_reason = _one_ramp(measure, [10.0, 20.0, 30.0, 40.0], 2.0, SLO(), 1, None, refine_steps=4)
    assert sent == [10.0, 20.0, 30.0, 30.0, 22.0, 24.0, 26.0, 26.0]
    assert stop_reason == (
        "SLO broken at 30 requests/s in 2 steps in a row: p99 900 ms above 500 ms; refined between 20 "
        "and 30 requests/s: SLO broken at 26 requests/s in 2 steps in a row: p99 900 ms above 500 ms"
    )
    capacity = _capacity(pd.DataFrame([step for step in steps if step["counted"]]), SLO(), "x", False, "n/a")
    assert (capacity["requests_per_task_at_slo"], capacity["capacity_high"]) == (24 * 60, 26 * 60)


@pytest.mark.parametrize(
    ("p99s", "measured"),
    [
        ([900, 900], [10.0, 10.0]),  # the first step broke: nothing held to refine from
        ([100, 100, 100, 100], [10.0, 20.0, 30.0, 40.0]),  # nothing broke
        ([100, 100, 0, 0], [10.0, 20.0, 30.0]),  # a step that completed nothing ends the repeat
    ],
)
def test_a_ramp_is_refined_only_between_a_step_that_held_and_one_that_broke(p99s, measured):
    answers = iter(p99s)
    sent = []

    def measure(rate: float, seconds: float) -> dict:
        sent.append(rate)
        p99 = next(answers)
        return {**_step(rate, p99), "requests": 0} if p99 == 0 else _step(rate, p99)

    _one_ramp(measure, [10.0, 20.0, 30.0, 40.0], 2.0, SLO(), 1, None, refine_steps=4)
    assert sent == measured


def test_refine_steps_is_a_whole_number_in_range():
    for bad in (-1, 21, 2.5):
        with pytest.raises(ValidationError, match="^refine_steps: "):
            run_loadtest("http://127.0.0.1:1/", refine_steps=bad)


def test_without_stop_at_slo_every_step_runs_once_whatever_broke():
    """The live demo's fixed schedule: breaking steps are neither measured again nor the end."""
    answers = iter([100, 900, 900, 100])
    sent = []

    def measure(rate: float, seconds: float) -> dict:
        sent.append(rate)
        return _step(rate, next(answers))

    steps, stop_reason = _one_ramp(measure, [10.0, 20.0, 30.0, 40.0], 2.0, SLO(), 1, None, stop_at_slo=False)
    assert sent == [10.0, 20.0, 30.0, 40.0]
    assert [step["counted"] for step in steps] == [True] * 4
    assert stop_reason == "the ramp reached 40 requests/s after 4 steps"


def test_cpu_units_must_be_positive_and_the_advised_load_test_names_a_tasks_share():
    from dualalb_kit.scaling import loadtest_command

    with pytest.raises(ValidationError, match="cpu_units"):
        run_loadtest("http://127.0.0.1:9/", cpu_units=0)
    fit = pd.Series({"requests_per_task_at_slo": 720.0}, name="order")
    assert (
        loadtest_command(fit, 256) == "dualalb-kit loadtest URL --max-rps 18 --service order --cpu-units 256"
    )
    assert loadtest_command(fit) == "dualalb-kit loadtest URL --max-rps 18 --service order"


def test_the_cpu_meter_says_not_measured_once_its_process_is_gone():
    """A server that restarts mid-test (HAProxy reloading when a service scales) ends its CPU
    figures (NaN, shown as not measured), never the load generator. In a process of its own, as
    the load generator runs: importing Locust patches the interpreter with gevent."""
    code = (
        "import math, subprocess, sys\n"
        "from dualalb_kit.loadgen import CpuMeter\n"
        "server = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "meter = CpuMeter(server.pid)\n"
        "before = meter.seconds()\n"
        "server.kill(); server.wait()\n"
        "print(before >= 0, math.isnan(meter.seconds()), math.isnan(CpuMeter(server.pid).seconds()))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True", "True", "True"], result.stderr[-2000:]


def test_a_step_the_load_generator_sent_late_says_the_machine_was_busy():
    """A progress line flags a step whose requests went out late by more than a tenth of the SLO's
    p99 (an open-loop client on a busy machine counts its own delay as latency); on time, no note."""
    row = {
        "target_rps": 20.0,
        "achieved_rps": 19.8,
        "p50_ms": 40.0,
        "p99_ms": 1100.0,
        "cpu_percent": 52.4,
        "errors_per_1k": 0.0,
    }
    slo = SLO(p99_ms=500)
    plain = "20 requests/s: achieved 19.8, p50 40 ms, p99 1100 ms, CPU 52.4 %, 0.0 errors per 1,000"
    assert step_line({**row, "late_ms": 850.0}, slo) == (
        f"{plain}; the load generator sent up to 850 ms late (99th percentile): "
        "this machine was busy, the latencies include it"
    )
    assert step_line({**row, "late_ms": 50.0}, slo) == plain  # a tenth of 500 ms is not late
    assert step_line({**row, "late_ms": math.nan}, slo) == plain
    assert step_line(row) == plain  # without an SLO (or a late_ms), the line as before
