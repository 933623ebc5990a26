"""Where the designer's Diff, Deploy and Destroy go: the target dropdown, whether that target can
be used now (and what to do in the notebook when it cannot), and Start sandbox."""

from __future__ import annotations

from typing import Any

from ..target import KINDS, Target, TargetError
from .forms import widgets

TARGETS = KINDS


class TargetChoice:
    """The target part of the designer (a mixin): ``target`` (the dropdown: ``sandbox`` or
    ``aws``), ``sandbox_button``, ``target_problem`` and ``own_sandbox``. The designer gives
    ``spec`` (its current design) and ``_changed()`` (redraws the status line and buttons)."""

    def _init_target(self, target: Target | str, endpoint_url: str | None) -> None:
        self.endpoint_url = endpoint_url
        self._given_target = target if isinstance(target, Target) else None
        kind = target.kind if isinstance(target, Target) else target
        self.target = widgets.Dropdown(options=TARGETS, value=kind, description="target")
        self.target.observe(lambda _: self.check_target(), names="value")
        self.target_problem: str | None = None
        """Why Diff, Deploy and Destroy cannot run now, with what to do (``None``: they can)."""
        self.own_sandbox = None
        """The sandbox Start sandbox started (it runs until the kernel stops or ``stop()``)."""

    def start_sandbox(self) -> Any:
        """Start a sandbox in this kernel (until the kernel stops) and send Diff, Deploy and Destroy
        there; returns it (also ``own_sandbox``)."""
        from ..sandbox import Sandbox

        self.own_sandbox = Sandbox(region=self.spec.region).start()
        self.endpoint_url, self._given_target = self.own_sandbox.endpoint_url, None
        self.target.value = "sandbox"
        self.check_target()
        return self.own_sandbox

    def check_target(self) -> str | None:
        """Whether Diff, Deploy and Destroy can reach the chosen target: returns (and shows in the
        status line, the three buttons disabled) the reason and what to do when they cannot, else
        ``None``. Asks the sandbox (at most 2 s); for AWS, checks only that credentials are at
        hand, without a call. Runs at creation, on a change of target and after Start sandbox."""
        try:
            self._where().check_credentials()
        except TargetError as error:
            self.target_problem = self._advice(error)
        else:
            self.target_problem = None
        self._changed()
        return self.target_problem

    def current_target(self) -> Target:
        """Where Diff, Deploy and Destroy go: the selected kind (the ``Target`` given, if of that
        kind; else the sandbox at ``endpoint_url`` or ``$DUALALB_SANDBOX_URL``, or AWS with the
        environment's credentials) in the spec's region. ``TargetError`` when no sandbox answers."""
        return self._where().in_region(self.spec.region)

    def _reachable_target(self) -> Target | None:
        """:meth:`current_target`, or ``None`` when it cannot be used."""
        try:
            return self.current_target()
        except TargetError:
            return None

    def _where(self) -> Target:
        """:meth:`current_target` in its own region (the form may be invalid)."""
        given = self._given_target
        if given is not None and given.kind == self.target.value:
            return given
        if self.target.value == "sandbox":
            return Target.sandbox(self.endpoint_url)
        return Target.aws()

    def _advice(self, error: Exception) -> str:
        """``error`` as one sentence for a notebook: the reason and, for a target that cannot be
        used, what to do in the notebook (never a terminal command)."""
        if not isinstance(error, TargetError):
            return str(error)
        if self.target.value == "sandbox":
            return (
                f"{error.reason}: press Start sandbox, or create the designer with "
                "endpoint_url= a running sandbox's URL"
            )
        return (
            f"{error.reason}: create the designer with target=Target.aws(profile=NAME) for a configured "
            "AWS profile, or choose target sandbox"
        )
