"""The sample application: the service, its local run, and the CDK app that deploys it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import stop_tree

from dualalb_kit import ValidationError
from dualalb_kit.context import missing_context, resolve_missing
from dualalb_kit.runtime import cdk_cli, node_environment
from dualalb_kit.samples import SAMPLE_APP_DIR, SAMPLE_ROLES
from dualalb_kit.samples.default import STACK_NAME, build_app
from dualalb_kit.samples.local import run_local, start_service
from dualalb_kit.sandbox.server import SANDBOX_ACCOUNT
from dualalb_kit.target import as_target

CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple[int, list[dict]]:
    """Status and JSON lines of ``GET url`` (error statuses included)."""
    try:
        with NO_PROXY.open(url, timeout=30) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return status, [json.loads(line) for line in body.decode().splitlines()]


# --- the service, run locally ---------------------------------------------------------------


@pytest.fixture(scope="module")
def local_sample():
    with run_local(dependency_timeout=5) as sample:
        yield sample


def test_order_aggregates_product_and_customer(local_sample):
    status, lines = get(local_sample.order_url + "/")

    assert status == 200
    assert lines == [
        {"service": "order", "version": "1.0"},
        {"service": "product", "version": "1.0"},
        {"service": "customer", "version": "1.0"},
    ]


def test_every_service_answers_health_and_only_for_itself(local_sample):
    for role, service in local_sample.services.items():
        assert service.url.startswith("http://127.0.0.1:")
        assert get(service.url + "/health") == (200, [{"status": "ok", "service": role}])
        if role != "order":
            assert get(service.url + "/") == (200, [{"service": role, "version": "1.0"}])


def test_unknown_path_is_404(local_sample):
    status, lines = get(local_sample.order_url + "/nope")
    assert status == 404
    assert lines == [{"service": "order", "error": "no such path: /nope"}]


def test_stopped_product_gives_a_partial_answer():
    with run_local(dependency_timeout=1) as sample:
        product_url = sample.services["product"].url
        sample.stop("product")

        status, lines = get(sample.order_url + "/")

    assert status == 502
    assert lines == [
        {"service": "order", "version": "1.0"},
        {"service": "product", "url": product_url, "error": "connection refused"},
        {"service": "customer", "version": "1.0"},
    ]


def test_hung_dependency_is_reported_after_the_timeout(tmp_path):
    """A product that accepts the connection but never answers: order gives up after its timeout."""
    with socket.socket() as silent_product:
        silent_product.bind(("127.0.0.1", 0))
        silent_product.listen()
        product_url = f"http://127.0.0.1:{silent_product.getsockname()[1]}"
        customer = start_service("customer", tmp_path)
        order = start_service(
            "order",
            tmp_path,
            environment={
                "PRODUCT_SVC_URL": product_url,
                "CUSTOMER_SVC_URL": customer.url,
                "DEPENDENCY_TIMEOUT": "0.3",
            },
        )
        try:
            asked = time.monotonic()
            status, lines = get(order.url + "/")
            answered_after = time.monotonic() - asked
        finally:
            order.stop()
            customer.stop()

    # The sample-app guide's promise: order waits its timeout for the hung product, and no longer (the
    # product never answers, so a missing timeout would hang until get()'s own 30 s).
    assert 0.3 <= answered_after < 3
    assert status == 502
    assert lines[1] == {"service": "product", "url": product_url, "error": "no answer within 0.3 s"}
    assert lines[2] == {"service": "customer", "version": "1.0"}


def test_image_healthcheck_command_probes_health(tmp_path):
    """The Dockerfile's HEALTHCHECK runs ``service.py healthcheck``: 0 while serving, 1 once stopped."""
    product = start_service("product", tmp_path)
    port = product.url.rsplit(":", 1)[1]
    probe = [sys.executable, str(SAMPLE_APP_DIR / "service.py"), "healthcheck"]
    healthy = subprocess.run(probe, env={"PORT": port}, check=False).returncode
    product.stop()
    stopped = subprocess.run(probe, env={"PORT": port}, check=False).returncode
    assert (healthy, stopped) == (0, 1)


