"""Ground truth: positions on lanes to points in the local frame, and the recorder of trajectories.

Positions along a lane are in SUMO's lane length; the polyline may be longer or shorter, so a
position is scaled to the drawn geometry before interpolating. All lanes' vertices are indexed by
one global cumulative distance, so N positions are located with one ``searchsorted``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from roadnet.model import RoadNetwork
from sim.interface import TRUTH_DTYPE

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class LaneGeometry:
    """Locates (lane, s) pairs on the lanes' polylines.

    Parameters
    ----------
    net
        The network (``lane_shape_xy`` / ``lane_shape_offsets``, ``lane_length``).
    """

    def __init__(self, net: RoadNetwork) -> None:
        xy = net.lane_shape_xy
        off = net.lane_shape_offsets
        self.xy = xy
        self.off = off
        seg = np.hypot(*(np.diff(xy, axis=0).T)) if len(xy) > 1 else np.zeros(0)
        # zero the segments that join two lanes
        lane_of_vertex = np.repeat(np.arange(len(off) - 1), np.diff(off))
        if len(seg):
            seg[lane_of_vertex[1:] != lane_of_vertex[:-1]] = 0.0
        cum = np.concatenate([[0.0], np.cumsum(seg)]) if len(xy) else np.zeros(0)
        starts = cum[np.minimum(off[:-1], max(len(cum) - 1, 0))] if len(cum) else np.zeros(len(off) - 1)
        ends = cum[np.maximum(off[1:] - 1, 0)] if len(cum) else np.zeros(len(off) - 1)
        self.geo_len: F64 = ends - starts
        # separate lanes by 1 m of "gap" in a global coordinate so searchsorted never mixes them
        base = np.arange(len(off) - 1, dtype=np.float64)
        self.gcum: F64 = cum + base[lane_of_vertex] if len(cum) else np.zeros(0)
        self.lane_start: F64 = self.gcum[np.minimum(off[:-1], max(len(cum) - 1, 0))] if len(cum) else np.zeros(0)
        self.scale: F64 = np.where(net.lane_length > 0, self.geo_len / np.maximum(net.lane_length, 1e-6), 1.0)

    def locate(self, lane: I64, s: F64) -> tuple[F64, F64, F64]:
        """(x, y, heading) of positions ``s`` m along ``lane``; heading in math radians."""
        if len(lane) == 0 or len(self.gcum) == 0:
            z = np.zeros(len(lane))
            return z, z.copy(), z.copy()
        d = np.clip(s * self.scale[lane], 0.0, self.geo_len[lane])
        g = self.lane_start[lane] + d
        i = np.searchsorted(self.gcum, g, side="right") - 1
        lo = self.off[lane]
        hi = self.off[lane + 1] - 2
        i = np.clip(i, lo, np.maximum(hi, lo))
        j = np.minimum(i + 1, len(self.xy) - 1)
        seg = self.gcum[j] - self.gcum[i]
        u = np.where(seg > 0, (g - self.gcum[i]) / np.maximum(seg, 1e-12), 0.0)
        p = self.xy[i] + u[:, None] * (self.xy[j] - self.xy[i])
        dxy = self.xy[j] - self.xy[i]
        head = np.arctan2(dxy[:, 1], dxy[:, 0])
        return p[:, 0], p[:, 1], head


class TruthRecorder:
    """Collects ground-truth rows (``TRUTH_DTYPE`` plus ``t``) every ``every`` calls to :meth:`sample`.

    Parameters
    ----------
    every
        Keep one sample in ``every`` (1: every tick).
    """

    def __init__(self, every: int = 1) -> None:
        self.every = max(int(every), 1)
        self._n = 0
        self._rows: list[npt.NDArray[np.void]] = []
        self._t: list[F64] = []

    def sample(self, t: float, truth: npt.NDArray[np.void]) -> None:
        """Offer one tick's truth (kept on every ``every``-th call)."""
        if self._n % self.every == 0:
            self._rows.append(truth.copy())
            self._t.append(np.full(len(truth), t))
        self._n += 1

    def rows(self) -> tuple[F64, npt.NDArray[np.void]]:
        """(M,) times s and (M,) truth rows recorded so far."""
        if not self._rows:
            return np.zeros(0), np.zeros(0, dtype=TRUTH_DTYPE)
        return np.concatenate(self._t), np.concatenate(self._rows)

    def save(self, path: str | Path) -> Path:
        """Write the recorded rows: ``.csv`` as text with a header, anything else as compressed ``.npz``
        (arrays ``t`` and ``truth``)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        t, rows = self.rows()
        if p.suffix == ".csv":
            names = list(TRUTH_DTYPE.names or ())
            with p.open("w") as fh:
                fh.write(",".join(["t", *names]) + "\n")
                cols = [t] + [rows[n] for n in names]
                for k in range(len(t)):
                    fh.write(",".join(str(c[k]) for c in cols) + "\n")
        else:
            with p.open("wb") as fh:
                np.savez_compressed(fh, t=t, truth=rows)
        return p


def load_truth(path: str | Path) -> tuple[F64, npt.NDArray[np.void]]:
    """Read a recording written by :meth:`TruthRecorder.save` as ``.npz``: (t, truth rows)."""
    with np.load(Path(path)) as z:
        return z["t"], z["truth"]
