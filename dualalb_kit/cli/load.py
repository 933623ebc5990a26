"""``dualalb-kit loadtest``: a URL's capacity under stepped open-loop load (:mod:`dualalb_kit.loadtest`)."""

from __future__ import annotations

import argparse
import sys

from .. import arguments as kinds
from ..json_output import emit, json_option
from .common import command, slo, slo_options


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add to ``commands``: ``loadtest``."""
    loadtest = command(
        commands,
        "loadtest",
        _loadtest,
        "step up open-loop Locust load on a URL until the SLO breaks, a few times: its capacity",
    )
    loadtest.add_argument("url", help="what to GET: loopback (e.g. `sample up`'s order), or --allow-remote")
    loadtest.add_argument(
        "--max-rps", type=kinds.positive, default=200.0, help="last step's requests/s (default 200)"
    )
    loadtest.add_argument(
        "--start-rps", type=kinds.positive, help="first step's requests/s (default max-rps / steps)"
    )
    loadtest.add_argument(
        "--step-seconds", type=kinds.positive, default=20.0, help="seconds per step (default 20)"
    )
    loadtest.add_argument(
        "--duration", type=kinds.positive, default=200.0, help="seconds of one ramp (default 200: 10 steps)"
    )
    loadtest.add_argument(
        "--repeats",
        type=kinds.positive_int,
        default=3,
        help="ramps run; the capacity is the median's (default 3)",
    )
    loadtest.add_argument(
        "--refine-steps",
        type=kinds.non_negative_int,
        default=4,
        help="steps climbed between the last rate that held and the one that broke (default 4; 0: none)",
    )
    loadtest.add_argument("--service", help="the capacity row's service, e.g. a spec task (default: URL)")
    loadtest.add_argument(
        "--tasks", type=kinds.positive_int, default=1, help="tasks serving the URL (default 1)"
    )
    loadtest.add_argument(
        "--cpu-units",
        type=kinds.positive_int,
        default=1024,
        help="CPU reserved for what serves the URL, e.g. a task's cpu: 256; CPU is in percent of it "
        "(default 1024, one core)",
    )
    slo_options(loadtest)
    loadtest.add_argument(
        "--allow-remote", action="store_true", help="permit a URL not on loopback (your deployed endpoint)"
    )
    json_option(loadtest)


def _loadtest(args: argparse.Namespace) -> int:
    from ..loadtest import repeat_line, run_loadtest, step_line

    options = ("max_rps", "start_rps", "step_seconds", "duration", "service", "tasks", "allow_remote")
    try:
        result = run_loadtest(
            args.url,
            slo=slo(args),
            **{name: getattr(args, name) for name in options},
            repeats=args.repeats,
            cpu_units=args.cpu_units,
            refine_steps=args.refine_steps,
            on_step=lambda row: print(step_line(row), file=sys.stderr, flush=True),
            on_repeat=lambda row: print(repeat_line(row), file=sys.stderr, flush=True),
        )
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    fields = ("url", "stop_reason", "cpu_source", "curve", "capacity", "repeats", "median_repeat", "steps")
    document = {field: getattr(result, field) for field in fields}
    spread = result.spread_percent
    document["spread_percent"] = spread if spread == spread else None  # NaN is not JSON
    if not emit(document, args):
        print(result.report())
    return 0
