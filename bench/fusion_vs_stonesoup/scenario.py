"""The benchmark's detection stream: recorded once, fed to both trackers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fusion.synthetic import Scenario


@dataclass(frozen=True)
class Frame:
    """One 10 Hz tick: time s, true positions (N, 2) m, true ids (N,), detections (DETECTION_DTYPE)."""

    t: float
    truth: npt.NDArray[np.float64]
    ids: npt.NDArray[np.int64]
    detections: npt.NDArray[np.void]


def record(n: int, ticks: int, seed: int = 0) -> tuple[Scenario, list[Frame]]:
    """Run the synthetic scenario for ``ticks`` ticks and keep every frame."""
    sc = Scenario(n, seed=seed)
    frames = []
    for _ in range(ticks):
        sc.advance()
        frames.append(Frame(sc.t, sc.pos.copy(), sc.ids.copy(), sc.detect()))
    return sc, frames
