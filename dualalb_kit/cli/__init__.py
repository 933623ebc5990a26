"""``dualalb-kit``: the command line, a thin layer over the library.

One module per command group builds its subcommands' parsers and handles them: each handler
parses nothing more, calls one library function and prints. :mod:`.common` holds what the groups
share (the SLO and time-window flags, tables, errors), :mod:`.where` makes the one ``Target`` a
command runs on.

Exit codes: 0 success, 1 a failed run (deploy, batch), 2 bad input or a missing sandbox.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .. import arguments as kinds
from ..errors import DualAlbKitError
from ..synth_summary import FINDING_COLUMNS
from . import demos, deployment, design, load, observe, passthrough, sandbox, synthesis
from .passthrough import PASS_THROUGH

__all__ = ["FINDING_COLUMNS", "main"]

GROUPS = (synthesis, design, deployment, observe, demos, load, sandbox, passthrough)
"""The command groups, in the order ``--help`` lists their commands."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` and return its exit status. Without ``argv`` (the program's
    entry point) the arguments are ``sys.argv``'s and, when the command succeeded, the process ends
    as soon as it returned, without the interpreter's teardown (:func:`~dualalb_kit.runtime.exit_now`);
    a failed or interrupted command exits normally, so the finalizers of what it left behind run."""
    code = _run(list(sys.argv[1:] if argv is None else argv))
    if argv is None and code == 0:
        from ..runtime import exit_now

        exit_now(code)
    return code


def _run(argv: list[str]) -> int:
    parser = _parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (`dualalb-kit completion`)
        import argcomplete

        argcomplete.autocomplete(parser)
    if argv[:1] and argv[0] in PASS_THROUGH:
        # These commands own their options; their arguments go to them untouched.
        args = argparse.Namespace(run=PASS_THROUGH[argv[0]], args=argv[1:])
    else:
        args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    args.command_line = argv
    try:
        with _sigterm_as_interrupt():
            return args.run(args)
    except DualAlbKitError as exc:  # bad input, a missing extra, an unsupported moto: one line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a command as Ctrl-C does (a deploy stops the CDK CLI and says where it left off)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Version(argparse.Action):
    """``--version``: the installed version, read only when asked (importlib.metadata is slow to import)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from .. import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = kinds.OneLineParser(
        prog="dualalb-kit", description="Design, synthesize, deploy and analyse dual-ALB Fargate services."
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(commands)
    return parser
