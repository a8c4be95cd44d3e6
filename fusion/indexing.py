"""Small index tools: ragged ranges and compact labels, without sorting where possible."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import IntArray


def amin(a: npt.NDArray[Any]) -> Any:
    """Smallest element of ``a`` (any shape; NaN when there is one), as a numpy scalar.

    ``argmin`` and an index: at small N a tick is a few hundred numpy calls, and a ufunc
    reduction (``np.min``, ``np.minimum.reduce``) costs three to four times as much.
    """
    i = a.argmin()
    return a[i] if a.ndim == 1 else a.ravel()[i]


def amax(a: npt.NDArray[Any]) -> Any:
    """Largest element of ``a`` (any shape; NaN when there is one), as a numpy scalar (see
    :func:`amin`)."""
    i = a.argmax()
    return a[i] if a.ndim == 1 else a.ravel()[i]


def count(mask: npt.NDArray[np.bool_]) -> int:
    """Number of true entries (``count_nonzero``: cheaper than ``any`` / ``all`` reductions)."""
    return int(np.count_nonzero(mask))


def ragged_ranges(lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray]:
    """Expand half-open ranges into flat indices.

    Parameters
    ----------
    lo, hi
        (k,) range bounds, ``hi >= lo``.

    Returns
    -------
    owner
        (total,) index of the range each value came from.
    values
        (total,) the integers ``lo[i] .. hi[i] - 1`` for every range ``i``, in order.
    """
    counts = hi - lo
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ends = counts.cumsum()
    owner = np.arange(len(lo), dtype=np.int64).repeat(counts)
    # position in the output minus (start of the range's run - lo)
    shift = ends - counts
    shift -= lo
    values = np.arange(int(ends[-1]), dtype=np.int64)
    values -= shift.repeat(counts)
    return owner, values


def compact(labels: npt.ArrayLike, size: int | None = None) -> tuple[IntArray, int]:
    """Number distinct labels 0 .. G-1 in increasing label order.

    Uses a counting table when the labels' span is small (no sort), else a sort.

    Parameters
    ----------
    labels
        (k,) integers.
    size
        When known, a bound with ``0 <= labels < size`` (the table is that long; no reductions).

    Returns
    -------
    ids
        (k,) int64 compact label of each entry.
    count
        ``G``, the number of distinct labels.
    """
    a = np.asarray(labels).astype(np.int64, copy=False)
    if len(a) == 0:
        return np.zeros(0, dtype=np.int64), 0
    if size is not None:
        seen = np.zeros(size, dtype=np.bool_)
        seen[a] = True
        rank = seen.cumsum()
        rank -= 1
        return rank[a], int(rank[-1]) + 1
    lo = int(amin(a))
    span = int(amax(a)) - lo + 1
    if span <= 8 * len(a) + 1024:
        shifted = a - lo
        rank = (np.bincount(shifted, minlength=span) > 0).cumsum() - 1
        return rank[shifted], int(rank[-1]) + 1
    uniq, inv = np.unique(a, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), len(uniq)


def stack2(a: npt.ArrayLike, b: npt.ArrayLike) -> IntArray:
    """Two (k,) index arrays as one (2, k) int64 array (``np.stack`` without its Python layer)."""
    first = np.asarray(a)
    out = np.empty((2, len(first)), dtype=np.int64)
    out[0] = first
    out[1] = b
    return out
