"""The spec models' strict base, and pydantic's errors as our one-line ValidationError."""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict

from ..errors import ValidationError


class StrictModel(BaseModel):
    """Strict types: a boolean is not a port, a float is not a cpu, a number is not a string."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise _as_validation_error(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any):  # type: ignore[override]
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError as exc:
            raise _as_validation_error(exc) from None


_UNION_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}


def _field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _UNION_TAGS or "[" in part or part.startswith("function-"):
            continue
        else:
            path += f".{part}" if path else part
    return path


def _join_path(prefix: str, field: str) -> str:
    if not prefix or not field:
        return prefix or field
    return prefix + field if field.startswith("[") else f"{prefix}.{field}"


def _as_validation_error(exc: pydantic.ValidationError) -> ValidationError:
    """pydantic's first error as our one-line error with the key path."""
    error = exc.errors()[0]
    path = _field_path(tuple(error["loc"]))
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, ValidationError):
        return ValidationError(_join_path(path, cause.field), cause.reason)
    kind = error["type"]
    if kind == "extra_forbidden":
        return ValidationError(path, "unknown key")
    if kind == "missing":
        return ValidationError(path, "is required")
    return ValidationError(path, f"{error['msg']}, got {error.get('input')!r}")
