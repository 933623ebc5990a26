"""Synthesis of the shipped params files: the CLI, the template, warnings, cdk-nag and cfn-lint."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dualalb_kit.lint import LintWorker, lint_template
from dualalb_kit.spec import load_spec
from dualalb_kit.synth import synth

ROOT = Path(__file__).resolve().parent.parent
PARAMS = sorted((ROOT / "params").glob("*.yaml"))
DUAL_ALB_PARAMS = [p.name for p in PARAMS if load_spec(p).pattern == "dualalb"]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    """Each params file synthesized once, with cdk-nag on."""
    out = tmp_path_factory.mktemp("assemblies")
    return {path.name: synth(load_spec(path), out / path.stem) for path in PARAMS}


def resources_of(template: dict, kind: str) -> list[dict]:
    return [r.get("Properties", {}) for r in template["Resources"].values() if r["Type"] == kind]


def test_cli_synth_prints_the_resource_table(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", "synth", "params/sample.yaml", "-o", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Synthesized dualalb-sample into {tmp_path}")
    table = {line.split()[0]: int(line.split()[1]) for line in lines if line.strip().startswith("AWS::")}
    assert table["AWS::ElasticLoadBalancingV2::LoadBalancer"] == 2
    assert table["AWS::ECS::Service"] == 3
    assert table["AWS::Route53::RecordSet"] == 2
    assert "  ExternalEndpointPrivate: http://external.svc.local" in lines
    assert "Node 20 is end-of-life" not in result.stderr + result.stdout
    assert (tmp_path / "dualalb-sample.template.json").exists()


def test_cli_synth_of_several_files_and_a_glob_one_line_each_a_bad_file_failing_alone(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stack_name: x\ntasks: [{name: a, image: b, internal: {port: 70000}}]\n")
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dualalb_kit.cli",
            "synth",
            "params/internal-*.yaml",
            "params/public-one-per-az.yaml",
        ]
        + [str(bad), "-o", str(out), "--no-lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:4] for line in lines] == [
        ["synthesized", "params/internal-only.yaml", "dualalb-internal:", "61"],
        ["synthesized", "params/public-one-per-az.yaml", "dualalb-public:", "73"],  # 67 + the Spot handler
        ["invalid", str(bad), "tasks[0].internal.port:", "70000"],
    ]
    assert lines[0].endswith(f"-> {out / 'dualalb-internal'}")
    assert lines[2].endswith("  tasks[0].internal.port: 70000 is not a port (1-65535)")
    assert sorted(path.name for path in out.iterdir()) == ["dualalb-internal", "dualalb-public"]
    assert (out / "dualalb-public" / "dualalb-public.template.json").exists()


def test_cli_synth_bad_input_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stack_name: x\ntasks: [{name: a, image: b, internal: {port: 70000}}]\n")
    result = subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", "synth", str(bad), "-o", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "error: tasks[0].internal.port: 70000 is not a port (1-65535)\n"
    assert not (tmp_path / "out").exists()


def test_sample_template_matches_the_seed(synthesized):
    template = synthesized["sample.yaml"].template
    albs = resources_of(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert sorted(a["Scheme"] for a in albs) == ["internal", "internet-facing"]
    services = resources_of(template, "AWS::ECS::Service")
    assert [s["CapacityProviderStrategy"] for s in services] == [
        [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    ] * 3
    assert sorted(s["DesiredCount"] for s in services) == [2, 2, 2]
    zone = resources_of(template, "AWS::Route53::HostedZone")
    assert [z["Name"] for z in zone] == ["svc.local."]
    records = sorted(r["Name"] for r in resources_of(template, "AWS::Route53::RecordSet"))
    assert records == ["external.svc.local.", "internal.svc.local."]
    targets = sorted(
        t["MaxCapacity"] for t in resources_of(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    )
    assert targets == [10, 10, 20]
    assert len(resources_of(template, "AWS::ApplicationAutoScaling::ScalingPolicy")) == 7


def test_resources_frame(synthesized):
    result = synthesized["sample.yaml"]
    frame = result.resources
    assert list(frame.columns) == ["logical_id", "type", "path"]
    assert len(frame) == len(result.template["Resources"])
    service_rows = frame[frame["type"] == "AWS::ECS::Service"]
    assert sorted(service_rows["path"]) == [
        "dualalb-sample/Service/customerService/Service",
        "dualalb-sample/Service/orderService/Service",
        "dualalb-sample/Service/productService/Service",
    ]
    assert result.assembly_dir.joinpath("manifest.json").exists()


@pytest.mark.parametrize("name", [p.name for p in PARAMS])
def test_params_synthesize_without_warnings_or_findings(synthesized, name):
    result = synthesized[name]
    assert result.warnings == []
    assert result.findings.empty, result.findings.to_string()


@pytest.mark.parametrize("name", [p.name for p in PARAMS])
def test_cfn_lint_reports_no_errors(synthesized, name, tmp_path):
    result = synthesized[name]
    spec = load_spec(ROOT / "params" / name)
    findings = result.lint(region=spec.region)
    assert list(findings.columns) == ["rule", "level", "path", "construct", "line", "message"]
    assert findings[findings["level"] == "error"].empty, findings.to_string()
    assert set(findings["level"]) <= {"warning", "informational"}
    in_resources = findings[findings["path"].str.startswith("Resources/")]
    assert all(path.startswith(f"{spec.stack_name}/") for path in in_resources["construct"])
    # The same template with one wrongly typed property: cfn-lint names the rule, the place and the construct.
    service_id = next(i for i, r in result.template["Resources"].items() if r["Type"] == "AWS::ECS::Service")
    broken = json.loads(json.dumps(result.template))
    broken["Resources"][service_id]["Properties"]["DesiredCount"] = "many"
    (tmp_path / result.template_path.name).write_text(json.dumps(broken, indent=1))
    (tmp_path / "manifest.json").write_text((result.assembly_dir / "manifest.json").read_text())
    errors = dataclasses.replace(result, assembly_dir=tmp_path).lint().query("level == 'error'")
    assert errors[["rule", "path", "construct"]].values.tolist() == [
        ["E3012", f"Resources/{service_id}/Properties/DesiredCount", result.paths[service_id]]
    ]
    assert "'many' is not of type 'integer'" in errors["message"].iloc[0]


def test_the_lint_worker_finds_in_its_process_what_cfn_lint_finds_here(synthesized, tmp_path):
    result = synthesized["sample.yaml"]
    service_id = next(i for i, r in result.template["Resources"].items() if r["Type"] == "AWS::ECS::Service")
    broken = json.loads(json.dumps(result.template))
    broken["Resources"][service_id]["Properties"]["DesiredCount"] = "many"
    path = tmp_path / result.template_path.name
    path.write_text(json.dumps(broken, indent=1))
    with LintWorker() as worker:
        seconds, rows = worker.submit(path, "eu-west-1").result()
    assert rows == lint_template(path, "eu-west-1") and seconds > 0
    # The rule set loaded once per process finds what cfn-lint's own API finds.
    from cfnlint.api import ManualArgs, lint_file

    found = lint_file(path, ManualArgs(regions=["eu-west-1"]))
    assert [(r["rule"], r["path"], r["line"], r["message"]) for r in rows] == [
        (m.rule.id, m.path_string, m.linenumber, m.message) for m in found
    ]
    assert [row["rule"] for row in rows if row["level"] == "error"] == ["E3012"]
    table = result.lint_table(rows)
    assert table.query("rule == 'E3012'")["construct"].tolist() == [result.paths[service_id]]


def test_cli_synth_of_several_files_lints_each_as_one_file_would(synthesized, tmp_path):
    names = ["internal-only.yaml", "sample.yaml"]
    result = subprocess.run(
        [sys.executable, "-m", "dualalb_kit.cli", "synth", *(f"params/{n}" for n in names)]
        + ["-o", str(tmp_path), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    expected = [len(synthesized[name].lint()) + len(synthesized[name].findings) for name in names]
    assert [(row["status"], row["findings"]) for row in rows] == [("synthesized", n) for n in expected]
    assert expected[1] > 0  # the sample has cfn-lint warnings: the worker's findings arrive


@pytest.mark.parametrize("name", DUAL_ALB_PARAMS)
def test_template_reflects_the_params(synthesized, name):
    """The dual-ALB params files (the WordPress pattern has its own tests in test_wordpress.py)."""
    spec = load_spec(ROOT / "params" / name)
    template = synthesized[name].template
    services = resources_of(template, "AWS::ECS::Service")
    assert sorted(s["DesiredCount"] for s in services) == sorted(t.desired_count for t in spec.tasks)
    listener_ports = sorted(
        lst["Port"]
        for lst in resources_of(template, "AWS::ElasticLoadBalancingV2::Listener")
        if lst["DefaultActions"][0]["Type"] != "redirect"
    )
    # One listener per port per ALB: tasks with forward conditions share one.
    listeners = {
        (side, alb.port)
        for t in spec.tasks
        for side, alb in (("external", t.external), ("internal", t.internal))
        if alb is not None
    }
    expected_ports = sorted(port for _, port in listeners)
    assert listener_ports == expected_ports
    strategies = sorted(json.dumps(s["CapacityProviderStrategy"], sort_keys=True) for s in services)
    expected = sorted(
        json.dumps(
            [
                {"CapacityProvider": c.provider, **({"Base": c.base} if c.base else {}), "Weight": c.weight}
                for c in t.capacity_strategy(spec.spot)
            ],
            sort_keys=True,
        )
        for t in spec.tasks
    )
    assert strategies == expected


@pytest.fixture
def with_known_findings(monkeypatch):
    """``build_stack`` adds two security groups to every stack: ``OpenSsh`` (SSH from 0.0.0.0/0,
    cdk-nag's AwsSolutions-EC23) and ``BadPort`` (a port that is not a number, cfn-lint's E3012)."""
    from aws_cdk import aws_ec2 as ec2

    from dualalb_kit import build

    build_stack = build.build_stack

    def build_with_findings(spec, **options):
        app, stack = build_stack(spec, **options)
        ec2.CfnSecurityGroup(
            stack,
            "OpenSsh",
            group_description="ssh from anywhere",
            security_group_ingress=[
                ec2.CfnSecurityGroup.IngressProperty(
                    ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="0.0.0.0/0"
                )
            ],
        )
        bad_port = ec2.CfnSecurityGroup(stack, "BadPort", group_description="a port that is not a number")
        bad_port.add_property_override(
            "SecurityGroupIngress",
            [{"IpProtocol": "tcp", "FromPort": "ssh", "ToPort": 22, "CidrIp": "10.0.0.0/16"}],
        )
        return app, stack

    monkeypatch.setattr(build, "build_stack", build_with_findings)


KNOWN_FINDINGS = [
    [
        "AwsSolutions-EC23",
        "dualalb-internal/OpenSsh",
        "The Security Group allows for 0.0.0.0/0 or ::/0 inbound access.",
    ],
    ["F3012", "dualalb-internal/BadPort", "SecurityGroupIngress.0.FromPort: 'ssh' is not of type 'integer'"],
    [
        "W2508",
        "dualalb-internal/OpenSsh",
        "SecurityGroupIngress: Security group allows 0.0.0.0/0 access to sensitive port 22 (range 22-22)",
    ],
]
"""cdk-nag's finding, then the two of aws-cdk-lib's own template validation (same report)."""


def test_synth_reports_a_known_nag_and_lint_finding_and_still_writes_the_assembly(
    with_known_findings, tmp_path
):
    result = synth(load_spec(ROOT / "params" / "internal-only.yaml"), tmp_path)
    assert result.findings.values.tolist() == KNOWN_FINDINGS
    assert {"OpenSsh", "BadPort"} <= set(json.loads(result.template_path.read_text())["Resources"])
    assert (tmp_path / "manifest.json").exists()
    errors = result.lint().query("level == 'error'")
    assert errors[["rule", "path", "construct"]].values.tolist() == [
        ["E3012", "Resources/BadPort/Properties/SecurityGroupIngress/0/FromPort", "dualalb-internal/BadPort"]
    ]
    assert (
        synth(load_spec(ROOT / "params" / "internal-only.yaml"), tmp_path, nag=False).findings.values.tolist()
        == KNOWN_FINDINGS[1:]
    )


def test_cli_synth_prints_the_known_findings(with_known_findings, tmp_path, capsys):
    from dualalb_kit.cli import main

    assert main(["synth", str(ROOT / "params" / "internal-only.yaml"), "-o", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split("\n\n")
    assert printed[-2].splitlines()[0] == "Findings (cdk-nag and cfn-lint): 6"
    header, *rows = printed[-1].splitlines()
    assert header.split() == ["checker", "level", "rule", "path", "message"]
    assert [row.split()[:4] for row in rows] == [
        ["cfn-lint", "warning", "W3005", "Resources/ServiceledgerServiceAF306496/DependsOn/2"],
        ["cfn-lint", "warning", "W3005", "Resources/ServicereportsServiceB32F4B6A/DependsOn/2"],
        ["cfn-lint", "error", "E3012", "Resources/BadPort/Properties/SecurityGroupIngress/0/FromPort"],
        *(["cdk-nag", "error", rule, path] for rule, path, _ in KNOWN_FINDINGS),
    ]
    assert (tmp_path / "dualalb-internal.template.json").exists()


def test_a_relative_outdir_follows_the_working_directory(tmp_path, monkeypatch):
    """jsii's Node process starts once, in the first working directory; the assembly must not."""
    from aws_cdk import App

    App()  # the Node process is running before the working directory changes
    monkeypatch.chdir(tmp_path)
    result = synth(load_spec(ROOT / "params" / "internal-only.yaml"), "relative-out", nag=False)
    assert result.assembly_dir == tmp_path / "relative-out"
    assert (tmp_path / "relative-out" / "dualalb-internal.template.json").exists()


