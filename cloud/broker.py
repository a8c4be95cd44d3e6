"""A broker for ``xj demo``: one already on localhost, else a private Mosquitto when the binary is
installed, else amqtt embedded in this process (MQTT 3.1.1, ~1,500 msg/s: plenty for a demo,
not for production: deploy Mosquitto with ``deploy/mosquitto``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiomqtt

LOG = logging.getLogger("xiangjiang.cloud.broker")

Protocol = Literal["5", "3.1.1"]


@dataclass(frozen=True)
class BrokerInfo:
    """Where the demo's broker listens and what it is."""

    host: str
    port: int
    protocol: Protocol
    kind: Literal["existing", "mosquitto", "amqtt"]
    #: the private Mosquitto's process (kind "mosquitto"), e.g. for outage tests
    process: subprocess.Popen[bytes] | None = field(default=None, compare=False, repr=False)

    @property
    def url(self) -> str:
        """``mqtt://host:port``."""
        return f"mqtt://{self.host}:{self.port}"


def listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


async def probe_protocol(host: str, port: int) -> Protocol | None:
    """The newest MQTT version the broker on ``host:port`` accepts, None when it is no broker."""
    for proto, name in ((aiomqtt.ProtocolVersion.V5, "5"), (aiomqtt.ProtocolVersion.V311, "3.1.1")):
        try:
            async with aiomqtt.Client(host, port, protocol=proto, timeout=3.0):
                return name  # type: ignore[return-value]
        except aiomqtt.MqttError:
            continue
    return None


async def _wait_listening(host: str, port: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not listening(host, port):
        if loop.time() > end:
            raise RuntimeError(f"the broker did not listen on {host}:{port} within {timeout:g} s")
        await asyncio.sleep(0.1)


MOSQUITTO_CONF = """# xj demo: a private, anonymous broker on loopback only (production: deploy/mosquitto)
listener {port} {host}
allow_anonymous true
set_tcp_nodelay true
max_queued_messages 100000
persistence false
log_dest stderr
log_type error
"""


def mosquitto_exe() -> str | None:
    """The Mosquitto binary, or None when it is not installed."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    return exe if Path(exe).exists() else None


@contextlib.contextmanager
def mosquitto_process(exe: str, host: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Mosquitto ``exe`` with :data:`MOSQUITTO_CONF` on ``host:port``, started (the caller waits
    until it listens) and stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="xj-mosquitto-") as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(MOSQUITTO_CONF.format(port=port, host=host))
        proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()


@contextlib.asynccontextmanager
async def demo_broker(port: int, host: str = "127.0.0.1", *, prefer: str = "auto") -> AsyncIterator[BrokerInfo]:
    """Use the broker on ``host:port`` or start one there for the life of the context.

    Parameters
    ----------
    port
        TCP port.
    host
        Loopback address to bind.
    prefer
        ``auto`` (Mosquitto when installed, else amqtt), ``mosquitto`` or ``amqtt``.
    """
    if listening(host, port):
        proto = await probe_protocol(host, port)
        if proto is None:
            raise RuntimeError(f"{host}:{port} is taken by something that is not an MQTT broker: choose --mqtt-port")
        yield BrokerInfo(host, port, proto, "existing")
        return
    exe = mosquitto_exe()
    if exe and prefer in ("auto", "mosquitto"):
        with mosquitto_process(exe, host, port) as proc:
            await _wait_listening(host, port, 10.0)
            yield BrokerInfo(host, port, "5", "mosquitto", proc)
        return
    async with _amqtt(host, port) as info:
        yield info


@contextlib.asynccontextmanager
async def _amqtt(host: str, port: int) -> AsyncIterator[BrokerInfo]:
    logging.getLogger("amqtt").setLevel(logging.ERROR)
    logging.getLogger("transitions").setLevel(logging.ERROR)
    from amqtt.broker import Broker

    config: dict[str, Any] = {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}", "max_connections": 500}},
        "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
        "topic-check": {"enabled": False},
    }
    broker = Broker(config)
    await broker.start()
    try:
        await _wait_listening(host, port, 10.0)
        yield BrokerInfo(host, port, "3.1.1", "amqtt")
    finally:
        with contextlib.suppress(Exception):
            await broker.shutdown()
