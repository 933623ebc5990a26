"""The package reads as the flow: every module belongs to one stage of docs/design.md's table, and
no import (at module level or deferred into a function) reaches a later stage."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dualalb_kit"
DESIGN = ROOT / "docs" / "design.md"


def stages() -> list[tuple[str, list[str]]]:
    """The stage table's rows in order: (stage, its module paths relative to the package)."""
    section = DESIGN.read_text().split("## The stages", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| stage")]
    return [
        (cells[0].strip(), re.findall(r"`([\w/.]+)`", cells[1]))
        for cells in (row.strip("|").split("|") for row in rows)
    ]


def stage_of(module: Path, table: list[tuple[str, list[str]]]) -> int | None:
    """The index of the stage ``module`` (a file below the package) belongs to, or None."""
    path = module.relative_to(PACKAGE).as_posix()
    for index, (_, entries) in enumerate(table):
        if any(path == entry or (entry.endswith("/") and path.startswith(entry)) for entry in entries):
            return index
    return None


def imported_modules(module: Path) -> list[tuple[int, Path]]:
    """(line, file) of each module of the package that ``module`` imports (the package's own
    ``__init__.py``, which every import of the package runs, aside)."""
    found = []
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = module.parent
            for _ in range(node.level - 1):
                base = base.parent
            target = base.joinpath(*node.module.split(".")) if node.module else base
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dualalb_kit"):
            target = ROOT.joinpath(*node.module.split("."))
        else:
            continue
        for name in node.names:  # `from . import metrics` names a module; `from .x import y` a value
            if (target / f"{name.name}.py").is_file():
                found.append((node.lineno, target / f"{name.name}.py"))
            elif (target / name.name / "__init__.py").is_file():
                found.append((node.lineno, target / name.name / "__init__.py"))
        for candidate in (target.with_suffix(".py"), target / "__init__.py"):
            if candidate.is_file():
                found.append((node.lineno, candidate))
                break
    return [(line, target) for line, target in found if target != PACKAGE / "__init__.py"]


def test_every_module_belongs_to_one_stage():
    table = stages()
    assert [name for name, _ in table][:2] == ["shared", "design"]
    modules = sorted(PACKAGE.rglob("*.py"))
    assert [m.relative_to(PACKAGE).as_posix() for m in modules if stage_of(m, table) is None] == []
    listed = [entry for _, entries in table for entry in entries]
    assert len(listed) == len(set(listed))


def test_no_import_reaches_a_later_stage():
    table = stages()
    against = [
        f"{module.relative_to(PACKAGE)}:{line} ({table[stage_of(module, table)][0]}) imports "
        f"{target.relative_to(PACKAGE)} ({table[stage_of(target, table)][0]})"
        for module in sorted(PACKAGE.rglob("*.py"))
        for line, target in imported_modules(module)
        if stage_of(target, table) is not None and stage_of(target, table) > stage_of(module, table)
    ]
    assert against == []


def test_the_check_sees_deferred_and_parent_package_imports():
    # known imports: the diagram defers the placement rule's into a function; the CLI's synth
    # group imports the summary from the package above its own
    diagram = {target.name for _, target in imported_modules(PACKAGE / "diagram.py")}
    synthesis = {target.name for _, target in imported_modules(PACKAGE / "cli" / "synthesis.py")}
    assert "placement.py" in diagram
    assert "synth_summary.py" in synthesis
