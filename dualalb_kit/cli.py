"""``dualalb-kit``: the command line, a thin layer over the library.

Exit codes: 0 success, 1 a failed run (deploy, batch), 2 bad input or a missing sandbox.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import arguments as kinds
from .errors import DualAlbKitError, NoDataError, ValidationError
from .json_output import dumps
from .json_output import emit as _emit
from .json_output import json_option as _json_option
from .outputs import PRIVATE_MODE, private_mode, write_private
from .scaffold import Answers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` and return its exit status. Without ``argv`` (the program's
    entry point) the arguments are ``sys.argv``'s and, when the command succeeded, the process ends
    as soon as it returned, without the interpreter's teardown (:func:`~dualalb_kit.runtime.exit_now`);
    a failed or interrupted command exits normally, so the finalizers of what it left behind run."""
    code = _run(list(sys.argv[1:] if argv is None else argv))
    if argv is None and code == 0:
        from .runtime import exit_now

        exit_now(code)
    return code


def _run(argv: list[str]) -> int:
    parser = _parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (`dualalb-kit completion`)
        import argcomplete

        argcomplete.autocomplete(parser)
    if argv[:1] and argv[0] in PASS_THROUGH:
        # These commands own their options; their arguments go to them untouched.
        args = argparse.Namespace(run=PASS_THROUGH[argv[0]], args=argv[1:])
    else:
        args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    args.command_line = argv
    try:
        with _sigterm_as_interrupt():
            return args.run(args)
    except DualAlbKitError as exc:  # bad input, a missing extra, an unsupported moto: one line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a command as Ctrl-C does (a deploy stops the CDK CLI and says where it left off)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Version(argparse.Action):
    """``--version``: the installed version, read only when asked (importlib.metadata is slow to import)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from . import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = kinds.OneLineParser(
        prog="dualalb-kit", description="Design, synthesize, deploy and analyse dual-ALB Fargate services."
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    synth = _command(
        commands,
        "synth",
        _synth,
        "check a params file and synthesize its stack: resources, outputs, listeners, where ECS "
        "places each service's tasks, and the cfn-lint and cdk-nag findings; several files (or globs) "
        "synthesize in one process, one summary line each",
    )
    synth.add_argument("params", nargs="+", help="params files (YAML), or globs such as 'params/*.yaml'")
    synth.add_argument(
        "-o",
        "--outdir",
        type=Path,
        help="assembly directory (default cdk.out/<stack_name>); with several files, their parent "
        "(<outdir>/<stack_name> each)",
    )
    synth.add_argument("--endpoint-url", help="sandbox URL for lookups (vpc: default / vpc-...)")
    synth.add_argument("--no-nag", action="store_true", help="skip cdk-nag's AwsSolutions checks")
    synth.add_argument("--no-lint", action="store_true", help="skip cfn-lint's template checks")
    _json_option(synth)

    init = _command(
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

    examples = _command(
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

    completion = _command(
        commands,
        "completion",
        _completion,
        "print the shell code that completes dualalb-kit's commands and options; "
        'add `eval "$(dualalb-kit completion)"` to ~/.bashrc (or pass --shell zsh/fish)',
    )
    completion.add_argument("--shell", choices=("bash", "zsh", "fish", "tcsh"), default="bash")

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
        if name != "destroy":
            _json_option(command)
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
        command.add_argument(
            "stack_name",
            metavar="STACK",
            help="the deployed stack's name, or its params file (whose stack_name and region are used)",
        )
        command.add_argument("--start", help="UTC start, ISO 8601 (default: --hours before --end)")
        command.add_argument("--end", help="UTC end, ISO 8601 (default: the last full hour)")
        command.add_argument(
            "--hours",
            type=kinds.hours,
            default=24,
            help="window length without --start (default 24; at most 10920: 455 days)",
        )
        command.add_argument("--endpoint-url", help="sandbox URL (default: $DUALALB_SANDBOX_URL; none: AWS)")
        command.add_argument("--region", help="the stack's region (default: the profile's or environment's)")
    windowed["metrics"].add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    windowed["traffic"].add_argument("--seed", type=kinds.non_negative_int, default=0, help="default 0")
    windowed["traffic"].add_argument(
        "--base-rate", type=kinds.positive, default=20.0, help="requests per second per service (default 20)"
    )
    windowed["traffic"].add_argument(
        "--if-published",
        choices=("refuse", "keep", "add"),
        default="refuse",
        help="minutes that already hold synthetic traffic: refuse (default), keep them, or add on top",
    )
    windowed["metrics"].add_argument(
        "--period",
        type=kinds.period,
        default=60,
        help="seconds: 1, 5, 10, 30 or a multiple of 60 (default 60)",
    )
    windowed["metrics"].add_argument(
        "-o", "--output", type=kinds.output_file, help="CSV file, or JSON with --json (default: stdout)"
    )
    _json_option(windowed["metrics"])

    recommend = _command(
        commands,
        "recommend",
        _recommend,
        "fit what each service's task serves within the SLO from the stack's metrics, recommend its "
        "scaling policy with reasons, and write the params file with those values",
    )
    recommend.add_argument("params", type=Path, help="the deployed params file (YAML)")
    recommend.add_argument("--stack", help="the deployed stack (default: the params file's stack_name)")
    recommend.add_argument("--start", help="UTC start, ISO 8601 (default: --hours before --end)")
    recommend.add_argument("--end", help="UTC end, ISO 8601 (default: the last full hour)")
    recommend.add_argument(
        "--hours", type=kinds.hours, default=168, help="window length without --start (default 168: a week)"
    )
    recommend.add_argument("--endpoint-url", help="sandbox URL (default: $DUALALB_SANDBOX_URL; none: AWS)")
    recommend.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    recommend.add_argument("--region", help="checked against the params file's region")
    _slo_options(recommend)
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
    _json_option(recommend)

    demo = _command(commands, "demo", _demo, "the offline walkthrough for a params file, into out/")
    demo.add_argument("-o", "--out-dir", type=kinds.output_folder, default=Path("out"), help="default: out")
    demo.add_argument("--params", type=kinds.existing_file, help="params file (default params/sample.yaml)")

    live_demo = _command(
        commands,
        "live-demo",
        _live_demo,
        "the sample in the live sandbox under load, right-sized on its measured metrics, run again",
    )
    live_demo.add_argument(
        "-o",
        "--out-dir",
        type=kinds.output_folder,
        default=Path("out/live-demo"),
        help="default: out/live-demo",
    )
    live_demo.add_argument(
        "--params", type=kinds.existing_file, help="params file (default params/sample.yaml)"
    )
    live_demo.add_argument(
        "--steps",
        type=kinds.positive_int,
        default=5,
        help="one-minute load steps per run (default 5, at most 15)",
    )
    live_demo.add_argument(
        "--start-rps", type=kinds.positive, default=4.0, help="requests/s of the first step (default 4)"
    )
    live_demo.add_argument(
        "--max-rps",
        type=kinds.positive,
        default=20.0,
        help="requests/s of the last step (default 20, at most 100)",
    )
    live_demo.add_argument(
        "--work-ms",
        type=kinds.non_negative,
        default=10.0,
        help="CPU milliseconds the order service computes per request (default 10)",
    )

    loadtest = _command(
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
    _slo_options(loadtest)
    loadtest.add_argument(
        "--allow-remote", action="store_true", help="permit a URL not on loopback (your deployed endpoint)"
    )
    _json_option(loadtest)

    sandbox = _command(commands, "sandbox", _sandbox, "serve a local AWS endpoint on 127.0.0.1 until Ctrl-C")
    sandbox.add_argument(
        "action",
        nargs="?",
        choices=("urls", "interrupt"),
        help="urls: list the local URL of every load balancer listener a live sandbox serves; "
        "interrupt SERVICE: a Fargate Spot interruption of one of the service's tasks "
        "(default: serve a sandbox)",
    )
    sandbox.add_argument(
        "service",
        nargs="?",
        metavar="SERVICE",
        help="with interrupt: the ECS service's name, or the params file's task name",
    )
    sandbox.add_argument(
        "--task", help="with interrupt: the task ID or ARN (default: the service's oldest Spot task)"
    )
    sandbox.add_argument("--port", type=kinds.port, help="port to listen on (default: a free one)")
    sandbox.add_argument(
        "--endpoint-url",
        help="with urls or interrupt: the sandbox's URL (default: $DUALALB_SANDBOX_URL)",
    )
    sandbox.add_argument(
        "--live",
        action="store_true",
        help="run what is deployed: tasks as local processes, HAProxy as every ALB/NLB (needs haproxy)",
    )

    cdk = _command(commands, "cdk", _cdk, "run the pinned CDK CLI on the kit's Node (arguments pass through)")
    cdk.add_argument("args", nargs="*", help="CDK CLI arguments, e.g. `--app ... diff`")

    # These two own their options (papermill-style modules with their own argument parsers).
    for name, run, help in (
        ("batch", _batch, "run a notebook per params file on Dask: local workers, --scheduler or Fargate"),
        ("sample", _sample, "run the sample application locally: `sample up`"),
    ):
        command = _command(commands, name, run, help)
        command.add_argument("args", nargs="*", help=f"see `dualalb-kit {name} --help`")
    return parser


def _slo_options(command: argparse.ArgumentParser) -> None:
    """The SLO's three limits, each optional (the SLO's default when left out)."""
    command.add_argument("--p99-ms", type=kinds.positive, help="SLO: p99 response time in ms (default 500)")
    command.add_argument("--max-cpu", type=kinds.percent, help="SLO: CPU percent (default 70)")
    command.add_argument(
        "--max-5xx-per-1k", type=kinds.non_negative, help="SLO: 5xx per 1,000 requests (default 1)"
    )


def _command(
    commands: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], int], help: str
) -> argparse.ArgumentParser:
    command = commands.add_parser(name, help=help, description=help)
    command.set_defaults(run=run)
    return command


def _synth(args: argparse.Namespace) -> int:
    files = _params_files(args.params)
    return _synth_report(files[0], args) if len(files) == 1 else _synth_each(files, args)


def _params_files(arguments: Sequence[str]) -> list[Path]:
    """The params files named: each argument, or the files a glob in it matches (sorted). A glob
    that matches nothing stays as it is, to fail as a missing file."""
    import glob

    files = []
    for argument in arguments:
        matches = sorted(glob.glob(argument)) if any(c in argument for c in "*?[") else []
        files += [Path(match) for match in matches] or [Path(argument)]
    return files


def _synth_each(files: list[Path], args: argparse.Namespace) -> int:
    """Synthesize several params files in this process (imports and jsii's Node paid once), one
    summary line each; a file that fails fails alone. cfn-lint checks the templates in warm worker
    processes (one per core) while the next files synthesize. Exit 1 if any synthesis failed, else 2 if any
    file was bad input, else 0."""
    import time

    from .synth import DEFAULT_OUTDIR, synth

    rows: list[dict[str, Any]] = []
    assembly_of: dict[Path, Path] = {}
    linting = []  # (row, synthesis, future of the lint worker's (seconds, rows) or None)
    with _lint_worker(args, processes=min(len(files), os.cpu_count() or 1)) as lint_worker:
        for path in files:
            started = time.perf_counter()
            row: dict[str, Any] = {"params": str(path)}
            rows.append(row)
            try:
                spec = _load_spec(path)
                outdir = (args.outdir or DEFAULT_OUTDIR) / spec.stack_name
                if outdir in assembly_of:
                    raise ValidationError(
                        "stack_name", f"{spec.stack_name!r} is also the stack of {assembly_of[outdir]}"
                    )
                assembly_of[outdir] = path
                result = synth(spec, outdir, endpoint_url=args.endpoint_url, nag=not args.no_nag)
            except ValidationError as exc:
                row.update(status="invalid", error=str(exc))
                continue
            except Exception as exc:  # a construct or the CDK failed on this file: report it, go on
                row.update(status="failed", error=_one_line(exc))
                continue
            row.update(
                status="synthesized",
                stack_name=result.stack_name,
                resources=len(result.template.get("Resources", {})),
                seconds=time.perf_counter() - started,
                assembly_dir=str(result.assembly_dir),
            )
            lint = lint_worker and lint_worker.submit(result.template_path, result.lint_region(spec.region))
            linting.append((row, result, lint))
        for row, result, lint in linting:
            try:
                lint_seconds, lint_rows = lint.result() if lint else (0.0, None)
            except Exception as exc:  # cfn-lint itself failed on this template
                row.update(status="failed", error=f"cfn-lint: {_one_line(exc)}")
                continue
            findings = _findings(result, None if lint_rows is None else result.lint_table(lint_rows))
            row.update(findings=len(findings), seconds=round(row["seconds"] + lint_seconds, 2))
    if not _emit(rows, args):
        width = max(len(row["params"]) for row in rows)
        for row in rows:
            if row["status"] == "synthesized":
                detail = (
                    f"{row['stack_name']}: {row['resources']} resources, {row['findings']} findings, "
                    f"{row['seconds']:.1f} s -> {row['assembly_dir']}"
                )
            else:
                detail = row["error"]
            print(f"{row['status']:<11}  {row['params']:<{width}}  {detail}")
    statuses = {row["status"] for row in rows}
    return 1 if "failed" in statuses else 2 if "invalid" in statuses else 0


def _one_line(exc: BaseException) -> str:
    """An exception as ``Type: first line of its message``."""
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message.splitlines()[0] if message else ''}"


def _lint_worker(args: argparse.Namespace, processes: int = 1, regions: Sequence[str] = ()) -> Any:
    """A :class:`~dualalb_kit.lint.LintWorker` of ``processes`` started now (its cfn-lint import
    and the rule set of ``regions``, default ``us-east-1``, overlap the synthesis), or a context of
    ``None`` with ``--no-lint`` or without the [lint] extra (then as if ``--no-lint`` was given,
    with a note saying how to get cfn-lint)."""
    from .extras import available
    from .lint import DEFAULT_REGION, LintWorker

    if not args.no_lint and not available("cfnlint"):
        print(
            "note: cfn-lint is not installed, so templates are not linted: pip install 'dualalb-kit[lint]'",
            file=sys.stderr,
        )
        args.no_lint = True
    return contextlib.nullcontext() if args.no_lint else LintWorker(processes, regions or [DEFAULT_REGION])


def _synth_report(params: Path, args: argparse.Namespace) -> int:
    """One params file: its synthesis as tables (or one JSON document with ``--json``)."""
    from .diagram import service_placement, topology
    from .synth import synth

    spec = _load_spec(params)
    with _lint_worker(args, regions=[spec.region]) as lint_worker:
        result = synth(spec, args.outdir, endpoint_url=args.endpoint_url, nag=not args.no_nag)
        lint = lint_worker and lint_worker.submit(result.template_path, result.lint_region(spec.region))
        counts = result.resource_counts()
        listeners = topology(result.template)[["alb", "port", "protocol", "action", "service"]]
        placement = service_placement(result.template)
        findings = _findings(result, lint and result.lint_table(lint.result()[1]))
    if _emit(
        {
            "stack_name": result.stack_name,
            "assembly_dir": str(result.assembly_dir),
            "resources": result.resources,
            "resource_counts": counts,
            "outputs": dict(result.outputs_table().itertuples(index=False)),
            "listeners": listeners,
            "placement": placement,
            "findings": findings,
            "warnings": result.warnings,
        },
        args,
    ):
        return 0
    total = int(counts["count"].sum())
    print(f"Synthesized {result.stack_name} into {result.assembly_dir} ({total} resources)\n")
    print(_text_table(counts))
    print("\nOutputs:")
    for name, value in result.outputs_table().itertuples(index=False):
        print(f"  {name}: {value}")
    print("\nListeners:")
    print(_text_table(listeners.fillna("")))
    print("\nWhere ECS places each service's desired tasks:")
    print(_text_table(placement))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    checked = "cdk-nag" + ("" if args.no_lint else " and cfn-lint")
    if args.no_nag and args.no_lint:
        print("\nFindings: not checked (--no-nag --no-lint)")
    elif findings.empty:
        print(f"\nFindings ({checked}): none")
    else:
        levels = findings.groupby(["checker", "level"], sort=False).size().reset_index(name="count")
        print(f"\nFindings ({checked}): {len(findings)}")
        print(_text_table(levels))
        print()
        print(_text_table(findings))
    return 0


FINDING_COLUMNS = ["checker", "level", "rule", "path", "message"]


def _findings(result: Any, lint: Any) -> Any:
    """cfn-lint's findings (``lint``, :meth:`Synthesis.lint`'s table, or ``None`` when not
    checked) and cdk-nag's unacknowledged ones (level ``error``: they fail the synthesis) as one
    table of :data:`FINDING_COLUMNS`."""
    import pandas as pd

    nag = result.findings.assign(checker="cdk-nag", level="error")
    lint = pd.DataFrame(columns=FINDING_COLUMNS) if lint is None else lint.assign(checker="cfn-lint")
    frames = [frame[FINDING_COLUMNS] for frame in (lint, nag) if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FINDING_COLUMNS)


def _init(args: argparse.Namespace) -> int:
    from dataclasses import fields, replace

    from .scaffold import QUESTIONS, params_text

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
        kinds = {field.name: field.type for field in fields(Answers)}
        asked = {key: _ask(key, getattr(answers, key), kinds[key]) for key in QUESTIONS if given[key] is None}
        answers = replace(answers, **asked)
    path = args.directory / f"{answers.stack_name}.yaml"
    if path.exists() and not args.force:
        raise ValidationError("name", f"{path} exists; pick another NAME or pass --force to overwrite")
    text = params_text(answers, path.name)
    path.write_text(text)
    print(f"wrote {path}; next: dualalb-kit synth {path}")
    return 0


def _examples(args: argparse.Namespace) -> int:
    from .examples import write_examples

    written = write_examples(args.directory, force=args.force)
    print(f"wrote {len(written)} files into {args.directory}: notebooks/ and params/")
    print(f"next: dualalb-kit synth {args.directory / 'params' / 'sample.yaml'}")
    return 0


def _ask(key: str, default: Any, kind: str) -> Any:
    """Ask for answer ``key`` on the terminal; Enter keeps ``default``. ``kind`` is its type's name."""
    from .scaffold import QUESTIONS

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


