"""The deployment spec: params files, the validation table, YAML round trips."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from dualalb_kit import ValidationError
from dualalb_kit.spec import DeploymentSpec, load_spec

PARAMS = sorted(Path(__file__).resolve().parent.parent.joinpath("params").glob("*.yaml"))

BASE = {
    "stack_name": "demo",
    "tasks": [
        {"name": "order", "image": "nginx", "external": {"port": 80}, "internal": {"port": 80}},
        {"name": "customer", "image": "nginx", "internal": {"port": 8080}},
    ],
}


def _with(change) -> dict:
    data = copy.deepcopy(BASE)
    change(data)
    return data


def _set(path: str, value):
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        node[last] = value

    return change


# (case, change to BASE, expected message: exactly one line)
INVALID = [
    ("no tasks", _set("tasks", []), "tasks: at least one task is required"),
    (
        "port above range",
        _set("tasks.1.internal.port", 70000),
        "tasks[1].internal.port: 70000 is not a port (1-65535)",
    ),
    ("port zero", _set("tasks.0.external.port", 0), "tasks[0].external.port: 0 is not a port (1-65535)"),
    (
        "two tasks on one internal port",
        _set("tasks.1.internal.port", 80),
        "tasks[1].internal.port: port 80 of the internal ALB is already used by tasks[0]; "
        "tasks sharing a port need forward_conditions (all but one)",
    ),
    ("negative desired count", _set("tasks.0.desired_count", -1), "tasks[0].desired_count: -1 is negative"),
    (
        "desired above max",
        _set("tasks.0.desired_count", 11),
        "tasks[0].desired_count: 11 is above scaling.max_capacity 10",
    ),
    (
        "cpu target zero",
        _set("tasks.0.scaling", {"target_cpu_utilization": 0}),
        "tasks[0].scaling.target_cpu_utilization: 0.0 is outside (0, 100]",
    ),
    (
        "cpu target above 100",
        _set("tasks.0.scaling", {"target_cpu_utilization": 120}),
        "tasks[0].scaling.target_cpu_utilization: 120.0 is outside (0, 100]",
    ),
    (
        "request per target zero",
        _set("tasks.0.scaling", {"request_per_target": 0}),
        "tasks[0].scaling.request_per_target: 0 must be above 0",
    ),
    (
        "unknown provider",
        _set("tasks.0.capacity", [{"provider": "EC2"}]),
        "tasks[0].capacity[0].provider: 'EC2' is not a capacity provider (FARGATE, FARGATE_SPOT)",
    ),
    (
        "negative base",
        _set("tasks.0.capacity", [{"provider": "FARGATE", "base": -1}]),
        "tasks[0].capacity[0].base: -1 is negative",
    ),
    (
        "negative weight",
        _set("tasks.0.capacity", [{"provider": "FARGATE_SPOT", "weight": -2}]),
        "tasks[0].capacity[0].weight: -2 is negative",
    ),
    (
        "base on two providers",
        _set(
            "tasks.0.capacity", [{"provider": "FARGATE", "base": 1}, {"provider": "FARGATE_SPOT", "base": 1}]
        ),
        "tasks[0].capacity: base is set on more than one provider (FARGATE, FARGATE_SPOT)",
    ),
    (
        "all weights zero",
        _set(
            "tasks.0.capacity",
            [{"provider": "FARGATE", "weight": 0}, {"provider": "FARGATE_SPOT", "weight": 0}],
        ),
        "tasks[0].capacity: all weights are zero; at least one provider needs a weight above 0",
    ),
    (
        "bad zone name",
        _set("route53.zone_name", "svc_local"),
        "route53.zone_name: 'svc_local' is not a DNS name",
    ),
    (
        "record name with a dot",
        _set("route53.internal_record", "in.ternal"),
        "route53.internal_record: 'in.ternal' must be one DNS label (letters, digits, hyphens)",
    ),
    (
        "fargate size",
        _set("tasks.0.memory", 4096),
        "tasks[0].memory: 4096 MiB does not fit cpu 256 (valid: 512, 1024, 2048 MiB)",
    ),
    (
        "fargate cpu",
        _set("tasks.0.cpu", 300),
        "tasks[0].cpu: 300 is not a Fargate CPU size (256, 512, 1024, 2048, 4096, 8192, 16384)",
    ),
    ("unknown key", _set("tasks.1.colour", "blue"), "tasks[1].colour: unknown key"),
    ("unknown nested key", _set("tasks.1.internal.tls", True), "tasks[1].internal.tls: unknown key"),
    (
        "wrong type",
        _set("tasks.0.desired_count", "two"),
        "tasks[0].desired_count: Input should be a valid integer, got 'two'",
    ),
    ("missing image", lambda d: d["tasks"][0].pop("image"), "tasks[0].image: is required"),
    (
        "no listener",
        lambda d: d["tasks"][1].pop("internal"),
        "tasks[1]: task 'customer' needs external, internal or both",
    ),
    (
        "subnet keyword",
        _set("subnets", "isolated"),
        "subnets: 'isolated' is not one of private, public, public-one-per-az or a list of ids",
    ),
    (
        "subnet id",
        _set("subnets", ["subnet-0123abcd", "sn-2"]),
        "subnets[1]: 'sn-2' is not a subnet id (subnet- and 8 or 17 hex digits)",
    ),
    (
        "subnet ids with a new VPC",
        _set("subnets", ["subnet-0123abcd"]),
        "subnets: specific subnet ids need vpc: default or vpc-..., not a new VPC",
    ),
    ("vpc keyword", _set("vpc", "mine"), "vpc: 'mine' is not new, default or a vpc-... id"),
    ("duplicate task name", _set("tasks.1.name", "order"), "tasks[1].name: 'order' is used by another task"),
]


@pytest.mark.parametrize(("change", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_bad_input_is_one_line_naming_the_field(change, message):
    with pytest.raises(ValidationError) as caught:
        load_spec(_with(change))
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_validation_error_is_a_value_error_with_the_field():
    with pytest.raises(ValueError) as caught:
        DeploymentSpec(stack_name="s", tasks=[{"name": "a", "image": "x", "internal": {"port": 70000}}])
    assert caught.value.field == "tasks[0].internal.port"


@pytest.mark.parametrize("path", PARAMS, ids=[p.name for p in PARAMS])
def test_params_files_round_trip(path):
    spec = load_spec(path)
    assert load_spec(spec.to_yaml()) == spec
    # Every top-level key of the file is a spec field, so papermill can inject them unchanged.
    assert set(yaml.safe_load(path.read_text())) <= set(DeploymentSpec.model_fields)


def test_sample_params_match_the_seed():
    spec = load_spec("params/sample.yaml")
    assert spec.spot is True
    ports = {t.name: (t.external and t.external.port, t.internal and t.internal.port) for t in spec.tasks}
    assert ports == {"order": (80, 80), "customer": (None, 8080), "product": (None, 9090)}
    assert [c.provider for c in spec.tasks[0].capacity_strategy(spec.spot)] == ["FARGATE_SPOT"]


def test_effective_capacity_strategy():
    data = _with(
        _set(
            "tasks.0.capacity",
            [{"provider": "FARGATE", "base": 1}, {"provider": "FARGATE_SPOT", "weight": 3}],
        )
    )
    spec = load_spec(data)
    assert [(c.provider, c.base, c.weight) for c in spec.tasks[0].capacity_strategy(spot=True)] == [
        ("FARGATE", 1, 1),
        ("FARGATE_SPOT", 0, 3),
    ]
    assert [(c.provider, c.weight) for c in spec.tasks[1].capacity_strategy(spot=False)] == [("FARGATE", 1)]


def test_a_missing_params_file_is_a_validation_error(tmp_path):
    with pytest.raises(ValidationError) as caught:
        load_spec(tmp_path / "missing.yaml")
    assert str(caught.value) == f"params: {tmp_path / 'missing.yaml'} is not a file"
