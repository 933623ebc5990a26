"""Starting a design: ``init`` (a params file), ``examples`` (the kit's notebooks and params files)
and ``completion`` (the shell's completion code)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import arguments as kinds
from ..errors import ValidationError
from ..scaffold import Answers
from .common import command


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add to ``commands``: ``init``, ``examples`` and ``completion``."""
    init = command(
        commands,
        "init",
        _init,
        "write a commented params file NAME.yaml for one service: asks on a terminal, else takes "
        "the flags and defaults; the file synthesizes as written",
    )
    init.add_argument("name", nargs="?", help=f"stack name and file name (default {Answers.stack_name})")
    init.add_argument("--region", help=f"AWS region (default {Answers.region})")
    init.add_argument("--image", help=f"container image (default {Answers.image})")
    init.add_argument("--container-port", type=kinds.port, help=f"default {Answers.container_port}")
    init.add_argument(
        "--external-port", type=kinds.port_or_zero, help="internet-facing ALB port, 0 for none (default 80)"
    )
    init.add_argument(
        "--internal-port", type=kinds.port_or_zero, help="internal ALB port, 0 for none (default 80)"
    )
    init.add_argument(
        "--spot", action=argparse.BooleanOptionalAction, help="run on Fargate Spot (default yes)"
    )
    init.add_argument(
        "-d", "--directory", type=kinds.existing_folder, default=Path("."), help="where to write (default .)"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    examples = command(
        commands,
        "examples",
        _examples,
        "write the kit's notebooks and example params files into DIRECTORY (notebooks/ and params/), "
        "to start from outside a checkout",
    )
    examples.add_argument(
        "directory", type=kinds.output_folder, help="folder to write into (created if missing)"
    )
    examples.add_argument("--force", action="store_true", help="overwrite example files already there")

    completion = command(
        commands,
        "completion",
        _completion,
        "print the shell code that completes dualalb-kit's commands and options; "
        'add `eval "$(dualalb-kit completion)"` to ~/.bashrc (or pass --shell zsh/fish)',
    )
    completion.add_argument("--shell", choices=("bash", "zsh", "fish", "tcsh"), default="bash")


def _init(args: argparse.Namespace) -> int:
    from dataclasses import fields, replace

    from ..scaffold import QUESTIONS, params_text

    given = {
        "stack_name": args.name,
        "region": args.region,
        "image": args.image,
        "container_port": args.container_port,
        "external_port": args.external_port,
        "internal_port": args.internal_port,
        "spot": args.spot,
    }
    answers = replace(Answers(), **{key: value for key, value in given.items() if value is not None})
    if sys.stdin.isatty():
        types = {field.name: field.type for field in fields(Answers)}
        asked = {key: _ask(key, getattr(answers, key), types[key]) for key in QUESTIONS if given[key] is None}
        answers = replace(answers, **asked)
    path = args.directory / f"{answers.stack_name}.yaml"
    if path.exists() and not args.force:
        raise ValidationError("name", f"{path} exists; pick another NAME or pass --force to overwrite")
    path.write_text(params_text(answers, path.name))
    print(f"wrote {path}; next: dualalb-kit synth {path}")
    return 0


def _ask(key: str, default: Any, kind: str) -> Any:
    """Ask for answer ``key`` on the terminal; Enter keeps ``default``. ``kind`` is its type's name."""
    from ..scaffold import QUESTIONS

    shown = ("yes" if default else "no") if kind == "bool" else default
    answer = input(f"{QUESTIONS[key]} [{shown}]: ").strip()
    if not answer:
        return default
    if kind == "bool":
        return answer.lower() in ("y", "yes", "true", "1")
    if kind == "int":
        if not answer.isdigit():
            raise ValidationError(key, f"{answer!r} is not a whole number")
        return int(answer)
    return answer


def _examples(args: argparse.Namespace) -> int:
    from ..examples import write_examples

    written = write_examples(args.directory, force=args.force)
    print(f"wrote {len(written)} files into {args.directory}: notebooks/ and params/")
    print(f"next: dualalb-kit synth {args.directory / 'params' / 'sample.yaml'}")
    return 0


def _completion(args: argparse.Namespace) -> int:
    import argcomplete

    print(argcomplete.shellcode(["dualalb-kit"], shell=args.shell))
    return 0
