"""Shared fixtures: the real services (PostgreSQL, Mosquitto) and the real data in ../shared/data.

A test that needs a service fails loudly when the service is missing (``scripts/services``
starts them); nothing skips silently.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _find_shared_data() -> Path:
    """Real inputs written by others: $XJ_SHARED_DATA, else ../shared/data beside the checkout,
    else /work/shared/data (where a clean CI clone elsewhere still finds them)."""
    env = os.environ.get("XJ_SHARED_DATA")
    if env:
        return Path(env)
    for cand in (ROOT.parent / "shared" / "data", Path("/work/shared/data")):
        if cand.is_dir():
            return cand
    return ROOT.parent / "shared" / "data"


SHARED_DATA = _find_shared_data()
# what the code under test resolves as {shared_data} (scenario files, CLIs run as subprocesses)
# is the data the fixtures found, wherever the clone stands
os.environ.setdefault("XJ_SHARED_DATA", str(SHARED_DATA))
PASUBIO = SHARED_DATA / "sumo" / "bologna-pasubio"
V2X_SAMPLES = SHARED_DATA / "v2x-samples"

PG_HOST = os.environ.get("XJ_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("XJ_TEST_PG_PORT", "5432"))
MQTT_HOST = os.environ.get("XJ_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("XJ_TEST_MQTT_PORT", "1883"))


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real inputs; fails when it is missing."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data missing: {SHARED_DATA} (set XJ_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pasubio(shared_data: Path) -> Path:
    """The Bologna Pasubio SUMO scenario folder."""
    return shared_data / "sumo" / "bologna-pasubio"


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """URL of the real PostgreSQL server's ``postgres`` database; fails when it is not listening."""
    if not _listening(PG_HOST, PG_PORT):
        pytest.fail(
            f"PostgreSQL is not listening on {PG_HOST}:{PG_PORT}; start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or scripts/services"
        )
    return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"


@pytest.fixture
def pg_url(pg_admin_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database on the real server for one test, dropped afterwards."""
    import psycopg

    name = "xjt_" + re.sub(r"[^a-z0-9]", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def mqtt_broker() -> tuple[str, int]:
    """(host, port) of the real Mosquitto broker; fails when it is not listening."""
    if not _listening(MQTT_HOST, MQTT_PORT):
        pytest.fail(
            f"Mosquitto is not listening on {MQTT_HOST}:{MQTT_PORT}; start it with "
            "`mosquitto -d -c /etc/mosquitto/mosquitto.conf` or scripts/services"
        )
    return MQTT_HOST, MQTT_PORT


@pytest.fixture
def uid(request: pytest.FixtureRequest) -> str:
    """A short id unique to this test run, derived from the test name, for device ids and topics."""
    base = re.sub(r"[^a-zA-Z0-9]", "-", request.node.name)[:24].strip("-")
    return f"{base}-{uuid.uuid4().hex[:6]}"
