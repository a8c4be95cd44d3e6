"""Columnar storage of every track, and the track table the tracker hands out.

:class:`TrackStore` keeps all tracks (confirmed and tentative) in five blocks, one per dtype,
each with the tracks on its last axis and exactly ``n`` columns wide, so that every attribute
is a contiguous view: numpy costs several times more per call on a strided 2-D view than on a
contiguous array, and at a few hundred tracks a tick is mostly such calls. Appending tracks
and dropping them (once per tick) rebuild the five blocks, one call each.

The float block holds the states and covariances component-first: ``xT`` (4, n), ``PT``
(4, 4, n) and ``P16`` (16, n) are views where every element-wise operation on all tracks runs
along one long contiguous axis; ``x`` (n, 4) and ``P`` (n, 4, 4) are the same data transposed.
Writing into any attribute writes the store.
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


def grouped(base: np.dtype, groups: dict[str, tuple[str, ...]]) -> np.dtype:
    """A dtype over the same bytes as ``base`` where each group of consecutive fields of one
    scalar type is one subarray field (so that one assignment fills them all).

    Raises ValueError when a group's fields are not consecutive or not of one type.
    """
    fields = base.fields
    if fields is None:
        raise ValueError(f"{base} has no fields")
    names, formats, offsets = [], [], []
    for name, members in groups.items():
        first = fields[members[0]]
        scalar = first[0].base
        size = 0
        for member in members:
            dt, off = fields[member][:2]
            if dt.base != scalar or off != first[1] + size:
                raise ValueError(f"{member} does not follow {members[0]} as one {scalar} block")
            size += dt.itemsize
        names.append(name)
        count = size // scalar.itemsize
        formats.append(scalar if count == 1 else (scalar, (count,)))
        offsets.append(first[1])
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": base.itemsize})


#: ``TRACK_DTYPE`` with its runs of same-typed fields as blocks (the tracker fills a table with
#: one assignment per block): track_id; t; state = x, y, vx, vy, P (20); hits, misses; age,
#: last_update; cls, length, width.
TRACK_BLOCKS = grouped(
    TRACK_DTYPE,
    {
        "track_id": ("track_id",),
        "t": ("t",),
        "state": ("x", "y", "vx", "vy", "P"),
        "cls": ("cls",),
        "length": ("length",),
        "width": ("width",),
        "counts": ("hits", "misses"),
        "times": ("age", "last_update"),
    },
)

#: Rows of the float block: state, covariance (row-major 4 x 4), birth and last-update times.
_X, _P, _TIMES = slice(0, 4), slice(4, 20), slice(20, 22)


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
        (n, 4, 4) float64 covariances; ``PT`` the same as (4, 4, n), ``P16`` as (16, n) with
        row ``4 i + j`` the entry ``(i, j)``.
    state
        (22, n) float64, the block behind ``xT`` (rows 0-3), ``P16`` (rows 4-19), ``t_birth``
        and ``t_update`` (rows 20, 21).
    t_birth, t_update
        (n,) float64 birth and last-update times (s).
    hist
        (n,) uint32 hit history by tick: bit 0 the current tick, bit k the tick k ago.
    hits
        (n,) int32 updates received (all scans).
    misses
        (n,) int32 consecutive ticks without an update.
    ticks
        (n,) int32 ticks lived (1 in the tick of birth).
    counts
        (4, n) int32, the block behind ``hits``, ``misses``, ``ticks`` and ``hist`` (rows 0-3).
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

    #: blocks, each with the rows (tracks) on its last axis: name -> (dtype, leading shape,
    #: value of a new track's column per leading row)
    BLOCKS: ClassVar[dict[str, tuple[npt.DTypeLike, tuple[int, ...], tuple[Any, ...]]]] = {
        "state": (np.float64, (22,), (0.0,) * 22),  # x (4), P (16), t_birth, t_update
        "counts": (np.int32, (4,), (0, 0, 1, 0)),  # hits, misses, ticks, hist
        "confirmed": (np.bool_, (), (False,)),
        "tallies": (np.float32, (N_CLASSES + 3,), (0.0,) * (N_CLASSES + 3)),  # votes, size_w, sums
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
    P16: FloatArray
    state: FloatArray
    counts: npt.NDArray[np.int32]
    tallies: npt.NDArray[np.float32]

    def __init__(self, time: float = float("nan")) -> None:
        self.n = 0
        self.time = time
        self.next_id = 1
        self._blocks: dict[str, npt.NDArray[Any]] = {}
        self._fill: dict[str, npt.NDArray[Any]] = {}
        for name, (dtype, shape, fill) in self.BLOCKS.items():
            self._blocks[name] = np.empty((*shape, 0), dtype=dtype)
            self._fill[name] = np.array(fill, dtype=dtype).reshape(*shape, 1)
        self._views()

    def _views(self) -> None:
        b = self._blocks
        self.state = s = b["state"]
        self.xT = s[_X]
        self.x = self.xT.T
        self.P16 = s[_P]
        self.PT = s[_P].reshape(4, 4, self.n)
        self.P = self.PT.transpose(2, 0, 1)
        self.t_birth, self.t_update = s[20], s[21]
        self.counts = c = b["counts"]
        self.hits, self.misses, self.ticks = c[0], c[1], c[2]
        self.hist = c[3].view(np.uint32)
        self.confirmed = b["confirmed"]
        self.tallies = tallies = b["tallies"]
        self.votes = tallies[:N_CLASSES].T
        self.size_w, self.length_sum, self.width_sum = (
            tallies[N_CLASSES],
            tallies[N_CLASSES + 1],
            tallies[N_CLASSES + 2],
        )
        self.track_id, self.ident = b["ids"][0], b["ids"][1]

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
        start, end = self.n, self.n + k
        b = self._blocks
        for name, fill in self._fill.items():
            old = b[name]
            new = np.empty((*old.shape[:-1], end), dtype=old.dtype)
            new[..., :start] = old
            new[..., start:] = fill
            b[name] = new
        s = b["state"]
        s[_X, start:] = x.T
        s[_P, start:] = P.reshape(k, 16).T
        s[_TIMES, start:] = t
        b["ids"][0, start:] = np.arange(self.next_id, self.next_id + k)
        self.next_id += k
        self.n = end
        self._views()
        return np.arange(start, end, dtype=np.int64)

    def keep(self, mask: BoolArray) -> None:
        """Keep the rows where ``mask`` (shape (n,)) is true, in order; drop the others."""
        idx = mask.nonzero()[0]
        if len(idx) == self.n:
            return
        b = self._blocks
        for name in self.BLOCKS:
            b[name] = b[name].take(idx, axis=-1)  # cheaper than [..., idx]
        self.n = len(idx)
        self._views()
