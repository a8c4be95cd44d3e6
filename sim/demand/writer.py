"""Write a :class:`Demand` as a SUMO route file, so ``sumo`` runs exactly the same vehicles."""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from roadnet.model import RoadNetwork
from sim.demand.model import LANE_CODES, POS_CODES, SPEED_CODES, Demand, code_names
from sim.demand.vtypes import PARAMS

_SUMO_ATTR = {
    "accel": "accel",
    "decel": "decel",
    "emergency_decel": "emergencyDecel",
    "length": "length",
    "width": "width",
    "min_gap": "minGap",
    "tau": "tau",
    "max_speed": "maxSpeed",
    "sigma": "sigma",
    "speed_dev": "speedDev",
}
_LANE = code_names(LANE_CODES)
_POS = code_names(POS_CODES)
_SPEED = code_names(SPEED_CODES)


def write_routes(demand: Demand, net: RoadNetwork, path: str | Path) -> Path:
    """Write the demand's types and vehicles (explicit routes, stops, speed factors) to ``path``."""
    p = Path(path)
    vt = demand.vtypes
    used = np.unique(demand.vtype)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<routes>"]
    for t in used.tolist():
        attrs = " ".join(f'{_SUMO_ATTR[k]}="{vt.params[t, PARAMS.index(k)]:g}"' for k in PARAMS if k in _SUMO_ATTR)
        lines.append(f"    <vType id={quoteattr(vt.ids[t])} vClass={quoteattr(vt.vclass[t])} {attrs}/>")
    for i in range(len(demand)):
        dl = int(demand.depart_lane[i])
        dpk = int(demand.depart_pos_kind[i])
        dsk = int(demand.depart_speed_kind[i])
        a = [
            f"id={quoteattr(str(demand.ids[i]))}",
            f"type={quoteattr(vt.ids[int(demand.vtype[i])])}",
            f'depart="{demand.depart[i]:.2f}"',
            f'departLane="{_LANE.get(dl, str(dl))}"',
            f'departPos="{_POS.get(dpk, f"{demand.depart_pos[i]:g}")}"',
            f'departSpeed="{_SPEED.get(dsk, f"{demand.depart_speed[i]:g}")}"',
            f'speedFactor="{demand.speed_factor[i]:.4f}"',
        ]
        if not math.isnan(demand.arrival_pos[i]):
            a.append(f'arrivalPos="{demand.arrival_pos[i]:g}"')
        if demand.line[i]:
            a.append(f"line={quoteattr(str(demand.line[i]))}")
        edges = " ".join(net.edge_ids[e] for e in demand.route(i).tolist())
        lines.append(f"    <vehicle {' '.join(a)}>")
        lines.append(f"        <route edges={quoteattr(edges)}/>")
        for q in range(int(demand.stop_offsets[i]), int(demand.stop_offsets[i + 1])):
            until = "" if math.isnan(demand.stop_until[q]) else f' until="{demand.stop_until[q]:.1f}"'
            dur = f'duration="{demand.stop_duration[q]:g}"'
            if demand.stop_bus[q] >= 0:
                where = f"busStop={quoteattr(net.stop_ids[int(demand.stop_bus[q])])}"
            elif demand.stop_parking[q] >= 0:
                where = f"parkingArea={quoteattr(net.parking_ids[int(demand.stop_parking[q])])}"
            else:
                where = f'lane={quoteattr(net.lane_ids[int(demand.stop_lane[q])])} endPos="{demand.stop_pos[q]:g}"'
            lines.append(f"        <stop {where} {dur}{until}/>")
        lines.append("    </vehicle>")
    lines.append("</routes>")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + "\n")
    return p
