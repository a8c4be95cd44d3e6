"""Fixtures of the trust tests: a migrated database on the real server."""

from __future__ import annotations

import pytest

from store.migrate import apply_migrations


@pytest.fixture
def db(pg_url: str) -> str:
    """URL of a fresh database with every migration applied."""
    apply_migrations(pg_url)
    return pg_url
