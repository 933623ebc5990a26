"""A task's ``local`` command: validated like every field, relative ``cwd`` resolved against the
params file's folder, and put on the container definition as the ``dualalb-kit.local`` Docker label
that the live sandbox runs (nothing when it is not set)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from dualalb_kit import ValidationError
from dualalb_kit.spec import load_spec

BASE = {
    "stack_name": "local-command",
    "tasks": [
        {"name": "web", "image": "public.ecr.aws/nginx/nginx:stable", "external": {"port": 80}},
        {"name": "api", "image": "public.ecr.aws/nginx/nginx:stable", "internal": {"port": 8080}},
    ],
}


def _with_local(local, index: int = 1) -> dict:
    data = copy.deepcopy(BASE)
    data["tasks"][index]["local"] = local
    return data


# (case, tasks[1].local, expected message: exactly one line)
INVALID = [
    (
        "one string",
        {"command": "python server.py"},
        "tasks[1].local.command: give the command as a list of arguments ([python, server.py]), "
        "got 'python server.py'",
    ),
    ("empty list", {"command": []}, "tasks[1].local.command: is empty; give the program and its arguments"),
    ("empty argument", {"command": ["python", ""]}, "tasks[1].local.command[1]: is empty"),
    (
        "number argument",
        {"command": ["python", 3]},
        "tasks[1].local.command[1]: 3 is not a string (quote it in YAML)",
    ),
    ("too many", {"command": ["x"] * 101}, "tasks[1].local.command: has 101 arguments; at most 100"),
    (
        "too long",
        {"command": ["x" * 4097]},
        "tasks[1].local.command[0]: is 4097 characters long; at most 4096",
    ),
    ("nul", {"command": ["a\0b"]}, "tasks[1].local.command[0]: contains a NUL character"),
    ("no command", {"cwd": "."}, "tasks[1].local.command: is required"),
    ("empty cwd", {"command": ["x"], "cwd": ""}, "tasks[1].local.cwd: is empty"),
    ("cwd number", {"command": ["x"], "cwd": 7}, "tasks[1].local.cwd: 7 is not a string (quote it in YAML)"),
    ("unknown key", {"command": ["x"], "shell": True}, "tasks[1].local.shell: unknown key"),
]


@pytest.mark.parametrize(("local", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_bad_local_commands_are_one_line_naming_the_field(local, message):
    with pytest.raises(ValidationError) as caught:
        load_spec(_with_local(local))
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_cwd_must_be_an_existing_directory_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "file").write_text("")
    spec = load_spec(_with_local({"command": ["python", "server.py"], "cwd": "app"}))
    assert spec.tasks[1].local.cwd == str(tmp_path / "app")
    for missing in ("nowhere", "file"):
        with pytest.raises(ValidationError) as caught:
            load_spec(_with_local({"command": ["x"], "cwd": missing}))
        assert str(caught.value) == f"tasks[1].local.cwd: {str(tmp_path / missing)!r} is not a directory"


def test_a_params_files_relative_cwd_is_relative_to_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "params"
    (folder / "app").mkdir(parents=True)
    path = folder / "x.yaml"
    path.write_text(yaml.safe_dump(_with_local({"command": ["python", "server.py"], "cwd": "app"})))
    monkeypatch.chdir(tmp_path)  # not the params file's folder
    spec = load_spec(path)
    assert spec.tasks[1].local.cwd == str(folder / "app")
    assert spec.tasks[1].local.command == ["python", "server.py"]
    assert spec.tasks[0].local is None
    assert load_spec(spec.to_yaml()) == spec  # resolved, so it round-trips from anywhere


def test_the_label_is_on_the_container_definition_and_only_where_local_is_set(tmp_path):
    from aws_cdk.assertions import Template

    from dualalb_kit.build import build_stack
    from dualalb_kit.sandbox.live.tasks import LOCAL_LABEL, _container

    (tmp_path / "app").mkdir()
    path = tmp_path / "local.yaml"
    local = {"command": ["python", "server.py", "--port", "$PORT"], "cwd": "app"}
    path.write_text(yaml.safe_dump(_with_local(local)))
    _, stack = build_stack(load_spec(path))
    definitions = {
        container["Name"]: container
        for resource in Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition").values()
        for container in resource["Properties"]["ContainerDefinitions"]
    }
    label = definitions["api"]["DockerLabels"][LOCAL_LABEL]
    assert json.loads(label) == {"command": local["command"], "cwd": str(tmp_path / "app")}
    assert "DockerLabels" not in definitions["web"]  # no local: the template as before

    # The live sandbox reads the label from the task definition as ECS describes it.
    described = {"name": "api", "image": "nginx", "portMappings": [{"containerPort": 8080}]}
    container = _container({**described, "dockerLabels": {LOCAL_LABEL: label}}, None, None)
    assert container is not None
    assert container.command == tuple(local["command"]) and container.cwd == str(tmp_path / "app")


def test_the_construct_checks_local_before_jsii_and_names_the_prop():
    from aws_cdk import App, Stack
    from aws_cdk import aws_ecs as ecs

    from dualalb_kit import DualAlbFargateService, FargateTaskProps, LoadBalancerAccessibility
    from dualalb_kit.constructs import LOCAL_LABEL, LocalCommand
    from dualalb_kit.sandbox.live import tasks

    assert LOCAL_LABEL == tasks.LOCAL_LABEL
    stack = Stack(App(), "Local")
    definition = ecs.FargateTaskDefinition(stack, "Task")
    definition.add_container(
        "app",
        image=ecs.ContainerImage.from_registry("nginx"),
        port_mappings=[ecs.PortMapping(container_port=80)],
    )
    for local, message in (
        (LocalCommand(command=[]), "tasks[0].local.command: is empty; give the program and its arguments"),
        (LocalCommand(command=["python", ""]), "tasks[0].local.command[1]: is empty"),
        (LocalCommand(command=["python"], cwd=""), "tasks[0].local.cwd: is empty"),
    ):
        with pytest.raises(ValidationError) as caught:
            DualAlbFargateService(
                stack,
                "Service",
                tasks=[
                    FargateTaskProps(
                        task=definition, external=LoadBalancerAccessibility(port=80), local=local
                    )
                ],
            )
        assert str(caught.value) == message
    assert stack.node.try_find_child("Service") is None  # nothing was built


def test_without_local_a_params_file_dumps_as_before():
    spec = load_spec(Path(__file__).resolve().parent.parent / "params" / "sample.yaml")
    assert all(task.local is None for task in spec.tasks)
    assert "local" not in yaml.safe_load(spec.to_yaml())["tasks"][0]
