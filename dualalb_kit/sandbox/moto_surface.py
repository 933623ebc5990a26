"""Which moto the sandbox supports, and which private parts of moto its gap-fills rely on.

The gap-fills (the rest of ``dualalb_kit/sandbox/``) replace, wrap, subclass and call moto's
internals, which change between moto releases without notice. So the sandbox starts only on a
moto in :data:`SUPPORTED_MOTO` (:func:`check_moto_version`, the first thing ``Sandbox.start``
does), and :data:`SURFACE` records what the gap-fills rely on as that moto has it (read from
``dualalb_kit/data/moto_surface.yaml``, which says for each name which gap-fill relies on it).
:func:`surface_differences` names every entry an installed moto no longer matches
(``tests/test_moto_surface.py`` checks each one). To move to another moto: install it, adapt the
gap-fills to what :func:`surface_differences` names, then update the recorded surface, ``SUPPORTED_MOTO``
and the pin in pyproject.toml.

Instance attributes (``Stack.resource_map``, ``ResourceMap._parsed_resources``, ...) exist only
on moto's objects, not on its classes, so the table cannot hold them; the sandbox's behaviour
tests exercise them.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata, resources
from typing import NamedTuple

import yaml

from ..errors import MissingExtraError, UnsupportedMotoError

SUPPORTED_MOTO = ("5.2.5",)
"""The moto versions the gap-fills were tested with (exact versions)."""

MOTO_REQUIREMENT = f"moto[server,cloudformation]=={SUPPORTED_MOTO[-1]}"
"""What pip installs for the sandbox (pyproject.toml's ``[sandbox]`` extra pins the same)."""


def check_moto_version() -> str:
    """The installed moto's version, read from its metadata without importing moto.

    Raises :class:`~dualalb_kit.errors.MissingExtraError` without moto, and
    :class:`~dualalb_kit.errors.UnsupportedMotoError` (one line saying how to fix it) for a
    version not in :data:`SUPPORTED_MOTO`.
    """
    try:
        installed = metadata.version("moto")
    except metadata.PackageNotFoundError:
        raise MissingExtraError("the sandbox", "sandbox", "moto") from None
    if installed not in SUPPORTED_MOTO:
        raise UnsupportedMotoError(
            f"the sandbox supports moto {' or '.join(SUPPORTED_MOTO)}, but moto {installed} is "
            f"installed: run `make setup` in a checkout, or pip install '{MOTO_REQUIREMENT}'"
        )
    return installed


EXISTS = "exists"
"""The shape of a name whose presence is all the gap-fills rely on (a module or class attribute,
a property, a caught exception, a class the gap-fills only subclass)."""

MISSING = "missing"
"""The shape of a name that is not there; expected of what the gap-fills add to moto's classes
(a moto that gains it would have its own shadowed)."""


class MotoName(NamedTuple):
    """A dotted name in moto and its shape: a callable's signature (a class's ``__init__``) as
    ``str(inspect.signature(...))`` with the annotations left out, :data:`EXISTS` or :data:`MISSING`.

    Annotations are left out because they do not change how a call binds and read differently
    across Python versions. A name the gap-fills replace has the shape of moto's original.
    """

    name: str
    shape: str


def shape_of(name: str) -> str:
    """The shape of the dotted ``name`` in the moto this process imports (see :class:`MotoName`).

    Once ``install_gap_fills()`` ran in a process, moto's attributes there are the kit's
    replacements: :func:`original_shapes` asks a fresh process instead.
    """
    parts = name.split(".")
    try:
        found = importlib.import_module(parts[0])
        for index, part in enumerate(parts[1:], start=2):
            if hasattr(found, part):
                found = getattr(found, part)
            elif inspect.ismodule(found):
                found = importlib.import_module(".".join(parts[:index]))
            else:
                return MISSING
    except ImportError:
        return MISSING
    target = found.__init__ if inspect.isclass(found) else found
    if not callable(target):
        return EXISTS
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin that does not describe its parameters
        return EXISTS
    parameters = [
        parameter.replace(annotation=parameter.empty) for parameter in signature.parameters.values()
    ]
    return str(signature.replace(parameters=parameters, return_annotation=signature.empty))


_SHAPES_SCRIPT = (
    "import json, sys\n"
    "from dualalb_kit.sandbox.moto_surface import shape_of\n"
    "json.dump({name: shape_of(name) for name in json.load(sys.stdin)}, sys.stdout)\n"
)


def original_shapes(names: Iterable[str]) -> dict[str, str]:
    """Name -> :func:`shape_of` for each of ``names``, found in a fresh Python process, where moto
    is as installed (no gap-fills); takes a few seconds (moto's imports)."""
    found = subprocess.run(
        [sys.executable, "-c", _SHAPES_SCRIPT],
        input=json.dumps(list(names)),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true"},
    )
    return json.loads(found.stdout)


def difference(expected: MotoName, found: str) -> str | None:
    """One line naming ``expected.name`` when the ``found`` shape does not match it, else ``None``."""
    if found == expected.shape or (expected.shape == EXISTS and found != MISSING):
        return None
    return f"{expected.name}: expected {expected.shape}, found {found}"


def surface_differences(surface: Iterable[MotoName] | None = None) -> list[str]:
    """One line per entry of ``surface`` (default: :data:`SURFACE`) that the installed moto does
    not match, naming it with the expected and the found shape; empty when all match."""
    entries = tuple(SURFACE if surface is None else surface)
    found = original_shapes(entry.name for entry in entries)
    return [line for entry in entries if (line := difference(entry, found[entry.name])) is not None]


SURFACE_FILE = "data/moto_surface.yaml"
"""Where :data:`SURFACE` is recorded (in the package): one ``name: shape`` a line, each under a
comment saying which gap-fill relies on it and how."""


def _recorded_surface() -> tuple[MotoName, ...]:
    text = resources.files("dualalb_kit").joinpath(SURFACE_FILE).read_text()
    recorded = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return tuple(MotoName(name, shape) for name, shape in recorded.items())


SURFACE: tuple[MotoName, ...] = _recorded_surface()
"""Every private part of moto the gap-fills rely on, with its shape in the supported moto."""
