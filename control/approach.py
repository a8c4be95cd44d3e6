"""Signalised approaches: which controller and link a vehicle on a lane most likely uses.

Without a vehicle's route the most likely movement from a lane is taken: straight, then left,
then right, then a U-turn (SUMO direction codes ``s``, ``l``/``L``, ``r``/``R``, ``t``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from roadnet import RoadNetwork

I64 = npt.NDArray[np.int64]

_RANK = {"s": 0, "l": 1, "L": 1, "r": 2, "R": 2, "t": 3}


@dataclass(frozen=True)
class Approaches:
    """Per lane (L,): the controller (-1 none), its link and signal group of the lane's main movement."""

    lane_tls: I64
    lane_link: I64
    lane_group: I64

    @classmethod
    def build(cls, net: RoadNetwork) -> Approaches:
        """From the map's connections (only normal lanes entering a signalised junction)."""
        n = len(net.lane_ids)
        tls = np.full(n, -1, dtype=np.int64)
        link = np.full(n, -1, dtype=np.int64)
        group = np.full(n, -1, dtype=np.int64)
        best = np.full(n, 99, dtype=np.int64)
        internal = net.lane_internal
        for c in np.flatnonzero((net.conn_tls >= 0) & (net.conn_link >= 0)).tolist():
            lane = int(net.conn_from_lane[c])
            if internal[lane]:
                continue
            r = _RANK.get(net.conn_dir[c], 4)
            if r < best[lane]:
                t, k = int(net.conn_tls[c]), int(net.conn_link[c])
                if k >= int(net.tls_n_links[t]):
                    continue
                best[lane], tls[lane], link[lane] = r, t, k
                group[lane] = int(net.link_group[int(net.tls_link_offsets[t]) + k])
        return cls(tls, link, group)
