"""Environment variables that look like credentials: warnings, never errors, never their values."""

from __future__ import annotations

import re
from collections.abc import Mapping

_CREDENTIAL_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL", re.I
)

_CREDENTIAL_VALUE = re.compile(
    r"(?:AKIA|ASIA)[A-Z0-9]{16}"  # an AWS access key id
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"  # a URL with user:password@
)


def credential_warnings(field: str, environment: Mapping[str, str]) -> list[str]:
    """One warning per environment variable that looks like a credential (by name or value).

    ``field`` is the environment's path (``tasks[0].environment``). The values never appear in
    the warnings.
    """
    return [
        f"{field}.{name}: looks like a credential; environment values are stored in plain text in "
        "the template and tree.json. Keep it in Secrets Manager (or SSM SecureString) and pass "
        "it to the container as an ECS secret"
        for name, value in environment.items()
        if looks_like_credential(name, value)
    ]


def looks_like_credential(name: str, value: str) -> bool:
    """Whether an environment variable looks like a credential: its name (``DB_PASSWORD``) or its
    value (an AWS access key id, a private key, a URL with a password); an empty value never does."""
    return bool(value) and bool(_CREDENTIAL_NAME.search(name) or _CREDENTIAL_VALUE.search(value))
