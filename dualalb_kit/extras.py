"""Optional parts of the kit: which extra brings which module, and the one error when one is missing.

The core install holds the spec, the constructs and ``synth``; the rest comes with the extras
named in pyproject.toml (docs/install.md, "Install"). A module that needs an extra imports it as::

    try:
        import matplotlib.dates as mdates
    except ModuleNotFoundError as error:
        raise missing_extra(error, "plots") from None

so a user without it meets :class:`~dualalb_kit.errors.MissingExtraError`, one line naming the
extra (the CLI exits 2), never a traceback.
"""

from __future__ import annotations

import importlib.util

from .errors import MissingExtraError

EXTRA_OF_MODULE = {
    "moto": "sandbox",
    "flask": "sandbox",
    "werkzeug": "sandbox",
    "matplotlib": "analysis",
    "ipywidgets": "notebook",
    "ipykernel": "notebook",
    "jupyter_client": "notebook",
    "traitlets": "notebook",
    "zmq": "notebook",
    "papermill": "notebook",
    "nbconvert": "notebook",
    "nbformat": "notebook",
    "distributed": "scale",
    "fsspec": "scale",
    "dask_cloudprovider": "scale",
    "locust": "loadtest",
    "gevent": "loadtest",
    "cfnlint": "lint",
}
"""Top-level module -> the extra that installs it."""


def missing_extra(error: ModuleNotFoundError, feature: str) -> ImportError:
    """The error to raise for ``error``: a MissingExtraError naming the extra when an extra brings the
    missing module, else ``error`` itself (a broken install is not a missing extra).

    ``feature`` says in words what needs the module (``"the sandbox"``, ``"plots"``).
    """
    module = (error.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    return MissingExtraError(feature, extra, module) if extra else error


def available(module: str) -> bool:
    """Whether top-level ``module`` is installed (found without importing it)."""
    return importlib.util.find_spec(module) is not None


def require(feature: str, *modules: str) -> None:
    """Raise MissingExtraError for the first of ``modules`` (keys of :data:`EXTRA_OF_MODULE`) that
    is not installed, before work starts in another process that would need it."""
    for module in modules:
        if not available(module):
            raise MissingExtraError(feature, EXTRA_OF_MODULE[module], module)