def _completion(args: argparse.Namespace) -> int:
    import argcomplete

    print(argcomplete.shellcode(["dualalb-kit"], shell=args.shell))
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
        from .deploy import DeployError, DeployInterrupted, TargetError

        try:
            return run(args)
        except TargetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except DeployError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except DeployInterrupted as exc:
            print(f"interrupted: {exc}", file=sys.stderr)
            print(
                f"next: {_next_step(args, exc.stack_status)} (CDK CLI log: {exc.log_path})", file=sys.stderr
            )
            return 130

    return guarded


def _next_step(args: argparse.Namespace, stack_status: str | None) -> str:
    """The command to run after an interrupted run: the same one, once CloudFormation settled."""
    command = shlex.join(["dualalb-kit", *args.command_line])
    settling = stack_status is not None and stack_status.endswith("_IN_PROGRESS")
    if settling and stack_status != "REVIEW_IN_PROGRESS":
        return f"once the stack settles, run `{command}` again"
    return f"run `{command}` again"


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
    from .sandbox.live.urls import stack_urls

    spec, target = _spec_and_target(args)
    outputs = deploy(spec, target, progress=not args.no_progress)
    urls = stack_urls(target, spec.stack_name)
    document = {"stack_name": spec.stack_name, "outputs": dict(outputs)}
    if _emit({**document, "local_urls": [vars(url) for url in urls]} if urls else document, args):
        return 0
    print("Outputs:")
    for name, value in outputs.items():
        print(f"  {name}: {value}")
    if urls:
        print("Served on this machine (live sandbox):")
        for url in urls:
            print(f"  {url.load_balancer} :{url.port}  {url.url}")
    return 0


