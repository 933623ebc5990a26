"""``dualalb-kit batch``: the command line over :func:`~dualalb_kit.batch.run_batch`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from .. import arguments as kinds
from ..errors import ValidationError
from ..examples import PARAMS_DIR
from ..json_output import emit as _emit
from ..json_output import json_option as _json_option
from .orchestrate import DEFAULT_NOTEBOOK, run_batch


def main(argv: Sequence[str] | None = None) -> int:
    """``dualalb-kit batch [PARAMS ...] [--notebook N] [--workers N | --scheduler ADDRESS | --cluster fargate]
    [-o DIR_OR_URL] [--set KEY=VALUE ...]``.

    Exit codes: 0 every run passed, 1 some run failed or was invalid, 2 bad usage.
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # bad usage, said in one line (2), or --help (0)
        return int(stop.code or 0)
    params = args.params or sorted(str(path) for path in PARAMS_DIR.glob("*.yaml"))
    try:
        extra = dict(args.set)
        _check_booleans(extra, args.notebook)
        with _cluster_client(args) as client:
            summary = run_batch(
                params,
                notebook=args.notebook,
                workers=args.workers,
                out_dir=args.out_dir,
                parameters=extra,
                client=client,
                storage_options=_storage_options(args.out_dir, args.endpoint_url),
            )
    except ValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    code = 0 if (summary["status"] == "passed").all() else 1
    if _emit(summary, args):
        return code
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(summary[["params", "status", "duration_s", "worker", "result"]].to_string(index=False))
    print(f"\nexecuted notebooks and HTML: {args.out_dir.rstrip('/')}/{Path(args.notebook).stem}/")
    return code


def _parser() -> argparse.ArgumentParser:
    parser = kinds.OneLineParser(
        prog="dualalb-kit batch",
        description="Execute a notebook for each params file in parallel (papermill on Dask workers), "
        "write each executed notebook and its HTML, and print a summary: params file, status, duration, "
        "worker and outputs or error. Exit 1 if any run failed or a params file was invalid.",
    )
    _json_option(parser)
    parser.add_argument("params", nargs="*", help="params files (default: params/*.yaml)")
    parser.add_argument(
        "--notebook",
        type=kinds.notebook,
        default=DEFAULT_NOTEBOOK,
        help="notebook to run, .ipynb (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        "--jobs",
        dest="workers",
        type=kinds.positive_int,
        default=None,
        help="local worker processes, or Fargate workers with --cluster fargate (default: the core count)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786"
    )
    where.add_argument(
        "--cluster",
        choices=("local", "fargate"),
        default="local",
        help="where workers start (default: local)",
    )
    parser.add_argument(
        "-o",
        "--out-dir",
        type=kinds.output_location,
        default="out",
        help="folder or fsspec URL (default: %(default)s)",
    )
    parser.add_argument(
        "--endpoint-url", help="S3 endpoint for an s3:// --out-dir, e.g. the sandbox's URL (default: AWS)"
    )
    parser.add_argument(
        "--set",
        action="append",
        type=kinds.key_value,
        default=[],
        metavar="KEY=VALUE",
        help="extra run option (YAML value; true or false where the notebook's default is a boolean)",
    )
    _fargate_options(parser.add_argument_group("--cluster fargate (see docs/guides/scaling-out.md)"))
    return parser


def _fargate_options(fargate: argparse._ArgumentGroup) -> None:
    """The options of ``--cluster fargate``: the workers' image, network, region and role."""
    fargate.add_argument("--image", help="container image with dualalb-kit installed (required)")
    fargate.add_argument("--vpc", help="VPC id; workers go in its private subnets (required)")
    fargate.add_argument("--caller-cidr", help="the address the scheduler admits besides the VPC (required)")
    fargate.add_argument("--region", default=None, help="AWS region (default: your profile's)")
    fargate.add_argument("--spot", action="store_true", help="workers on Fargate Spot")
    fargate.add_argument(
        "--task-role-policy",
        action="append",
        default=[],
        metavar="ARN",
        help="IAM policy for the workers' role, e.g. to write the -o bucket (repeatable)",
    )
    fargate.add_argument(
        "--idle-timeout",
        default="10 minutes",
        help="the cluster stops this long without a client (default: %(default)s)",
    )


@contextmanager
def _cluster_client(args: argparse.Namespace) -> Iterator[Any]:
    """None (run_batch starts a LocalCluster), a client of ``--scheduler``, or of a Fargate cluster."""
    if args.scheduler:
        from distributed import Client

        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, ValueError, TimeoutError) as error:
            raise ValidationError(
                "--scheduler", f"no Dask scheduler answers at {args.scheduler} ({error})"
            ) from None
        with client:
            yield client
    elif args.cluster == "fargate":
        from ..target import as_target
        from .fargate import fargate_client

        missing = [
            f"--{name.replace('_', '-')}"
            for name in ("image", "vpc", "caller_cidr")
            if not getattr(args, name)
        ]
        if missing:
            raise ValidationError(missing[0], "required with --cluster fargate")
        with fargate_client(
            image=args.image,
            vpc_id=args.vpc,
            caller_cidr=args.caller_cidr,
            n_workers=args.workers or 2,
            spot=args.spot,
            idle_timeout=args.idle_timeout,
            task_role_policies=args.task_role_policy,
            target=as_target(region=args.region),
        ) as client:
            yield client
    else:
        yield None


def _storage_options(out_dir: str, endpoint_url: str | None) -> dict[str, Any]:
    """fsspec options for ``out_dir``: an S3 endpoint (the sandbox's, with its dummy credentials) or none."""
    if endpoint_url is None or not out_dir.startswith("s3://"):
        return {}
    from ..sandbox import sandbox_environment

    environment = sandbox_environment(endpoint_url)
    return {
        "endpoint_url": endpoint_url,
        "key": environment["AWS_ACCESS_KEY_ID"],
        "secret": environment["AWS_SECRET_ACCESS_KEY"],
        "token": environment["AWS_SESSION_TOKEN"],
    }


def _check_booleans(options: dict[str, Any], notebook: Path) -> None:
    """``--set`` values of the parameters whose default in the notebook is ``True`` or ``False``
    are booleans (``nag=maybe`` is not)."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    for key, value in options.items():
        if declared.get(key, {}).get("default") in ("True", "False") and not isinstance(value, bool):
            raise ValidationError(
                "--set", f"{key}={value!r}: {key} is a boolean in {notebook.name} (true or false)"
            )
