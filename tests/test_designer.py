"""The designer's compact task rows, capacity placement, extra fields and live preview (no synthesis)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from xml.etree import ElementTree

import pytest

import dualalb_kit  # noqa: F401  (sets JSII_NODE before aws_cdk loads)
from dualalb_kit.diagram import topology
from dualalb_kit.spec import load_spec
from dualalb_kit.widgets import SpecDesigner, default_spec

PARAMS = Path(__file__).parents[1] / "params"
SVG = "{http://www.w3.org/2000/svg}"


def svg_labels(html: str) -> list[str]:
    """The labels of the diagram in ``html`` (each ``<text>``'s lines joined), in drawing order."""
    svg = ElementTree.fromstring(html[html.index("<svg") : html.index("</svg>") + len("</svg>")])
    return ["".join(text.itertext()) for text in svg.iter(f"{SVG}text")]


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
    assert "1 x FARGATE x1" in svg_labels(designer.diagram_preview.value)
    assert f"${one_task:,.2f}" in designer.cost_preview.value

    designer.widget("tasks[0].desired_count").value = 4
    editor = designer.tasks[0]
    editor.custom_mix.value = True
    editor.spot_weight.value = 3
    assert "4 x FARGATE x1, FARGATE_SPOT x3" in svg_labels(designer.diagram_preview.value)
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

    assert "5 x FARGATE x1" in svg_labels(asyncio.run(edit()))


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


def test_the_preview_sits_beside_the_form_and_stays_in_view():
    """Form on the left, the preview column on the right of the same row; the column is sticky
    (no scrolling box between it and the notebook), with the paused line above the diagram."""
    designer = SpecDesigner(default_spec())
    row = designer.box.children[0]
    form, preview = row.children
    assert preview is designer.preview and designer.tasks_section in form.children
    assert preview.children[1:] == (designer.preview_paused, designer.diagram_preview, designer.cost_preview)
    style = preview.children[0].value
    assert ".dualalb-preview-column{position:sticky;top:0" in style
    assert "dualalb-preview-column" in preview._dom_classes and preview.layout.align_self == "flex-start"
    assert designer.box.layout.overflow == row.layout.overflow == "visible"
    assert ".jp-OutputArea-output:has(.dualalb-designer){overflow:visible;min-width:0}" in style
    assert "dualalb-designer" in designer.box._dom_classes


def test_an_invalid_form_greys_the_preview_out_with_the_reason_until_fixed():
    designer = SpecDesigner(default_spec(), preview_delay=0)
    valid_diagram, valid_cost = designer.diagram_preview.value, designer.cost_preview.value
    assert designer.preview_paused.value == "" and designer.preview_paused.layout.display == "none"
    assert "dualalb-preview-invalid" not in designer.preview._dom_classes

    designer.widget("tasks[0].desired_count").value = -1
    assert "dualalb-preview-invalid" in designer.preview._dom_classes
    assert designer.preview_paused.layout.display is None
    assert "Preview paused" in designer.preview_paused.value
    assert escape(str(designer.error)) in designer.preview_paused.value
    assert "tasks[0].desired_count" in designer.preview_paused.value
    assert (designer.diagram_preview.value, designer.cost_preview.value) == (valid_diagram, valid_cost)

    designer.widget("tasks[0].desired_count").value = 3
    assert "dualalb-preview-invalid" not in designer.preview._dom_classes
    assert designer.preview_paused.value == "" and designer.preview_paused.layout.display == "none"
    assert "3 x FARGATE x1" in svg_labels(designer.diagram_preview.value)


def test_long_labels_wrap_onto_lines_inside_their_boxes():
    """A mixed capacity label wraps onto lines of at most CHARS_PER_LINE characters, each drawn
    inside its box; the label still reads whole."""
    from dualalb_kit.diagram import CHARS_PER_LINE, Diagram, wrap_label

    label = "4 x FARGATE x1 (base 1), FARGATE_SPOT x3"
    assert wrap_label(label) == ["4 x FARGATE x1", "(base 1),", "FARGATE_SPOT x3"]
    assert wrap_label("a" * (CHARS_PER_LINE + 3)) == ["a" * CHARS_PER_LINE, "aaa"]
    svg = Diagram.from_spec(load_spec(PARAMS / "mixed-spot.yaml")).svg
    assert label in svg_labels(svg)
    root = ElementTree.fromstring(svg)
    boxes = [
        {key: float(rect.get(key)) for key in ("x", "y", "width", "height")}
        for rect in root.iter(f"{SVG}rect")
    ]
    lines = [(tspan.text, float(tspan.get("x")), float(tspan.get("y"))) for tspan in root.iter(f"{SVG}tspan")]
    assert max(len(text) for text, _, _ in lines) <= CHARS_PER_LINE
    for text, x, y in lines:
        (box,) = [b for b in boxes if b["x"] < x < b["x"] + b["width"] and b["y"] < y < b["y"] + b["height"]]
        assert x + len(text) * 0.6 * 12 <= box["x"] + box["width"], text
    assert "FARGATE_SPOT x3" in [text for text, _, _ in lines]
    assert float(root.get("width")) <= 490  # a preview column shows it at its own size


def test_a_stopped_synth_says_so_and_lets_the_interrupt_go_on(monkeypatch):
    """The stop button's KeyboardInterrupt: the status line says stopped (not "running"), the bar
    turns to a warning, and the interrupt still stops the cell that pressed the button."""
    designer = SpecDesigner(default_spec())

    def interrupted() -> None:
        assert designer.status.value == "<i>Synth running…</i>"
        raise KeyboardInterrupt

    monkeypatch.setattr(designer, "run_synth", interrupted)
    with pytest.raises(KeyboardInterrupt):
        designer.synth_button.click()
    assert "■ Synth stopped" in designer.status.value
    assert designer.progress.bar_style == "warning"
    assert designer.last_action_error is None


# -- issue 14's options: stack row and task details --------------------------------------------


def test_the_stack_options_reach_the_spec_and_unset_boxes_change_nothing():
    designer = SpecDesigner(default_spec(), preview_delay=0)
    assert designer.to_yaml() == default_spec().to_yaml()
    designer.widget("spot_termination_handler").value = True
    designer.widget("alarms").value = True
    designer.widget("access_logs").value = True
    designer.widget("external_alb_idle_timeout_seconds").value = "120"
    designer.widget("internal_alb_idle_timeout_seconds").value = " 300 "
    designer.widget("cluster_name").value = "shop"
    spec = designer.spec
    assert (spec.spot_termination_handler, spec.alarms, spec.access_logs) == (True, True, True)
    assert (spec.external_alb_idle_timeout_seconds, spec.internal_alb_idle_timeout_seconds) == (120, 300)
    assert spec.cluster_name == "shop"
    designer.widget("cluster_name").value = ""
    designer.widget("existing_cluster").value = "shared"
    designer.widget("vpc").value = "default"
    assert designer.spec.existing_cluster == "shared"
    designer.widget("vpc").value = "new"
    for path in ("alarms", "access_logs"):
        designer.widget(path).value = False
    for path in (
        "spot_termination_handler",  # "default": on with tasks on FARGATE_SPOT
        "external_alb_idle_timeout_seconds",
        "internal_alb_idle_timeout_seconds",
        "existing_cluster",
    ):
        designer.widget(path).value = ""
    assert designer.spec == default_spec() and designer.to_yaml() == default_spec().to_yaml()


def test_a_cleared_box_unsets_a_value_the_design_had():
    spec = default_spec().model_copy(update={"cluster_name": "shop", "external_alb_idle_timeout_seconds": 90})
    designer = SpecDesigner(spec, preview_delay=0)
    assert designer.widget("external_alb_idle_timeout_seconds").value == "90"
    designer.widget("external_alb_idle_timeout_seconds").value = ""
    designer.widget("cluster_name").value = ""
    assert designer.spec == default_spec()


def test_the_stack_deployment_shows_its_options_and_enables_the_strategys_own():
    spec = load_spec(PARAMS / "canary-with-alarms.yaml")
    designer = SpecDesigner(spec, preview_delay=0)
    shown = {
        name: designer.widget(f"deployment.{name}").value
        for name in ("canary_percent", "canary_bake_time_minutes", "bake_time_minutes", "rollback_on_alarms")
    }
    assert shown == {
        "canary_percent": "10.0",
        "canary_bake_time_minutes": "5",
        "bake_time_minutes": "10",
        "rollback_on_alarms": "",
    }
    assert designer.widget("deployment.linear_step_percent").disabled
    assert not designer.widget("deployment.canary_percent").disabled
    designer.widget("deployment.canary_percent").value = "20"
    designer.widget("deployment.rollback_on_alarms").value = False
    assert designer.spec.deployment.model_dump(exclude_none=True) == {
        "strategy": "canary",
        "bake_time_minutes": 10,
        "canary_percent": 20.0,
        "canary_bake_time_minutes": 5,
        "rollback_on_alarms": False,
    }
    designer.deployment_choice.value = "linear"
    assert designer.widget("deployment.canary_percent").disabled
    designer.widget("deployment.linear_step_percent").value = "25"
    assert designer.spec.deployment.model_dump(exclude_none=True) == {
        "strategy": "linear",
        "bake_time_minutes": 10,
        "linear_step_percent": 25.0,
        "rollback_on_alarms": False,
    }


def test_a_tasks_own_options_reach_the_spec_from_its_details():
    designer = SpecDesigner(default_spec().model_copy(update={"alarms": True}), preview_delay=0)
    editor = designer.tasks[0]
    assert editor.fields["deployment"].widget.value == ""
    assert editor.fields["deployment.canary_percent"].widget.disabled
    designer.widget(
        "tasks[0].external.forward_conditions"
    ).value = "host: a.example.com, b.example.com; path: /api/*"
    designer.widget("tasks[0].health_check_grace_period_seconds").value = "120"
    designer.widget("tasks[0].min_healthy_percent").value = "50"
    designer.widget("tasks[0].max_healthy_percent").value = "150"
    designer.widget("tasks[0].deployment").value = "canary"
    designer.widget("tasks[0].deployment.canary_percent").value = "20"
    designer.widget("tasks[0].deployment.rollback_on_alarms").value = True
    designer.widget(
        "tasks[0].scaling.scheduled"
    ).value = "0 8 ? * MON-FRI * min=2 max=10\n\n0 20 ? * MON-FRI * min=1\n"
    task = designer.spec.tasks[0]
    assert [c.model_dump(exclude_none=True) for c in task.external.forward_conditions] == [
        {"host_header": ["a.example.com", "b.example.com"]},
        {"path_pattern": ["/api/*"]},
    ]
    assert (task.health_check_grace_period_seconds, task.min_healthy_percent, task.max_healthy_percent) == (
        120,
        50,
        150,
    )
    assert task.deployment.model_dump(exclude_none=True) == {
        "strategy": "canary",
        "canary_percent": 20.0,
        "rollback_on_alarms": True,
    }
    assert [a.model_dump(exclude_none=True) for a in task.scaling.scheduled] == [
        {"cron": "0 8 ? * MON-FRI *", "min_capacity": 2, "max_capacity": 10},
        {"cron": "0 20 ? * MON-FRI *", "min_capacity": 1},
    ]
    assert load_spec(designer.to_yaml()) == designer.spec
    designer.widget("tasks[0].deployment").value = ""  # the stack's again
    assert designer.spec.tasks[0].deployment is None


def test_the_nlb_protocol_and_the_rows_follow_the_load_balancer():
    designer = SpecDesigner(load_spec(PARAMS / "nlb.yaml"), preview_delay=0)
    order, customer = designer.tasks[0], designer.tasks[1]
    assert (order.has_external.description, order.has_internal.description) == (
        "external NLB",
        "internal NLB",
    )
    assert customer.fields["protocol"].widget.value == "TCP"
    assert order.fields["protocol"].widget.value == "" and not order.fields["protocol"].widget.disabled
    assert order.fields["external.forward_conditions"].widget.disabled
    customer.fields["protocol"].widget.value = ""
    assert designer.spec.tasks[1].protocol is None
    customer.fields["protocol"].widget.value = "TCP"
    designer.widget("load_balancer").value = "alb"
    assert order.has_external.description == "external ALB"
    assert "is for load_balancer: nlb" in customer.fields["protocol"].error.value
    assert not customer.fields["protocol"].widget.disabled and order.fields["protocol"].widget.disabled
    customer.fields["protocol"].widget.value = ""
    assert designer.error is None and customer.fields["protocol"].widget.disabled


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        (
            "shared-port-by-host.yaml",
            {
                "spot_termination_handler": True,
                "alarms": True,
                "access_logs": True,
                "tasks[0].external.forward_conditions": "host: shop.example.com",
                "tasks[0].internal.forward_conditions": "path: /shop/*",
                "tasks[1].external.forward_conditions": "host: blog.example.com, www.blog.example.com",
                "tasks[1].internal.forward_conditions": "",
                "tasks[0].scaling.scheduled": "0 8 ? * MON-FRI * min=4\n0 20 ? * MON-FRI * min=2",
            },
        ),
        (
            "canary-with-alarms.yaml",
            {
                "deployment": "canary",
                "tasks[0].deployment": "",
                "tasks[1].deployment": "blue_green",
                "tasks[1].deployment.bake_time_minutes": "5",
            },
        ),
        (
            "nlb.yaml",
            {
                "spot_termination_handler": True,
                "tasks[1].protocol": "TCP",
                "tasks[0].scaling.target_memory_utilization": "70.0",
            },
        ),
    ],
)
def test_a_params_file_shows_its_options_and_round_trips(params, shown):
    spec = load_spec(PARAMS / params)
    designer = SpecDesigner(spec, preview_delay=0)
    assert {path: designer.widget(path).value for path in shown} == shown
    assert designer.spec == spec and designer.to_yaml() == spec.to_yaml()