@_target_errors
def _diff(args: argparse.Namespace) -> int:
    from .deploy import diff

    changes = diff(*_spec_and_target(args))
    if _emit(changes, args):
        return 0
    if changes.empty:
        print("no changes")
        return 0
    table = changes.assign(property_paths=changes["property_paths"].map(", ".join))
    print(_text_table(table))
    return 0


@_target_errors
def _destroy(args: argparse.Namespace) -> int:
    from .deploy import destroy, stack_status

    if not args.yes and not sys.stdin.isatty():
        raise ValidationError("--yes", "stdin is not a terminal, so destroy cannot ask; pass --yes to delete")
    spec, target = _spec_and_target(args)
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


def _stack_from_params(args: argparse.Namespace) -> None:
    """When STACK is a params file (``.yaml``/``.yml``), use its stack name, and its region unless
    ``--region`` is given."""
    if Path(args.stack_name).suffix in (".yaml", ".yml"):
        spec = _load_spec(Path(args.stack_name))
        args.stack_name, args.region = spec.stack_name, args.region or spec.region


@_target_errors
def _traffic(args: argparse.Namespace) -> int:
    from .metrics import time_window
    from .target import Target
    from .traffic import LoadProfile, generate_traffic

    _stack_from_params(args)
    start, end = time_window(args.start, args.end, hours=args.hours)
    target = Target.sandbox(args.endpoint_url, args.region)  # synthetic data: a sandbox only
    profile = LoadProfile(seed=args.seed, base_rate=args.base_rate)
    print(
        generate_traffic(args.stack_name, profile, start, end, target=target, if_published=args.if_published)
    )
    return 0


