"""Reading a params file's YAML strictly: every problem is one :class:`ValidationError` line.

PyYAML alone lets the last of two equal keys win silently, raises ``UnicodeDecodeError`` on
bytes that are not UTF-8 and ``RecursionError`` on deep nesting. This reader rejects those,
and files over :data:`MAX_PARAMS_BYTES`, naming the key path (or ``params``). No CDK, no AWS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ValidationError

MAX_PARAMS_BYTES = 1024 * 1024
"""The largest params file read, in bytes (1 MiB; the shipped ones are under 3 KiB)."""
MAX_NESTING = 20
"""The deepest nesting of mappings and lists read (the spec itself needs 4 levels)."""
MAX_VALUES = 100_000
"""The most values (mapping entries, list items, scalars) a params file may expand to through aliases."""


def read_params_file(path: Path) -> Any:
    """The plain data of the params file at ``path`` (UTF-8 YAML, at most :data:`MAX_PARAMS_BYTES`)."""
    try:
        if not path.is_file():
            raise ValidationError("params", f"{path} is not a file")
        size = path.stat().st_size
        if size > MAX_PARAMS_BYTES:
            raise ValidationError("params", _too_large(f"{path} is", size))
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError("params", f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "params", f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    return parse_params(text)


def parse_params(text: str) -> Any:
    """The plain data of params YAML ``text``; duplicate keys, deep nesting and aliases that
    refer to themselves are errors naming the key path."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_PARAMS_BYTES:
        raise ValidationError("params", _too_large("the text is", size))
    try:
        loader = _StrictLoader(text)  # its reader refuses control characters (a NUL byte) at once
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _check_keys(root, "", set(), {})
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ValidationError("params", f"not YAML: {_yaml_problem(exc, text)}") from None


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that stops composing at :data:`MAX_NESTING` levels (it recurses per level)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[Any] = []

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if len(self._path) > MAX_NESTING:
            raise ValidationError(
                _path_text(self._path) or "params", f"is nested deeper than {MAX_NESTING} levels"
            )
        self._path.append(index)
        try:
            return super().compose_node(parent, index)
        finally:
            self._path.pop()


def _path_text(indexes: list[Any]) -> str:
    """The key path of the composer's indexes: a key node for a mapping value, an int in a list."""
    path = ""
    for index in indexes:
        if isinstance(index, ScalarNode):
            path = _child(path, index.value)
        elif isinstance(index, int) and not isinstance(index, bool):
            path += f"[{index}]"
    return path


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_keys(node: Node, path: str, active: set[int], sizes: dict[int, int]) -> int:
    """No mapping under ``node`` has a key twice and no alias contains itself; returns how many
    values ``node`` expands to (aliases counted at every use, each node checked once)."""
    if id(node) in active:
        raise ValidationError(path or "params", "refers to itself through a YAML alias")
    if id(node) in sizes:
        return sizes[id(node)]
    if isinstance(node, MappingNode):
        children = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else str(key_node.start_mark)
            child = _child(path, key)
            if key in seen and key != "<<":
                raise ValidationError(child, "appears twice; YAML would keep only the last one")
            seen.add(key)
            children.append((value_node, child))
    elif isinstance(node, SequenceNode):
        children = [(item, f"{path}[{index}]") for index, item in enumerate(node.value)]
    else:
        children = []
    active.add(id(node))
    size = 1 + sum(_check_keys(child_node, child_path, active, sizes) for child_node, child_path in children)
    active.discard(id(node))
    if size > MAX_VALUES:
        raise ValidationError(
            path or "params", f"expands to more than {MAX_VALUES:,} values through YAML aliases"
        )
    sizes[id(node)] = size
    return size


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if problem and mark:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow, by its place
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - before.rfind("\n")
        return f"character U+{exc.character:04X} is not allowed in YAML (line {line}, column {column})"
    return " ".join(str(exc).split())


def _too_large(subject: str, size: int) -> str:
    return f"{subject} {size:,} bytes; a params file is at most {MAX_PARAMS_BYTES:,} bytes"
