"""Shared fixtures: one real sandbox server per test session, on a free loopback port."""

from __future__ import annotations

import pytest

from dualalb_kit.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox():
    """A running sandbox (moto's server on 127.0.0.1) shared by the whole session."""
    with Sandbox() as running:
        yield running
