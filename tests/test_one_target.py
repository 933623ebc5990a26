"""Where things run is one ``Target``, made by a front door and passed down: outside the front
doors, the sandbox and ``target.py`` (which builds clients from it), no module names an endpoint
URL, as a parameter, a keyword, an attribute or a string."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dualalb_kit"
MAY_NAME_IT = ("cli/", "widgets/", "batch/", "sandbox/", "demo.py", "live_demo.py", "target.py")
"""The front doors, the sandbox and the Target, relative to the package."""
NAME = "endpoint_url"


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of ``tree``'s module, classes and functions."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, owners)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def endpoint_urls(source: str) -> list[int]:
    """The lines of ``source`` whose code names :data:`NAME` (docstrings aside)."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            named = isinstance(node.value, str) and NAME in node.value and id(node) not in docstrings
        else:  # a variable, a parameter, a keyword argument, an attribute
            named = NAME in (getattr(node, field, None) for field in ("id", "arg", "attr"))
        if named:
            lines.append(node.lineno)
    return sorted(set(lines))


def test_the_check_sees_parameters_keywords_attributes_and_strings_but_not_docstrings():
    source = (
        'def f(endpoint_url=None):\n    """Takes ``endpoint_url``."""\n    g(endpoint_url=1)\n'
        '    return target.endpoint_url, "endpoint_url"\n'
    )
    assert endpoint_urls(source) == [1, 3, 4]


def test_only_the_front_doors_the_sandbox_and_the_target_name_an_endpoint_url():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(MAY_NAME_IT):
            continue
        offenders += [f"{relative}:{line}" for line in endpoint_urls(path.read_text())]
    assert offenders == []
