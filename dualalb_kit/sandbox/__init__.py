"""The embedded local AWS sandbox (moto's server) and the CloudFormation models it needs.

Importing this package changes nothing in moto; :meth:`Sandbox.start` installs the gap-fills
(:func:`install_gap_fills`).
"""

from .server import (
    SANDBOX_URL_ENV,
    Sandbox,
    install_gap_fills,
    running_sandbox_url,
    sandbox_environment,
    use_target,
)

__all__ = [
    "SANDBOX_URL_ENV",
    "Sandbox",
    "install_gap_fills",
    "running_sandbox_url",
    "sandbox_environment",
    "use_target",
]
