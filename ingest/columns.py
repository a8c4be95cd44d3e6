"""Views over several consecutive fields of a structured array as one 2-D array (no copy).

Checking ``k`` columns of a small array one by one costs ``k`` numpy calls of about a
microsecond each; a ``(N, k)`` view checks them in one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt


@lru_cache(maxsize=32)
def _layout(dtype: np.dtype[Any], names: tuple[str, ...]) -> tuple[np.dtype[Any], int]:
    fields = dtype.fields
    assert fields is not None, "a structured dtype"
    base, offset = fields[names[0]][:2]
    for i, name in enumerate(names):
        dt, off = fields[name][:2]
        if dt != base or off != offset + i * base.itemsize:
            raise ValueError(f"fields {names} of {dtype} are not consecutive fields of one dtype")
    return base, offset


def block(arr: npt.NDArray[np.void], names: tuple[str, ...]) -> npt.NDArray[Any]:
    """A ``(N, len(names))`` view of consecutive same-typed fields ``names`` of ``arr`` (shape (N,)).

    Raises
    ------
    ValueError
        When the fields are not consecutive in the dtype or not of one type.
    """
    base, offset = _layout(arr.dtype, names)
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    return np.ndarray(
        (len(arr), len(names)), dtype=base, buffer=arr, offset=offset, strides=(arr.dtype.itemsize, base.itemsize)
    )
