"""The walkthroughs: ``demo`` (offline, :mod:`dualalb_kit.demo`) and ``live-demo`` (the live sandbox
under load, :mod:`dualalb_kit.live_demo`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import arguments as kinds
from .common import command


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add to ``commands``: ``demo`` and ``live-demo``."""
    demo = command(commands, "demo", _demo, "the offline walkthrough for a params file, into out/")
    demo.add_argument("-o", "--out-dir", type=kinds.output_folder, default=Path("out"), help="default: out")
    demo.add_argument("--params", type=kinds.existing_file, help="params file (default params/sample.yaml)")

    live = command(
        commands,
        "live-demo",
        _live_demo,
        "the sample in the live sandbox under load, right-sized on its measured metrics, run again",
    )
    live.add_argument(
        "-o",
        "--out-dir",
        type=kinds.output_folder,
        default=Path("out/live-demo"),
        help="default: out/live-demo",
    )
    live.add_argument("--params", type=kinds.existing_file, help="params file (default params/sample.yaml)")
    kinds.typed_options(
        live,
        ("--steps", kinds.positive_int, 5, "one-minute load steps per run (default 5, at most 15)"),
        ("--start-rps", kinds.positive, 4.0, "requests/s of the first step (default 4)"),
        ("--max-rps", kinds.positive, 20.0, "requests/s of the last step (default 20, at most 100)"),
        (
            "--work-ms",
            kinds.non_negative,
            10.0,
            "CPU milliseconds the order service computes per request (default 10)",
        ),
    )


def _demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo
    from ..spec import SAMPLE_PARAMS

    return run_demo(args.out_dir, args.params or SAMPLE_PARAMS)


def _live_demo(args: argparse.Namespace) -> int:
    from ..live_demo import run_live_demo
    from ..spec import SAMPLE_PARAMS

    run_live_demo(
        args.out_dir,
        args.params or SAMPLE_PARAMS,
        start_rps=args.start_rps,
        max_rps=args.max_rps,
        steps=args.steps,
        work_ms=args.work_ms,
    )
    return 0