@_target_errors
def _metrics(args: argparse.Namespace) -> int:
    from .metrics import load_metrics, time_window

    _stack_from_params(args)
    start, end = time_window(args.start, args.end, hours=args.hours)
    frame = load_metrics(args.stack_name, start, end, args.period, target=_stack_target(args))
    _check_datapoints(frame, args.stack_name, start, end)
    if frame.attrs.get("synthetic"):
        print("note: these metrics are SYNTHETIC (made by `dualalb-kit traffic`)", file=sys.stderr)
    if not args.output and _emit(frame, args):
        return 0
    if args.output and args.json:
        _write_text(args.output, dumps(frame) + "\n", "--output")
    else:
        frame.to_csv(args.output or sys.stdout, index=False)
    if args.output:
        print(f"{len(frame):,} rows ({frame['value'].notna().sum():,} datapoints) -> {args.output}")
    return 0


@_target_errors
def _recommend(args: argparse.Namespace) -> int:
    import pandas as pd

    from .capacity import SLO
    from .metrics import load_metrics, time_window
    from .scaling import apply_recommendations, changed_values, recommend_policies, recommendation_table

    spec = _load_spec(args.params)
    limits = {"p99_ms": args.p99_ms, "max_cpu": args.max_cpu, "max_5xx_per_1k": args.max_5xx_per_1k}
    slo = SLO(**{name: value for name, value in limits.items() if value is not None})
    measured = _read_table(args.capacity, "--capacity") if args.capacity else None
    args.stack_name = args.stack or spec.stack_name
    args.region = args.region or spec.region
    target = _stack_target(args).in_region(spec.region)
    start, end = time_window(args.start, args.end, hours=args.hours)
    if end - start < pd.Timedelta(days=7):
        print(
            "note: a window under a week misses the weekly pattern; max_capacity is not lowered",
            file=sys.stderr,
        )
    metrics = load_metrics(args.stack_name, start, end, target=target)
    _check_datapoints(metrics, args.stack_name, start, end)
    recommendations = recommend_policies(metrics, spec, slo, measured, headroom=args.headroom)
    recommended = apply_recommendations(spec, recommendations)
    changes = changed_values(spec, recommended)
    if args.output:
        header = f"# {args.params} with the scaling `dualalb-kit recommend` fitted to {args.stack_name}\n"
        _write_text(args.output, header + recommended.to_yaml(), "--output", private_mode(args.params))
    if _emit({"recommendations": recommendations, "changes": changes}, args):
        return 0
    if metrics.attrs.get("synthetic"):
        print("note: these recommendations come from SYNTHETIC metrics", file=sys.stderr)
    print(f"SLO: p99 {slo.p99_ms:g} ms, CPU {slo.max_cpu:g} %, {slo.max_5xx_per_1k:g} 5xx per 1,000 requests")
    print(f"window: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC\n")
    print(_text_table(recommendation_table(recommendations)))
    print()
    for row in recommendations.itertuples():
        print(f"{row.service}: {row.why}")
        for action in row.scheduled_actions:
            bounds = f"min {action['min_capacity']}, max {action['max_capacity']}"
            print(f"  scheduled cron({action['cron']}): {bounds}")
        if row.scheduled_actions:
            saving = row.scheduled_saving_per_month_usd
            print(f"  (the schedule saves ${saving:,.2f}/month against a raised minimum all day)")
    print("\nchanges:" if len(changes) else "\nno change to the params file")
    for change in changes.itertuples():
        print(f"  {change.field}: {change.current} -> {change.recommended}")
    if args.output:
        print(f"\nwrote {args.output}")
    return 0