def test_dockerfile_runs_the_service_as_non_root_with_a_healthcheck():
    text = (SAMPLE_APP_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = [" ".join(line.split()) for line in text.splitlines() if line[:1].isupper()]
    assert instructions[0] == "FROM python:3.12-slim"
    assert "USER 10001" in instructions
    assert 'CMD ["python", "service.py"]' in instructions
    healthcheck = "HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3"
    assert f'{healthcheck} CMD ["python", "service.py", "healthcheck"]' in instructions


@pytest.mark.slow
def test_sample_up_prints_the_order_url_and_stops_its_services_on_ctrl_c():
    """``dualalb-kit sample up``: curl the printed URL, then Ctrl-C stops all three services."""
    up = subprocess.Popen(
        [sys.executable, "-m", "dualalb_kit.cli", "sample", "up", "--timeout", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    printed = []
    for line in up.stdout:
        printed.append(line.split())
        if line.startswith("curl "):
            break
    urls = {words[0]: words[1] for words in printed if len(words) == 2 and words[0] in SAMPLE_ROLES}
    order_url = printed[-1][1]

    try:
        answer = get(order_url)
        up.send_signal(signal.SIGINT)
        _, errors = up.communicate(timeout=30)
    finally:
        stop_tree(up)

    assert order_url == urls["order"] + "/"
    assert answer[0] == 200
    assert [line["service"] for line in answer[1]] == ["order", "product", "customer"]
    assert up.returncode == 0, errors
    for url in urls.values():
        with pytest.raises(urllib.error.URLError, match="Connection refused"):
            NO_PROXY.open(url + "/health", timeout=5)


def test_run_local_rejects_unknown_roles_and_bad_ports():
    with pytest.raises(ValidationError, match=r"^ports\.inventory: not a sample role"):
        with run_local({"inventory": 0}):
            pass
    with pytest.raises(ValidationError, match=r"^ports\.order: 70000 is not a port"):
        with run_local({"order": 70000}):
            pass


# --- the CDK app --------------------------------------------------------------------------------


def listeners_by_scheme(template: dict) -> dict[str, dict[int, dict]]:
    """``{"internet-facing" | "internal": {port: listener properties}}``."""
    resources = template["Resources"]
    found: dict[str, dict[int, dict]] = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::ElasticLoadBalancingV2::Listener":
            properties = resource["Properties"]
            scheme = resources[properties["LoadBalancerArn"]["Ref"]]["Properties"]["Scheme"]
            found.setdefault(scheme, {})[properties["Port"]] = properties
    return found


def docker_assets(assembly_dir: Path, stack_name: str) -> dict[str, dict]:
    """The assembly's Docker image assets by their ``SERVICE_NAME`` build argument."""
    manifest = json.loads((assembly_dir / f"{stack_name}.assets.json").read_text())
    return {
        image["source"]["dockerBuildArgs"]["SERVICE_NAME"]: {"hash": asset_hash, **image["source"]}
        for asset_hash, image in manifest["dockerImages"].items()
    }


def containers(template: dict) -> dict[str, dict]:
    return {
        container["Name"]: container
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ECS::TaskDefinition"
        for container in resource["Properties"]["ContainerDefinitions"]
    }


def synthesize(context: dict, outdir: Path) -> dict:
    return build_app(context, outdir=str(outdir)).synth().get_stack_by_name(STACK_NAME).template


@pytest.fixture(scope="module")
def http_sample(tmp_path_factory) -> tuple[dict, Path]:
    outdir = tmp_path_factory.mktemp("sample-http")
    return synthesize({}, outdir), outdir


@pytest.fixture(scope="module")
def https_sample(tmp_path_factory) -> dict:
    return synthesize({"ACM_CERT_ARN": CERT_ARN}, tmp_path_factory.mktemp("sample-https"))


def test_sample_app_listeners_over_http(http_sample):
    template, _ = http_sample
    listeners = listeners_by_scheme(template)

    assert {scheme: sorted(ports) for scheme, ports in listeners.items()} == {
        "internet-facing": [80],
        "internal": [80, 8080, 9090],
    }
    for ports in listeners.values():
        assert {port: (p["Protocol"], p["DefaultActions"][0]["Type"]) for port, p in ports.items()} == {
            port: ("HTTP", "forward") for port in ports
        }


def test_sample_app_listeners_with_acm_certificate(https_sample):
    listeners = listeners_by_scheme(https_sample)
    external = listeners["internet-facing"]

    assert sorted(external) == [80, 443]
    assert external[443]["Protocol"] == "HTTPS"
    assert external[443]["Certificates"] == [{"CertificateArn": CERT_ARN}]
    assert external[80]["Protocol"] == "HTTP"
    assert external[80]["DefaultActions"] == [
        {
            "Type": "redirect",
            "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"},
        }
    ]
    assert sorted(listeners["internal"]) == [80, 8080, 9090]


def test_sample_app_builds_one_docker_image_asset_per_role(http_sample):
    template, outdir = http_sample
    assets = docker_assets(outdir, STACK_NAME)
    by_container = containers(template)

    assert sorted(assets) == ["customer", "order", "product"]
    for role, asset in assets.items():
        staged = outdir / asset["directory"]
        assert (staged / "Dockerfile").read_text() == (SAMPLE_APP_DIR / "Dockerfile").read_text()
        assert (staged / "service.py").is_file()
        assert asset["platform"] == "linux/amd64"
        assert asset["hash"] in json.dumps(by_container[role]["Image"])
        assert by_container[role]["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]


def test_sample_app_wires_order_to_the_internal_alb_names(http_sample):
    template, _ = http_sample
    environment = {
        role: {pair["Name"]: pair["Value"] for pair in container["Environment"]}
        for role, container in containers(template).items()
    }

    assert environment["order"] == {
        "serviceName": "order",
        "versionNum": "1.0",
        "PRODUCT_SVC_URL": "http://internal.svc.local:9090",
        "CUSTOMER_SVC_URL": "http://internal.svc.local:8080",
    }
    assert environment["product"] == {"serviceName": "product", "versionNum": "1.0"}
    records = [
        r["Properties"]["Name"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Route53::RecordSet"
    ]
    assert sorted(records) == ["external.svc.local.", "internal.svc.local."]


def test_sample_app_runs_on_spot_with_health_checks_on_health(http_sample):
    template, _ = http_sample
    resources = template["Resources"].values()
    services = [r["Properties"] for r in resources if r["Type"] == "AWS::ECS::Service"]
    target_groups = [
        r["Properties"] for r in resources if r["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup"
    ]

    assert [s["DesiredCount"] for s in services] == [2, 2, 2]
    assert {json.dumps(s["CapacityProviderStrategy"]) for s in services} == {
        json.dumps([{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}])
    }
    assert len(target_groups) == 4
    assert {tg["HealthCheckPath"] for tg in target_groups} == {"/health"}


def test_sample_app_rejects_a_malformed_certificate_arn(tmp_path):
    with pytest.raises(ValidationError, match=r"^ACM_CERT_ARN: 'not-an-arn' is not an ACM certificate ARN$"):
        synthesize({"ACM_CERT_ARN": "not-an-arn"}, tmp_path)


def assert_runs_in_the_default_vpc(template: dict, sandbox) -> None:
    """No new VPC; every service in the sandbox's default VPC's (public) subnets, with public IPs."""
    ec2 = as_target(endpoint_url=sandbox.endpoint_url, region=sandbox.region).client("ec2")
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [default_vpc]}])["Subnets"]
    resources = template["Resources"].values()
    networks = [
        r["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        for r in resources
        if r["Type"] == "AWS::ECS::Service"
    ]

    assert not [r for r in resources if r["Type"] == "AWS::EC2::VPC"]
    assert len(networks) == 3
    for network in networks:
        assert network["AssignPublicIp"] == "ENABLED"
        assert sorted(network["Subnets"]) == sorted(subnet["SubnetId"] for subnet in subnets)


def test_sample_app_as_cdk_cli_app_against_the_default_vpc(sandbox, tmp_path):
    """``cdk synth --app "python -m dualalb_kit.samples.default" -c use_default_vpc=1``; the CLI looks up."""
    outdir = tmp_path / "cdk.out"
    environment = {
        **node_environment(),
        **sandbox.environment,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    command = [
        *cdk_cli(),
        "synth",
        "--app",
        f"{sys.executable} -m dualalb_kit.samples.default",
        "--output",
        str(outdir),
        "--context",
        "use_default_vpc=1",
        "--context",
        f"ACM_CERT_ARN={CERT_ARN}",
        "--no-notices",
        "--version-reporting=false",
        "--quiet",
    ]
    result = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr

    template = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    assert_runs_in_the_default_vpc(template, sandbox)
    assert sorted(listeners_by_scheme(template)["internet-facing"]) == [80, 443]
    assert sorted(docker_assets(outdir, STACK_NAME)) == ["customer", "order", "product"]
    cached = json.loads((tmp_path / "cdk.context.json").read_text())
    assert any(key.startswith("vpc-provider:") for key in cached)


def test_sample_app_in_process_against_the_default_vpc(sandbox, tmp_path):
    """``use_default_vpc=1`` answered by the kit's in-process lookups (boto3 against the sandbox)."""
    context: dict = {"use_default_vpc": "1"}
    rounds = 0
    while True:
        build_app(context, account=SANDBOX_ACCOUNT, region=sandbox.region, outdir=str(tmp_path)).synth()
        missing = missing_context(tmp_path)
        if not missing:
            break
        rounds += 1
        assert rounds <= 3, missing
        context.update(
            resolve_missing(
                missing, target=as_target(endpoint_url=sandbox.endpoint_url, region=sandbox.region)
            )
        )

    assert rounds >= 1  # the default VPC came from a lookup, not from a cache
    template = json.loads((tmp_path / f"{STACK_NAME}.template.json").read_text())
    assert_runs_in_the_default_vpc(template, sandbox)
    assert sorted(listeners_by_scheme(template)["internet-facing"]) == [80]
