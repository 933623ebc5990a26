"""The designer's compact task rows, capacity placement, extra fields and live preview (no synthesis)."""

from __future__ import annotations

from pathlib import Path

import pytest

import dualalb_kit  # noqa: F401  (sets JSII_NODE before aws_cdk loads)
from dualalb_kit.diagram import topology
from dualalb_kit.spec import load_spec
from dualalb_kit.widgets import SpecDesigner, default_spec

PARAMS = Path(__file__).parents[1] / "params"


def all_spot_spec():
    return default_spec().model_copy(update={"spot": True})


def test_tasks_are_compact_rows_with_details_on_expand():
    designer = SpecDesigner(load_spec(PARAMS / "mixed-spot.yaml"))
    editor = designer.tasks[0]
    assert [child.value for child in editor.row.children[1:4]] == ["storefront", editor.data()["image"], 4]
    assert editor.details.layout.display == "none"
    editor.expand_button.value = True
    assert editor.details.layout.display == "flex" and editor.expanded
    assert designer.spec == load_spec(PARAMS / "mixed-spot.yaml")


def test_an_error_in_a_hidden_field_opens_the_task():
    designer = SpecDesigner(default_spec())
    editor = designer.tasks[0]
    designer.widget("tasks[0].scaling.max_capacity").value = 0
    assert editor.expanded
    assert "must be at least 1" in editor.fields["scaling.max_capacity"].error.value


def test_an_all_spot_task_stays_all_spot_when_its_capacity_is_opened():
    designer = SpecDesigner(all_spot_spec())
    editor = designer.tasks[0]
    designer.widget("tasks[0].desired_count").value = 2
    assert "2 tasks: 0 FARGATE + 2 FARGATE_SPOT (100% spot, stack default)" in editor.split.value
    editor.expand()
    editor.custom_mix.value = True
    capacity = [(c.provider, c.base, c.weight) for c in designer.spec.tasks[0].capacity]
    assert capacity == [("FARGATE_SPOT", 0, 1)]
    assert (editor.fargate_weight.value, editor.spot_weight.value) == (0, 1)
    assert "2 tasks: 0 FARGATE + 2 FARGATE_SPOT (100% spot)" in editor.split.value
    editor.spot_weight.value = 1
    editor.fargate_weight.value = 1
    assert "2 tasks: 1 FARGATE + 1 FARGATE_SPOT (50% spot)" in editor.split.value


def test_scaling_environment_and_health_check_fields_reach_the_spec():
    designer = SpecDesigner(default_spec())
    designer.widget("tasks[0].scaling.max_capacity").value = 20
    designer.widget("tasks[0].scaling.target_cpu_utilization").value = 65.0
    designer.widget("tasks[0].environment").value = "LOG_LEVEL=debug\n\nGREETING = hello=world\n"
    designer.tasks[0].has_health_check.value = True
    designer.widget("tasks[0].health_check.path").value = "/health"
    task = designer.spec.tasks[0]
    assert (task.scaling.max_capacity, task.scaling.target_cpu_utilization) == (20, 65.0)
    assert task.environment == {"LOG_LEVEL": "debug", "GREETING": "hello=world"}
    assert task.health_check.path == "/health" and task.health_check.interval_seconds == 30
    assert load_spec(designer.to_yaml()) == designer.spec


def test_the_preview_follows_each_edit_without_synth():
    from dualalb_kit.cost import HOURS_PER_MONTH, load_pricing

    vcpu, gb = load_pricing().rates("us-east-1", "FARGATE")
    spot_vcpu, spot_gb = load_pricing().rates("us-east-1", "FARGATE_SPOT")
    one_task = HOURS_PER_MONTH * (0.25 * vcpu + 0.5 * gb)
    one_spot_task = HOURS_PER_MONTH * (0.25 * spot_vcpu + 0.5 * spot_gb)
    designer = SpecDesigner(default_spec(), preview_delay=0)
    assert "desired 1" not in designer.diagram_preview.value
    assert ">1 x FARGATE x1</text>" in designer.diagram_preview.value
    assert f"${one_task:,.2f}" in designer.cost_preview.value

    designer.widget("tasks[0].desired_count").value = 4
    editor = designer.tasks[0]
    editor.custom_mix.value = True
    editor.spot_weight.value = 3
    assert ">4 x FARGATE x1, FARGATE_SPOT x3</text>" in designer.diagram_preview.value
    total = f"${one_task + 3 * one_spot_task:,.2f}"
    assert f"<td>web</td><td class='n'>1 + 3</td><td class='n'>{total}</td>" in designer.cost_preview.value
    assert f"<td class='n'>${4 * one_task:,.2f}</td></tr>" in designer.cost_preview.value
    assert designer.synthesis is None


def test_the_preview_waits_for_the_last_of_quick_edits():
    import asyncio

    async def edit() -> tuple[str, str]:
        designer = SpecDesigner(default_spec(), preview_delay=0.05)
        first = designer.diagram_preview.value
        for count in (2, 3, 5):
            designer.widget("tasks[0].desired_count").value = count
        unchanged = designer.diagram_preview.value
        await asyncio.sleep(0.2)
        assert unchanged == first
        return designer.diagram_preview.value

    assert ">5 x FARGATE x1</text>" in asyncio.run(edit())


@pytest.mark.parametrize("https", [False, True], ids=["sample", "https-443"])
def test_the_spec_diagram_matches_the_synthesized_one(https, tmp_path):
    from dualalb_kit.diagram import spec_topology
    from dualalb_kit.synth import synth

    spec = load_spec(PARAMS / "sample.yaml")
    if https:
        cert = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
        tasks = spec.to_params()["tasks"]
        tasks[0]["external"] = {"port": 443, "cert_arn": cert}
        spec = load_spec({**spec.to_params(), "tasks": tasks})
    synthesized = topology(synth(spec, tmp_path, nag=False).template)
    expected = spec_topology(spec)
    assert expected.astype(str).values.tolist() == synthesized.astype(str).values.tolist()
    assert (expected["action"] == "redirect to HTTPS:443").sum() == int(https)


def test_a_button_pressed_on_an_invalid_form_says_why_instead_of_doing_nothing():
    designer = SpecDesigner(default_spec())
    designer.widget("tasks[0].scaling.max_capacity").value = 0
    designer.synth_button.click()
    assert designer.synthesis is None
    assert "must be at least 1" in str(designer.last_action_error)
