"""The one ``Target`` a command runs on, made from its flags (``--target``, ``--endpoint-url``,
``--profile``, ``--region``) and passed to the library; nothing below the CLI reads them again."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from .common import load_spec


def spec_and_target(args: argparse.Namespace, *, bootstrap: bool = False) -> tuple[Any, Any]:
    """The params file's spec (validated first) and the target in the spec's region, checked
    (with ``bootstrap``, for a CDK bootstrap stack on AWS) and printed on stderr."""
    from ..deploy import check_target
    from ..target import Target

    spec = load_spec(args.params)
    if args.target == "aws":
        target = Target.aws(args.profile, args.region)
    elif args.profile:
        raise ValidationError("profile", "--profile names AWS credentials; use it with --target aws")
    else:
        target = Target.sandbox(args.endpoint_url, args.region)
    target = target.in_region(spec.region)
    check_target(target, bootstrap=bootstrap)  # before any synthesis, so failing takes seconds
    print(f"{spec.stack_name} on {target.describe()}", file=sys.stderr)
    return spec, target


def stack_target(args: argparse.Namespace) -> Any:
    """Where a stack named on the command line is: the sandbox at ``--endpoint-url`` (else
    ``$DUALALB_SANDBOX_URL`` unless ``--profile`` asks for AWS), else AWS; checked to answer."""
    from ..target import SANDBOX_URL_ENV, Target

    profile = getattr(args, "profile", None)
    url = args.endpoint_url or (None if profile else os.environ.get(SANDBOX_URL_ENV))
    target = Target.sandbox(url, args.region) if url else Target.aws(profile, args.region)
    target.account  # noqa: B018  (checks credentials and the endpoint before any work)
    print(f"{args.stack_name} on {target.describe()}", file=sys.stderr)
    return target


def stack_from_params(args: argparse.Namespace) -> None:
    """When STACK is a params file (``.yaml``/``.yml``), use its stack name, and its region unless
    ``--region`` is given."""
    if Path(args.stack_name).suffix in (".yaml", ".yml"):
        spec = load_spec(Path(args.stack_name))
        args.stack_name, args.region = spec.stack_name, args.region or spec.region


def lookups_target(endpoint_url: str | None) -> Any:
    """Where synthesis answers lookups: the sandbox at ``endpoint_url`` (not probed), else ``None``
    (AWS with the environment's credentials)."""
    from ..target import as_target

    return as_target(endpoint_url=endpoint_url) if endpoint_url else None


def sandbox_target(args: argparse.Namespace) -> Any:
    """The sandbox at ``--endpoint-url`` (default ``$DUALALB_SANDBOX_URL``) in ``--region`` where
    the command has one, checked to answer."""
    from ..target import Target

    return Target.sandbox(args.endpoint_url, getattr(args, "region", None))
