"""Credential-looking values kept out of what a run leaves: its executed notebook, HTML and results.

The notebook runs with the real values; afterwards every occurrence of a value that looks like a
credential (:func:`~dualalb_kit.validation.looks_like_credential`: by its key, e.g. ``DB_PASSWORD``,
or by its form) is replaced by :data:`HIDDEN` in every text of the notebook: the injected
parameters cell, outputs, and the widget state saved in its metadata.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..validation import looks_like_credential

HIDDEN = "(hidden: looks like a credential)"
"""What a credential-looking value reads as in a run's files."""


def credential_values(values: Any) -> list[str]:
    """The credential-looking string values anywhere in ``values`` (a params file's keys, nested
    mappings and lists), longest first, so a URL is hidden before a password inside it."""
    return sorted(set(_credentials(values)), key=len, reverse=True)


def _credentials(values: Any) -> Iterator[str]:
    if isinstance(values, Mapping):
        for key, value in values.items():
            if isinstance(value, str) and looks_like_credential(str(key), value):
                yield value
            else:
                yield from _credentials(value)
    elif isinstance(values, list | tuple):
        for value in values:
            yield from _credentials(value)


def redact(document: Any, secrets: list[str]) -> Any:
    """``document`` (parsed JSON: a notebook, a results document, or a string) with every string's
    occurrences of ``secrets`` replaced by :data:`HIDDEN`; mapping keys are kept."""
    if isinstance(document, str):
        for secret in secrets:
            document = document.replace(secret, HIDDEN)
        return document
    if isinstance(document, Mapping):
        return {key: redact(value, secrets) for key, value in document.items()}
    if isinstance(document, list):
        return [redact(value, secrets) for value in document]
    return document
