"""MkDocs hook: the benchmarks page lists every script in ``benchmarks/`` with its recorded report.

For each ``benchmarks/bench_*.py``: a section with the script's docstring (what it measures and
how to run it) and the report ``benchmarks/record.py`` recorded in ``docs/benchmarks/<name>.txt``,
or one line saying that it has not been recorded on this checkout and how to record it. The
sections are generated here, appended to ``docs/benchmarks/index.md``, so a new script gets its
section without anyone writing it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
RECORDS = ROOT / "docs" / "benchmarks"
PAGE = "benchmarks/index.md"


def fenced(text: str) -> str:
    """``text`` as a plain-text code block, its fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def script_section(script: Path, records: Path) -> str:
    """One script's section: its docstring, then its recorded report or why there is none."""
    docstring = ast.get_docstring(ast.parse(script.read_text())) or ""
    record = records / f"{script.stem}.txt"
    if record.is_file():
        report = fenced(record.read_text())
    else:
        report = (
            f"Not recorded on this checkout: `.venv/bin/python benchmarks/record.py {script.name}` "
            f"(or `make bench`) runs it and records its report in `docs/benchmarks/{record.name}`."
        )
    return f"## {script.name}\n\n{docstring}\n\n{report}\n"


def recorded_results(benchmarks: Path = BENCHMARKS, records: Path = RECORDS) -> str:
    """Every benchmark script's section, in name order."""
    return "\n".join(script_section(script, records) for script in sorted(benchmarks.glob("bench_*.py")))


def on_page_markdown(markdown: str, page, **_) -> str:
    """MkDocs' hook: the benchmarks page gets the scripts' sections after its own text."""
    if page.file.src_uri != PAGE:
        return markdown
    return f"{markdown.rstrip()}\n\n{recorded_results()}"
