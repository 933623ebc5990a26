"""Synthesis: spec -> cloud assembly on disk, with its template, resources, warnings and findings."""

from __future__ import annotations

import errno
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import outputs
from .assembly import is_cloud_assembly, read_assembly
from .errors import DualAlbKitError, ValidationError
from .jsii_interrupts import interrupts_between_jsii_calls
from .lint import DEFAULT_REGION, lint_template
from .template import data_frame

if TYPE_CHECKING:
    import pandas as pd

    from .spec import DeploymentSpec
    from .target import Target

DEFAULT_OUTDIR = Path("cdk.out")
MAX_LOOKUP_ROUNDS = 3
"""Synth passes allowed for answering missing context (each answer may reveal another lookup)."""
UNKNOWN_UNTIL_DEPLOYED = "(known after deploy)"
NAG_FINDING_COLUMNS = ["rule", "path", "message"]
ASSEMBLY = "assembly"
"""The kind of output an assembly folder's marker names."""


@dataclass
class Synthesis:
    """A synthesized stack.

    ``findings`` holds cdk-nag (AwsSolutions) findings that nothing acknowledged: columns ``rule``,
    ``path``, ``message``; empty when the stack is clean (``finding_rows``: the same as dicts).
    """

    stack_name: str
    assembly_dir: Path
    template: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)
    """Logical id -> construct path."""
    finding_rows: list[dict[str, str]] = field(default_factory=list)
    region: str | None = None
    """The region the stack is synthesized for (its environment's), ``None`` if environment-agnostic."""

    @property
    def findings(self) -> pd.DataFrame:
        """cdk-nag's unacknowledged findings: ``rule``, ``path``, ``message`` (pandas loads here)."""
        return data_frame(self.finding_rows, NAG_FINDING_COLUMNS)

    @property
    def template_path(self) -> Path:
        return self.assembly_dir / f"{self.stack_name}.template.json"

    @property
    def resources(self) -> pd.DataFrame:
        """One row per resource: ``logical_id``, ``type``, ``path`` (the construct path)."""
        rows = [
            {
                "logical_id": logical_id,
                "type": resource["Type"],
                "path": self.paths.get(logical_id, ""),
            }
            for logical_id, resource in self.template.get("Resources", {}).items()
        ]
        return data_frame(rows, ["logical_id", "type", "path"])

    @property
    def outputs(self) -> dict[str, Any]:
        """Template outputs: name -> value (an intrinsic until deployed)."""
        return {name: out["Value"] for name, out in self.template.get("Outputs", {}).items()}

    def outputs_table(self) -> pd.DataFrame:
        """The outputs as columns ``output`` and ``value``, in template order; a value CloudFormation
        computes at deploy time (an intrinsic such as the ALB's DNS name) reads ``(known after deploy)``."""
        rows = [
            (name, value if isinstance(value, str) else UNKNOWN_UNTIL_DEPLOYED)
            for name, value in self.outputs.items()
        ]
        return data_frame(rows, ["output", "value"])

    def resource_counts(self) -> pd.DataFrame:
        """Resources by type: columns ``type`` and ``count``, most frequent first."""
        counts = self.resources["type"].value_counts().rename_axis("type").reset_index(name="count")
        return counts.sort_values(["count", "type"], ascending=[False, True], ignore_index=True)

    def lint(self, region: str | None = None) -> pd.DataFrame:
        """cfn-lint's findings on the template, one row per finding, in template order.

        ``region`` (default: the stack's own region, else ``us-east-1``) is the region whose
        resource specification the template is checked against.
        Columns: ``rule`` (e.g. ``E3012``), ``level`` (``error``, ``warning`` or ``informational``;
        an error would fail a deploy), ``path`` (where in the template, ``Resources/<logical id>/
        Properties/...``), ``construct`` (the CDK construct path of that resource, empty outside
        ``Resources``), ``line`` (in the template file), ``message``.
        """
        return self.lint_table(lint_template(self.template_path, self.lint_region(region)))

    def lint_region(self, region: str | None = None) -> str:
        """The region cfn-lint checks against: ``region``, else the stack's, else ``us-east-1``."""
        return region or self.region or DEFAULT_REGION

    def lint_table(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        """:func:`lint_template`'s rows (run here or in a worker process) as :meth:`lint`'s table."""
        rows = [{**row, "construct": self._construct_at(row["template_path"])} for row in rows]
        frame = data_frame(rows, ["rule", "level", "path", "construct", "line", "message"])
        return frame.sort_values("line", kind="stable", ignore_index=True)

    def _construct_at(self, template_path: list) -> str:
        """The construct path of the resource a template path points into; empty outside ``Resources``."""
        in_resource = len(template_path) > 1 and template_path[0] == "Resources"
        return self.paths.get(str(template_path[1]), "") if in_resource else ""


def synth(
    spec: DeploymentSpec,
    outdir: str | Path | None = None,
    *,
    target: Target | None = None,
    account: str | None = None,
    nag: bool = True,
) -> Synthesis:
    """Synthesize ``spec`` into ``outdir`` (default ``cdk.out/<stack_name>``) for ``spec.region``.

    Lookups (``vpc: default`` / ``vpc-...``) are answered in-process with boto3 on ``target``
    (default: AWS with the environment's credentials; always in ``spec.region``), cached in
    ``<outdir>/cdk.context.json`` (reused on AWS, asked again on a sandbox), and the app is
    synthesized again. ``nag`` runs cdk-nag's AwsSolutions pack; its findings never block the
    synthesis, they are returned in ``Synthesis.findings``.

    The assembly is written to a staging folder beside ``outdir`` and moved there once complete,
    so a failed synthesis leaves the previous assembly (or none) in place. Ctrl-C (or a notebook's
    stop button) stops it between two jsii calls (:mod:`dualalb_kit.jsii_interrupts`), so the next
    synthesis in the same process works. ``outdir`` is replaced
    only when it is new, empty or an earlier assembly of the kit's (its marker file, see
    :mod:`dualalb_kit.outputs`); any other folder, or an ``outdir`` that cannot be written, is a
    ``ValidationError`` naming it, raised before any work. A full disk is one ``DualAlbKitError``.
    """
    # Absolute: jsii's Node process keeps the working directory this process had when it started.
    final_dir = (Path(outdir) if outdir is not None else DEFAULT_OUTDIR / spec.stack_name).resolve()
    outputs.check_replaceable(final_dir, ASSEMBLY, "outdir")
    lookups_target = None if spec.vpc == "new" else _lookups_target(spec, target)
    account = account or spec.account or (lookups_target.account if lookups_target else None)
    staging = outputs.staging_dir(final_dir, "outdir")
    try:
        with interrupts_between_jsii_calls():
            synthesis = _synth_into(spec, staging, final_dir, lookups_target, target, account, nag)
        outputs.replace_folder(staging, final_dir, ASSEMBLY, "outdir")
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if _disk_full(error):
            raise DualAlbKitError(
                f"no space left on the device of {final_dir.parent}: the synthesis stopped and "
                f"{final_dir} was left as it was"
            ) from None
        too_many = _TOO_MANY_RESOURCES.search(str(error)) if isinstance(error, RuntimeError) else None
        if too_many:
            raise ValidationError("tasks", _too_many_resources(too_many)) from None
        raise
    return synthesis


_TOO_MANY_RESOURCES = re.compile(
    r"TooManyResourcesInStack: Number of resources in stack '[^']*': (\d+) is greater than allowed "
    r"maximum of (\d+): (.*)"
)
"""aws-cdk-lib's error for a stack over CloudFormation's resource limit, with the count per type."""


def _too_many_resources(match: re.Match) -> str:
    """aws-cdk-lib's TooManyResourcesInStack error as one line: the count, the limit, the three
    resource types with the most resources, and what to do."""
    count, limit, by_type = match.groups()
    types = sorted(
        ((int(number), name) for name, number in re.findall(r"(\S+) \((\d+)\)", by_type)), reverse=True
    )
    most = ", ".join(f"{number} {name}" for number, name in types[:3])
    return (
        f"the stack would have {count} resources, CloudFormation takes at most {limit} per stack "
        f"(the most: {most}); split the services over several stacks, or turn off per-service "
        "options such as alarms"
    )


def _disk_full(error: BaseException) -> bool:
    """Whether ``error`` is a full disk: Python's ``ENOSPC``, or jsii's Node reporting it."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(error, RuntimeError) and ("ENOSPC" in str(error) or "EDQUOT" in str(error))


def _synth_into(
    spec: DeploymentSpec,
    assembly_dir: Path,
    final_dir: Path,
    lookups_target: Target | None,
    target: Target | None,
    account: str | None,
    nag: bool,
) -> Synthesis:
    """Synthesize into ``assembly_dir``; the result names ``final_dir``, where it will be moved.
    Lookups answered before (``final_dir``'s ``cdk.context.json``) are reused, except against a
    sandbox: each sandbox makes its own VPC and subnet ids, so an earlier one's answers would be
    wrong there (and asking a local endpoint again costs little)."""
    from . import context as lookups

    reuse_cache = lookups_target is None or lookups_target.kind != "sandbox"
    values = lookups.load_cache(final_dir / "cdk.context.json") if reuse_cache else {}
    for _ in range(MAX_LOOKUP_ROUNDS):
        findings = _synthesize(spec, assembly_dir, account, values, nag)
        assembly = read_assembly(assembly_dir)
        if not assembly.missing:
            break
        if lookups_target is None:
            lookups_target = _lookups_target(spec, target)
        values.update(lookups.resolve_missing(assembly.missing, target=lookups_target))
    else:
        raise ValidationError(
            "vpc", f"lookups still missing after {MAX_LOOKUP_ROUNDS} rounds: {assembly.missing}"
        )

    if values:  # the answers travel with the assembly
        lookups.save_cache(assembly_dir / "cdk.context.json", values)
    return Synthesis(
        stack_name=spec.stack_name,
        assembly_dir=final_dir,
        template=assembly.template,
        warnings=[f"{path}: {data}" for path, data in assembly.entries("aws:cdk:warning")],
        paths={data: path.lstrip("/") for path, data in assembly.entries("aws:cdk:logicalId")},
        finding_rows=findings,
        region=assembly.region,
    )


def lookups_target_at_hand(spec: DeploymentSpec, preferred: Target | None = None) -> Target | None:
    """Where ``spec``'s lookups can go, checked without a call: ``None`` when it needs none
    (``vpc: new``), else ``preferred`` (a target a front door found answering), else AWS with the
    environment's credentials. ``TargetError`` when neither is at hand."""
    from .target import Target, TargetError

    if spec.vpc == "new":
        return None
    where = preferred or Target.aws()
    if not where.has_credentials():
        reason = f"vpc {spec.vpc!r} is looked up in a sandbox or an AWS account, and neither is at hand"
        raise TargetError(f"{reason}: start a sandbox or configure AWS credentials", reason=reason)
    return where


def _lookups_target(spec: DeploymentSpec, target: Target | None) -> Target:
    """Where lookups go, in the spec's region; ``ValidationError("vpc", ...)`` when AWS cannot
    answer them (no credentials, no network)."""
    from .target import TargetError, as_target

    where = as_target(target).in_region(spec.region)
    try:
        where.account  # noqa: B018  (checks the credentials before the first lookup)
    except TargetError as error:
        raise ValidationError(
            "vpc", f"{spec.vpc!r} needs a lookup in an AWS account or a sandbox: {error}"
        ) from None
    return where


def _synthesize(
    spec: DeploymentSpec, assembly_dir: Path, account: str | None, context: dict[str, Any], nag: bool
) -> list[dict[str, str]]:
    """One synthesis pass; returns the unacknowledged findings of the validation report (cdk-nag's
    and aws-cdk-lib's own template checks).

    aws-cdk-lib runs the validation plugins on the assembly it has already written, so a finding
    that fails the synthesis leaves a complete assembly (the same files as without cdk-nag, but
    the report): it is kept as it is, not synthesized a second time."""
    from aws_cdk import App, Validations

    from .build import build_stack

    app = App(outdir=str(assembly_dir), context=context)
    build_stack(spec, account=account, app=app)
    if nag:
        from cdk_nag import AwsSolutionsChecks

        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    report = assembly_dir / "validation-report.json"
    report.unlink(missing_ok=True)
    try:
        app.synth()
    except RuntimeError:
        if not (report.exists() and is_cloud_assembly(assembly_dir)):
            raise
    return _findings(report) if report.exists() else []


def _findings(report: Path) -> list[dict[str, str]]:
    """The validation report's violations, one row per violating construct."""
    return [
        {
            "rule": violation["ruleName"],
            "path": construct["constructPath"],
            "message": violation["description"],
        }
        for plugin in json.loads(report.read_text()).get("pluginReports", [])
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]
