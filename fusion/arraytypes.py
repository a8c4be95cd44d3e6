"""Array type aliases shared by the fusion modules."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StructArray = npt.NDArray[np.void]
AnyArray = npt.NDArray[Any]
