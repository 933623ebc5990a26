"""``dualalb-kit synth``: one params file as tables, or several as one summary line each
(:mod:`dualalb_kit.synth_summary`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..json_output import emit, json_option
from .common import command, load_spec, text_table
from .where import lookups_target


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add to ``commands``: ``synth``."""
    synth = command(
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
    json_option(synth)


def _synth(args: argparse.Namespace) -> int:
    from ..synth_summary import params_files

    files = params_files(args.params)
    return _synth_one(files[0], args) if len(files) == 1 else _synth_each(files, args)


def _lint(args: argparse.Namespace) -> bool:
    """Whether cfn-lint checks the templates: unless ``--no-lint``, or (with a note saying how to
    get it, and then as if ``--no-lint`` was given) without the [lint] extra."""
    from ..extras import available

    if not args.no_lint and not available("cfnlint"):
        print(
            "note: cfn-lint is not installed, so templates are not linted: pip install 'dualalb-kit[lint]'",
            file=sys.stderr,
        )
        args.no_lint = True
    return not args.no_lint


def _synth_each(files: list[Path], args: argparse.Namespace) -> int:
    """Exit 1 if any synthesis failed, else 2 if any file was bad input, else 0."""
    from ..synth_summary import synth_files

    rows = synth_files(
        files,
        args.outdir,
        target=lookups_target(args.endpoint_url),
        nag=not args.no_nag,
        lint=_lint(args),
        on_warning=lambda warning: print(f"warning: {warning}", file=sys.stderr),
    )
    if not emit(rows, args):
        width = max(len(row["params"]) for row in rows)
        for row in rows:
            print(f"{row['status']:<11}  {row['params']:<{width}}  {_detail(row)}")
    statuses = {row["status"] for row in rows}
    return 1 if "failed" in statuses else 2 if "invalid" in statuses else 0


def _detail(row: dict[str, Any]) -> str:
    if row["status"] != "synthesized":
        return row["error"]
    return (
        f"{row['stack_name']}: {row['resources']} resources, {row['findings']} findings, "
        f"{row['seconds']:.1f} s -> {row['assembly_dir']}"
    )


def _synth_one(params: Path, args: argparse.Namespace) -> int:
    """One params file: its synthesis as tables (or one JSON document with ``--json``)."""
    from ..synth_summary import summarize

    spec = load_spec(params)
    lint = _lint(args)
    summary = summarize(
        spec, args.outdir, target=lookups_target(args.endpoint_url), nag=not args.no_nag, lint=lint
    )
    result = summary.synthesis
    outputs = result.outputs_table()
    document = {
        "stack_name": result.stack_name,
        "assembly_dir": str(result.assembly_dir),
        "resources": result.resources,
        "resource_counts": summary.resource_counts,
        "outputs": dict(outputs.itertuples(index=False)),
        "listeners": summary.listeners,
        "placement": summary.placement,
        "findings": summary.findings,
        "warnings": result.warnings,
    }
    if emit(document, args):
        return 0
    total = int(summary.resource_counts["count"].sum())
    print(f"Synthesized {result.stack_name} into {result.assembly_dir} ({total} resources)\n")
    print(text_table(summary.resource_counts))
    print("\nOutputs:")
    for name, value in outputs.itertuples(index=False):
        print(f"  {name}: {value}")
    print("\nListeners:")
    print(text_table(summary.listeners.fillna("")))
    print("\nWhere ECS places each service's desired tasks:")
    print(text_table(summary.placement))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _print_findings(summary.findings, args)
    return 0


def _print_findings(findings: Any, args: argparse.Namespace) -> None:
    checked = "cdk-nag" + ("" if args.no_lint else " and cfn-lint")
    if args.no_nag and args.no_lint:
        print("\nFindings: not checked (--no-nag --no-lint)")
    elif findings.empty:
        print(f"\nFindings ({checked}): none")
    else:
        levels = findings.groupby(["checker", "level"], sort=False).size().reset_index(name="count")
        print(f"\nFindings ({checked}): {len(findings)}")
        print(text_table(levels))
        print()
        print(text_table(findings))
