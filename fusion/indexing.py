"""Small index tools: ragged ranges and compact labels, without sorting where possible."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import IntArray


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
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    values = np.arange(total, dtype=np.int64) - np.repeat(first - lo, counts)
    return owner, values


def compact(labels: npt.ArrayLike) -> tuple[IntArray, int]:
    """Number distinct labels 0 .. G-1 in increasing label order.

    Uses a counting table when the labels' span is small (no sort), else a sort.

    Parameters
    ----------
    labels
        (k,) integers.

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
    lo = int(a.min())
    span = int(a.max()) - lo + 1
    if span <= 8 * len(a) + 1024:
        rank = np.cumsum(np.bincount(a - lo, minlength=span) > 0) - 1
        return rank[a - lo].astype(np.int64), int(rank[-1]) + 1
    uniq, inv = np.unique(a, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), len(uniq)
