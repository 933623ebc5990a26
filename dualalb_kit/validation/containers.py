"""A task's container: its image, its environment within the task definition's size, its local command."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ValidationError


def check_image(field: str, image: str) -> None:
    """A container image reference: not empty, no whitespace."""
    if not image.strip():
        raise ValidationError(field, "is empty; give an image such as public.ecr.aws/nginx/nginx:stable")
    if any(character.isspace() for character in image):
        raise ValidationError(field, f"{image!r} is not an image reference (it contains whitespace)")


TASK_DEFINITION_BYTES_MAX = 64 * 1024
"""ECS's limit on a task definition's size (64 KiB, its JSON as RegisterTaskDefinition takes it)."""

ENVIRONMENT_BYTES_MAX = TASK_DEFINITION_BYTES_MAX - 4 * 1024
"""What this kit leaves a container's environment: the task definition's limit less 4 KiB, above
what the rest of its task definitions take (image, roles, log and port settings: about 2 KiB)."""


def check_environment(field: str, environment: Mapping[str, str]) -> None:
    """A container's environment that fits ECS's task definition (``field`` is its path): measured
    as ECS receives it, ``[{"name": ..., "value": ...}, ...]`` in JSON."""
    size = len(json.dumps([{"name": k, "value": v} for k, v in environment.items()]).encode())
    if size > ENVIRONMENT_BYTES_MAX:
        raise ValidationError(
            field,
            f"takes {size / 1024:.1f} KiB; ECS takes a task definition of at most "
            f"{TASK_DEFINITION_BYTES_MAX // 1024} KiB, so the environment may take "
            f"{ENVIRONMENT_BYTES_MAX // 1024} KiB here; "
            "keep large values in S3, SSM or Secrets Manager",
        )


LOCAL_COMMAND_MAX_ARGUMENTS = 100
"""The most arguments a task's ``local.command`` takes (program included)."""

LOCAL_ARGUMENT_MAX_CHARS = 4096
"""The longest argument (and ``local.cwd``) a task's local command takes, in characters."""


def check_local_command(field: str, command: Any) -> None:
    """A task's local command (``field`` is its path, ``tasks[1].local.command``): a list of 1 to
    :data:`LOCAL_COMMAND_MAX_ARGUMENTS` non-empty strings of at most
    :data:`LOCAL_ARGUMENT_MAX_CHARS` characters, without NUL."""
    if isinstance(command, str) or not isinstance(command, Sequence):
        raise ValidationError(
            field, f"give the command as a list of arguments ([python, server.py]), got {command!r}"
        )
    if not command:
        raise ValidationError(field, "is empty; give the program and its arguments")
    if len(command) > LOCAL_COMMAND_MAX_ARGUMENTS:
        raise ValidationError(field, f"has {len(command)} arguments; at most {LOCAL_COMMAND_MAX_ARGUMENTS}")
    for index, argument in enumerate(command):
        _check_argument(f"{field}[{index}]", argument)


def check_local_cwd(field: str, cwd: Any, *, directory: bool = False) -> None:
    """A task's local working directory (``tasks[1].local.cwd``): a string like a command's
    argument; with ``directory`` also an existing directory (the spec looks at the disk; the
    constructs do no I/O)."""
    _check_argument(field, cwd)
    if directory and not Path(cwd).is_dir():
        raise ValidationError(field, f"{cwd!r} is not a directory")


def _check_argument(field: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ValidationError(field, f"{value!r} is not a string (quote it in YAML)")
    if not value:
        raise ValidationError(field, "is empty")
    if len(value) > LOCAL_ARGUMENT_MAX_CHARS:
        raise ValidationError(field, f"is {len(value)} characters long; at most {LOCAL_ARGUMENT_MAX_CHARS}")
    if "\0" in value:
        raise ValidationError(field, "contains a NUL character")
