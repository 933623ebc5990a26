"""The documentation site: it builds with ``--strict``, its examples run, its analysis guide quotes the
code's constants, and the benchmarks page shows each script's recorded report or says there is none."""

from __future__ import annotations

import html
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dualalb_kit import capacity, findings, scaling
from dualalb_kit.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ANALYSIS = DOCS / "guides" / "analysis.md"
NOT_RECORDED = "Not recorded on this checkout"


def load_module(path: Path):
    """A module of the checkout that is not in the package (the docs' hook, the benchmark recorder)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def section(page: Path, heading: str) -> str:
    """The text under ``## heading`` of ``page``, up to the next heading of that level."""
    return page.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_site_builds_with_strict(tmp_path):
    """Every warning (a broken link, a docstring mkdocstrings cannot read) fails the build."""
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    deploy_page = (site / "reference" / "deploy" / "index.html").read_text()
    assert 'id="dualalb_kit.deploy.deploy"' in deploy_page
    analyse = (site / "reference" / "analyse" / "index.html").read_text()
    assert ":func:<code>" not in analyse and ":class:<code>" not in analyse
    notebook = (site / "notebooks" / "01_design_and_synth" / "index.html").read_text()
    assert "Design and synthesize a dual-ALB Fargate service" in notebook
    benchmarks = (site / "benchmarks" / "index.html").read_text()
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        record = DOCS / "benchmarks" / f"{script.stem}.txt"
        if record.is_file():
            assert html.escape(record.read_text().splitlines()[0], quote=False) in benchmarks
        else:
            assert f"{NOT_RECORDED}: <code>.venv/bin/python benchmarks/record.py {script.name}</code>" in (
                benchmarks
            )


def test_the_benchmarks_page_shows_a_record_or_says_there_is_none(tmp_path):
    page = load_module(ROOT / "tools" / "benchmarks_page.py")
    scripts, records = tmp_path / "benchmarks", tmp_path / "records"
    scripts.mkdir()
    records.mkdir()
    (scripts / "bench_a.py").write_text('"""Measures a.\n\nRun: ``python benchmarks/bench_a.py``\n"""\n')
    (scripts / "bench_b.py").write_text('"""Measures b."""\n')
    (scripts / "helper.py").write_text('"""Not a benchmark."""\n')
    (records / "bench_a.txt").write_text("# recorded 2026-01-01 00:00 UTC\nmedian ```` 1.0 s\n")
    text = page.recorded_results(scripts, records)
    a, b = text.split("## bench_b.py\n")
    assert a.startswith("## bench_a.py\n\nMeasures a.\n\nRun: ``python benchmarks/bench_a.py``\n")
    assert "`````text\n# recorded 2026-01-01 00:00 UTC\nmedian ```` 1.0 s\n`````" in a
    assert NOT_RECORDED not in a
    assert b.strip() == (
        "Measures b.\n\n"
        f"{NOT_RECORDED}: `.venv/bin/python benchmarks/record.py bench_b.py` (or `make bench`) runs it "
        "and records its report in `docs/benchmarks/bench_b.txt`."
    )
    assert "helper" not in text


def test_sphinx_roles_become_optional_references_titled_as_sphinx_shows_them():
    roles = load_module(ROOT / "tools" / "sphinx_roles.py")
    html = (
        "<p>See :func:<code>~dualalb_kit.capacity.fit_capacity</code>, :class:<code>Target</code> "
        "and :py:meth:<code>Sandbox.start</code>; <code>plain</code> stays.</p>"
    )
    assert roles.on_page_content(html) == (
        '<p>See <autoref identifier="dualalb_kit.capacity.fit_capacity" optional><code>fit_capacity</code>'
        '</autoref>, <autoref identifier="Target" optional><code>Target</code></autoref> and '
        '<autoref identifier="Sandbox.start" optional><code>Sandbox.start</code></autoref>; '
        "<code>plain</code> stays.</p>"
    )


