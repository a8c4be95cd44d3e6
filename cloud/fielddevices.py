"""The stand-in city's field devices on MQTT, in real time: one RSU per signalised junction
(perception of vehicles within its range), the connected fleet's BSMs (one columnar batch per
tick from ``sim-fleet``), and every signal controller's SPaT; controllers obey the commands the
platform sends down.

Used by ``xj demo`` and ``POST /api/v1/sim`` while ``sim``'s real-time runner has not landed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiomqtt
import numpy as np

from cloud.citysim import CityModel
from proto import PERCEPTION_DTYPE, array_to_bsm_batch, array_to_perception, envelope, pb, subscription, topic
from proto.codec import BSM_DTYPE
from roadnet.model import RoadNetwork

LOG = logging.getLogger("xiangjiang.cloud.fielddevices")
FLEET = "sim-fleet"


@dataclass(frozen=True)
class Seen:
    """What roadside sensors see of a :class:`CityModel` at one instant, all (N,).

    ``xy`` true local positions (N, 2) m; ``lat``, ``lon`` measured positions (with noise),
    degrees; ``compass`` headings, radians clockwise from north; ``ids`` numeric vehicle ids.
    """

    xy: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    compass: np.ndarray
    ids: np.ndarray


def seen(model: CityModel, rng: np.random.Generator, noise_m: float = 0.3) -> Seen:
    """The model's vehicles as sensors measure them (Gaussian position noise ``noise_m``)."""
    x, y, heading = model.positions()
    lat, lon = model.net.frame.to_wgs84(x + rng.normal(0.0, noise_m, len(x)), y + rng.normal(0.0, noise_m, len(y)))
    ids = np.array([int(s.rsplit("-", 1)[1]) for s in model.veh["vid"].tolist()], np.uint32)
    return Seen(np.stack([x, y], axis=1), lat, lon, model.net.frame.math_to_compass(heading), ids)


def perception_payload(sensor_id: str, seq: int, now_ns: int, model: CityModel, s: Seen, near: np.ndarray) -> bytes:
    """An enveloped perception frame of the vehicles ``near`` (indices into the model's vehicles)."""
    v = model.veh
    rows = np.zeros(len(near), PERCEPTION_DTYPE)
    rows["local_id"] = s.ids[near]
    rows["lat"], rows["lon"] = s.lat[near], s.lon[near]
    rows["speed"], rows["heading"] = v["v"][near], s.compass[near]
    rows["length"], rows["width"] = v["length"][near], 1.9
    rows["cls"], rows["confidence"] = v["cls"][near], 0.9
    rows["cov_ee"], rows["cov_en"], rows["cov_nn"] = 0.09, 0.0, 0.09
    env = envelope(sensor_id, seq, now_ns, perception=array_to_perception(rows, sensor_id, now_ns))
    return env.SerializeToString()


class FieldDevices:
    """Runs a :class:`CityModel` in real time and publishes what its devices would.

    Parameters
    ----------
    net
        The road network.
    host, port, protocol
        The broker.
    rsu_range_m
        Perception range of each RSU.
    demand_veh_h
        Vehicles entering per hour.
    seed
        Random seed.
    period_s
        Step and publish period.
    """

    def __init__(
        self,
        net: RoadNetwork,
        *,
        host: str,
        port: int,
        protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V311,
        rsu_range_m: float = 150.0,
        demand_veh_h: float = 2400.0,
        seed: int = 1,
        period_s: float = 0.1,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.net = net
        self.model = CityModel(net, demand_veh_h=demand_veh_h, seed=seed)
        self.host, self.port, self.protocol = host, port, protocol
        self.username, self.password = username, password
        self.period_s = period_s
        self.rsu_range_m = rsu_range_m
        self.rsus = [
            (net.tls_ids[t], net.junction_xy[net.tls_junction_list(t)].mean(axis=0)) for t in range(len(net.tls_ids))
        ]
        self.seq = 0
        self.published = 0
        self.commands = 0
        self.steps = 0
        self.rng = np.random.default_rng(seed + 7)

    def kpis(self) -> dict[str, Any]:
        """Ground-truth KPIs of the simulated city."""
        v = self.model.veh
        return {
            "sim_time_s": round(self.model.t, 1),
            "sim_vehicles": len(v),
            "sim_mean_speed_mps": round(float(v["v"].mean()), 2) if len(v) else 0.0,
            "sim_halted": int(np.count_nonzero(v["v"] < 0.5)),
            "sim_entered": self.model._next_id,
            "sim_commands_applied": self.commands,
        }

    def messages(self, now_ns: int) -> list[tuple[str, bytes]]:
        """The devices' uplinks for the current model state as ``(topic, payload)``."""
        self.seq += 1
        v = self.model.veh
        out: list[tuple[str, bytes]] = []
        if len(v):
            sn = seen(self.model, self.rng)
            for rid, c in self.rsus:
                near = np.flatnonzero(np.hypot(sn.xy[:, 0] - c[0], sn.xy[:, 1] - c[1]) <= self.rsu_range_m)
                payload = perception_payload(rid, self.seq, now_ns, self.model, sn, near)
                out.append((topic("rsu", rid, "perception", "up"), payload))
            conn = np.flatnonzero(v["connected"])
            if len(conn):
                b = np.zeros(len(conn), BSM_DTYPE)
                b["vehicle_id"] = v["vid"][conn]
                b["t_ns"] = now_ns
                tlat, tlon = self.net.frame.to_wgs84(sn.xy[conn, 0], sn.xy[conn, 1])
                b["lat"], b["lon"] = tlat, tlon
                b["speed"], b["heading"] = v["v"][conn], sn.compass[conn]
                b["cls"], b["bus_line"] = v["cls"][conn], v["bus_line"][conn]
                b["length"], b["width"] = v["length"][conn], 1.9
                env = envelope(FLEET, self.seq, now_ns, bsm_batch=array_to_bsm_batch(b))
                out.append((topic("obu", FLEET, "bsm", "up"), env.SerializeToString()))
        for s in self.model.spat(now_ns):
            env = envelope(s.junction_id, self.seq, now_ns, spat=s)
            out.append((topic("tsc", s.junction_id, "spat", "up"), env.SerializeToString()))
        return out

    def _on_command(self, payload: bytes) -> None:
        env = pb.Envelope()
        try:
            env.ParseFromString(payload)
        except Exception:
            return
        if env.WhichOneof("body") == "command":
            self.model.command(env.command)
            self.commands += 1

    async def run(self, duration_s: float | None = None) -> None:
        """Step and publish every period until cancelled (or for ``duration_s`` seconds)."""
        loop = asyncio.get_running_loop()
        end = None if duration_s is None else loop.time() + duration_s
        async with aiomqtt.Client(
            self.host, self.port, protocol=self.protocol, username=self.username, password=self.password, timeout=5.0
        ) as client:
            await client.subscribe(subscription("tsc", "command", "down"))
            reader = asyncio.create_task(self._read(client))
            try:
                due = loop.time()
                while end is None or loop.time() < end:
                    due += self.period_s
                    await asyncio.sleep(max(0.0, due - loop.time()))
                    self.model.step(self.period_s)
                    self.steps += 1
                    for t, payload in self.messages(time.time_ns()):
                        await client.publish(t, payload, qos=0)
                        self.published += 1
            finally:
                reader.cancel()

    async def _read(self, client: aiomqtt.Client) -> None:
        async for msg in client.messages:
            if isinstance(msg.payload, bytes):
                self._on_command(msg.payload)
