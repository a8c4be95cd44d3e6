"""Columnar storage of every track, and the track table the tracker hands out.

:class:`TrackStore` keeps one array per attribute for all tracks (confirmed and tentative),
with spare capacity so that adding tracks does not copy every column, and compacts once per
tick when tracks are deleted. Attribute arrays are views of length ``n`` into the buffers:
writing into them writes the store.

Every buffer is component-first, with the tracks on its last axis (states (4, capacity),
covariances (4, 4, capacity), small columns grouped in a few blocks), and the attributes are
views: ``x`` (n, 4) and ``P`` (n, 4, 4) over buffers where every element-wise operation on all
tracks runs along one long contiguous axis; ``xT`` and ``PT`` are the same data as (4, n) and
(4, 4, n). Compaction and appends touch eight buffers, not one per column.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import BoolArray, FloatArray, IntArray

#: Number of ObjectClass values (proto ``ObjectClass``: 0 unknown .. 8 emergency).
N_CLASSES = 9

#: One row per confirmed track, shape (N,), as :meth:`Tracker.step` returns it.
#: track_id unique for the tracker's life; t s (state time); x, y m; vx, vy m/s; P (4, 4) state
#: covariance over (x, y, vx, vy) in m^2, m^2/s, m^2/s^2; cls ObjectClass by vote; length, width
#: m by vote (0 unknown); vehicle_id and bus_line of a connected vehicle ("" for a perceived
#: one); hits = updates received; misses = ticks since the last update; age s since birth;
#: last_update s.
TRACK_DTYPE = np.dtype(
    [
        ("track_id", np.int64),
        ("t", np.float64),
        ("x", np.float64),
        ("y", np.float64),
        ("vx", np.float64),
        ("vy", np.float64),
        ("P", np.float64, (4, 4)),
        ("cls", np.uint8),
        ("length", np.float32),
        ("width", np.float32),
        ("vehicle_id", "U40"),
        ("bus_line", "U16"),
        ("hits", np.int32),
        ("misses", np.int32),
        ("age", np.float64),
        ("last_update", np.float64),
    ]
)


class TrackStore:
    """All tracks as columns.

    Attributes
    ----------
    n
        Number of tracks.
    time
        Time of the states ``x``, ``P`` (s).
    track_id
        (n,) int64, unique ids.
    x
        (n, 4) float64 states ``[x, y, vx, vy]`` (m, m/s); ``xT`` the same as (4, n).
    P
        (n, 4, 4) float64 covariances; ``PT`` the same as (4, 4, n).
    t_birth, t_update
        (n,) float64 birth and last-update times (s).
    hist
        (n,) uint32 hit history by tick: bit 0 the current tick, bit k the tick k ago.
    ticks
        (n,) int32 ticks lived (1 in the tick of birth).
    hits
        (n,) int32 updates received (all scans).
    misses
        (n,) int32 consecutive ticks without an update.
    confirmed
        (n,) bool.
    votes
        (n, N_CLASSES) float32 confidence-weighted class votes.
    size_w, length_sum, width_sum
        (n,) float32 weight and weighted sums of the reported sizes (m).
    tallies
        (N_CLASSES + 3, n) float32: the votes and the three size sums as rows.
    ident
        (n,) int64 index into the tracker's identity table, -1 for none.
    """

    #: buffers, each with the rows (tracks) on its last axis: name -> (dtype, leading shape,
    #: fill of new rows per leading row)
    BLOCKS: ClassVar[dict[str, tuple[npt.DTypeLike, tuple[int, ...], tuple[Any, ...]]]] = {
        "x": (np.float64, (4,), (0.0,) * 4),
        "P": (np.float64, (4, 4), (0.0,)),
        "times": (np.float64, (2,), (0.0, 0.0)),  # t_birth, t_update
        "counts": (np.int32, (3,), (1, 0, 0)),  # ticks, hits, misses
        "hist": (np.uint32, (), (0,)),
        "confirmed": (np.bool_, (), (False,)),
        "tallies": (np.float32, (N_CLASSES + 3,), (0.0,)),  # votes, size_w, length_sum, width_sum
        "ids": (np.int64, (2,), (0, -1)),  # track_id, ident
    }

    track_id: IntArray
    x: FloatArray
    P: FloatArray
    t_birth: FloatArray
    t_update: FloatArray
    hist: npt.NDArray[np.uint32]
    ticks: npt.NDArray[np.int32]
    hits: npt.NDArray[np.int32]
    misses: npt.NDArray[np.int32]
    confirmed: BoolArray
    votes: npt.NDArray[np.float32]
    size_w: npt.NDArray[np.float32]
    length_sum: npt.NDArray[np.float32]
    width_sum: npt.NDArray[np.float32]
    ident: IntArray
    xT: FloatArray
    PT: FloatArray
    tallies: npt.NDArray[np.float32]

    def __init__(self, capacity: int = 64, time: float = float("nan")) -> None:
        self.n = 0
        self.time = time
        self.next_id = 1
        self._buf: dict[str, npt.NDArray[Any]] = {}
        self._fill: dict[str, npt.NDArray[Any]] = {}
        for name, (dtype, shape, fill) in self.BLOCKS.items():
            f = np.array(fill, dtype=dtype)
            self._fill[name] = np.broadcast_to(f.reshape(-1, *([1] * len(shape))) if len(fill) > 1 else f, (*shape, 1))
        self._alloc(max(int(capacity), 1))

    def _alloc(self, capacity: int) -> None:
        for name, (dtype, shape, _) in self.BLOCKS.items():
            buf = np.empty((*shape, capacity), dtype=dtype)
            old = self._buf.get(name)
            if old is not None:
                buf[..., : self.n] = old[..., : self.n]
            self._buf[name] = buf
        self._views()

    def _views(self) -> None:
        n, b = self.n, self._buf
        self.xT = b["x"][:, :n]
        self.x = self.xT.T
        self.PT = b["P"][:, :, :n]
        self.P = self.PT.transpose(2, 0, 1)
        self.t_birth, self.t_update = b["times"][0, :n], b["times"][1, :n]
        self.ticks, self.hits, self.misses = b["counts"][0, :n], b["counts"][1, :n], b["counts"][2, :n]
        self.hist = b["hist"][:n]
        self.confirmed = b["confirmed"][:n]
        self.tallies = tallies = b["tallies"][:, :n]
        self.votes = tallies[:N_CLASSES].T
        self.size_w, self.length_sum, self.width_sum = (tallies[N_CLASSES + k] for k in range(3))
        self.track_id, self.ident = b["ids"][0, :n], b["ids"][1, :n]

    @property
    def capacity(self) -> int:
        """Rows the buffers hold before they grow."""
        return int(self._buf["x"].shape[-1])

    def add(self, x: FloatArray, P: FloatArray, t: float) -> IntArray:
        """Append tracks and give them fresh ids.

        Parameters
        ----------
        x
            (k, 4) initial states.
        P
            (k, 4, 4) initial covariances.
        t
            Birth time (s).

        Returns
        -------
        rows
            (k,) row indices of the new tracks; other columns hold their defaults (``ticks`` 1).
        """
        k = len(x)
        start = self.n
        if start + k > self.capacity:
            self._alloc(max(2 * self.capacity, start + k))
        end = start + k
        for name, buf in self._buf.items():
            buf[..., start:end] = self._fill[name]
        b = self._buf
        b["x"][:, start:end] = x.T
        b["P"][:, :, start:end] = P.transpose(1, 2, 0)
        b["times"][:, start:end] = t
        b["ids"][0, start:end] = np.arange(self.next_id, self.next_id + k)
        self.next_id += k
        self.n = end
        self._views()
        return np.arange(start, end, dtype=np.int64)

    def keep(self, mask: BoolArray) -> None:
        """Keep the rows where ``mask`` (shape (n,)) is true, in order; drop the others."""
        idx = mask.nonzero()[0]
        m = len(idx)
        if m == self.n:
            return
        for buf in self._buf.values():
            buf[..., :m] = buf[..., idx]
        self.n = m
        self._views()
