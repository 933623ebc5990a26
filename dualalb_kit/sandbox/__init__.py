"""The embedded local AWS sandbox (moto's server) and the CloudFormation models it needs."""

from .server import (
    SANDBOX_URL_ENV,
    Sandbox,
    lookup_endpoint,
    running_sandbox_url,
    sandbox_environment,
    use_sandbox,
)

__all__ = [
    "SANDBOX_URL_ENV",
    "Sandbox",
    "lookup_endpoint",
    "running_sandbox_url",
    "sandbox_environment",
    "use_sandbox",
]
