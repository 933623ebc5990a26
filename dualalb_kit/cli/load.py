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
    kinds.typed_options(
        loadtest,
        ("--max-rps", kinds.positive, 200.0, "last step's requests/s (default 200)"),
        ("--start-rps", kinds.positive, None, "first step's requests/s (default max-rps / steps)"),
        ("--step-seconds", kinds.positive, 20.0, "seconds per step (default 20)"),
        ("--duration", kinds.positive, 200.0, "seconds of one ramp (default 200: 10 steps)"),
        ("--repeats", kinds.positive_int, 3, "ramps run; the capacity is the median's (default 3)"),
        (
            "--refine-steps",
            kinds.non_negative_int,
            4,
            "steps climbed between the last rate that held and the one that broke (default 4; 0: none)",
        ),
        ("--service", None, None, "the capacity row's service, e.g. a spec task (default: URL)"),
        ("--tasks", kinds.positive_int, 1, "tasks serving the URL (default 1)"),
        (
            "--cpu-units",
            kinds.positive_int,
            1024,
            "CPU reserved for what serves the URL, e.g. a task's cpu: 256; CPU is in percent of it "
            "(default 1024, one core)",
        ),
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
        service_slo = slo(args)
        result = run_loadtest(
            args.url,
            slo=service_slo,
            **{name: getattr(args, name) for name in options},
            repeats=args.repeats,
            cpu_units=args.cpu_units,
            refine_steps=args.refine_steps,
            on_step=lambda row: print(step_line(row, service_slo), file=sys.stderr, flush=True),
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
