"""Which lanes each phase of each program serves: one flat table over all controllers.

A *row* is one (program, phase) of any controller. For each row the table holds

* the movements it runs green (connection from-lane -> to-lane), weighted so that a lane with
  several green connections counts once (for pressure);
* the lanes it serves (from-lanes of its drive-green links), each once;
* the lanes that *end* with it: lanes of links green now but not in the next stage (for
  gap-out).

Per-row sums over lanes are then one ``np.bincount`` for every controller at once.

Approach reach: a signalised approach lane is often short (a SUMO edge split before the stop
line), so its own vehicles under-count the queue behind it. :func:`reach_matrix` adds to each
lane the vehicles on the lanes feeding it (upstream) or fed by it (downstream) through
unsignalised connections, up to ``reach_m`` metres, a lane that splits over several successors
counting its share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

from control.plan import ControllerPlan
from roadnet import RoadNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class StageTable:
    """Flat per-row lane tables; see the module docstring. R rows in all."""

    row_of: dict[tuple[int, int], int]  #: (network program, phase) -> row
    row_tls: I64  #: (R,) controller of each row
    mv_row: I64  #: movements: row, from-lane, to-lane, weight
    mv_from: I64
    mv_to: I64
    mv_w: F64
    sv_row: I64  #: served lanes: row, lane
    sv_lane: I64
    sv_share: F64  #: 1 / number of stages of the program serving the lane
    en_row: I64  #: ending lanes: row, lane
    en_lane: I64
    reach_up: csr_matrix | None = None  #: (L, L) upstream reach (:func:`reach_matrix`), None: none
    reach_down: csr_matrix | None = None

    @property
    def n_rows(self) -> int:
        """R."""
        return len(self.row_tls)

    def pressure(self, upstream: F64, downstream: F64) -> F64:
        """(R,) sum over each row's movements of upstream[from] - downstream[to] (lanes once).

        With reach matrices, each lane's value first takes in the lanes within reach.
        """
        if self.reach_up is not None:
            upstream = self.reach_up @ upstream
        if self.reach_down is not None:
            downstream = self.reach_down @ downstream
        w = self.mv_w * (upstream[self.mv_from] - downstream[self.mv_to])
        out: F64 = np.bincount(self.mv_row, weights=w, minlength=self.n_rows).astype(np.float64)
        return out

    def served_sum(self, x: F64) -> F64:
        """(R,) sum of ``x`` (L,) over each row's served lanes."""
        out: F64 = np.bincount(self.sv_row, weights=x[self.sv_lane], minlength=self.n_rows).astype(np.float64)
        return out

    def ending_min(self, x: F64) -> F64:
        """(R,) minimum of ``x`` (L,) over each row's ending lanes (inf when none)."""
        out = np.full(self.n_rows, np.inf)
        np.minimum.at(out, self.en_row, x[self.en_lane])
        return out

    def ending_max(self, x: F64) -> F64:
        """(R,) maximum of ``x`` (L,) over each row's ending lanes (-inf when none)."""
        out = np.full(self.n_rows, -np.inf)
        np.maximum.at(out, self.en_row, x[self.en_lane])
        return out


