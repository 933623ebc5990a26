"""MkDocs hook: the docstrings' Sphinx roles (``:func:`fit_capacity```) as cross-references.

The kit's docstrings name other objects with Sphinx's roles, which mkdocstrings renders as the
role's name before a code span. This hook replaces each with an optional mkdocs-autorefs
reference: a link where the name is a full path the API reference documents
(``:func:`~dualalb_kit.capacity.fit_capacity```), else the code alone. As in Sphinx, a ``~`` shows
only the name's last part.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:py:)?(?:attr|class|const|data|exc|func|meth|mod|obj):<code>(~?)([^<]+)</code>")


def cross_reference(match: re.Match) -> str:
    """One role's replacement: an optional reference to its name, titled as Sphinx would show it."""
    short, name = match[1], match[2]
    title = name.rsplit(".", 1)[-1] if short else name
    return f'<autoref identifier="{name}" optional><code>{title}</code></autoref>'


def on_page_content(html: str, **_) -> str:
    """MkDocs' hook: every page's roles become references (mkdocs-autorefs resolves them later)."""
    return ROLE.sub(cross_reference, html)
