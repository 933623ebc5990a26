"""What the command groups share: the SLO and time-window flags, reading and writing files, tables
for a terminal, and the exit codes of a failed run."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import arguments as kinds
from ..errors import ValidationError
from ..outputs import PRIVATE_MODE, write_private

Handler = Callable[[argparse.Namespace], int]


def command(
    commands: argparse._SubParsersAction, name: str, run: Handler, help: str
) -> argparse.ArgumentParser:
    """A subcommand ``name`` whose ``--help`` is ``help``, handled by ``run``."""
    parser = commands.add_parser(name, help=help, description=help)
    parser.set_defaults(run=run)
    return parser


def slo_options(parser: argparse.ArgumentParser) -> None:
    """The SLO's three limits, each optional (the SLO's default when left out)."""
    kinds.typed_options(
        parser,
        ("--p99-ms", kinds.positive, None, "SLO: p99 response time in ms (default 500)"),
        ("--max-cpu", kinds.percent, None, "SLO: CPU percent (default 70)"),
        ("--max-5xx-per-1k", kinds.non_negative, None, "SLO: 5xx per 1,000 requests (default 1)"),
    )


def slo(args: argparse.Namespace) -> Any:
    """The :class:`~dualalb_kit.capacity.SLO` of :func:`slo_options`' flags (its defaults for the others)."""
    from ..capacity import SLO

    limits = {"p99_ms": args.p99_ms, "max_cpu": args.max_cpu, "max_5xx_per_1k": args.max_5xx_per_1k}
    return SLO(**{name: value for name, value in limits.items() if value is not None})


def window_options(parser: argparse.ArgumentParser, *, hours: float, hours_help: str) -> None:
    """``--start``, ``--end`` and ``--hours`` (default ``hours``): the UTC window a command reads."""
    parser.add_argument("--start", help="UTC start, ISO 8601 (default: --hours before --end)")
    parser.add_argument("--end", help="UTC end, ISO 8601 (default: the last full hour)")
    parser.add_argument("--hours", type=kinds.hours, default=hours, help=hours_help)


def window(args: argparse.Namespace) -> tuple[Any, Any]:
    """The ``(start, end)`` of :func:`window_options`' flags (:func:`~dualalb_kit.metrics.time_window`)."""
    from ..metrics import time_window

    return time_window(args.start, args.end, hours=args.hours)


def load_spec(params: Path) -> Any:
    """The params file's spec; its warnings (credential-looking environment values) on stderr."""
    from ..spec import load_spec as load

    spec = load(params)
    for warning in spec.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return spec


def read_table(path: Path, field: str) -> Any:
    """A CSV file as a DataFrame; a missing or unreadable file is a ValidationError on ``field``."""
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ValidationError(field, f"cannot read {path}: {exc}") from None


def write_text(path: Path, text: str, field: str, mode: int = PRIVATE_MODE) -> None:
    """Write ``text`` to ``path`` with ``mode`` (default 0600), not through a symbolic link; an
    unwritable place is a ValidationError on ``field``."""
    try:
        write_private(path, text, mode)
    except OSError as exc:
        raise ValidationError(field, f"cannot write {path}: {exc.strerror}") from None


def text_table(frame: Any) -> str:
    """A frame as text for a terminal: text columns aligned left, numbers right (headers too)."""
    from pandas.api.types import is_numeric_dtype

    columns = []
    for name in frame.columns:
        cells = [str(name), *("" if value is None else str(value) for value in frame[name])]
        width = max(map(len, cells))
        align = str.rjust if is_numeric_dtype(frame[name]) else str.ljust
        columns.append([align(cell, width) for cell in cells])
    return "\n".join("  ".join(row).rstrip() for row in zip(*columns, strict=True))


def target_errors(run: Handler) -> Handler:
    """Exit 2 when the target is not usable (nothing changed), 1 when the CLI run failed."""

    def guarded(args: argparse.Namespace) -> int:
        from ..deploy import DeployError, DeployInterrupted, TargetError

        try:
            return run(args)
        except TargetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except DeployError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except DeployInterrupted as exc:
            print(f"interrupted: {exc}", file=sys.stderr)
            print(
                f"next: {_next_step(args, exc.stack_status)} (CDK CLI log: {exc.log_path})", file=sys.stderr
            )
            return 130

    return guarded


def _next_step(args: argparse.Namespace, stack_status: str | None) -> str:
    """The command to run after an interrupted run: the same one, once CloudFormation settled."""
    again = shlex.join(["dualalb-kit", *args.command_line])
    settling = stack_status is not None and stack_status.endswith("_IN_PROGRESS")
    if settling and stack_status != "REVIEW_IN_PROGRESS":
        return f"once the stack settles, run `{again}` again"
    return f"run `{again}` again"
