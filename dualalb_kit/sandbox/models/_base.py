"""What the gap-fill models share: registration with moto's model map and property conversion."""

from __future__ import annotations

import re
from typing import Any

from botocore import xform_name
from moto.cloudformation import parsing
from moto.core.utils import pascal_to_camelcase, remap_nested_keys

_DYNAMIC_SECRET = re.compile(
    r"\{\{resolve:secretsmanager:(?P<secret>.+?)(?::SecretString(?::(?P<key>[^:}]*))?(?::[^}]*)?)?\}\}"
)


def refresh_model_map() -> None:
    """Make moto rebuild its CloudFormation type -> model map (it caches the first build).

    moto collects ``CloudFormationModel.__subclasses__()``; a gap-fill model lists
    ``CloudFormationModel`` among its direct bases, and because it is defined after moto's
    own model for the same type, it wins in the map.
    """
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def camel_keys(value: Any) -> Any:
    """A CloudFormation property tree with its keys in the camelCase of the JSON APIs (ECS)."""
    return remap_nested_keys(value, pascal_to_camelcase)


def snake_kwargs(properties: dict[str, Any], renames: dict[str, str] | None = None) -> dict[str, Any]:
    """Top-level CloudFormation properties as the snake_case keyword arguments of a moto backend."""
    renames = renames or {}
    return {renames.get(key, xform_name(key)): value for key, value in properties.items()}


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """CloudFormation ``Tags`` (``[{Key, Value}]``) as a plain mapping."""
    return {tag["Key"]: tag.get("Value", "") for tag in tags or []}


def resolve_secret_references(value: Any, account_id: str, region_name: str) -> Any:
    """Resolve ``{{resolve:secretsmanager:...}}`` dynamic references the way CloudFormation does.

    moto's CloudFormation passes them through verbatim; RDS then reports a master user name
    like ``{{resolve:...}}``. Strings without a reference come back unchanged.
    """
    if not isinstance(value, str) or "{{resolve:secretsmanager:" not in value:
        return value
    import json

    from moto.secretsmanager.models import secretsmanager_backends

    backend = secretsmanager_backends[account_id][region_name]

    def lookup(match: re.Match[str]) -> str:
        text = backend.get_secret_value(match["secret"], version_id=None, version_stage=None)["SecretString"]
        return str(json.loads(text)[match["key"]]) if match["key"] else text

    return _DYNAMIC_SECRET.sub(lookup, value)
