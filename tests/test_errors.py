"""The kit's errors: one module, one base class, one line each (the CLI prints them as ``error: ...``)."""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
from pathlib import Path

import pytest

from dualalb_kit import errors
from dualalb_kit.errors import DualAlbKitError, SampleStartError

PACKAGE = Path(errors.__file__).parent
STANDALONE = {"handlers/spot_termination.py", "loadgen.py"}
"""Modules that run without the kit (the Spot termination handler's Lambda asset, the load
generator run by path): their exceptions cannot derive from the kit's base class."""
BUILTIN_ERRORS = {
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, Exception)
}


def kit_sources() -> list[tuple[str, ast.Module]]:
    """Each module of the kit but the standalone ones: its path in the package and its syntax tree."""
    return [
        (relative, ast.parse(path.read_text()))
        for path in sorted(PACKAGE.rglob("*.py"))
        if (relative := path.relative_to(PACKAGE).as_posix()) not in STANDALONE
    ]


def test_the_kit_makes_no_bare_runtime_error_or_exception():
    bare = [
        f"{relative}:{node.lineno}"
        for relative, tree in kit_sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("Exception", "RuntimeError")
    ]
    assert bare == []


def test_every_exception_class_of_the_kit_derives_from_its_base_class():
    """A class whose bases are all built-in errors is an error outside the kit's hierarchy."""
    outside = [
        f"{relative}:{node.name}"
        for relative, tree in kit_sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and node.bases
        and all(isinstance(base, ast.Name) and base.id in BUILTIN_ERRORS for base in node.bases)
        and node.name != "DualAlbKitError"
    ]
    assert outside == []
    defined = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and value.__module__ == errors.__name__
    ]
    assert len(defined) > 5 and all(issubclass(value, DualAlbKitError) for value in defined)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("dualalb_kit.deploy", "DeployError"),
        ("dualalb_kit.deploy", "BootstrapRequired"),
        ("dualalb_kit.deploy", "TargetError"),
        ("dualalb_kit.deploy", "SandboxNotRunning"),
        ("dualalb_kit.target", "TargetError"),
        ("dualalb_kit.target", "SandboxNotRunning"),
        ("dualalb_kit.context", "ContextLookupError"),
    ],
)
def test_errors_live_in_one_module_and_keep_their_old_import_paths(module, name):
    assert getattr(importlib.import_module(module), name) is getattr(errors, name)


def test_the_moved_errors_are_still_the_builtin_errors_they_were():
    """Code that caught ``RuntimeError`` or ``FileNotFoundError`` still catches them."""
    assert issubclass(errors.DeployError, RuntimeError)
    assert issubclass(errors.LoadTestError, RuntimeError)
    assert issubclass(errors.LiveDemoError, RuntimeError)
    assert issubclass(errors.MetricDataError, RuntimeError)
    assert issubclass(errors.SampleStartError, RuntimeError)
    assert issubclass(errors.ToolchainError, FileNotFoundError)


def test_a_sample_service_that_does_not_start_is_one_line_with_its_log_apart(tmp_path):
    from dualalb_kit.samples.local import start_service

    with pytest.raises(SampleStartError) as caught:
        start_service("order", tmp_path, environment={"PORT": "not-a-port"})
    message = str(caught.value)
    assert message.startswith("order service did not start: ") and "\n" not in message
    assert "ValueError" in caught.value.log  # the service's stderr: int("not-a-port")


def test_the_cli_prints_a_kit_error_on_one_line(monkeypatch, capsys):
    from dualalb_kit import cli, live_demo

    def fail(*args, **kwargs):
        raise errors.LiveDemoError("the tasks of live-demo did not settle within 300 s")

    monkeypatch.setattr(live_demo, "run_live_demo", fail)
    assert cli.main(["live-demo"]) == 2
    assert capsys.readouterr().err == "error: the tasks of live-demo did not settle within 300 s\n"
