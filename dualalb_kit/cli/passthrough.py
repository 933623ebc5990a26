"""Commands that own their options: ``cdk`` (the pinned CDK CLI), ``batch`` (:mod:`dualalb_kit.batch`)
and ``sample`` (the sample application on this machine); their arguments go to them untouched."""

from __future__ import annotations

import argparse
import sys

from .common import command


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add to ``commands``: ``cdk``, ``batch`` and ``sample``."""
    cdk = command(commands, "cdk", _cdk, "run the pinned CDK CLI on the kit's Node (arguments pass through)")
    cdk.add_argument("args", nargs="*", help="CDK CLI arguments, e.g. `--app ... diff`")
    for name, run, help in (
        ("batch", _batch, "run a notebook per params file on Dask: local workers, --scheduler or Fargate"),
        ("sample", _sample, "run the sample application locally: `sample up`"),
    ):
        parser = command(commands, name, run, help)
        parser.add_argument("args", nargs="*", help=f"see `dualalb-kit {name} --help`")


def _cdk(args: argparse.Namespace) -> int:
    import subprocess

    from ..runtime import cdk_cli, node_environment

    return subprocess.call([*cdk_cli(), *args.args], env=node_environment())


def _batch(args: argparse.Namespace) -> int:
    from ..batch import main as batch_main

    return batch_main(args.args)


def _sample(args: argparse.Namespace) -> int:
    from ..samples.local import main as sample_main

    if args.args[:1] in (["-h"], ["--help"]):
        return sample_main(["--help"])  # the help of `sample up`, the one subcommand
    if args.args[:1] != ["up"]:
        print("usage: dualalb-kit sample up [--port N] [--timeout S]", file=sys.stderr)
        return 2
    return sample_main(args.args[1:])


PASS_THROUGH = {"batch": _batch, "cdk": _cdk, "sample": _sample}
"""The commands whose arguments the top-level parser does not read."""