def test_scheduled_actions_are_shown_one_a_line_and_round_trip():
    scheduled = [
        {"cron": "0 8 ? * MON-FRI *", "min_capacity": 2, "max_capacity": 10},
        {"cron": "0 20 * * ?  *", "max_capacity": 4},  # the cron text as typed, spaces and all
    ]
    data = default_spec().to_params()
    data["tasks"][0]["scaling"] = {"scheduled": scheduled}
    spec = load_spec(data)
    designer = SpecDesigner(spec, preview_delay=0)
    assert (
        designer.widget("tasks[0].scaling.scheduled").value
        == "0 8 ? * MON-FRI * min=2 max=10\n0 20 * * ?  * max=4"
    )
    assert designer.spec == spec and designer.to_yaml() == spec.to_yaml()


@pytest.mark.parametrize(
    ("params", "path", "value", "message"),
    [
        (None, "external_alb_idle_timeout_seconds", "0", "greater than or equal to 1, got 0"),
        (None, "internal_alb_idle_timeout_seconds", "abc", "valid integer, got 'abc'"),
        (None, "cluster_name", "my cluster", "is not an ECS cluster name"),
        (None, "existing_cluster", "shared", "needs vpc: default or vpc-..."),
        ("nlb.yaml", "access_logs", True, "is an ALB option"),
        ("canary-with-alarms.yaml", "deployment.canary_percent", "0.05", "0.05 is not a multiple of 0.1"),
        (None, "deployment.rollback_on_alarms", True, "needs alarms"),
        (None, "tasks[0].protocol", "TLS", "is for load_balancer: nlb"),
        (None, "tasks[0].external.forward_conditions", "hots: a.example.com", "exactly one of host_header"),
        (None, "tasks[0].health_check_grace_period_seconds", "-1", "greater than or equal to 0"),
        (None, "tasks[0].min_healthy_percent", "150", "150 is outside 0-100"),
        (None, "tasks[0].max_healthy_percent", "50", "50 is outside 100-2000"),
        ("canary-with-alarms.yaml", "tasks[1].deployment.bake_time_minutes", "2000", "not whole minutes"),
        (None, "tasks[0].scaling.scheduled", "0 8 ? * MON-FRI * min=two", "valid integer, got 'two'"),
        (None, "tasks[0].scaling.scheduled", "0 8 * *", "is not six cron fields"),
    ],
)
def test_a_bad_value_in_a_new_widget_shows_its_message_beside_it(params, path, value, message):
    designer = SpecDesigner(load_spec(PARAMS / params) if params else default_spec(), preview_delay=0)
    designer.widget(path).value = value
    if path.startswith("tasks["):
        index, relative = int(path[len("tasks[")]), path.split(".", 1)[1]
        form = designer.tasks[index]
        assert form.expanded
    else:
        form, relative = designer, path
    assert escape(message) in form.fields[relative].error.value
    assert designer.error.field.startswith(path) and designer.synth_button.disabled
    assert all(field.error.value == "" for other, field in form.fields.items() if other != relative)


