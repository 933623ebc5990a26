"""Params files synthesized and checked, as ``dualalb-kit synth`` shows them.

:func:`summarize` synthesizes one spec and gathers what a reader checks first: resource counts,
listeners, where ECS places each service's tasks, and the cfn-lint and cdk-nag findings in one
table. :func:`synth_files` synthesizes several params files in one process (imports and jsii's
Node paid once), one summary row each; a file that fails fails alone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from .spec import DeploymentSpec
    from .synth import Synthesis
    from .target import Target

FINDING_COLUMNS = ["checker", "level", "rule", "path", "message"]
"""The columns of :func:`combined_findings`' table."""


def params_files(arguments: Iterable[str]) -> list[Path]:
    """The params files named: each argument, or the files a glob in it matches (sorted). A glob
    that matches nothing stays as it is, to fail as a missing file."""
    files = []
    for argument in arguments:
        matches = sorted(glob.glob(argument)) if any(c in argument for c in "*?[") else []
        files += [Path(match) for match in matches] or [Path(argument)]
    return files


def lint_worker(lint: bool, processes: int = 1, regions: Sequence[str] = ()) -> Any:
    """A :class:`~dualalb_kit.lint.LintWorker` of ``processes`` started now (its cfn-lint import
    and the rule set of ``regions``, default ``us-east-1``, overlap the synthesis), or a context of
    ``None`` when not ``lint``."""
    if not lint:
        return contextlib.nullcontext()
    from .lint import DEFAULT_REGION, LintWorker

    return LintWorker(processes, regions or [DEFAULT_REGION])


def combined_findings(result: Synthesis, lint: pd.DataFrame | None) -> pd.DataFrame:
    """cfn-lint's findings (``lint``, :meth:`Synthesis.lint_table`'s table, or ``None`` when not
    checked) and cdk-nag's unacknowledged ones (level ``error``: they fail the synthesis) as one
    table of :data:`FINDING_COLUMNS`."""
    import pandas as pd

    nag = result.findings.assign(checker="cdk-nag", level="error")
    lint = pd.DataFrame(columns=FINDING_COLUMNS) if lint is None else lint.assign(checker="cfn-lint")
    frames = [frame[FINDING_COLUMNS] for frame in (lint, nag) if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FINDING_COLUMNS)


@dataclass
class SynthSummary:
    """One synthesis and what ``dualalb-kit synth`` shows of it (tables as DataFrames)."""

    synthesis: Synthesis
    resource_counts: pd.DataFrame
    listeners: pd.DataFrame
    placement: pd.DataFrame
    findings: pd.DataFrame


def summarize(
    spec: DeploymentSpec,
    outdir: str | Path | None = None,
    *,
    target: Target | None = None,
    nag: bool = True,
    lint: bool = True,
) -> SynthSummary:
    """Synthesize ``spec`` into ``outdir`` (lookups on ``target``, see :func:`~dualalb_kit.synth.synth`)
    while cfn-lint starts in a worker (with ``lint``), and summarize the result."""
    from .diagram import service_placement, topology
    from .synth import synth

    with lint_worker(lint, regions=[spec.region]) as worker:
        result = synth(spec, outdir, target=target, nag=nag)
        checking = worker and worker.submit(result.template_path, result.lint_region(spec.region))
        return SynthSummary(
            synthesis=result,
            resource_counts=result.resource_counts(),
            listeners=topology(result.template)[["alb", "port", "protocol", "action", "service"]],
            placement=service_placement(result.template),
            findings=combined_findings(result, checking and result.lint_table(checking.result()[1])),
        )


def synth_files(
    files: Sequence[Path],
    outdir: Path | None = None,
    *,
    target: Target | None = None,
    nag: bool = True,
    lint: bool = True,
    on_warning: Callable[[str], None] = lambda warning: None,
) -> list[dict[str, Any]]:
    """Synthesize each params file into ``<outdir>/<stack_name>`` (default ``cdk.out``); cfn-lint
    checks the templates in warm worker processes (one per core) while the next files synthesize.

    One row per file: ``params``, ``status`` (``synthesized``, ``invalid``: bad input, ``failed``:
    the construct, the CDK or cfn-lint failed) and ``error``, or ``stack_name``, ``resources``,
    ``findings``, ``seconds`` and ``assembly_dir``. A spec's warnings go to ``on_warning``.
    """
    rows = [{"params": str(path)} for path in files]
    linting = []  # (row, synthesis, future of the lint worker's (seconds, rows) or None)
    with lint_worker(lint, processes=min(len(files), os.cpu_count() or 1)) as worker:
        assembly_of: dict[Path, Path] = {}
        for path, row in zip(files, rows, strict=True):
            synthesized = _synth_row(path, row, outdir, assembly_of, target, nag, on_warning)
            if synthesized is not None:
                spec, result = synthesized
                region = result.lint_region(spec.region)
                linting.append((row, result, worker and worker.submit(result.template_path, region)))
        for row, result, checking in linting:
            try:
                lint_seconds, lint_rows = checking.result() if checking else (0.0, None)
            except Exception as exc:  # cfn-lint itself failed on this template
                row.update(status="failed", error=f"cfn-lint: {one_line(exc)}")
                continue
            findings = combined_findings(result, None if lint_rows is None else result.lint_table(lint_rows))
            row.update(findings=len(findings), seconds=round(row["seconds"] + lint_seconds, 2))
    return rows


def _synth_row(
    path: Path,
    row: dict[str, Any],
    outdir: Path | None,
    assembly_of: dict[Path, Path],
    target: Target | None,
    nag: bool,
    on_warning: Callable[[str], None],
) -> tuple[DeploymentSpec, Synthesis] | None:
    """Synthesize one params file, filling its ``row``: its spec and synthesis, or ``None`` when it
    was invalid or failed."""
    from .spec import load_spec
    from .synth import DEFAULT_OUTDIR, synth

    started = time.perf_counter()
    try:
        spec = load_spec(path)
        for warning in spec.warnings:
            on_warning(warning)
        assembly_dir = (outdir or DEFAULT_OUTDIR) / spec.stack_name
        if assembly_dir in assembly_of:
            raise ValidationError(
                "stack_name", f"{spec.stack_name!r} is also the stack of {assembly_of[assembly_dir]}"
            )
        assembly_of[assembly_dir] = path
        result = synth(spec, assembly_dir, target=target, nag=nag)
    except ValidationError as exc:
        row.update(status="invalid", error=str(exc))
        return None
    except Exception as exc:  # a construct or the CDK failed on this file: report it, go on
        row.update(status="failed", error=one_line(exc))
        return None
    row.update(
        status="synthesized",
        stack_name=result.stack_name,
        resources=len(result.template.get("Resources", {})),
        seconds=time.perf_counter() - started,
        assembly_dir=str(result.assembly_dir),
    )
    return spec, result


def one_line(exc: BaseException) -> str:
    """An exception as ``Type: first line of its message``."""
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message.splitlines()[0] if message else ''}"
