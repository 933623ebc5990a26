"""The live sandbox's pure parts on known inputs: target tracking's decisions (AWS's documented
rules), the per-minute metrics it publishes (AWS's names, dimensions and statistics) and the
certificate its HTTPS listeners present."""

from __future__ import annotations

import contextlib
import socket
import ssl
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dualalb_kit.sandbox.live.autoscaling import Activity, Autoscaler, Policy, decide
from dualalb_kit.sandbox.live.certificate import issue_certificate
from dualalb_kit.sandbox.live.metrics import LiveMetrics, Request
from dualalb_kit.sandbox.live.model import Action, Listener
from dualalb_kit.sandbox.live.state import rewrite_private_urls

CPU_POLICY = Policy(
    name="cpu",
    resource_id="service/shop/order",
    target_value=50.0,
    metric="ECSServiceAverageCPUUtilization",
    resource_label="",
    scale_out_cooldown_s=60,
    scale_in_cooldown_s=300,
    disable_scale_in=False,
    min_capacity=1,
    max_capacity=6,
)


@pytest.mark.parametrize(
    ("datapoints", "current", "expected"),
    [
        ([60, 70, 80], 2, 4),  # 3 above the target: ceil(2 x 80 / 50)
        ([40, 70, 80], 2, 2),  # only 2 above: no alarm
        ([51, 51, 51], 2, 3),  # proportional asks for 3 (ceil 2.04)
        ([90, 95, 200], 4, 6),  # capped at max 6
        ([20] * 15, 2, 1),  # 15 below 45: ceil(2 x 20 / 50) = 1
        ([20] * 14, 2, 2),  # 14 are not enough
        ([44] * 15, 4, 3),  # proportional asks for 4 (ceil 3.52): at least one less
        ([10] * 15, 1, 1),  # min 1
    ],
)
def test_target_tracking_decides_as_aws_documents(datapoints, current, expected):
    wanted, why = decide(CPU_POLICY, current, datapoints, scale_in_after=15)
    assert wanted == expected
    assert bool(why) == (expected != current)


def test_disabled_scale_in_and_a_shorter_sandbox_setting():
    no_scale_in = Policy(**{**vars(CPU_POLICY), "disable_scale_in": True})
    assert decide(no_scale_in, 3, [5] * 15, scale_in_after=15)[0] == 3
    assert decide(CPU_POLICY, 3, [5] * 3, scale_in_after=3)[0] == 1


def test_cooldowns_hold_back_a_second_scale_out_and_activities_say_why():
    changes = []
    scaler = Autoscaler(
        lambda policy, minutes: [80.0, 80.0, 80.0], lambda rid, n: changes.append((rid, n)), print
    )
    desired = {"service/shop/order": 2}
    scaler.evaluate([CPU_POLICY], desired, now=1000.0)
    scaler.evaluate([CPU_POLICY], desired, now=1030.0)  # within the 60 s scale-out cooldown
    scaler.evaluate([CPU_POLICY], desired, now=1061.0)
    assert changes == [("service/shop/order", 4), ("service/shop/order", 6)]
    (newest, first) = scaler.activities("service/shop/order")
    assert first.cause.endswith("increasing the capacity from 2 to 4.")
    assert (
        "AlarmHigh in state ALARM" in first.cause and "CPUUtilization 80 > 50 for 3 datapoints" in first.cause
    )
    assert newest.description == "Setting desired count to 6."


def test_activities_list_newest_first_and_of_two_at_one_time_the_one_recorded_last_first():
    scaler = Autoscaler(lambda policy, minutes: [], lambda rid, n: None, print)
    at = datetime(2026, 12, 7, 20, 0, 5, tzinfo=UTC)
    for description, when in (("bounds", at), ("desired", at), ("older", at - timedelta(minutes=1))):
        scaler.record(Activity("service/shop/order", when, description, "cause", 1, 1))
    assert [a.description for a in scaler.activities("service/shop/order")] == ["desired", "bounds", "older"]
    assert scaler.activities("service/shop/other") == []