def build_stage_table(net: RoadNetwork, plans: list[ControllerPlan], *, reach_m: float = 0.0) -> StageTable:
    """The :class:`StageTable` of every program phase of every controller (``reach_m``: approach reach, m)."""
    row_of: dict[tuple[int, int], int] = {}
    row_tls: list[int] = []
    mv: list[tuple[int, int, int, float]] = []
    sv: list[tuple[int, int, float]] = []
    en: list[tuple[int, int]] = []
    for plan in plans:
        t = plan.tls
        cs = np.flatnonzero((net.conn_tls == t) & (net.conn_link >= 0) & (net.conn_link < plan.n_links))
        c_link, c_from, c_to = net.conn_link[cs], net.conn_from_lane[cs], net.conn_to_lane[cs]
        for p, pp in plan.programs.items():
            # how many stages serve each lane (to split a shared lane's demand)
            n_serving: dict[int, int] = {}
            for h in pp.stages.tolist():
                for lane in np.unique(c_from[pp.drive[h][c_link]]).tolist():
                    n_serving[lane] = n_serving.get(lane, 0) + 1
            for h in range(pp.n_phases):
                r = len(row_tls)
                row_of[(p, h)] = r
                row_tls.append(t)
                on = pp.drive[h][c_link]
                f, to = c_from[on], c_to[on]
                if len(f):
                    lanes, counts = np.unique(f, return_counts=True)
                    w = 1.0 / counts[np.searchsorted(lanes, f)]
                    mv.extend(zip([r] * len(f), f.tolist(), to.tolist(), w.tolist(), strict=True))
                    sv.extend((r, int(lane), 1.0 / n_serving.get(int(lane), 1)) for lane in lanes.tolist())
                nxt = pp.next_stage(h)
                ending = pp.drive[h] & ~pp.green[nxt] if nxt != h else pp.drive[h]
                for lane in np.unique(c_from[ending[c_link]]).tolist():
                    en.append((r, int(lane)))
    i64 = np.int64
    return StageTable(
        row_of=row_of,
        row_tls=np.array(row_tls, dtype=i64),
        mv_row=np.array([m[0] for m in mv], dtype=i64),
        mv_from=np.array([m[1] for m in mv], dtype=i64),
        mv_to=np.array([m[2] for m in mv], dtype=i64),
        mv_w=np.array([m[3] for m in mv], dtype=np.float64),
        sv_row=np.array([s[0] for s in sv], dtype=i64),
        sv_lane=np.array([s[1] for s in sv], dtype=i64),
        sv_share=np.array([s[2] for s in sv], dtype=np.float64),
        en_row=np.array([e[0] for e in en], dtype=i64),
        en_lane=np.array([e[1] for e in en], dtype=i64),
        reach_up=reach_matrix(net, reach_m, upstream=True) if reach_m > 0 else None,
        reach_down=reach_matrix(net, reach_m, upstream=False) if reach_m > 0 else None,
    )


def reach_matrix(net: RoadNetwork, reach_m: float, *, upstream: bool = True) -> csr_matrix:
    """(L, L) sparse: row l adds the lanes within ``reach_m`` up- (or down-) stream of lane l.

    Only unsignalised connections are followed (a signal starts another approach); the lane
    itself has weight 1; a lane reached through a split counts 1 / (its number of successors
    (predecessors downstream)). ``x_reach = M @ x`` for lane values ``x`` (L,).
    """
    n = len(net.lane_ids)
    rows: list[int] = list(range(n))
    cols: list[int] = list(range(n))
    vals: list[float] = [1.0] * n
    if reach_m > 0 and n:
        ok = net.conn_tls < 0
        f, to = net.conn_from_lane[ok], net.conn_to_lane[ok]
        src, dst = (to, f) if upstream else (f, to)  # walk from src to its neighbours dst
        order = np.argsort(src, kind="stable")
        src, dst = src[order], dst[order]
        starts = np.searchsorted(src, np.arange(n + 1))
        fan = np.bincount(dst, minlength=n)  # how many lanes each neighbour feeds (is fed by)
        length = net.lane_length
        for lane in range(n):
            frontier = [(lane, 0.0, 1.0)]
            seen = {lane}
            while frontier:
                cur, dist, w = frontier.pop()
                for nb in dst[starts[cur] : starts[cur + 1]].tolist():
                    d = dist + float(length[nb])
                    if nb in seen or dist >= reach_m:
                        continue
                    seen.add(nb)
                    wn = w / max(int(fan[nb]), 1)
                    rows.append(lane)
                    cols.append(nb)
                    vals.append(wn)
                    frontier.append((nb, d, wn))
    return csr_matrix((np.array(vals), (np.array(rows), np.array(cols))), shape=(n, n))