INTERRUPTED_SYNTH = """
import json, os, signal, sys, threading
from pathlib import Path
from jsii._runtime import kernel
from dualalb_kit.spec import SAMPLE_PARAMS, load_spec
from dualalb_kit.synth import synth

spec, out = load_spec(SAMPLE_PARAMS), Path(sys.argv[1])
before = synth(spec, out / "before", nag=False).template
ask = kernel.provider.invoke
synthesizing = threading.Event()

def invoke(request):  # the app's synth: the call that runs longest in Node
    if request.method == "synth":
        synthesizing.set()
    return ask(request)

def stop():  # as the kit's kernel on an interrupt: SIGINT to this process only, Node goes on
    synthesizing.wait()
    os.kill(os.getpid(), signal.SIGINT)

kernel.provider.invoke = invoke
threading.Thread(target=stop, daemon=True).start()
try:
    synth(spec, out / "stopped", nag=False)
    stopped = False
except KeyboardInterrupt:
    stopped = True
kernel.provider.invoke = ask
after = synth(spec, out / "after", nag=False).template
print(json.dumps({"stopped": stopped, "same": after == before, "left": sorted(os.listdir(out))}))
"""


def test_a_synth_stopped_by_ctrl_c_mid_jsii_call_leaves_the_next_one_working(tmp_path):
    """SIGINT while Node synthesizes: that synth raises KeyboardInterrupt once Node has answered,
    leaves no assembly, and the next synth in the same process makes the same template."""
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_SYNTH, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "stopped": True,
        "same": True,
        "left": ["after", "before"],
    }


