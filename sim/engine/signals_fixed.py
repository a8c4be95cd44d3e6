"""Fixed-time operation of every controller's active program (used when no one else drives them).

Each controller cycles through its active program's phases from t = 0, shifted by the program's
``offset`` as SUMO does (at time t the program is at ``(t - offset) mod cycle``). Actuated
programs run their nominal durations. All controllers are evaluated at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from roadnet.model import RoadNetwork

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class FixedTimeSignals:
    """The link states of all controllers running their active programs in fixed time.

    Parameters
    ----------
    net
        The network (controllers, programs, phases).
    """

    def __init__(self, net: RoadNetwork) -> None:
        self.n_links = int(net.tls_link_offsets[-1])
        T = len(net.tls_ids)
        # per controller: active program's phase range, cycle and offset
        cycles = np.zeros(T)
        offsets = np.zeros(T)
        first_phase = np.zeros(T, dtype=np.int64)
        n_phase = np.zeros(T, dtype=np.int64)
        ends: list[F64] = []
        states: list[str] = []
        base = 0.0
        self._base = np.zeros(T)
        for t in range(T):
            p = int(net.tls_active_program[t])
            k = int(net.tls_n_links[t])
            hs = list(net.phases(p)) if p >= 0 else []
            dur = np.array([max(float(net.phase_duration[h]), 0.0) for h in hs], dtype=np.float64)
            if len(hs) == 0 or dur.sum() <= 0:
                hs, dur = [], np.zeros(0)
            cycles[t] = dur.sum() if len(dur) else 1.0
            offsets[t] = float(net.program_offset[p]) if p >= 0 else 0.0
            first_phase[t] = len(states)
            n_phase[t] = len(hs)
            self._base[t] = base
            ends.append(base + np.cumsum(dur))
            base += cycles[t] + 1.0
            for h in hs:
                st = net.phase_state[h]
                states.append((st + "O" * k)[:k])
        self.cycle = cycles
        self.offset = offsets
        self.first_phase = first_phase
        self.n_phase = n_phase
        self.ends = np.concatenate(ends) if ends else np.zeros(0)
        # (H_all, ) phase states flattened, one row of K_t characters per phase
        self.link_owner = np.repeat(np.arange(T), net.tls_n_links).astype(np.int64)
        self.link_local = (np.arange(self.n_links) - net.tls_link_offsets[:-1][self.link_owner]).astype(np.int64)
        flat = "".join(states)
        self.flat = np.array(list(flat), dtype="<U1") if flat else np.zeros(0, dtype="<U1")
        lens = np.array([len(s) for s in states], dtype=np.int64)
        self.phase_off = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        self.T = T

    def phase_index(self, t: float) -> I64:
        """(T,) index of each controller's current phase within its program (-1: no program)."""
        if self.T == 0:
            return np.zeros(0, dtype=np.int64)
        pos = np.mod(t - self.offset, self.cycle)
        key = self._base + pos
        g = np.searchsorted(self.ends, key, side="right")
        local = g - self.first_phase
        out: I64 = np.where(self.n_phase > 0, np.clip(local, 0, np.maximum(self.n_phase - 1, 0)), -1)
        return out

    def state(self, t: float) -> npt.NDArray[np.str_]:
        """(K,) one SUMO state character per link of every controller, indexed like ``net.link_group``."""
        if self.n_links == 0:
            return np.zeros(0, dtype="<U1")
        ph = self.phase_index(t)
        p = ph[self.link_owner]
        ok = p >= 0
        idx = self.phase_off[np.maximum(self.first_phase[self.link_owner] + p, 0)] + self.link_local
        out = np.full(self.n_links, "O", dtype="<U1")
        out[ok] = self.flat[idx[ok]]
        return out