def _check_datapoints(frame: Any, stack_name: str, start: Any, end: Any) -> None:
    """A :class:`NoDataError` when the metrics hold no datapoint (nothing to show or fit)."""
    if "value" not in frame or not frame["value"].notna().any():
        raise NoDataError(
            f"no datapoints for {stack_name} from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC; "
            "send traffic (or widen --start/--hours) and try again"
        )


def _read_table(path: Path, field: str) -> Any:
    """A CSV file as a DataFrame; a missing or unreadable file is a ValidationError on ``field``."""
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ValidationError(field, f"cannot read {path}: {exc}") from None


def _write_text(path: Path, text: str, field: str, mode: int = PRIVATE_MODE) -> None:
    """Write ``text`` to ``path`` with ``mode`` (default 0600), not through a symbolic link; an
    unwritable place is a ValidationError on ``field``."""
    try:
        write_private(path, text, mode)
    except OSError as exc:
        raise ValidationError(field, f"cannot write {path}: {exc.strerror}") from None


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    from .spec import SAMPLE_PARAMS

    return run_demo(args.out_dir, args.params or SAMPLE_PARAMS)


def _live_demo(args: argparse.Namespace) -> int:
    from .live_demo import run_live_demo
    from .spec import SAMPLE_PARAMS

    run_live_demo(
        args.out_dir,
        args.params or SAMPLE_PARAMS,
        start_rps=args.start_rps,
        max_rps=args.max_rps,
        steps=args.steps,
        work_ms=args.work_ms,
    )
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from .sandbox.server import serve

    if args.action != "interrupt" and (args.service is not None or args.task is not None):
        raise ValidationError("SERVICE" if args.service is not None else "--task", "only with interrupt")
    if args.action == "urls":
        return _sandbox_urls(args)
    if args.action == "interrupt":
        return _sandbox_interrupt(args)

    if args.port is not None:
        _check_port_free("--port", args.port)
    serve(args.port, live=args.live)
    return 0


