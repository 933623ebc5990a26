"""The widget designer, driven from Python: set widget values, click buttons, read state."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

import dualalb_kit  # noqa: F401  (sets JSII_NODE before aws_cdk loads)
from dualalb_kit.deploy import stack_status
from dualalb_kit.diagram import Diagram, topology
from dualalb_kit.errors import ValidationError
from dualalb_kit.spec import load_spec
from dualalb_kit.target import as_target
from dualalb_kit.widgets import SPECIFIC_SUBNETS, SpecDesigner, default_spec

PARAMS_DIR = Path(__file__).parents[1] / "params"
PARAMS = sorted(PARAMS_DIR.glob("*.yaml"))


@pytest.mark.parametrize("params", PARAMS, ids=lambda path: path.name)
def test_a_params_file_round_trips_through_the_designer(params):
    spec = load_spec(params)
    designer = SpecDesigner(spec)
    assert designer.error is None
    assert designer.spec == spec
    assert load_spec(designer.to_yaml()) == spec


def test_an_invalid_field_shows_its_message_next_to_it_and_blocks_the_actions():
    designer = SpecDesigner(load_spec(PARAMS[0]))
    second = designer.tasks[1]
    taken = designer.tasks[0].internal_port.value
    second.internal_port.value = taken
    message = f"port {taken} of the internal ALB is already used by tasks[0]"
    assert message in second.fields["internal.port"].error.value
    assert all(field.error.value == "" for path, field in second.fields.items() if path != "internal.port")
    assert message in designer.status.value
    assert designer.synth_button.disabled and designer.deploy_button.disabled
    with pytest.raises(ValidationError, match=r"tasks\[1\]\.internal\.port"):
        designer.to_yaml()
    designer.synth_button.click()  # disabled in a browser; from Python it must still do nothing
    assert designer.synthesis is None

    second.internal_port.value = 9999
    assert designer.error is None
    assert second.fields["internal.port"].error.value == ""
    assert not designer.synth_button.disabled
    assert designer.spec.tasks[1].internal.port == 9999


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("stack_name", "9lives", "is not a stack name"),
        ("route53.zone_name", "bad_zone!", "is not a DNS name"),
        ("tasks[0].name", "Not A Label", "is not a DNS name"),
        ("tasks[0].desired_count", -1, "is negative"),
        ("tasks[0].container_port", 70000, "is not a port (1-65535)"),
    ],
)
def test_each_rule_lands_on_its_field(path, value, message):
    designer = SpecDesigner(default_spec())
    designer.widget(path).value = value
    assert designer.error is not None and designer.error.field == path
    form, _, relative = (
        (designer.tasks[0], None, path.split(".", 1)[1])
        if path.startswith("tasks[")
        else (designer, None, path)
    )
    assert message in form.fields[relative].error.value


def test_a_task_needs_an_alb_and_the_message_sits_on_the_task():
    designer = SpecDesigner(default_spec())
    editor = designer.tasks[0]
    editor.has_external.value = False
    editor.has_internal.value = False
    assert "needs external, internal or both" in editor.form_error.value
    editor.has_internal.value = True
    assert designer.error is None
    assert designer.spec.tasks[0].external is None and designer.spec.tasks[0].internal.port == 80


def test_removing_the_last_task_is_invalid_and_adding_one_repairs_it():
    designer = SpecDesigner(default_spec())
    designer.tasks[0].remove_button.click()
    assert designer.tasks == []
    assert "at least one task is required" in designer.form_error.value
    editor = designer.add_task()
    assert designer.error is None
    assert designer.spec.tasks[0].name == editor.name == "task1"


def test_added_tasks_get_unique_names_and_free_internal_ports():
    designer = SpecDesigner(load_spec(PARAMS[0]))
    before = len(designer.tasks)
    designer.add_task()
    designer.add_task()
    spec = designer.spec
    assert len(spec.tasks) == before + 2
    assert len({task.name for task in spec.tasks}) == len(spec.tasks)
    internal_ports = [task.internal.port for task in spec.tasks if task.internal]
    assert len(set(internal_ports)) == len(internal_ports)


def test_memory_choices_follow_the_cpu():
    designer = SpecDesigner(default_spec())
    editor = designer.tasks[0]
    editor.fields["cpu"].widget.value = 1024
    assert editor.memory.options == tuple(range(2048, 8192 + 1, 1024))
    assert designer.spec.tasks[0].memory == 2048
    editor.memory.value = 4096
    assert (designer.spec.tasks[0].cpu, designer.spec.tasks[0].memory) == (1024, 4096)


def test_the_spot_mix_becomes_a_capacity_strategy_with_its_split_shown():
    designer = SpecDesigner(default_spec())
    editor = designer.tasks[0]
    designer.widget("tasks[0].desired_count").value = 4
    assert designer.spec.tasks[0].capacity is None
    editor.custom_mix.value = True
    editor.fargate_base.value = 1
    editor.fargate_weight.value = 1
    editor.spot_weight.value = 3
    capacity = [(c.provider, c.base, c.weight) for c in designer.spec.tasks[0].capacity]
    assert capacity == [("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 3)]
    assert "4 tasks: 2 FARGATE + 2 FARGATE_SPOT (50% spot)" in editor.split.value

    editor.fargate_base.value = 0
    editor.fargate_weight.value = 0
    assert [c.provider for c in designer.spec.tasks[0].capacity] == ["FARGATE_SPOT"]
    editor.spot_weight.value = 0
    assert "all weights are zero" in editor.fields["capacity"].error.value


@pytest.mark.parametrize(
    ("tasks", "base", "on_demand_weight", "spot_weight", "expected"),
    [
        (4, 1, 1, 3, "4 tasks: 2 FARGATE + 2 FARGATE_SPOT (50% spot)"),
        (10, 0, 1, 1, "10 tasks: 5 FARGATE + 5 FARGATE_SPOT (50% spot)"),
        (3, 5, 1, 1, "3 tasks: 3 FARGATE + 0 FARGATE_SPOT (0% spot)"),
        (6, 2, 0, 1, "6 tasks: 2 FARGATE + 4 FARGATE_SPOT (67% spot)"),
        (10, 1, 1, 3, "10 tasks: 3 FARGATE + 7 FARGATE_SPOT (70% spot)"),
        (1, 0, 0, 1, "1 task: 0 FARGATE + 1 FARGATE_SPOT (100% spot)"),
        (0, 0, 0, 1, "0 tasks: 0 FARGATE + 0 FARGATE_SPOT (no tasks)"),
        (2, 0, 0, 0, "capacity: at least one capacity provider needs a weight above 0"),
    ],
)
def test_the_split_shown_is_the_cost_models_placement(tasks, base, on_demand_weight, spot_weight, expected):
    """Base first, then by weight, as ECS places tasks (the same placement the cost model prices)."""
    designer = SpecDesigner(default_spec())
    editor = designer.tasks[0]
    editor.custom_mix.value = True
    editor.fargate_base.value, editor.fargate_weight.value, editor.spot_weight.value = (
        base,
        on_demand_weight,
        spot_weight,
    )
    designer.widget("tasks[0].desired_count").value = tasks
    assert expected in editor.split.value


def test_specific_subnets_need_an_existing_vpc():
    designer = SpecDesigner(default_spec())
    designer.subnet_choice.value = SPECIFIC_SUBNETS
    designer.subnet_ids.value = "subnet-0aaa0aaa, subnet-0bbb0bbb"
    assert designer.error.field == "subnets"
    assert "need vpc: default or vpc-" in designer.fields["subnets"].error.value
    designer.widget("vpc").value = "vpc-0123abcd"
    assert designer.spec.subnets == ["subnet-0aaa0aaa", "subnet-0bbb0bbb"]
    designer.subnet_ids.value = "subnet-0aaa0aaa, sub-bad"
    assert "is not a subnet id" in designer.fields["subnets"].error.value


def test_save_writes_a_params_file_that_loads_back(tmp_path):
    designer = SpecDesigner(default_spec())
    designer.widget("enable_execute_command").value = True
    designer.widget("route53.internal_record").value = "api"
    spec = load_spec(designer.save(tmp_path / "mine.yaml"))
    assert spec.enable_execute_command is True and spec.route53.internal_record == "api"


def test_synth_renders_resources_outputs_and_diagram_and_follows_an_added_task(tmp_path):
    designer = SpecDesigner(load_spec(PARAMS[0]), outdir=tmp_path / "assembly", nag=False)
    designer.synth_button.click()
    assert designer.last_action_error is None, designer.last_action_error
    first = designer.synthesis
    services = len(designer.spec.tasks)
    assert (first.resources["type"] == "AWS::ECS::Service").sum() == services
    assert f"<h4>Resources ({len(first.resources)})</h4>" in designer.resources_html.value
    assert "AWS::ECS::Service</td>\n      <td>" + str(services) in designer.resources_html.value
    assert "InternalEndpointPrivate" in designer.outputs_html.value
    assert all(f">{task.name}</tspan>" in designer.diagram_html.value for task in designer.spec.tasks)
    assert "Synth done" in designer.status.value and designer.progress.bar_style == "success"

    editor = designer.add_task()
    designer.synth_button.click()
    second = designer.synthesis
    assert (second.resources["type"] == "AWS::ECS::Service").sum() == services + 1
    assert len(second.resources) > len(first.resources)
    assert f">{editor.name}</tspan>" in designer.diagram_html.value
    assert f"<h4>Resources ({len(second.resources)})</h4>" in designer.resources_html.value


TERMINAL_ADVICE = ("--endpoint-url", "export ", "aws configure", "--profile", "aws sso", "dualalb-kit ")


class Kernel:
    """Enough of IPython for ipywidgets' ``Output``: in a kernel it shows an exception raised
    inside it as a traceback and swallows it."""

    def showtraceback(self, *_args, **_kwargs) -> None:
        pass


def status_text(designer: SpecDesigner) -> str:
    return html.unescape(re.sub("<[^>]+>", "", designer.status.value))


@pytest.mark.parametrize("kind", ["sandbox", "aws"])
def test_each_button_without_a_target_says_why_and_what_to_do_in_the_notebook(nowhere, monkeypatch, kind):
    from ipywidgets.widgets import widget_output

    monkeypatch.setattr(widget_output, "get_ipython", Kernel)  # the Output widget as in a kernel
    designer = SpecDesigner(load_spec(PARAMS_DIR / "sample.yaml"), target=kind)
    waits = "no sandbox is running" if kind == "sandbox" else "no AWS credentials for AWS (us-east-1)"
    assert designer.target_problem.startswith(waits)
    assert all(
        button.disabled for button in (designer.diff_button, designer.deploy_button, designer.destroy_button)
    )
    assert not designer.synth_button.disabled
    assert f"✓ valid · Diff, Deploy and Destroy wait: {waits}" in status_text(designer)
    assert (designer.sandbox_button.layout.display != "none") is (kind == "sandbox")
    advice = (
        "press Start sandbox, or create the designer with endpoint_url= a running sandbox's URL"
        if kind == "sandbox"
        else "create the designer with target=Target.aws(profile=NAME) for a configured AWS profile, "
        "or choose target sandbox"
    )
    reason = (
        "no sandbox is running (no endpoint_url given and DUALALB_SANDBOX_URL is not set)"
        if kind == "sandbox"
        else "no AWS credentials for AWS (us-east-1)"
    )
    for name in ("Deploy", "Diff", "Destroy"):
        # Disabled in a browser; from Python the click runs and fails (Destroy's first click asks).
        for _ in range(2 if name == "Destroy" else 1):
            getattr(designer, f"{name.lower()}_button").click()
        assert status_text(designer) == f"{name} failed: {reason}: {advice}", name
        assert designer.progress.bar_style == "danger"
    designer.widget("vpc").value = "default"  # a VPC to look up
    designer.synth_button.click()
    assert status_text(designer) == (
        "Synth failed: vpc 'default' is looked up in a sandbox or an AWS account, and neither is at hand: "
        + advice
    )
    assert not any(terminal in advice for terminal in TERMINAL_ADVICE)


def test_start_sandbox_enables_deploy_diff_and_destroy(nowhere, monkeypatch):
    designer = SpecDesigner(default_spec(), target="sandbox")
    assert designer.deploy_button.disabled
    designer.sandbox_button.click()
    try:
        assert designer.own_sandbox is not None and designer.endpoint_url == designer.own_sandbox.endpoint_url
        assert designer.target_problem is None and designer.sandbox_button.layout.display == "none"
        assert not any(
            b.disabled for b in (designer.diff_button, designer.deploy_button, designer.destroy_button)
        )
        assert status_text(designer) == "✓ Start sandbox done"
    finally:
        designer.own_sandbox.stop()


def test_topology_reads_listeners_redirects_and_services():
    template = {
        "Resources": {
            "Alb": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {"Scheme": "internet-facing"},
            },
            "L443": {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Properties": {
                    "LoadBalancerArn": {"Ref": "Alb"},
                    "Port": 443,
                    "Protocol": "HTTPS",
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Tg"}}],
                },
            },
            "L80": {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Properties": {
                    "LoadBalancerArn": {"Ref": "Alb"},
                    "Port": 80,
                    "Protocol": "HTTP",
                    "DefaultActions": [
                        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443"}}
                    ],
                },
            },
            "Tg": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {}},
            "Svc": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "DesiredCount": 3,
                    "Tags": [{"Key": "dualalb:service", "Value": "web"}],
                    "CapacityProviderStrategy": [
                        {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 1},
                        {"CapacityProvider": "FARGATE_SPOT", "Weight": 2},
                    ],
                    "LoadBalancers": [{"ContainerName": "web", "TargetGroupArn": {"Ref": "Tg"}}],
                },
            },
        }
    }
    table = topology(template)
    assert table[["alb", "port", "protocol", "action"]].values.tolist() == [
        ["external", 80, "HTTP", "redirect to HTTPS:443"],
        ["external", 443, "HTTPS", "forward"],
    ]
    assert table["service"].isna().tolist() == [True, False] and table.loc[1, "service"] == "web"
    assert table.loc[1, "capacity"] == "FARGATE x1 (base 1), FARGATE_SPOT x2"
    svg = Diagram(template).svg
    assert svg.startswith("<svg") and svg.count("<rect") == 4 and svg.count("<line") == 3


@pytest.mark.sandbox
def test_deploy_diff_and_destroy_from_the_buttons(sandbox, tmp_path):
    spec = load_spec(PARAMS_DIR / "internal-only.yaml").model_copy(update={"stack_name": "designer-buttons"})
    designer = SpecDesigner(spec, outdir=tmp_path / "assembly", nag=False, endpoint_url=sandbox.endpoint_url)
    designer.deploy_button.click()
    assert designer.last_action_error is None, designer.last_action_error
    assert designer.deployed_outputs["InternalEndpointPrivate"] == "http://backoffice.corp.internal"
    assert "Deployed outputs" in designer.outputs_html.value
    link = '<a href="http://backoffice.corp.internal" target="_blank">http://backoffice.corp.internal</a>'
    assert link in designer.outputs_html.value  # the endpoint whole and clickable

    designer.widget("tasks[0].desired_count").value = 3
    designer.diff_button.click()
    assert designer.last_action_error is None, designer.last_action_error
    changed = designer.diff_table.set_index("logical_id")["change"]
    assert (changed == "modified").sum() == 1 and "<h4>Diff</h4>" in designer.diff_html.value

    designer.destroy_button.click()  # the first click only asks
    assert designer.destroy_button.description == "Confirm destroy"
    assert (
        "Click Destroy again to delete stack designer-buttons (sandbox, us-east-1)" in designer.status.value
    )
    assert (
        stack_status("designer-buttons", target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
        == "CREATE_COMPLETE"
    )
    designer.destroy_button.click()
    assert designer.last_action_error is None, designer.last_action_error
    assert designer.destroy_button.description == "Destroy"
    cloudformation = as_target(endpoint_url=sandbox.endpoint_url).client("cloudformation")
    stacks = cloudformation.list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == "designer-buttons"] == ["DELETE_COMPLETE"]