BALANCER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/ext/0123456789abcdef"
GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/order/fedcba9876543210"


def _by_metric(items):
    return {(item["MetricName"], tuple(d["Value"] for d in item["Dimensions"])): item for item in items}


def test_a_minute_of_requests_becomes_alb_metrics_in_aws_shapes():
    minute = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    metrics = LiveMetrics()
    times = [minute + timedelta(seconds=s) for s in (1, 20, 40, 50)]
    metrics.add_requests(
        [
            Request(times[0], BALANCER, GROUP, 200, 0.1, False),
            Request(times[1], BALANCER, GROUP, 200, 0.3, False),
            Request(times[2], BALANCER, GROUP, 500, 0.2, False),
            Request(times[3], BALANCER, GROUP, 503, None, True),
        ]
    )
    for second in (0, 30):
        metrics.sample_target_group(
            minute + timedelta(seconds=second), BALANCER, GROUP, healthy=2, unhealthy=0
        )
    assert metrics.complete_minutes(minute + timedelta(seconds=64)) == {}  # not settled yet
    published = metrics.complete_minutes(minute + timedelta(seconds=66))
    items = _by_metric(published["AWS/ApplicationELB"])
    pair = ("app/ext/0123456789abcdef", "targetgroup/order/fedcba9876543210")
    assert items[("RequestCount", pair)]["Value"] == 4
    assert items[("RequestCountPerTarget", pair)]["Value"] == 2
    assert items[("HTTPCode_Target_2XX_Count", pair)]["Value"] == 2
    assert items[("HTTPCode_Target_5XX_Count", pair)]["Value"] == 1
    assert items[("HTTPCode_ELB_5XX_Count", ("app/ext/0123456789abcdef",))]["Value"] == 1
    response = items[("TargetResponseTime", pair)]
    assert sorted(zip(response["Values"], response["Counts"], strict=True)) == [(0.1, 1), (0.2, 1), (0.3, 1)]
    assert response["Unit"] == "Seconds" and response["Timestamp"] == minute
    assert items[("HealthyHostCount", pair)]["Values"] == [2.0]
    assert metrics.complete_minutes(minute + timedelta(minutes=5)) == {}  # published once


def test_service_samples_become_ecs_and_container_insights_metrics():
    minute = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    metrics = LiveMetrics()
    for second, cpu in ((0, 30.0), (20, 50.0), (40, 70.0)):
        metrics.sample_service(
            minute + timedelta(seconds=second),
            "shop",
            "order",
            cpu_percent=cpu,
            memory_percent=10.0,
            running=2,
            desired=3,
        )
    published = metrics.complete_minutes(minute + timedelta(minutes=2))
    ecs = _by_metric(published["AWS/ECS"])
    cpu = ecs[("CPUUtilization", ("shop", "order"))]
    assert sorted(cpu["Values"]) == [30.0, 50.0, 70.0] and cpu["Unit"] == "Percent"
    insights = _by_metric(published["ECS/ContainerInsights"])
    assert insights[("RunningTaskCount", ("shop", "order"))]["Values"] == [2.0]
    assert insights[("RunningTaskCount", ("shop", "order"))]["Counts"] == [3.0]
    assert insights[("DesiredTaskCount", ("shop", "order"))]["Values"] == [3.0]


