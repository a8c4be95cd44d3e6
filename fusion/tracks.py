"""Columnar storage of every track, and the track table the tracker hands out.

:class:`TrackStore` keeps all tracks (confirmed and tentative) in two blocks with the tracks on
their last axis, exactly ``n`` columns wide: every 8-byte column (floats, and integers as
int64 views of whole rows) in one, the confirmed flags in the other. So every attribute is a
contiguous view (numpy costs several times more per call on a strided 2-D view than on a
contiguous array, and at a few hundred tracks a tick is mostly such calls), and appending
tracks or dropping them (once per tick) is one call per block.

The states and covariances are component-first: ``xT`` (4, n), ``PT`` (4, 4, n) and ``P16``
(16, n) are views where every element-wise operation on all tracks runs along one long
contiguous axis; ``x`` (n, 4) and ``P`` (n, 4, 4) are the same data transposed. Writing into
any attribute writes the store.
"""

from __future__ import annotations

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

#: Rows of the 8-byte block: state, covariance (row-major 4 x 4), birth and last-update times
#: (float64); track id, identity, hits, misses, ticks (int64 views); tallies (float64). The rows
#: a track table reads come first (one gather).
_X, _P, _TIMES = slice(0, 4), slice(4, 20), slice(20, 22)
_INTS = slice(22, 27)
_TALLIES = slice(_INTS.stop, _INTS.stop + N_CLASSES + 3)
_ROWS = _TALLIES.stop
#: rows of ``TrackStore.head``: the state and time rows, then the integer rows
HEAD_STATE, HEAD_TIMES, HEAD_INTS = slice(0, 20), _TIMES, _INTS


def _new_columns() -> npt.NDArray[np.float64]:
    """The 8-byte block's column for a new track (the int64 rows hold their bits)."""
    col = np.zeros((_ROWS, 1))
    ints = col[_INTS].view(np.int64)
    ints[1] = -1  # no identity
    ints[4] = 1  # ticks lived
    col.flags.writeable = False
    return col


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
    head
        (27, n) float64: the rows behind ``xT`` (rows 0-3), ``P16`` (rows 4-19), ``t_birth``
        and ``t_update`` (rows 20, 21), then the int64 rows of ``track_id``, ``ident``, ``hits``,
        ``misses``, ``ticks`` as their bits (rows :data:`HEAD_STATE`, :data:`HEAD_TIMES`,
        :data:`HEAD_INTS`): what a track table reads, in one gather.
    t_birth, t_update
        (n,) float64 birth and last-update times (s).
    hits
        (n,) int64 updates received (all scans).
    misses
        (n,) int64 consecutive ticks without an update.
    ticks
        (n,) int64 ticks lived (1 in the tick of birth).
    counts
        (3, n) int64, the rows behind ``hits``, ``misses`` and ``ticks``.
    confirmed
        (n,) bool.
    votes
        (n, N_CLASSES) float64 confidence-weighted class votes.
    size_w, length_sum, width_sum
        (n,) float64 weight and weighted sums of the reported sizes (m).
    tallies
        (N_CLASSES + 3, n) float64: the votes and the three size sums as rows.
    ident
        (n,) int64 index into the tracker's identity table, -1 for none.
    """

    track_id: IntArray
    x: FloatArray
    P: FloatArray
    t_birth: FloatArray
    t_update: FloatArray
    ticks: IntArray
    hits: IntArray
    misses: IntArray
    confirmed: BoolArray
    votes: FloatArray
    size_w: FloatArray
    length_sum: FloatArray
    width_sum: FloatArray
    ident: IntArray
    xT: FloatArray
    PT: FloatArray
    P16: FloatArray
    head: FloatArray
    counts: IntArray
    tallies: FloatArray

    #: a new track's column of the 8-byte block
    NEW = _new_columns()

    def __init__(self, time: float = float("nan")) -> None:
        self.n = 0
        self.time = time
        self.next_id = 1
        # every 8-byte column in one block and the flags in another: appending and dropping
        # tracks is one call per block
        self._block: FloatArray = np.zeros((_ROWS, 0))
        self._flags: BoolArray = np.zeros(0, dtype=np.bool_)
        self._views()

    def _views(self) -> None:
        b, n = self._block, self.n
        self.head = b[0 : _INTS.stop]
        self.xT = b[_X]
        self.x = self.xT.T
        self.P16 = b[_P]
        self.PT = self.P16.reshape(4, 4, n)
        self.P = self.PT.transpose(2, 0, 1)
        self.t_birth, self.t_update = b[20], b[21]
        self.tallies = tallies = b[_TALLIES]
        self.votes = tallies[:N_CLASSES].T
        self.size_w, self.length_sum, self.width_sum = (
            tallies[N_CLASSES],
            tallies[N_CLASSES + 1],
            tallies[N_CLASSES + 2],
        )
        ints = b[_INTS].view(np.int64)
        self.track_id, self.ident = ints[0], ints[1]
        self.counts = c = ints[2:5]
        self.hits, self.misses, self.ticks = c[0], c[1], c[2]
        self.confirmed = self._flags

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
        new = np.empty((_ROWS, end))
        new[:, :start] = self._block
        new[:, start:] = self.NEW
        new[_X, start:] = x.T
        new[_P, start:] = P.reshape(k, 16).T
        new[_TIMES, start:] = t
        rows = np.arange(start, end, dtype=np.int64)
        new[_INTS.start, start:] = (rows + (self.next_id - start)).view(np.float64)  # track ids
        self._block = new
        self._flags = np.concatenate([self._flags, np.zeros(k, dtype=np.bool_)])
        self.next_id += k
        self.n = end
        self._views()
        return rows

    def keep(self, mask: BoolArray) -> None:
        """Keep the rows where ``mask`` (shape (n,)) is true, in order; drop the others."""
        idx = mask.nonzero()[0]
        if len(idx) == self.n:
            return
        self._block = self._block.take(idx, axis=1)
        self._flags = self._flags[idx]
        self.n = len(idx)
        self._views()