def test_record_keeps_the_report_with_its_header_only_when_the_script_succeeded(
    tmp_path, monkeypatch, capsys
):
    recorder = load_module(ROOT / "benchmarks" / "record.py")
    monkeypatch.setattr(recorder, "RECORDS", tmp_path / "records")
    script = tmp_path / "bench_x.py"
    script.write_text(
        "import sys\nprint('median 1.5 s')\nprint('baseline 3.0 s')\nsys.exit(int(sys.argv[1]))\n"
    )
    assert recorder.record(script, ["0"]) == 0
    record = (tmp_path / "records" / "bench_x.txt").read_text()
    first, command, blank, *report = record.splitlines()
    assert re.fullmatch(
        r"# recorded \d{4}-\d\d-\d\d \d\d:\d\d UTC, commit [0-9a-f]{7,}( \+ local changes)?, "
        r"load average \d+\.\d\d \d+\.\d\d \d+\.\d\d \(1, 5, 15 min\), \d+ cores",
        first,
    ), first
    assert command == f"# command: python {script} 0" and blank == ""
    assert report == ["median 1.5 s", "baseline 3.0 s"]
    assert capsys.readouterr().out == "median 1.5 s\nbaseline 3.0 s\n"  # echoed as it ran
    assert recorder.record(script, ["3"]) == 3
    assert (tmp_path / "records" / "bench_x.txt").read_text() == record
    with pytest.raises(SystemExit, match="'bench_nothing.py' is not a benchmark script"):
        recorder.resolve_script("bench_nothing.py")
    assert recorder.resolve_script("bench_synth.py") == ROOT / "benchmarks" / "bench_synth.py"


@pytest.mark.sandbox
def test_the_metrics_and_scaling_example_runs(monkeypatch):
    """In a sandbox of its own: the example deploys params/sample.yaml under its real stack name."""
    monkeypatch.chdir(ROOT)
    example = re.search(r"```python\n(.*?)```", section(ANALYSIS, "Metrics and scaling analysis"), re.S)
    with Sandbox() as sandbox:
        namespace = {"url": sandbox.endpoint_url}
        exec(compile(example.group(1), str(ANALYSIS), "exec"), namespace)
    metrics, result, mixes = namespace["metrics"], namespace["result"], namespace["mixes"]
    assert metrics.attrs["synthetic"] is True
    assert set(metrics["service"].dropna()) == {"order", "customer", "product"}
    assert metrics.loc[metrics["metric"] == "RequestCount", "value"].sum() > 0
    assert set(result.tasks["service"]) == {"order", "customer", "product"}
    assert list(mixes["mix"])[0] and (mixes["cost"] > 0).all()
    assert len(namespace["figures"]) == 3


def test_the_analysis_guide_states_the_methods_constants_as_the_code_has_them():
    """Each number the guide gives for the capacity method is the constant the code uses."""
    text = " ".join(section(ANALYSIS, "Capacity per task and recommendations").split())
    for phrase in (
        f"at most {capacity.BREACH_SHARE * 100:g} % of minutes break the SLO",
        f"grouped into {capacity.BANDS} load bands",
        f"`held_requests_per_task` is the {capacity.HELD_MINUTES}th busiest minute",
        f"with fewer than {capacity.HELD_MINUTES / capacity.HELD_SHARE:,.0f} minutes below it, the busiest "
        f"{capacity.HELD_SHARE * 100:g} % of them",
        f"never more than {capacity.MAX_EXTRAPOLATION * 100:g} % past the held load",
        f"by {capacity.CHANGE_SHIFT * 100:g} % of the limit and {capacity.CHANGE_Z:g} standard errors",
        f"need {capacity.MIN_SIDE_HOURS} hours of data on either side",
        f"repeated on {capacity.BOOTSTRAP_SAMPLES} seeded block-bootstrap resamples",
        f"their {capacity.INTERVAL[0]:g}th and {capacity.INTERVAL[1]:g}th percentiles "
        f"(a {capacity.INTERVAL[1] - capacity.INTERVAL[0]:g} % interval)",
        f"`high` when the interval is within ±{capacity.NARROW * 100:g} % of the capacity, "
        f"`medium` within ±{capacity.MEDIUM * 100:g} %",
        f"with fewer than {capacity.MIN_STRETCH_HOURS} hours of data",
        f"ramped to {scaling.LOADTEST_REACH:g} x the estimate",
        f"already keeps {scaling.SLO_MINUTES * 100:g} % of minutes within the SLO",
        f"merges a service's bands into {findings.BAND_ROWS} load ranges",
    ):
        assert phrase in text, phrase
