"""Run one benchmark script and record its printed report for the documentation's benchmarks page.

    .venv/bin/python benchmarks/record.py bench_synth.py [the script's arguments]

The script (a name in ``benchmarks/`` or a path) runs with this Python; what it prints on stdout
goes to the terminal as it comes and, when the script exits 0, to
``docs/benchmarks/<script name>.txt`` after a header: the date and time (UTC), the git commit
(``+ local changes`` when tracked files differ from it), the 1-minute, 5-minute and 15-minute
load averages at the start, the core count and the command. Its stderr passes through unrecorded.
A failed run keeps the previous record and exits with the script's status. ``make bench`` records
every script.
"""

from __future__ import annotations

import datetime
import os
import shlex
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
RECORDS = ROOT / "docs" / "benchmarks"


def record_path(script: Path) -> Path:
    """Where ``script``'s report is recorded: ``docs/benchmarks/<script name>.txt``."""
    return RECORDS / f"{script.stem}.txt"


def git_commit() -> str:
    """The checkout's commit, short, with ``+ local changes`` when tracked files differ from it."""

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} + local changes" if changed else commit


def header(command: list[str]) -> str:
    """The record's first lines: when, which commit, how busy the machine was, and the command."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    loads = " ".join(f"{load:.2f}" for load in os.getloadavg())
    return (
        f"# recorded {now}, commit {git_commit()}, load average {loads} (1, 5, 15 min), "
        f"{os.cpu_count()} cores\n# command: {shlex.join(command)}\n\n"
    )


def resolve_script(name: str) -> Path:
    """``name`` as given if that file exists, else the script of that name in ``benchmarks/``."""
    given = Path(name)
    script = given if given.is_file() else BENCHMARKS / name
    if not script.is_file() or script.suffix != ".py":
        raise SystemExit(f"record.py: {name!r} is not a benchmark script (a .py file in benchmarks/)")
    return script


def record(script: Path, arguments: list[str]) -> int:
    """Run ``script`` with ``arguments``, echo its stdout, and record it if it exits 0; its status."""
    command = [sys.executable, str(script), *arguments]
    shown = script.resolve().relative_to(ROOT) if script.resolve().is_relative_to(ROOT) else script
    report = header(["python", str(shown), *arguments])
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=environment) as run:
        for line in run.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            report += line
    if run.returncode != 0:
        print(f"record.py: {script.name} exited {run.returncode}; its record is unchanged", file=sys.stderr)
        return run.returncode
    target = record_path(script)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_suffix(".txt.partial")
    staging.write_text(report)
    staging.replace(target)
    print(f"recorded in {target}", file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    return record(resolve_script(argv[0]), argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
