"""Params files read once: the YAML is parsed and validated a single time, on the caller's side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..spec import load_spec


def read_params(path: Path) -> dict[str, Any]:
    """The keys a params file sets, validated as a spec (``ValidationError`` naming the field if not).

    The values are what ``papermill -f`` would inject, after the spec's validation: keys the file
    leaves out stay out, so each notebook's own defaults apply to them.
    """
    if not path.is_file():
        raise ValidationError("params", f"{path} does not exist")
    return load_spec(path).model_dump(mode="json", exclude_unset=True)
