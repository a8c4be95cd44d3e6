"""Generated networks for experiments and tests: an N x M signalised grid and an arterial corridor.

Both are two-way roads with signalised junctions running a two-stage program (through and right
protected, left permissive, then amber and all-red), open-ended fringe roads for traffic to enter
and leave, e1 detectors 30 m before every signalised stop line, bus stops and roadside parking.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from roadnet import classes
from roadnet.builder import LaneSpec, NetworkBuilder
from roadnet.frames import DEFAULT_ORIGIN
from roadnet.model import RoadNetwork


@dataclass(frozen=True)
class Timing:
    """Two-stage signal timing, seconds: greens (duration, min, max) of stage A and B, amber, all-red."""

    green_a: tuple[float, float, float] = (30.0, 8.0, 60.0)
    green_b: tuple[float, float, float] = (30.0, 8.0, 60.0)
    amber: float = 3.0
    all_red: float = 2.0


def _wire_junction(
    b: NetworkBuilder,
    jid: str,
    incoming: list[str],
    outgoing: list[str],
    stage_of: Callable[[str], int],
    timing: Timing,
    lanes_of: Callable[[str], int],
    bus_lane: Callable[[str], bool],
) -> None:
    """Movements, links and a two-stage program for one signalised junction."""
    link = 0
    stage: list[int] = []
    dirs: list[str] = []
    for ein in incoming:
        k_in = lanes_of(ein)
        rev = "-".join(reversed(ein.split("-")))
        for eout in outgoing:
            if eout == rev:
                continue
            k_out = lanes_of(eout)
            d = b.direction(ein, eout)
            first_general = 1 if bus_lane(ein) else 0
            if d == "s":
                pairs = [(i, i) for i in range(min(k_in, k_out))]
            elif d == "r":
                # right turns from the first general lane into the first general lane
                pairs = [(min(first_general, k_in - 1), 1 if bus_lane(eout) and k_out > 1 else 0)]
            else:
                pairs = [(k_in - 1, k_out - 1)]
            for fi, ti in pairs:
                b.add_connection(ein, fi, eout, ti, direction=d, tls=jid, link=link)
                stage.append(stage_of(ein))
                dirs.append(d)
                link += 1
    b.add_tls(jid, [jid])

    def state(st: int, amber: bool) -> str:
        chars = []
        for s_, d in zip(stage, dirs, strict=True):
            if s_ != st:
                chars.append("r")
            elif amber:
                chars.append("y")
            else:
                chars.append("G" if d in ("s", "r") else "g")
        return "".join(chars)

    red = "r" * link
    ga, gb = timing.green_a, timing.green_b
    b.add_program(
        jid,
        "0",
        [
            (ga[0], state(0, False), ga[1], ga[2]),
            (timing.amber, state(0, True)),
            (timing.all_red, red),
            (gb[0], state(1, False), gb[1], gb[2]),
            (timing.amber, state(1, True)),
            (timing.all_red, red),
        ],
        kind="actuated",
    )


def _detectors(b: NetworkBuilder, net_edges: Sequence[str], lanes_of: Callable[[str], int]) -> None:
    """e1 detectors 30 m before the stop line of every lane of ``net_edges``."""
    for e in net_edges:
        for i in range(lanes_of(e)):
            b.add_detector(f"det_{e}_{i}", f"{e}_{i}", -30.0)


def grid(
    nx: int = 3,
    ny: int = 3,
    *,
    spacing: float = 200.0,
    lanes: int = 2,
    speed: float = 13.89,
    timing: Timing | None = None,
    bus_stops: bool = True,
    parking: bool = True,
    origin: tuple[float, float] = DEFAULT_ORIGIN,
) -> RoadNetwork:
    """An ``nx`` x ``ny`` grid of signalised junctions ``J{i}_{j}`` at (i, j) * spacing metres.

    Fringe dead ends ``W{j}``, ``E{j}``, ``S{i}``, ``N{i}`` one spacing outside the grid; edges
    ``{from}-{to}`` in both directions with ``lanes`` lanes each. East-west roads run stage 0,
    north-south roads stage 1. Bus stops on east-west blocks (lane 0, 30-50% of the block),
    parking on north-south blocks (lane 0, 55-85%, one space per 6 m).
    """
    if nx < 1 or ny < 1:
        raise ValueError("grid needs nx >= 1 and ny >= 1")
    timing = timing or Timing()
    b = NetworkBuilder(origin=origin, source=f"grid {nx}x{ny}")
    L = spacing
    for i in range(nx):
        for j in range(ny):
            b.add_junction(f"J{i}_{j}", i * L, j * L, "traffic_light")
    for j in range(ny):
        b.add_junction(f"W{j}", -L, j * L, "dead_end")
        b.add_junction(f"E{j}", nx * L, j * L, "dead_end")
    for i in range(nx):
        b.add_junction(f"S{i}", i * L, -L, "dead_end")
        b.add_junction(f"N{i}", i * L, ny * L, "dead_end")

    def node(i: int, j: int) -> str:
        if i < 0:
            return f"W{j}"
        if i >= nx:
            return f"E{j}"
        if j < 0:
            return f"S{i}"
        if j >= ny:
            return f"N{i}"
        return f"J{i}_{j}"

    edges: list[str] = []
    for j in range(ny):
        for i in range(-1, nx):
            a, c = node(i, j), node(i + 1, j)
            edges += [
                b.add_edge(f"{a}-{c}", a, c, lanes, speed=speed, priority=2),
                b.add_edge(f"{c}-{a}", c, a, lanes, speed=speed, priority=2),
            ]
    for i in range(nx):
        for j in range(-1, ny):
            a, c = node(i, j), node(i, j + 1)
            edges += [
                b.add_edge(f"{a}-{c}", a, c, lanes, speed=speed, priority=1),
                b.add_edge(f"{c}-{a}", c, a, lanes, speed=speed, priority=1),
            ]

    def stage(e: str) -> int:
        f, t = e.split("-")
        return 0 if b.junction_xy(f)[1] == b.junction_xy(t)[1] else 1

    for i in range(nx):
        for j in range(ny):
            jid = f"J{i}_{j}"
            inc = [e for e in edges if e.endswith(f"-{jid}")]
            out = [e for e in edges if e.startswith(f"{jid}-")]
            _wire_junction(b, jid, inc, out, stage, timing, lambda e: lanes, lambda e: False)
    into_tl = [e for e in edges if e.split("-")[1].startswith("J")]
    _detectors(b, into_tl, lambda e: lanes)
    geo_len = L - 2 * (lanes * 3.2 * 2 + 1.5)
    for e in edges:
        f, t = e.split("-")
        if not (f.startswith("J") and t.startswith("J")):
            continue
        if stage(e) == 0 and bus_stops:
            b.add_bus_stop(f"bs_{e}", f"{e}_0", 0.3 * geo_len, 0.3 * geo_len + 20.0, name=f"Stop {e}")
        if stage(e) == 1 and parking:
            s0, s1 = 0.55 * geo_len, 0.85 * geo_len
            b.add_parking(f"pk_{e}", f"{e}_0", s0, s1, int((s1 - s0) // 6), name=f"Curb {e}")
    return b.build()


def corridor(
    n: int = 5,
    *,
    spacings: Sequence[float] | None = None,
    main_lanes: int = 2,
    bus_lane: bool = True,
    side_lanes: int = 1,
    side_length: float = 150.0,
    speed: float = 13.89,
    side_speed: float = 11.11,
    timing: Timing | None = None,
    origin: tuple[float, float] = DEFAULT_ORIGIN,
) -> RoadNetwork:
    """An east-west arterial through ``n`` signalised junctions ``C0..C{n-1}`` with side streets.

    The arterial has ``main_lanes`` general lanes per direction plus, with ``bus_lane``, a
    bus-only lane 0 (buses and emergency vehicles). Junction spacings default to a realistic
    uneven 250-400 m pattern. Stage 0 is the arterial (long green), stage 1 the side streets.
    Bus stops mid-block on both directions' bus lane (or lane 0); roadside parking on side streets.
    """
    if n < 1:
        raise ValueError("corridor needs n >= 1")
    timing = timing or Timing(green_a=(40.0, 10.0, 70.0), green_b=(20.0, 6.0, 40.0))
    pattern = [300.0, 250.0, 400.0, 350.0, 280.0, 320.0]
    sp = list(spacings) if spacings is not None else [pattern[i % len(pattern)] for i in range(n - 1)]
    if len(sp) != n - 1:
        raise ValueError(f"corridor with {n} junctions needs {n - 1} spacings, got {len(sp)}")
    xs = np.concatenate([[0.0], np.cumsum(sp)]) if n > 1 else np.array([0.0])
    b = NetworkBuilder(origin=origin, source=f"corridor {n}")
    b.add_junction("CW", -250.0, 0.0, "dead_end")
    b.add_junction("CE", float(xs[-1]) + 250.0, 0.0, "dead_end")
    for i, x in enumerate(xs):
        b.add_junction(f"C{i}", float(x), 0.0, "traffic_light")
        b.add_junction(f"CN{i}", float(x), side_length, "dead_end")
        b.add_junction(f"CS{i}", float(x), -side_length, "dead_end")
    main_specs = ([LaneSpec(allow=classes.BUS_LANE)] if bus_lane else []) + [LaneSpec() for _ in range(main_lanes)]
    chain = ["CW"] + [f"C{i}" for i in range(n)] + ["CE"]
    main: list[str] = []
    for a, c in itertools.pairwise(chain):
        main.append(b.add_edge(f"{a}-{c}", a, c, list(main_specs), speed=speed, priority=3, name="Arterial"))
        main.append(b.add_edge(f"{c}-{a}", c, a, list(main_specs), speed=speed, priority=3, name="Arterial"))
    side: list[str] = []
    for i in range(n):
        for s in (f"CN{i}", f"CS{i}"):
            side.append(b.add_edge(f"{s}-C{i}", s, f"C{i}", side_lanes, speed=side_speed, priority=1))
            side.append(b.add_edge(f"C{i}-{s}", f"C{i}", s, side_lanes, speed=side_speed, priority=1))
    k_main = len(main_specs)

    def lanes_of(e: str) -> int:
        return k_main if e in main else side_lanes

    def is_bus(e: str) -> bool:
        return bus_lane and e in main

    for i in range(n):
        jid = f"C{i}"
        inc = [e for e in main + side if e.endswith(f"-{jid}")]
        out = [e for e in main + side if e.startswith(f"{jid}-")]
        _wire_junction(b, jid, inc, out, lambda e: 0 if e in main else 1, timing, lanes_of, is_bus)
    w_main = k_main * 3.2 * 2 + 1.5
    _detectors(b, [e for e in main if e.split("-")[1][1:].isdigit()], lanes_of)
    _detectors(b, [e for e in side if e.split("-")[1][1:].isdigit()], lanes_of)
    for e in main:
        f, t = e.split("-")
        length = abs(b.junction_xy(t)[0] - b.junction_xy(f)[0]) - 2 * w_main
        if f[1:].isdigit() and t[1:].isdigit():
            b.add_bus_stop(f"bs_{e}", f"{e}_0", 0.45 * length, 0.45 * length + 25.0, name=f"Stop {e}", lines="B1")
    for e in side:
        f, t = e.split("-")
        length = side_length - w_main
        if not t[1:].isdigit():
            b.add_parking(f"pk_{e}", f"{e}_0", 0.3 * length, 0.8 * length, int(0.5 * length // 6), name=f"Curb {e}")
    return b.build()
