"""A params file's stack on a target: ``deploy``, ``diff`` and ``destroy`` (:mod:`dualalb_kit.deploy`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ValidationError
from ..json_output import emit, json_option
from .common import command, target_errors, text_table
from .where import spec_and_target


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add to ``commands``: ``deploy``, ``diff`` and ``destroy`` and their target flags."""
    for name, run, help in (
        ("deploy", _deploy, "deploy a params file's stack through the CDK CLI (sandbox by default)"),
        ("diff", _diff, "show what a deploy would add, remove or modify"),
        ("destroy", _destroy, "delete a params file's stack"),
    ):
        parser = command(commands, name, run, help)
        parser.add_argument("params", type=Path, help="params file (YAML)")
        parser.add_argument(
            "--target", choices=("sandbox", "aws"), default="sandbox", help="default: sandbox"
        )
        parser.add_argument("--endpoint-url", help="sandbox URL (default: $DUALALB_SANDBOX_URL)")
        parser.add_argument("--profile", help="AWS profile, with --target aws (default: the environment's)")
        parser.add_argument(
            "--region", help="the params file's region, checked (default: the params file's region)"
        )
        if name != "diff":
            parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        if name != "destroy":
            json_option(parser)
    commands.choices["destroy"].add_argument(
        "--yes", action="store_true", help="delete without asking (needed without a terminal)"
    )


@target_errors
def _deploy(args: argparse.Namespace) -> int:
    from ..deploy import deploy
    from ..sandbox.live.urls import stack_urls

    spec, target = spec_and_target(args, bootstrap=True)
    outputs = deploy(spec, target, progress=not args.no_progress)
    urls = stack_urls(target, spec.stack_name)
    document = {"stack_name": spec.stack_name, "outputs": dict(outputs)}
    if emit({**document, "local_urls": [vars(url) for url in urls]} if urls else document, args):
        return 0
    print("Outputs:")
    for name, value in outputs.items():
        print(f"  {name}: {value}")
    if urls:
        print("Served on this machine (live sandbox):")
        for url in urls:
            print(f"  {url.load_balancer} :{url.port}  {url.url}")
    return 0


@target_errors
def _diff(args: argparse.Namespace) -> int:
    from ..deploy import diff

    changes = diff(*spec_and_target(args))
    if emit(changes, args):
        return 0
    if changes.empty:
        print("no changes")
        return 0
    print(text_table(changes.assign(property_paths=changes["property_paths"].map(", ".join))))
    return 0


@target_errors
def _destroy(args: argparse.Namespace) -> int:
    from ..deploy import destroy, stack_status

    if not args.yes and not sys.stdin.isatty():
        raise ValidationError("--yes", "stdin is not a terminal, so destroy cannot ask; pass --yes to delete")
    spec, target = spec_and_target(args)
    if not args.yes:
        answer = input(f"Delete stack {spec.stack_name} on {target.describe()}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print(f"kept {spec.stack_name}")
            return 1
    if stack_status(spec.stack_name, target) is None:
        print(f"no stack {spec.stack_name} on {target.describe()}: nothing to destroy")
        return 0
    destroy(spec, target, progress=not args.no_progress)
    print(f"destroyed {spec.stack_name}")
    return 0
