"""Fixtures of the ingest tests: the map frame and a private broker built from deploy/mosquitto."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from roadnet.frames import Frame
from tests.ingest.broker import PrivateBroker
from tests.ingest.messages import FRAME

PLATFORM = "xj-platform"


@pytest.fixture
def frame() -> Frame:
    """The local frame around the default origin."""
    return FRAME


@pytest.fixture
def devices(uid: str) -> tuple[str, str]:
    """Two device ids unique to this test."""
    return f"{uid}-a", f"{uid}-b"


@pytest.fixture
def private_broker(tmp_path: Path, devices: tuple[str, str]) -> Iterator[PrivateBroker]:
    """Mosquitto with the shipped config, ACL and hashed passwords for the platform and ``devices``."""
    users = {PLATFORM: secrets.token_urlsafe(12), **{d: secrets.token_urlsafe(12) for d in devices}}
    broker = PrivateBroker(tmp_path, users)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
