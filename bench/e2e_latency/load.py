"""Synthetic field devices at design load: RSUs publishing perception frames of the vehicles
nearest to them, and connected vehicles publishing single BSMs, all at 10 Hz, through paho
(threaded: the Python client with the lowest cost per message, see MEASURED.md).

Vehicles come from the stand-in city model (:class:`cloud.citysim.CityModel`) on the same map
the platform serves, so tracks, lanes and signals line up.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from cloud.citysim import CityModel
from cloud.fielddevices import Seen, perception_payload, seen
from proto import envelope, pb, topic, units
from roadnet.model import RoadNetwork


@dataclass
class LoadCounts:
    """What the generator published."""

    frames: int = 0
    bsms: int = 0
    spats: int = 0
    detections: int = 0
    errors: int = 0

    @property
    def messages(self) -> int:
        """Frames, BSMs and SPaT."""
        return self.frames + self.bsms + self.spats


def _client(
    host: str, port: int, name: str, protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv311
) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=protocol)
    c.max_queued_messages_set(0)
    c.connect(host, port, keepalive=30)
    sock = c.socket()
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


class DesignLoad:
    """RSU frames and BSMs at a fixed rate until stopped.

    Parameters
    ----------
    net
        The map the platform serves.
    host, port
        The broker.
    rsus
        Number of RSUs (two per signalised junction, then spread over the junctions again).
    objects
        Detections per frame (the vehicles nearest to the RSU).
    obus
        Most connected vehicles sending BSMs (10 Hz each); every signal controller sends SPaT at 10 Hz.
    period_s
        Frame period of each RSU and BSM period of each vehicle.
    prefix
        Device id prefix (keeps runs apart on a shared broker).
    seed
        Random seed.
    """

    def __init__(
        self,
        net: RoadNetwork,
        *,
        host: str,
        port: int,
        rsus: int = 50,
        objects: int = 20,
        obus: int = 100,
        period_s: float = 0.1,
        prefix: str = "e2e",
        seed: int = 3,
    ) -> None:
        self.net = net
        self.model = CityModel(net, demand_veh_h=14000.0, seed=seed)
        self.host, self.port = host, port
        self.period_s = period_s
        self.objects = objects
        self.obus = obus
        self.prefix = prefix
        c = net.junction_xy[[net.tls_junction_list(t)[0] for t in range(len(net.tls_ids))]]
        offsets = np.array([[-40.0, 0.0], [0.0, -40.0], [40.0, 0.0], [0.0, 40.0]])
        self.rsu_xy = np.array([c[i % len(c)] + offsets[(i // len(c)) % 4] for i in range(rsus)])
        self.rsu_ids = [f"{prefix}-rsu{i}" for i in range(rsus)]
        self.counts = LoadCounts()
        self.rng = np.random.default_rng(seed)
        self._stop = threading.Event()
        self._seq: dict[str, int] = {}
        self._now: _Period | None = None

    def warm(self, seconds: float = 240.0) -> int:
        """Fill the city by simulating ``seconds`` ahead (fast); returns the vehicles on the map."""
        for _ in range(int(seconds / self.period_s)):
            self.model.step(self.period_s)
        return len(self.model.veh)

    def _next(self, sender: str) -> int:
        s = self._seq.get(sender, 0) + 1
        self._seq[sender] = s
        return s

    def run(self, seconds: float) -> LoadCounts:
        """Publish for ``seconds`` (blocking; :meth:`stop` ends early).

        The client's network I/O runs in this thread, right after each sub-tick's messages (no
        paho network thread): a second thread would wait for the GIL while frames are built,
        and messages stamped at publish would leave late.
        """
        client = _client(self.host, self.port, f"{self.prefix}-load")
        try:
            self._loop(client, seconds)
        finally:
            client.disconnect()
            client.loop(timeout=0.1)
        return self.counts

    @staticmethod
    def _flush(client: mqtt.Client) -> None:
        """Write what is queued (and read acks, pings) without blocking."""
        client.loop(timeout=0.0)
        for _ in range(100):
            if not client.want_write():
                break
            client.loop_write()

    def stop(self) -> None:
        """Ask :meth:`run` to finish."""
        self._stop.set()

    def _loop(self, client: mqtt.Client, seconds: float) -> None:
        slots = 10  # sub-ticks per period: devices are spread over the period, as in the field
        t_end = time.perf_counter() + seconds
        due = time.perf_counter()
        tick = 0
        while time.perf_counter() < t_end and not self._stop.is_set():
            self.publish_slot(client, tick, slots)
            self._flush(client)
            tick += 1
            due += self.period_s / slots
            time.sleep(max(0.0, due - time.perf_counter()))

    def publish_slot(self, client: mqtt.Client, tick: int, slots: int = 10) -> None:
        """Publish sub-tick ``tick`` of ``slots`` per period: the model steps at the first sub-tick
        of each period; RSUs, vehicles and controllers take turns by index modulo ``slots``."""
        if tick % slots == 0 or self._now is None:
            self.model.step(self.period_s)
            self._now = _Period.of(self, time.time_ns())
        p = self._now
        v, xy = p.veh, p.seen.xy
        slot = tick % slots
        now = time.time_ns()
        for r in range(slot, len(self.rsu_ids), slots):
            if len(xy) == 0:
                break
            d = np.hypot(xy[:, 0] - self.rsu_xy[r, 0], xy[:, 1] - self.rsu_xy[r, 1])
            near = np.argsort(d)[: self.objects]
            sid = self.rsu_ids[r]
            payload = perception_payload(sid, self._next(sid), now, self.model, p.seen, near)
            info = client.publish(topic("rsu", sid, "perception", "up"), payload, qos=0)
            self.counts.errors += info.rc != mqtt.MQTT_ERR_SUCCESS
            self.counts.frames += 1
            self.counts.detections += len(near)
        lat, lon, compass = p.seen.lat, p.seen.lon, p.seen.compass
        for k in p.connected[slot::slots].tolist():
            vid = f"{self.prefix}-{v['vid'][k]}"
            b = pb.Bsm(
                vehicle_id=vid,
                measured_ns=now,
                lat_e7=int(units.deg_to_e7(lat[k])),
                lon_e7=int(units.deg_to_e7(lon[k])),
                speed_002=int(units.speed_to_002(v["v"][k])),
                heading_00125=int(units.compass_to_00125(compass[k])),
                object_class=int(v["cls"][k]),  # type: ignore[arg-type]
                length_cm=int(units.m_to_cm(v["length"][k])),
                width_cm=190,
                bus_line=str(v["bus_line"][k]),
            )
            env = envelope(vid, self._next(vid), now, bsm=b)
            info = client.publish(topic("obu", vid, "bsm", "up"), env.SerializeToString(), qos=0)
            self.counts.errors += info.rc != mqtt.MQTT_ERR_SUCCESS
            self.counts.bsms += 1
        for sp in p.spats[slot::slots]:
            env = envelope(sp.junction_id, self._next(sp.junction_id), now, spat=sp)
            info = client.publish(topic("tsc", sp.junction_id, "spat", "up"), env.SerializeToString(), qos=0)
            self.counts.errors += info.rc != mqtt.MQTT_ERR_SUCCESS
            self.counts.spats += 1


@dataclass
class _Period:
    """What the devices see in one period: the vehicles, what sensors measure, who sends BSMs, SPaT."""

    veh: np.ndarray
    seen: Seen
    connected: np.ndarray
    spats: list[pb.Spat]

    @classmethod
    def of(cls, load: DesignLoad, now_ns: int) -> _Period:
        v = load.model.veh
        return cls(v, seen(load.model, load.rng), np.flatnonzero(v["connected"])[: load.obus], load.model.spat(now_ns))
