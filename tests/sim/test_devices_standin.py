"""A tiny stand-in traffic engine for the device and runner tests (not the simulator's engine).

Vehicles drive along one lane each at their desired speed (capped by speed advice, reached with
bounded acceleration) and disappear at the lane's end. It produces TRUTH_DTYPE arrays and
records the link states it was stepped with, so tests can drive the devices without the real
engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from roadnet import RoadNetwork, classes
from roadnet.geometry import point_at
from sim.interface import TRUTH_DTYPE


@dataclass
class Car:
    vehicle_id: str
    lane: int
    s: float
    speed: float
    cls: int = classes.CAR
    connected: bool = True
    bus_line: str = ""


class StandInEngine:
    """Vehicles on single lanes; see the module docstring."""

    ACCEL = 2.0
    DECEL = 3.0

    def __init__(self, net: RoadNetwork, cars: Sequence[Car], *, dt: float = 0.1) -> None:
        self.net = net
        self.dt = dt
        self._t = 0.0
        n = len(cars)
        self.v = np.zeros(n, dtype=TRUTH_DTYPE)
        self.v["vehicle_id"] = [c.vehicle_id for c in cars]
        self.v["lane"] = [c.lane for c in cars]
        self.v["s"] = [c.s for c in cars]
        self.v["speed"] = [c.speed for c in cars]
        self.v["cls"] = [c.cls for c in cars]
        self.v["connected"] = [c.connected for c in cars]
        self.v["bus_line"] = [c.bus_line for c in cars]
        self.v["length"] = np.where(self.v["cls"] == classes.BUS, 12.0, 4.5)
        self.v["width"] = np.where(self.v["cls"] == classes.BUS, 2.5, 1.8)
        self.desired = self.v["speed"].copy()
        self.cap = np.full(n, np.inf)
        self.cap_until = np.zeros(n)
        self.link_states: list[npt.NDArray[np.str_]] = []
        self.routes: dict[str, list[str]] = {}
        self._place()

    @property
    def t(self) -> float:
        return self._t

    def _place(self) -> None:
        for k in range(len(self.v)):
            line = self.net.lane_shape(int(self.v["lane"][k]))
            p, d = point_at(line, float(self.v["s"][k]))
            self.v["x"][k], self.v["y"][k] = p
            self.v["heading"][k] = np.arctan2(d[1], d[0])
        self.v["vx"] = self.v["speed"] * np.cos(self.v["heading"])
        self.v["vy"] = self.v["speed"] * np.sin(self.v["heading"])

    def step(self, link_state: npt.NDArray[np.str_] | None) -> None:
        self.link_states.append(None if link_state is None else link_state.copy())  # type: ignore[arg-type]
        self._t = round(self._t + self.dt, 9)
        self.cap[self.cap_until <= self._t] = np.inf
        target = np.minimum(self.desired, self.cap)
        dv = np.clip(target - self.v["speed"], -self.DECEL * self.dt, self.ACCEL * self.dt)
        self.v["accel"] = dv / self.dt
        self.v["speed"] += dv
        self.v["s"] += self.v["speed"] * self.dt
        keep = self.v["s"] < self.net.lane_length[self.v["lane"]]
        self.v, self.desired = self.v[keep], self.desired[keep]
        self.cap, self.cap_until = self.cap[keep], self.cap_until[keep]
        self._place()

    def truth(self) -> npt.NDArray[np.void]:
        return self.v.copy()

    def speed_of(self, vid: str) -> float:
        return float(self.v["speed"][self.v["vehicle_id"] == vid][0])

    def set_speed_advice(
        self, vehicle_ids: npt.NDArray[np.str_], speed_mps: npt.NDArray[np.float64], until_t: npt.NDArray[np.float64]
    ) -> None:
        for vid, sp, until in zip(vehicle_ids.tolist(), speed_mps.tolist(), until_t.tolist(), strict=True):
            k = np.flatnonzero(self.v["vehicle_id"] == vid)
            self.cap[k] = sp
            self.cap_until[k] = until

    def set_route(self, vehicle_id: str, edge_ids: Sequence[str]) -> bool:
        ok = bool(edge_ids) and all(e in self.net.edge_index_of for e in edge_ids)
        if ok:
            self.routes[vehicle_id] = list(edge_ids)
        return ok

    def parking_occupancy(self) -> npt.NDArray[np.int64]:
        return np.arange(len(self.net.parking_ids), dtype=np.int64) % (self.net.parking_capacity + 1)


def approach_lane(net: RoadNetwork, edge: str, index: int = 0) -> int:
    """Lane index of ``edge``'s lane ``index``."""
    return net.lane_index_of[f"{edge}_{index}"]


def test_standin_produces_truth_rows() -> None:
    from roadnet import grid

    net = grid(1, 1)
    lane = approach_lane(net, "W0-J0_0")
    eng = StandInEngine(net, [Car("a", lane, 10.0, 10.0)])
    eng.step(None)
    tr = eng.truth()
    assert tr.dtype == TRUTH_DTYPE and tr["s"][0] == 11.0
    assert tr["x"][0] < 0.0 and abs(tr["y"][0]) < 10.0  # west approach, heading east
