"""``dualalb-kit``: the command line, a thin layer over the library.

Exit codes: 0 success, 1 a failed run (deploy, batch), 2 bad input or a missing sandbox.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import ValidationError


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if argv[:1] and argv[0] in PASS_THROUGH:
        # These commands own their options; their arguments go to them untouched.
        args = argparse.Namespace(run=PASS_THROUGH[argv[0]], args=argv[1:])
    else:
        args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dualalb-kit", description="Design, synthesize, deploy and analyse dual-ALB Fargate services."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    synth = _command(commands, "synth", _synth, "validate a params file and synthesize its stack")
    synth.add_argument("params", type=Path, help="params file (YAML)")
    synth.add_argument("-o", "--outdir", type=Path, help="assembly directory (default cdk.out/<stack_name>)")
    synth.add_argument("--endpoint-url", help="sandbox URL for lookups (vpc: default / vpc-...)")
    synth.add_argument("--no-nag", action="store_true", help="skip cdk-nag's AwsSolutions checks")

    for name, run, help in (
        ("deploy", _deploy, "deploy a params file's stack through the CDK CLI (sandbox by default)"),
        ("diff", _diff, "show what a deploy would add, remove or modify"),
        ("destroy", _destroy, "delete a params file's stack"),
    ):
        command = _command(commands, name, run, help)
        command.add_argument("params", type=Path, help="params file (YAML)")
        command.add_argument(
            "--target", choices=("sandbox", "aws"), default="sandbox", help="default: sandbox"
        )
        command.add_argument("--endpoint-url", help="sandbox URL (default: $DUALALB_SANDBOX_URL)")
        command.add_argument("--profile", help="AWS profile, with --target aws (default: the environment's)")
        command.add_argument(
            "--region", help="the params file's region, checked (default: the params file's region)"
        )
        if name != "diff":
            command.add_argument("--no-progress", action="store_true", help="no progress bar")
    destroy = commands.choices["destroy"]
    destroy.add_argument(
        "--yes", action="store_true", help="delete without asking (needed without a terminal)"
    )

    windowed = {
        "traffic": _command(
            commands, "traffic", _traffic, "publish SYNTHETIC ALB and ECS metrics (sandbox only)"
        ),
        "metrics": _command(
            commands, "metrics", _metrics, "a stack's ALB and ECS metrics as a tidy CSV table"
        ),
    }
    for command in windowed.values():
        command.add_argument("stack_name", help="the deployed stack")
        command.add_argument("--start", help="UTC start, ISO 8601 (default: --hours before --end)")
        command.add_argument("--end", help="UTC end, ISO 8601 (default: the last full hour)")
        command.add_argument(
            "--hours", type=float, default=24, help="window length without --start (default 24)"
        )
        command.add_argument("--endpoint-url", help="sandbox URL (default: $DUALALB_SANDBOX_URL; none: AWS)")
        command.add_argument("--region", help="the stack's region (default: the profile's or environment's)")
    windowed["metrics"].add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    windowed["traffic"].add_argument("--seed", type=int, default=0, help="default 0")
    windowed["traffic"].add_argument(
        "--base-rate", type=float, default=20.0, help="requests per second per service (default 20)"
    )
    windowed["metrics"].add_argument("--period", type=int, default=60, help="seconds (default 60)")
    windowed["metrics"].add_argument("-o", "--output", type=Path, help="CSV file (default: stdout)")

    demo = _command(commands, "demo", _demo, "the offline walkthrough for a params file, into out/")
    demo.add_argument("-o", "--out-dir", type=Path, default=Path("out"), help="default: out")
    demo.add_argument("--params", type=Path, help="params file (default params/sample.yaml)")

    loadtest = _command(
        commands, "loadtest", _loadtest, "step up Locust load on a URL until the SLO breaks: its capacity"
    )
    loadtest.add_argument("url", help="what to GET: loopback (e.g. `sample up`'s order), or --allow-remote")
    loadtest.add_argument("--max-rps", type=float, default=200.0, help="last step's requests/s (default 200)")
    loadtest.add_argument("--start-rps", type=float, help="first step's requests/s (default max-rps / steps)")
    loadtest.add_argument("--step-seconds", type=float, default=5.0, help="seconds per step (default 5)")
    loadtest.add_argument("--duration", type=float, default=60.0, help="seconds of the ramp (default 60)")
    loadtest.add_argument("--service", help="the capacity row's service, e.g. a spec task (default: URL)")
    loadtest.add_argument("--tasks", type=int, default=1, help="tasks serving the URL (default 1)")
    loadtest.add_argument("--p99-ms", type=float, help="SLO: p99 response time in ms (default 500)")
    loadtest.add_argument("--max-cpu", type=float, help="SLO: CPU percent (default 70)")
    loadtest.add_argument("--max-5xx-per-1k", type=float, help="SLO: 5xx per 1,000 requests (default 1)")
    loadtest.add_argument(
        "--allow-remote", action="store_true", help="permit a URL not on loopback (your deployed endpoint)"
    )

    sandbox = _command(commands, "sandbox", _sandbox, "serve a local AWS endpoint on 127.0.0.1 until Ctrl-C")
    sandbox.add_argument("--port", type=int, help="port to listen on (default: a free one)")

    cdk = _command(commands, "cdk", _cdk, "run the pinned CDK CLI on the kit's Node (arguments pass through)")
    cdk.add_argument("args", nargs="*", help="CDK CLI arguments, e.g. `--app ... diff`")

    # These two own their options (papermill-style modules with their own argument parsers).
    for name, run, help in (
        ("batch", _batch, "execute notebooks for each params file with papermill"),
        ("sample", _sample, "run the sample application locally: `sample up`"),
    ):
        command = _command(commands, name, run, help)
        command.add_argument("args", nargs="*", help=f"see `dualalb-kit {name} --help`")
    return parser


def _command(
    commands: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], int], help: str
) -> argparse.ArgumentParser:
    command = commands.add_parser(name, help=help, description=help)
    command.set_defaults(run=run)
    return command


def _synth(args: argparse.Namespace) -> int:
    from .synth import synth

    result = synth(_load_spec(args.params), args.outdir, endpoint_url=args.endpoint_url, nag=not args.no_nag)
    counts = result.resource_counts()
    total = int(counts["count"].sum())
    print(f"Synthesized {result.stack_name} into {result.assembly_dir} ({total} resources)\n")
    print(_left_aligned(counts))
    print("\nOutputs:")
    for name, value in result.outputs.items():
        print(f"  {name}: {value if isinstance(value, str) else '(resolved at deploy time)'}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not result.findings.empty:
        print(f"\ncdk-nag (AwsSolutions): {len(result.findings)} unacknowledged finding(s)")
        print(_left_aligned(result.findings))
    return 0


def _load_spec(params: Path) -> Any:
    """The params file's spec; its warnings (credential-looking environment values) on stderr."""
    from .spec import load_spec

    spec = load_spec(params)
    for warning in spec.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return spec