@pytest.mark.parametrize("name", ["sample.yaml", "internal-only.yaml"])
def test_the_cli_reports_the_findings_of_a_plain_synthesis_and_an_in_process_cfn_lint(
    with_known_findings, name, tmp_path, capsys
):
    """The CLI's findings (cdk-nag failing the synthesis once, cfn-lint in a warmed worker) are those
    of the plain path: the validation report, and cfn-lint run here on a template identical to the
    one synthesized without cdk-nag (what the CLI used to synthesize a second time)."""
    from dualalb_kit.cli import FINDING_COLUMNS, main

    spec = load_spec(ROOT / "params" / name)
    with_nag = synth(spec, tmp_path / "with-nag")
    without_nag = synth(spec, tmp_path / "without-nag", nag=False)
    assert with_nag.template == without_nag.template
    assert with_nag.findings.values.tolist()[0][0] == "AwsSolutions-EC23"
    lint = with_nag.lint_table(lint_template(without_nag.template_path, spec.region))
    expected = [{"checker": "cfn-lint", **row} for row in lint[FINDING_COLUMNS[1:]].to_dict("records")] + [
        {"checker": "cdk-nag", "level": "error", **row} for row in with_nag.finding_rows
    ]

    assert main(["synth", str(ROOT / "params" / name), "-o", str(tmp_path / "cli"), "--json"]) == 0
    reported = json.loads(capsys.readouterr().out)
    assert reported["findings"] == expected
    assert json.loads((tmp_path / "cli" / with_nag.template_path.name).read_text()) == with_nag.template