@_target_errors
def _sandbox_urls(args: argparse.Namespace) -> int:
    from .sandbox.live.urls import is_live, local_urls, sandbox_ca_file
    from .target import Target

    target = Target.sandbox(args.endpoint_url)
    if not is_live(target.client("ssm")):
        print(
            f"the sandbox at {target.endpoint_url} runs no data plane: "
            "start one with `dualalb-kit sandbox --live`"
        )
        return 1
    urls = local_urls(target.client("elbv2"))
    for url in urls:
        print(f"{url.load_balancer} :{url.port}  {url.url}")
    if any(url.url.startswith("https://") for url in urls):
        print(f"HTTPS certificate authority (verify with it): {sandbox_ca_file(target)}")
    return 0


@_target_errors
def _sandbox_interrupt(args: argparse.Namespace) -> int:
    from .sandbox.live.interruptions import request_interruption
    from .target import Target

    if not args.service:
        raise ValidationError(
            "SERVICE", "name the service to interrupt: `dualalb-kit sandbox interrupt SERVICE`"
        )
    task_arn = request_interruption(Target.sandbox(args.endpoint_url), args.service, args.task)
    print(
        f"interrupting task {task_arn.rsplit('/', 1)[-1]} of {args.service} (Fargate Spot): the live "
        "sandbox sends its event and SIGTERM within 2 s, and starts a replacement; "
        "`aws ecs describe-tasks` shows it STOPPED with stopCode SpotInterruption once it exits"
    )
    return 0


