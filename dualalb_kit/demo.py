"""``make demo``: the whole loop offline, through the notebooks, into ``out/``.

Synth -> deploy -> a week of synthetic traffic -> metrics -> capacity per task -> recommended
scaling -> destroy, for ``params/sample.yaml``, against the local sandbox (the one in
``DUALALB_SANDBOX_URL`` if it answers, else one started here and stopped at the end). Each
notebook is executed with papermill and rendered to HTML; ``out/report.html`` gathers the
design (diagram, resources, findings), the deployed outputs, the metrics per service, the
capacity curves and the recommendation.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import batch
from .report import Step, write_report
from .spec import SAMPLE_PARAMS

if TYPE_CHECKING:
    from .target import Target

STEPS = (
    ("1 · design and synth", "01_design_and_synth.ipynb", {"artifacts_dir": None}),
    ("2 · deploy to the sandbox", "02_deploy.ipynb", {"destroy_at_end": False}),
    (
        "3 · a week of synthetic traffic, capacity per task, recommendations, destroy",
        "03_scaling_analysis.ipynb",
        {"deploy_if_missing": False, "destroy_at_end": True, "artifacts_dir": None},
    ),
)


def run_demo(out_dir: str | Path = "out", params: str | Path = SAMPLE_PARAMS) -> int:
    """Run the walkthrough into ``out_dir`` (default ``out``); returns 0 when every step passed.

    Needs the [sandbox], [notebook] (with [analysis] and [lint]) and [scale] extras
    (MissingExtraError before anything starts).
    """
    from .extras import require
    from .sandbox import use_target

    require("the demo", "moto", "papermill", "ipywidgets", "matplotlib", "cfnlint", "distributed", "fsspec")

    out = Path(out_dir)
    artifacts = out / "report_assets"
    where, own_sandbox = use_target("sandbox")
    endpoint_url = where.endpoint_url  # the notebooks' parameter: each kernel makes its own Target
    if own_sandbox is None:
        print(f"using the sandbox at {endpoint_url}")
    else:
        print(f"started a sandbox at {endpoint_url} (stopped at the end)")
    batch.ensure_kernel()
    steps: list[Step] = []
    try:
        for title, notebook, options in STEPS:
            print(f"{title} ...", flush=True)
            run_options = {"target": "sandbox", "endpoint_url": endpoint_url}
            if "artifacts_dir" in options:
                options = {**options, "artifacts_dir": str(artifacts.resolve())}
            run_dir = out / Path(notebook).stem
            run_dir.mkdir(parents=True, exist_ok=True)
            row = batch.run_one(
                Path(params), batch.NOTEBOOKS_DIR / notebook, run_dir, {**run_options, **options}
            )
            steps.append(Step(title, row))
            print(f"  {row['status']} in {row['duration_s']} s: {row['result']}", flush=True)
            if row["status"] != "passed":
                _clean_up(Path(params), where)
                break
        report = write_report(out / "report.html", steps, artifacts)
    finally:
        if own_sandbox is not None:
            own_sandbox.stop()
    passed = len(steps) == len(STEPS) and all(step.row["status"] == "passed" for step in steps)
    print(f"\nreport: {report}")
    print(f"executed notebooks (.ipynb and .html): {', '.join(str(out / Path(n).stem) for _, n, _ in STEPS)}")
    print("all steps passed" if passed else "a step failed: open its notebook HTML for the error")
    return 0 if passed else 1


def _clean_up(params: Path, where: Target) -> None:
    """After a failed step, remove the sample stack so a reused sandbox is left as it was."""
    from .deploy import destroy
    from .spec import load_spec

    try:
        destroy(load_spec(params), where, progress=False)
    except Exception as error:  # best effort: the step's own failure is what the user needs to see
        print(f"  (could not destroy the stack: {error})", file=sys.stderr)
