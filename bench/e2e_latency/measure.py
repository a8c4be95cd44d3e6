"""The bench's OBU side: one MQTT 5 subscriber to every advisory, timing each against the sender
time of the newest input behind it (the platform's ``xj-basis-ns`` user property)."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties

from proto import pb, subscription


class AdvisoryTimer:
    """Receives ``v2x/v1/obu/+/advisory/down`` and records (receive ns, basis ns, issued ns)."""

    def __init__(self, host: str, port: int, prefix: str) -> None:
        self.prefix = prefix
        self._lock = threading.Lock()
        self.recv: list[int] = []
        self.basis: list[int] = []
        self.issued: list[int] = []
        self.other = 0
        self.c = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{prefix}-obu-timer", protocol=MQTTProtocolVersion.MQTTv5
        )
        self.c.on_message = self._on_message
        self.c.connect(host, port, keepalive=30)
        sock = self.c.socket()
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.c.subscribe(subscription("obu", "advisory", "down"), qos=0)
        self.c.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        now = time.time_ns()
        basis = 0
        props: Properties | None = getattr(msg, "properties", None)
        for k, v in getattr(props, "UserProperty", None) or []:
            if k == "xj-basis-ns":
                basis = int(v)
        try:
            adv = pb.Envelope.FromString(bytes(msg.payload)).advisory
        except Exception:
            return
        if not adv.vehicle_id.startswith(self.prefix):
            with self._lock:
                self.other += 1
            return
        with self._lock:
            self.recv.append(now)
            self.basis.append(basis)
            self.issued.append(adv.issued_ns)

    def window(self, t0_ns: int, t1_ns: int) -> tuple[np.ndarray, np.ndarray]:
        """(sender-to-advisory ms, count) for advisories received in [t0, t1)."""
        with self._lock:
            r = np.asarray(self.recv, np.int64)
            b = np.asarray(self.basis, np.int64)
        sel = (r >= t0_ns) & (r < t1_ns) & (b > 0)
        return (r[sel] - b[sel]) / 1e6, r[(r >= t0_ns) & (r < t1_ns)]

    @property
    def total(self) -> int:
        """Advisories for this run's vehicles received so far."""
        with self._lock:
            return len(self.recv)

    def close(self) -> None:
        """Disconnect."""
        self.c.loop_stop()
        self.c.disconnect()
