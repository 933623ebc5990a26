"""The command line's argument types: each flag's value is typed and bounded when it is parsed.

Every function takes the flag's text and returns its value, or raises
:class:`argparse.ArgumentTypeError`, which argparse prints as one line naming the flag (exit 2).
Commands share them, so a kind of value (hours, a port, an output file) has one rule.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn


class OneLineParser(argparse.ArgumentParser):
    """A parser whose bad arguments are one line on stderr and exit code 2: ``error: --flag: why``
    (the usage is ``--help``'s). Its subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        hint = "" if message.startswith("argument ") else f" (see {self.prog} --help)"
        self.exit(2, f"error: {message.removeprefix('argument ')}{hint}\n")


CLOUDWATCH_HOURS_MAX = 455 * 24
"""The longest window, in hours: CloudWatch keeps 1-hour datapoints for 455 days (15 months)."""
CLOUDWATCH_PERIODS = (1, 5, 10, 30)
"""CloudWatch's periods under a minute, in seconds; longer periods are multiples of 60."""


TypedOption = tuple[str, Callable[[str], Any] | None, Any, str]
"""A flag, its type (this module's functions; ``None``: text), its default (``None``: none), its help."""


def typed_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *options: TypedOption) -> None:
    """Add each of ``options`` to ``parser``, in order: a table of flags instead of a call each."""
    for flag, kind, default, help in options:
        parser.add_argument(flag, type=kind, default=default, help=help)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _at_least(value: float, text: str, minimum: float, problem: str, *, inclusive: bool = True) -> Any:
    """``value``, unless it is below ``minimum`` (or at it, unless ``inclusive``): then
    ``ArgumentTypeError("<text> <problem>")``."""
    if value < minimum or (value == minimum and not inclusive):
        raise argparse.ArgumentTypeError(f"{text} {problem}")
    return value


def positive(text: str) -> float:
    """A finite number above 0 (seconds, requests per second, milliseconds)."""
    return _at_least(_number(text), text, 0, "must be above 0", inclusive=False)


def non_negative(text: str) -> float:
    """A finite number of 0 or more."""
    return _at_least(_number(text), text, 0, "is negative")


def positive_int(text: str) -> int:
    """A whole number of 1 or more (workers, repeats, tasks)."""
    return _at_least(_whole(text), text, 1, "must be at least 1")


def non_negative_int(text: str) -> int:
    """A whole number of 0 or more (seeds)."""
    return _at_least(_whole(text), text, 0, "is negative")


def hours(text: str) -> float:
    """A window's length: above 0 and at most :data:`CLOUDWATCH_HOURS_MAX` (455 days)."""
    value = positive(text)
    if value > CLOUDWATCH_HOURS_MAX:
        raise argparse.ArgumentTypeError(
            f"{text} is beyond {CLOUDWATCH_HOURS_MAX} hours (CloudWatch keeps hourly data 455 days)"
        )
    return value


def percent(text: str) -> float:
    """A percentage in (0, 100]."""
    value = positive(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"{text} is above 100 percent")
    return value


def fraction(text: str) -> float:
    """A fraction in [0, 1)."""
    value = non_negative(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"{text} is not below 1")
    return value


def port(text: str) -> int:
    """A TCP port, 1-65535."""
    value = _whole(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (1-65535)")
    return value


def port_or_zero(text: str) -> int:
    """A TCP port, or 0 for none."""
    return 0 if _whole(text) == 0 else port(text)


def period(text: str) -> int:
    """A CloudWatch period in seconds: 1, 5, 10, 30 or a multiple of 60."""
    value = positive_int(text)
    if value not in CLOUDWATCH_PERIODS and value % 60:
        raise argparse.ArgumentTypeError(
            f"{text} s is not a CloudWatch period (1, 5, 10, 30 or a multiple of 60)"
        )
    return value


def existing_file(text: str) -> Path:
    """A file that exists and can be read."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} is {'a folder' if path.is_dir() else 'not a file'}")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text} cannot be read")
    return path


def notebook(text: str) -> Path:
    """A Jupyter notebook (``.ipynb``) that exists."""
    path = existing_file(text)
    if path.suffix != ".ipynb":
        raise argparse.ArgumentTypeError(f"{text} is not a notebook (.ipynb)")
    return path


def _writable_folder(folder: Path, text: str) -> None:
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: the folder {folder} is not writable")


def output_file(text: str) -> Path:
    """A file to write: not a folder, in a folder that exists and is writable (an existing file
    must be writable too)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name")
    _writable_folder(path.parent, text)
    if path.exists() and not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text} is not writable")
    return path


def existing_folder(text: str) -> Path:
    """A writable folder that exists."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    _writable_folder(path, text)
    return path


def output_folder(text: str) -> Path:
    """A folder to write into: a writable folder, or a new one (with any missing parents, as the
    commands create them) under the nearest existing folder, which must be writable."""
    path = Path(text)
    if path.exists():
        return existing_folder(text)
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {ancestor} is a file, not a folder")
    _writable_folder(ancestor, text)
    return path


def output_location(text: str) -> str:
    """An :func:`output_folder`, or an fsspec URL (``s3://bucket/prefix``) left to its filesystem."""
    return text if "://" in text else str(output_folder(text))


def key_value(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with a Python name as KEY and VALUE in YAML (``3``, ``true``, ``[a, b]``)."""
    import yaml

    key, separator, value = text.partition("=")
    if not separator or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "not YAML"
        raise argparse.ArgumentTypeError(f"{text!r}: the value is not YAML ({problem})") from None
