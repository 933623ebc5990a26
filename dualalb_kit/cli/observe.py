"""A deployed stack's metrics: ``traffic`` (synthetic ones, sandbox only), ``metrics`` (a tidy
table) and ``recommend`` (its scaling right-sized on them, :mod:`dualalb_kit.right_sizing`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import arguments as kinds
from ..json_output import dumps, emit, json_option
from ..outputs import private_mode
from .common import (
    command,
    load_spec,
    read_table,
    slo,
    slo_options,
    target_errors,
    text_table,
    window,
    window_options,
    write_text,
)
from .where import sandbox_target, stack_from_params, stack_target

STACK_HELP = "the deployed stack's name, or its params file (whose stack_name and region are used)"
ENDPOINT_HELP = "sandbox URL (default: $DUALALB_SANDBOX_URL; none: AWS)"
PROFILE_HELP = "AWS profile (default: the environment's credentials)"


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add to ``commands``: ``traffic``, ``metrics`` and ``recommend``."""
    traffic = command(commands, "traffic", _traffic, "publish SYNTHETIC ALB and ECS metrics (sandbox only)")
    metrics = command(commands, "metrics", _metrics, "a stack's ALB and ECS metrics as a tidy CSV table")
    for parser in (traffic, metrics):
        parser.add_argument("stack_name", metavar="STACK", help=STACK_HELP)
        window_options(
            parser, hours=24, hours_help="window length without --start (default 24; at most 10920: 455 days)"
        )
        parser.add_argument("--endpoint-url", help=ENDPOINT_HELP)
        parser.add_argument("--region", help="the stack's region (default: the profile's or environment's)")
    metrics.add_argument("--profile", help=PROFILE_HELP)
    traffic.add_argument("--seed", type=kinds.non_negative_int, default=0, help="default 0")
    traffic.add_argument(
        "--base-rate", type=kinds.positive, default=20.0, help="requests per second per service (default 20)"
    )
    traffic.add_argument(
        "--if-published",
        choices=("refuse", "keep", "add"),
        default="refuse",
        help="minutes that already hold synthetic traffic: refuse (default), keep them, or add on top",
    )
    metrics.add_argument(
        "--period",
        type=kinds.period,
        default=60,
        help="seconds: 1, 5, 10, 30 or a multiple of 60 (default 60)",
    )
    metrics.add_argument(
        "-o", "--output", type=kinds.output_file, help="CSV file, or JSON with --json (default: stdout)"
    )
    json_option(metrics)
    _add_recommend(commands)


def _add_recommend(commands: argparse._SubParsersAction) -> None:
    recommend = command(
        commands,
        "recommend",
        _recommend,
        "fit what each service's task serves within the SLO from the stack's metrics, recommend its "
        "scaling policy with reasons, and write the params file with those values",
    )
    recommend.add_argument("params", type=Path, help="the deployed params file (YAML)")
    recommend.add_argument("--stack", help="the deployed stack (default: the params file's stack_name)")
    window_options(recommend, hours=168, hours_help="window length without --start (default 168: a week)")
    recommend.add_argument("--endpoint-url", help=ENDPOINT_HELP)
    recommend.add_argument("--profile", help=PROFILE_HELP)
    recommend.add_argument("--region", help="checked against the params file's region")
    slo_options(recommend)
    recommend.add_argument(
        "--headroom", type=kinds.fraction, default=0.3, help="fraction kept below capacity (default 0.3)"
    )
    recommend.add_argument(
        "--capacity",
        type=kinds.existing_file,
        help="CSV of measured capacity rows (a load test's) to use instead of the fit",
    )
    recommend.add_argument(
        "-o", "--output", type=kinds.output_file, help="write the params file with the recommended values"
    )
    json_option(recommend)


@target_errors
def _traffic(args: argparse.Namespace) -> int:
    from ..traffic import LoadProfile, generate_traffic

    stack_from_params(args)
    start, end = window(args)
    target = sandbox_target(args)  # synthetic data: a sandbox only
    profile = LoadProfile(seed=args.seed, base_rate=args.base_rate)
    print(
        generate_traffic(args.stack_name, profile, start, end, target=target, if_published=args.if_published)
    )
    return 0


@target_errors
def _metrics(args: argparse.Namespace) -> int:
    from ..metrics import load_metrics, require_datapoints

    stack_from_params(args)
    start, end = window(args)
    frame = load_metrics(args.stack_name, start, end, args.period, target=stack_target(args))
    require_datapoints(frame, args.stack_name, start, end)
    if frame.attrs.get("synthetic"):
        print("note: these metrics are SYNTHETIC (made by `dualalb-kit traffic`)", file=sys.stderr)
    if not args.output and emit(frame, args):
        return 0
    if args.output and args.json:
        write_text(args.output, dumps(frame) + "\n", "--output")
    else:
        frame.to_csv(args.output or sys.stdout, index=False)
    if args.output:
        print(f"{len(frame):,} rows ({frame['value'].notna().sum():,} datapoints) -> {args.output}")
    return 0


@target_errors
def _recommend(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..right_sizing import right_size

    spec = load_spec(args.params)
    limits = slo(args)
    measured = read_table(args.capacity, "--capacity") if args.capacity else None
    args.stack_name = args.stack or spec.stack_name
    args.region = args.region or spec.region
    target = stack_target(args).in_region(spec.region)
    start, end = window(args)
    if end - start < pd.Timedelta(days=7):
        print(
            "note: a window under a week misses the weekly pattern; max_capacity is not lowered",
            file=sys.stderr,
        )
    found = right_size(
        spec,
        args.stack_name,
        start,
        end,
        target=target,
        slo=limits,
        capacity=measured,
        headroom=args.headroom,
    )
    if args.output:
        header = f"# {args.params} with the scaling `dualalb-kit recommend` fitted to {args.stack_name}\n"
        write_text(args.output, header + found.recommended.to_yaml(), "--output", private_mode(args.params))
    if emit({"recommendations": found.recommendations, "changes": found.changes}, args):
        return 0
    if found.metrics.attrs.get("synthetic"):
        print("note: these recommendations come from SYNTHETIC metrics", file=sys.stderr)
    print(
        f"SLO: p99 {limits.p99_ms:g} ms, CPU {limits.max_cpu:g} %, "
        f"{limits.max_5xx_per_1k:g} 5xx per 1,000 requests"
    )
    print(f"window: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC\n")
    _print_recommendations(found)
    if args.output:
        print(f"\nwrote {args.output}")
    return 0


def _print_recommendations(found) -> None:
    from ..scaling import recommendation_table

    print(text_table(recommendation_table(found.recommendations)))
    print()
    for row in found.recommendations.itertuples():
        print(f"{row.service}: {row.why}")
        for action in row.scheduled_actions:
            bounds = f"min {action['min_capacity']}, max {action['max_capacity']}"
            print(f"  scheduled cron({action['cron']}): {bounds}")
        if row.scheduled_actions:
            saving = row.scheduled_saving_per_month_usd
            print(f"  (the schedule saves ${saving:,.2f}/month against a raised minimum all day)")
    print("\nchanges:" if len(found.changes) else "\nno change to the params file")
    for change in found.changes.itertuples():
        print(f"  {change.field}: {change.current} -> {change.recommended}")