def _check_port_free(field: str, port: int) -> None:
    """A port the sandbox can listen on: 1-65535 and free on 127.0.0.1 (else a ValidationError)."""
    import socket

    from .validation import check_port

    check_port(field, port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ValidationError(field, f"{port} is not free on 127.0.0.1 ({exc.strerror})") from None


def _cdk(args: argparse.Namespace) -> int:
    import subprocess

    from .runtime import cdk_cli, node_environment

    return subprocess.call([*cdk_cli(), *args.args], env=node_environment())


def _batch(args: argparse.Namespace) -> int:
    from .batch import main as batch_main

    return batch_main(args.args)


def _sample(args: argparse.Namespace) -> int:
    from .samples.local import main as sample_main

    if args.args[:1] in (["-h"], ["--help"]):
        return sample_main(["--help"])  # the help of `sample up`, the one subcommand
    if args.args[:1] != ["up"]:
        print("usage: dualalb-kit sample up [--port N] [--timeout S]", file=sys.stderr)
        return 2
    return sample_main(args.args[1:])


def _loadtest(args: argparse.Namespace) -> int:
    from .capacity import SLO
    from .loadtest import repeat_line, run_loadtest, step_line

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
    if not _emit(document, args):
        print(result.report())
    return 0


def _text_table(frame) -> str:
    """A frame as text for a terminal: text columns aligned left, numbers right (headers too)."""
    from pandas.api.types import is_numeric_dtype

    columns = []
    for name in frame.columns:
        cells = [str(name), *("" if value is None else str(value) for value in frame[name])]
        width = max(map(len, cells))
        align = str.rjust if is_numeric_dtype(frame[name]) else str.ljust
        columns.append([align(cell, width) for cell in cells])
    return "\n".join("  ".join(row).rstrip() for row in zip(*columns, strict=True))


PASS_THROUGH = {"batch": _batch, "cdk": _cdk, "sample": _sample}

if __name__ == "__main__":
    raise SystemExit(main())