def test_the_new_options_keep_the_designer_s_widget_count_down():
    """Each widget model is one IOPub message: forms share their layouts and styles (1261 models
    for params/sample.yaml before the issue-14 options, which added 13 stack and 14 task fields)."""
    from ipywidgets.widgets.widget import _instances  # Widget.widgets, without its deprecation

    spec = load_spec(PARAMS / "sample.yaml")
    before = len(_instances)
    SpecDesigner(spec, preview_delay=0)
    assert len(_instances) - before <= 850  # 811 when written


# -- the fields from the spec models -------------------------------------------------------------


def test_a_task_s_unset_values_show_the_models_defaults_and_round_trip():
    """A task given only its name, image and listener shows TaskSpec's defaults (cpu, memory,
    container port, desired count), a ticked listener starts on AlbSpec.port's example, and a
    capacity item without a weight shows CapacitySpec's."""
    from dualalb_kit.spec import AlbSpec, CapacitySpec, TaskSpec

    designer = SpecDesigner(default_spec(), preview_delay=0)
    task = {
        "name": "plain",
        "image": "public.ecr.aws/nginx/nginx:stable",
        "internal": {"port": 9000},
        "capacity": [{"provider": "FARGATE_SPOT"}],
    }
    editor = designer.add_task(task)
    shown = {
        name: editor.fields[name].widget.value
        for name in ("cpu", "memory", "container_port", "desired_count")
    }
    defaults = {name: TaskSpec.model_fields[name].default for name in shown}
    assert shown == defaults == {"cpu": 256, "memory": 512, "container_port": 80, "desired_count": 1}
    assert editor.external_port.value == AlbSpec.model_fields["port"].examples[0] == 80
    assert editor.spot_weight.value == CapacitySpec.model_fields["weight"].default == 1
    assert designer.spec.tasks[1] == TaskSpec(**task)


def test_a_weight_above_the_slider_s_scale_is_kept():
    data = default_spec().to_params()
    data["tasks"][0]["capacity"] = [
        {"provider": "FARGATE", "weight": 1},
        {"provider": "FARGATE_SPOT", "weight": 40},
    ]
    spec = load_spec(data)
    designer = SpecDesigner(spec, preview_delay=0)
    assert (designer.tasks[0].spot_weight.value, designer.tasks[0].spot_weight.max) == (40, 40)
    assert designer.spec == spec


def test_an_optional_box_shows_its_fields_bounds():
    designer = SpecDesigner(default_spec(), preview_delay=0)
    assert designer.widget("external_alb_idle_timeout_seconds").placeholder == "unset (1-4000)"
    assert designer.widget("cluster_name").placeholder == "unset"
    assert designer.widget("tasks[0].health_check_grace_period_seconds").placeholder.startswith("unset (0-")