def test_private_names_in_a_tasks_environment_point_at_the_local_listener():
    listeners = (
        Listener("l1", "internal-lb", 8080, "HTTP", 41001, Action("forward")),
        Listener("l2", "internal-lb", 80, "HTTP", 41002, Action("forward")),
    )
    names = {"internal.svc.local": "internal-lb"}
    rewritten = rewrite_private_urls(
        {
            "CUSTOMER_SVC_URL": "http://internal.svc.local:8080/customers?x=1",
            "ROOT": "http://INTERNAL.svc.local",
            "OTHER": "http://example.com:8080",
            "UNSERVED": "http://internal.svc.local:9999",
        },
        names,
        listeners,
    )
    assert rewritten == {
        "CUSTOMER_SVC_URL": "http://127.0.0.1:41001/customers?x=1",
        "ROOT": "http://127.0.0.1:41002",
        "OTHER": "http://example.com:8080",
        "UNSERVED": "http://internal.svc.local:9999",
    }


def test_several_policies_scale_out_on_any_and_in_only_when_all_agree():
    requests = Policy(
        **{
            **vars(CPU_POLICY),
            "name": "requests",
            "metric": "ALBRequestCountPerTarget",
            "target_value": 100.0,
        }
    )
    series = {"cpu": [20.0] * 15, "requests": [300.0] * 15}
    changes = []
    scaler = Autoscaler(lambda policy, minutes: series[policy.name], lambda rid, n: changes.append(n), print)
    desired = {"service/shop/order": 2}
    scaler.evaluate([CPU_POLICY, requests], desired, now=0.0)
    assert changes == [6]  # requests asks ceil(2 x 300 / 100) = 6; CPU's wish to scale in is ignored
    series["requests"] = []  # no traffic: no datapoints, so the request policy never agrees to scale in
    scaler.evaluate([CPU_POLICY, requests], desired, now=1000.0)
    assert changes == [6]
    series["requests"] = [10.0] * 15
    scaler.evaluate([CPU_POLICY, requests], desired, now=2000.0)
    assert changes == [6, 3]  # both in: CPU asks ceil(6 x 20 / 50) = 3, requests 1; the larger wins


def test_the_sandbox_certificate_covers_loopback_and_load_balancers_and_only_its_owner_reads_it(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = issue_certificate(tmp_path / "tls", "eu-west-1")
    assert stat.S_IMODE(certificate.ca_file.parent.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (certificate.ca_file, certificate.server_pem)} == {0o600}
    pem = certificate.server_pem.read_bytes()
    server, authority = x509.load_pem_x509_certificates(pem)
    key = serialization.load_pem_private_key(pem, password=None)
    assert key.public_key() == server.public_key()
    assert authority == x509.load_pem_x509_certificate(certificate.ca_file.read_bytes())
    server.verify_directly_issued_by(authority)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "*.eu-west-1.elb.amazonaws.com"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert authority.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert b"PRIVATE KEY" not in certificate.ca_file.read_bytes()


def _handshake(server_pem: Path, ca_file: Path, host: str) -> dict:
    """A TLS handshake on loopback: a server presenting ``server_pem``, a client trusting only
    ``ca_file`` and checking ``host``; the certificate the client verified."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(server_pem)
    client_context = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def accept():
            connection, _ = listener.accept()
            with contextlib.suppress(ssl.SSLError, OSError):
                server_context.wrap_socket(connection, server_side=True).close()

        thread = threading.Thread(target=accept)
        thread.start()
        try:
            with socket.create_connection(listener.getsockname()) as raw:
                with client_context.wrap_socket(raw, server_hostname=host) as tls:
                    return tls.getpeercert()
        finally:
            thread.join(timeout=10)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "ext-1.eu-west-1.elb.amazonaws.com"])
def test_a_client_that_trusts_the_ca_file_verifies_the_sandbox_certificate(tmp_path, host):
    certificate = issue_certificate(tmp_path / "tls", "eu-west-1")
    peer = _handshake(certificate.server_pem, certificate.ca_file, host)
    assert dict(item[0] for item in peer["subject"]) == {"commonName": "localhost"}
    other_run = issue_certificate(tmp_path / "other", "eu-west-1")
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(certificate.server_pem, other_run.ca_file, host)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(certificate.server_pem, certificate.ca_file, "ext-1.us-east-1.elb.amazonaws.com")
