"""cfn-lint on synthesized templates, here or in one warm worker process beside the synthesis."""

from __future__ import annotations

import functools
import multiprocessing
import time
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .extras import missing_extra

DEFAULT_REGION = "us-east-1"
"""The region whose resource specification an environment-agnostic template is checked against."""


def lint_template(template_path: Path, region: str) -> list[dict[str, Any]]:
    """cfn-lint's findings on the template file at ``template_path``, checked against ``region``'s
    resource specification: one row of plain values per finding (``rule``, ``level``, ``path``,
    ``template_path`` as a list, ``line``, ``message``; cfn-lint's own string nodes do not
    pickle), so a worker process can run it. The same run as ``cfnlint.api.lint_file`` with
    default options, but the rule set is loaded once per process and region (0.4 s a template)."""
    try:
        from cfnlint.runner import run_template_by_file_path
    except ModuleNotFoundError as error:
        raise missing_extra(error, "cfn-lint's checks") from None

    config, rules = _default_rules(region)
    matches = run_template_by_file_path(str(template_path), config, rules, ignore_bad_template=False)
    return [
        {
            "rule": str(match.rule.id),
            "level": str(match.rule.severity).lower(),
            "path": str(match.path_string),
            "template_path": [part if isinstance(part, int) else str(part) for part in match.path],
            "line": int(match.linenumber),
            "message": str(match.message),
        }
        for match in matches
    ]


@functools.cache
def _default_rules(region: str) -> tuple[Any, Any]:
    """cfn-lint's configuration for ``region`` with default options, and the rules it enables."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    config = ConfigMixIn(regions=[region])
    return config, Runner(config).rules


class LintWorker:
    """cfn-lint in worker processes that import it and load the rule set of each of ``regions``
    (default: ``us-east-1``) as soon as they start, so that work runs on another core while the
    caller synthesizes, and templates are checked while the next files synthesize. Same
    :func:`lint_template` call, same findings as in-process.

    ``with LintWorker() as worker: future = worker.submit(path, region)``; the future's result is
    ``(seconds, rows)``: the seconds cfn-lint took in its worker and :func:`lint_template`'s rows.
    ``processes`` (default 1) workers check templates side by side. They are spawned (not forked:
    the caller runs jsii's Node and its threads).
    """

    def __init__(self, processes: int = 1, regions: Iterable[str] = (DEFAULT_REGION,)) -> None:
        self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
        for _ in range(processes):  # each submit while none is idle starts one more process
            self._pool.submit(_warm_up, tuple(regions))

    def submit(self, template_path: Path, region: str) -> Future[tuple[float, list[dict[str, Any]]]]:
        return self._pool.submit(_timed_lint, template_path, region)

    def __enter__(self) -> LintWorker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(cancel_futures=True)


def _warm_up(regions: tuple[str, ...]) -> None:
    """Import cfn-lint and load its rule set for each of ``regions`` (0.3-0.4 s each). A failure
    stays in this call's future, unread: :func:`lint_template` meets it again and reports it."""
    for region in regions:
        _default_rules(region)


def _timed_lint(template_path: Path, region: str) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    rows = lint_template(template_path, region)
    return time.perf_counter() - started, rows
