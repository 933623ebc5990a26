"""Specs from params files, YAML text, mappings and a notebook's parameters."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..params_file import parse_params, read_params_file
from .deployment import DeploymentSpec
from .tasks import SAMPLE_IMAGE_PREFIX

SAMPLE_PARAMS = Path(__file__).resolve().parents[1] / "examples" / "params" / "sample.yaml"
"""The sample's params file: the order/customer/product services, on Fargate Spot."""


def load_spec(source: str | Path | Mapping[str, Any]) -> DeploymentSpec:
    """A spec from a params file path, YAML text, or a mapping of the spec's fields.

    Paths in the spec (``laravel.code``, ``tasks[i].local.cwd``) are relative to the params file's
    folder, else to the working directory; the spec holds them resolved.
    """
    if isinstance(source, Mapping):
        data: Any = dict(source)
    elif _looks_like_path(source):
        data = _paths_relative_to(read_params_file(Path(source)), Path(source).resolve().parent)
    else:
        data = parse_params(str(source))
    if not isinstance(data, Mapping):
        raise ValidationError("params", "the top level must be a mapping of spec fields")
    return DeploymentSpec.model_validate(data)


def _paths_relative_to(data: Any, base_dir: Path) -> Any:
    """A params file's mapping with its relative ``laravel.code`` and ``tasks[i].local.cwd``
    directories joined to ``base_dir`` (samples, absolute paths and values of the wrong type as
    they are, for the spec to report)."""
    if not isinstance(data, Mapping):
        return data
    laravel = data.get("laravel")
    code = laravel.get("code") if isinstance(laravel, Mapping) else None
    if isinstance(code, str) and not code.startswith(SAMPLE_IMAGE_PREFIX):
        data = {**data, "laravel": {**laravel, "code": _joined(base_dir, code)}}
    tasks = data.get("tasks")
    if isinstance(tasks, list):
        data = {**data, "tasks": [_task_paths_relative_to(task, base_dir) for task in tasks]}
    return data


def _task_paths_relative_to(task: Any, base_dir: Path) -> Any:
    local = task.get("local") if isinstance(task, Mapping) else None
    cwd = local.get("cwd") if isinstance(local, Mapping) else None
    if not isinstance(cwd, str) or not cwd:
        return task
    return {**task, "local": {**local, "cwd": _joined(base_dir, cwd)}}


def _joined(base_dir: Path, value: str) -> str:
    """``value`` joined to ``base_dir`` when it is a relative path (``~`` expanded first)."""
    path = Path(value).expanduser()
    return value if path.is_absolute() else str(base_dir / path)


def spec_from_parameters(namespace: Mapping[str, Any]) -> DeploymentSpec:
    """A spec from a notebook's parameters (its ``globals()`` after papermill injected a params file).

    Only :class:`DeploymentSpec`'s fields count: run options (``target``, ``endpoint_url``,
    ``start``, ``end``, ``results_path``, ...) and every other name are ignored, and ``None``
    values fall back to the field's default. ``tasks`` missing or ``None`` means the tasks of
    ``params/sample.yaml`` for pattern ``dualalb`` and none for ``wordpress`` (the WordPress
    service) and ``laravel``. A relative ``laravel.code`` is relative to the working directory here
    (papermill injects the file's values, not its place): use an absolute path or ``sample:laravel``.
    """
    fields = {
        name: value
        for name, value in namespace.items()
        if name in DeploymentSpec.model_fields and value is not None
    }
    pattern = fields.get("pattern", DeploymentSpec.model_fields["pattern"].default)
    if "tasks" not in fields and pattern == "dualalb":
        fields["tasks"] = load_spec(SAMPLE_PARAMS).to_params()["tasks"]
    return load_spec(fields)


def _looks_like_path(source: str | Path) -> bool:
    if isinstance(source, Path):
        return True
    if "\n" in source:
        return False
    try:
        return source.endswith((".yaml", ".yml")) or Path(source).is_file()
    except OSError:  # a line of YAML longer than a file name
        return False