def _target_errors(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Exit 2 when the target is not usable (nothing changed), 1 when the CLI run failed."""

    def guarded(args: argparse.Namespace) -> int:
        from .deploy import DeployError, TargetError

        try:
            return run(args)
        except TargetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except DeployError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return guarded


def _spec_and_target(args: argparse.Namespace) -> tuple[Any, Any]:
    """The params file's spec (validated first) and the target in the spec's region, checked and
    printed on stderr."""
    from .deploy import check_target
    from .target import Target

    spec = _load_spec(args.params)
    if args.target == "aws":
        target = Target.aws(args.profile, args.region)
    elif args.profile:
        raise ValidationError("profile", "--profile names AWS credentials; use it with --target aws")
    else:
        target = Target.sandbox(args.endpoint_url, args.region)
    target = target.in_region(spec.region)
    check_target(target, bootstrap=args.run is _deploy)  # before any synthesis, so failing takes seconds
    print(f"{spec.stack_name} on {target.describe()}", file=sys.stderr)
    return spec, target


@_target_errors
def _deploy(args: argparse.Namespace) -> int:
    from .deploy import deploy

    spec, target = _spec_and_target(args)
    outputs = deploy(spec, target, progress=not args.no_progress)
    print("Outputs:")
    for name, value in outputs.items():
        print(f"  {name}: {value}")
    return 0


@_target_errors
def _diff(args: argparse.Namespace) -> int:
    from .deploy import diff

    changes = diff(*_spec_and_target(args))
    if changes.empty:
        print("no changes")
        return 0
    table = changes.assign(property_paths=changes["property_paths"].map(", ".join))
    print(_left_aligned(table))
    return 0


@_target_errors
def _destroy(args: argparse.Namespace) -> int:
    from .deploy import destroy

    if not args.yes and not sys.stdin.isatty():
        raise ValidationError("--yes", "stdin is not a terminal, so destroy cannot ask; pass --yes to delete")
    spec, target = _spec_and_target(args)
    if not args.yes:
        answer = input(f"Delete stack {spec.stack_name} on {target.describe()}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print(f"kept {spec.stack_name}")
            return 1
    destroy(spec, target, progress=not args.no_progress)
    print(f"destroyed {spec.stack_name}")
    return 0


def _stack_target(args: argparse.Namespace) -> Any:
    """Where a stack named on the command line is: the sandbox at ``--endpoint-url`` (else
    ``$DUALALB_SANDBOX_URL`` unless ``--profile`` asks for AWS), else AWS; checked to answer."""
    import os

    from .target import SANDBOX_URL_ENV, Target

    profile = getattr(args, "profile", None)
    url = args.endpoint_url or (None if profile else os.environ.get(SANDBOX_URL_ENV))
    target = Target.sandbox(url, args.region) if url else Target.aws(profile, args.region)
    target.account  # noqa: B018  (checks credentials and the endpoint before any work)
    print(f"{args.stack_name} on {target.describe()}", file=sys.stderr)
    return target


@_target_errors
def _traffic(args: argparse.Namespace) -> int:
    from .metrics import time_window
    from .target import Target
    from .traffic import LoadProfile, generate_traffic

    start, end = time_window(args.start, args.end, hours=args.hours)
    target = Target.sandbox(args.endpoint_url, args.region)  # synthetic data: a sandbox only
    profile = LoadProfile(seed=args.seed, base_rate=args.base_rate)
    print(generate_traffic(args.stack_name, profile, start, end, target=target))
    return 0


@_target_errors
def _metrics(args: argparse.Namespace) -> int:
    from .metrics import load_metrics, time_window

    start, end = time_window(args.start, args.end, hours=args.hours)
    frame = load_metrics(args.stack_name, start, end, args.period, target=_stack_target(args))
    if frame.attrs.get("synthetic"):
        print("note: these metrics are SYNTHETIC (made by `dualalb-kit traffic`)", file=sys.stderr)
    frame.to_csv(args.output or sys.stdout, index=False)
    if args.output:
        print(f"{len(frame):,} rows ({frame['value'].notna().sum():,} datapoints) -> {args.output}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    from .spec import SAMPLE_PARAMS

    return run_demo(args.out_dir, args.params or SAMPLE_PARAMS)


def _sandbox(args: argparse.Namespace) -> int:
    from .sandbox.server import serve

    serve(args.port)
    return 0


def _cdk(args: argparse.Namespace) -> int:
    import subprocess

    from .runtime import cdk_cli, node_environment

    return subprocess.call([*cdk_cli(), *args.args], env=node_environment())


def _batch(args: argparse.Namespace) -> int:
    from .batch import main as batch_main

    return batch_main(args.args)


def _sample(args: argparse.Namespace) -> int:
    from .samples.local import main as sample_main

    if args.args[:1] != ["up"]:
        print("usage: dualalb-kit sample up [--port N] [--timeout S]", file=sys.stderr)
        return 2
    return sample_main(args.args[1:])


def _loadtest(args: argparse.Namespace) -> int:
    from .capacity import SLO
    from .loadtest import run_loadtest, step_line

    limits = {"p99_ms": args.p99_ms, "max_cpu": args.max_cpu, "max_5xx_per_1k": args.max_5xx_per_1k}
    try:
        result = run_loadtest(
            args.url,
            slo=SLO(**{name: value for name, value in limits.items() if value is not None}),
            max_rps=args.max_rps,
            start_rps=args.start_rps,
            step_seconds=args.step_seconds,
            duration=args.duration,
            service=args.service,
            tasks=args.tasks,
            allow_remote=args.allow_remote,
            on_step=lambda row: print(step_line(row), file=sys.stderr, flush=True),
        )
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(result.report())
    return 0


def _left_aligned(frame) -> str:
    """A frame as text with its text columns aligned left, for reading in a terminal."""
    from pandas.api.types import is_numeric_dtype

    aligned = frame.copy()
    for column in frame.columns:
        if not is_numeric_dtype(frame[column]):
            text = frame[column].astype(str)
            aligned[column] = text.str.ljust(max(int(text.str.len().max()), len(str(column))))
    return aligned.to_string(index=False, justify="left")


PASS_THROUGH = {"batch": _batch, "cdk": _cdk, "sample": _sample}

if __name__ == "__main__":
    raise SystemExit(main())
