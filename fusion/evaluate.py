"""Accuracy of the fused picture against a ground truth, tick by tick, and its summary.

Each tick :meth:`Scorecard.add` takes the true vehicles (positions, stable integer codes, ids,
classes, which are observable, which are connected), the tracker's confirmed tracks, and the
per-lane queues of the fused picture and of the same picture built from the truth
(:func:`tracks_from_truth`: so the queue error is the estimation error, not a difference
between two queue definitions). It keeps:

GOSPA (``c``, ``p``, alpha = 2), over all vehicles and over the observable ones
    ``all``: every true vehicle against every confirmed track. Vehicles no sensor can see are
    missed, so it measures the coverage as much as the fusion. ``covered``: the observable
    vehicles (inside some sensor's field of view, or connected, whose BSMs report them
    anywhere) against the tracks, without the tracks that the ``all`` assignment gives to an
    unobservable vehicle (a track that follows a vehicle out of view is neither credited nor
    blamed); a track assigned to nothing stays false. Per tick the distances; in the summary
    also the RMS per vehicle ``sqrt(sum_t GOSPA_t^p / sum_t n_t)`` (p = 2): the RMS position
    error when every vehicle is tracked, each missed vehicle or false track adding ``c^p / 2``
    to the sum.
Identity switches (CLEAR-MOT)
    Over the ``covered`` assignment: a vehicle assigned to another track id than at its previous
    assignment. Split into ``while_held`` (it was assigned in the previous tick too: a swap or a
    track replaced under a vehicle in view) and ``after_gap`` (assigned again after ticks
    unassigned or out of view, under a new track).
Identity of connected vehicles
    The share of observable connected vehicle-ticks whose assigned track carries the vehicle's
    id (overall and per class), and the share of connected vehicles that got it at some tick.
Queue-length error
    ``|fused - truth|`` of ``queue_m`` per lane, over the (tick, lane) pairs where either has a
    queue (the other lanes agree on zero and would only dilute it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fusion.arraytypes import BoolArray, FloatArray, IntArray, StructArray
from fusion.metrics import IdentityScore, gospa, queue_error
from fusion.tracks import TRACK_DTYPE
from roadnet.classes import NAMES

_N_CLASSES = max(NAMES) + 1


@dataclass(frozen=True)
class TickScore:
    """One tick's scores.

    Attributes
    ----------
    t
        Time, s.
    n_truth, n_covered, n_tracks
        True vehicles, observable ones, confirmed tracks.
    gospa_all, gospa_covered
        GOSPA over all vehicles and over the observable ones, m.
    missed, false
        Observable vehicles and tracks left unassigned in the ``covered`` GOSPA.
    switches
        Identity switches in this tick.
    """

    t: float
    n_truth: int
    n_covered: int
    n_tracks: int
    gospa_all: float
    gospa_covered: float
    missed: int
    false: int
    switches: int


def tracks_from_truth(t: float, truth: StructArray, codes: npt.ArrayLike) -> StructArray:
    """Perfect tracks of the true vehicles, for building the reference picture.

    Parameters
    ----------
    t
        Time, s.
    truth
        (n,) rows with fields ``x``, ``y`` (m), ``vx``, ``vy`` (m/s), ``cls``, ``length``,
        ``width`` (m) and ``vehicle_id`` (e.g. the simulator's ``TRUTH_DTYPE``).
    codes
        (n,) stable non-negative integer per vehicle; the track id is ``code + 1``.

    Returns
    -------
    numpy.ndarray
        ``TRACK_DTYPE`` (n,), zero covariance.
    """
    out = np.zeros(len(truth), dtype=TRACK_DTYPE)
    out["track_id"] = np.asarray(codes, dtype=np.int64) + 1
    out["t"] = out["last_update"] = t
    for name in ("x", "y", "vx", "vy", "cls", "length", "width", "vehicle_id"):
        out[name] = truth[name]
    return out


def _grown(a: npt.NDArray[Any], need: int, fill: Any) -> npt.NDArray[Any]:
    """``a`` (k,), extended with ``fill`` to at least ``need`` entries (per vehicle code tables)."""
    if need <= len(a):
        return a
    return np.concatenate([a, np.full(need - len(a), fill, dtype=a.dtype)])


class _PerCode:
    """A boolean per vehicle code, grown on demand."""

    def __init__(self) -> None:
        self.flag: BoolArray = np.zeros(0, dtype=np.bool_)

    def set(self, codes: IntArray) -> None:
        if len(codes) == 0:
            return
        self.flag = _grown(self.flag, int(codes.max()) + 1, False)
        self.flag[codes] = True

    @property
    def count(self) -> int:
        return int(np.count_nonzero(self.flag))


def _q(values: FloatArray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if len(values) else float("nan")


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


class Scorecard:
    """Accumulates :class:`TickScore` s and the error samples of a run; see the module docstring.

    Parameters
    ----------
    c
        GOSPA cut-off distance, m.
    p
        GOSPA order.
    """

    def __init__(self, c: float = 10.0, p: float = 2.0) -> None:
        self.c = float(c)
        self.p = float(p)
        self.ticks: list[TickScore] = []
        self.identity = IdentityScore()
        # per vehicle code: last tick assigned (-2 never; so the vehicles ever assigned are those >= 0)
        self._last_tick: IntArray = np.zeros(0, dtype=np.int64)
        self._held_switches = 0
        self._loc = 0.0  # sum of d^p over covered assignments, m^p
        self._assigned = 0
        self._sq_all = 0.0  # sum of GOSPA^p, m^p
        self._sq_cov = 0.0
        self._conn = np.zeros(_N_CLASSES, dtype=np.int64)  # connected observable vehicle-ticks per class
        self._conn_ok = np.zeros(_N_CLASSES, dtype=np.int64)  # ... whose track carries their id
        self._conn_seen = _PerCode()
        self._conn_got = _PerCode()
        self._queue_signed: list[FloatArray] = []  # fused - truth, m (the errors are its magnitudes)
        self._queue_veh: list[FloatArray] = []

    def add(
        self,
        t: float,
        truth: StructArray,
        codes: npt.ArrayLike,
        covered: npt.ArrayLike,
        tracks: StructArray,
        queue_est: StructArray | None = None,
        queue_ref: StructArray | None = None,
    ) -> TickScore:
        """Score one tick.

        Parameters
        ----------
        t
            Time, s.
        truth
            (n,) true vehicles with fields ``x``, ``y`` (m), ``vehicle_id``, ``cls`` and
            ``connected`` (e.g. the simulator's ``TRUTH_DTYPE``).
        codes
            (n,) stable non-negative integer per vehicle (the same vehicle, the same code).
        covered
            (n,) True for the observable vehicles.
        tracks
            ``TRACK_DTYPE`` (m,) confirmed tracks at ``t``.
        queue_est, queue_ref
            ``LANE_STATE_DTYPE`` (L,) of the fused picture and of the truth's, or None to skip
            the queue error this tick.
        """
        code = np.asarray(codes, dtype=np.int64)
        cov = np.asarray(covered, dtype=np.bool_)
        x = np.column_stack([truth["x"], truth["y"]]).astype(np.float64).reshape(-1, 2)
        y = np.column_stack([tracks["x"], tracks["y"]]).astype(np.float64).reshape(-1, 2)
        g_all = gospa(x, y, self.c, self.p)
        keep = np.ones(len(y), dtype=np.bool_)
        ti, kj = g_all.pairs
        keep[kj[~cov[ti]]] = False  # tracks following a vehicle nobody can see: left out
        ci = np.flatnonzero(cov)
        kk = np.flatnonzero(keep)
        g_cov = gospa(x[ci], y[kk], self.c, self.p)
        vi, vj = ci[g_cov.pairs[0]], kk[g_cov.pairs[1]]
        # switches of vehicles assigned in the previous tick too, and of vehicles assigned again after a gap
        vc, tid = code[vi], tracks["track_id"][vj]
        self._last_tick = _grown(self._last_tick, int(vc.max()) + 1 if len(vc) else 0, -2)
        tick = len(self.ticks)
        held = self._last_tick[vc] == tick - 1
        held_switches = self.identity.add(vc[held], tid[held])
        switches = held_switches + self.identity.add(vc[~held], tid[~held])
        self._held_switches += held_switches
        self._last_tick[vc] = tick
        self._loc += g_cov.localisation
        self._assigned += len(vi)
        self._sq_all += g_all.distance**self.p
        self._sq_cov += g_cov.distance**self.p
        # connected vehicles: does the track assigned to them carry their id?
        conn = np.asarray(truth["connected"], dtype=np.bool_) & cov
        cls = np.minimum(np.asarray(truth["cls"], dtype=np.int64), _N_CLASSES - 1)
        self._conn += np.bincount(cls[conn], minlength=_N_CLASSES)
        carried = np.asarray(truth["vehicle_id"])[vi] == np.asarray(tracks["vehicle_id"])[vj]
        ok = vi[carried & conn[vi]]
        self._conn_ok += np.bincount(cls[ok], minlength=_N_CLASSES)
        self._conn_seen.set(code[conn])
        self._conn_got.set(code[ok])
        if queue_est is not None and queue_ref is not None:
            est, ref = queue_est["queue_m"], queue_ref["queue_m"]
            active = (est > 0) | (ref > 0)
            self._queue_signed.append((est[active] - ref[active]).astype(np.float64))
            self._queue_veh.append(queue_error(queue_est["queue_veh"][active], queue_ref["queue_veh"][active]))
        score = TickScore(
            t=float(t),
            n_truth=len(x),
            n_covered=len(ci),
            n_tracks=len(y),
            gospa_all=g_all.distance,
            gospa_covered=g_cov.distance,
            missed=g_cov.missed,
            false=g_cov.false,
            switches=switches,
        )
        self.ticks.append(score)
        return score

    # ------------------------------------------------------------------ results
    def series(self) -> dict[str, FloatArray]:
        """Per-tick columns, (T,) each: t, n_truth, n_covered, n_tracks, gospa_all, gospa_covered, ..."""
        names = [f.name for f in fields(TickScore)]
        return {k: np.array([getattr(s, k) for s in self.ticks], dtype=np.float64) for k in names}

    def queue_errors(self) -> FloatArray:
        """Every |fused - truth| queue length sampled, m, (S,)."""
        return np.abs(self._queue_bias())

    def _queue_bias(self) -> FloatArray:
        """Every fused - truth queue length sampled, m, (S,)."""
        return np.concatenate(self._queue_signed) if self._queue_signed else np.zeros(0)

    def summary(self) -> dict[str, Any]:
        """The run's scores as plain numbers (JSON-ready); NaN where nothing was sampled."""
        s = self.series()
        n_all, n_cov = float(s["n_truth"].sum()), float(s["n_covered"].sum())
        qs = self._queue_bias()
        q = np.abs(qs)
        qv = np.concatenate(self._queue_veh) if self._queue_veh else np.zeros(0)
        vehicles = int(np.count_nonzero(self._last_tick >= 0))
        by_class = {
            NAMES.get(k, str(k)): round(_ratio(float(self._conn_ok[k]), float(self._conn[k])), 4)
            for k in np.flatnonzero(self._conn).tolist()
        }
        inv = 1.0 / self.p
        dt = float(np.median(np.diff(s["t"]))) if len(self.ticks) > 1 else float("nan")
        tracked_minutes = self._assigned * dt / 60.0
        return {
            "ticks": len(self.ticks),
            "sim_seconds": float(s["t"][-1] - s["t"][0]) if len(self.ticks) > 1 else 0.0,
            "gospa": {
                "c_m": self.c,
                "p": self.p,
                "alpha": 2,
                "covered": {
                    "mean_m": _mean(s["gospa_covered"]),
                    "p95_m": _q(s["gospa_covered"], 95),
                    "rms_per_vehicle_m": _ratio(self._sq_cov, n_cov) ** inv,
                    "localisation_rms_m": _ratio(self._loc, self._assigned) ** inv,
                    "missed_share": _ratio(float(s["missed"].sum()), n_cov),
                    "false_per_tick": _mean(s["false"]),
                    "vehicles_per_tick": _mean(s["n_covered"]),
                },
                "all": {
                    "mean_m": _mean(s["gospa_all"]),
                    "p95_m": _q(s["gospa_all"], 95),
                    "rms_per_vehicle_m": _ratio(self._sq_all, n_all) ** inv,
                    "vehicles_per_tick": _mean(s["n_truth"]),
                    "tracks_per_tick": _mean(s["n_tracks"]),
                },
                "coverage_share": _ratio(n_cov, n_all),
            },
            "id_switches": {
                "total": self.identity.switches,
                "while_held": self._held_switches,
                "after_gap": self.identity.switches - self._held_switches,
                "vehicles": vehicles,
                "per_vehicle": _ratio(self.identity.switches, vehicles),
                "per_tracked_minute": _ratio(self.identity.switches, tracked_minutes),
            },
            "identity": {
                "share": _ratio(float(self._conn_ok.sum()), float(self._conn.sum())),
                "by_class": by_class,
                "vehicles": self._conn_seen.count,
                "vehicles_share_ever": _ratio(self._conn_got.count, self._conn_seen.count),
            },
            "queue": {
                "samples": len(q),
                "mae_m": _mean(q),
                "bias_m": _mean(qs),
                "median_m": _q(q, 50),
                "p95_m": _q(q, 95),
                "max_m": float(q.max()) if len(q) else float("nan"),
                "mae_veh": _mean(qv),
            },
        }

    def plot(self, path: str | Path, *, title: str = "") -> Path:
        """GOSPA over time (all and covered, with the vehicle counts) and the queue error histogram, PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        s = self.series()
        t = s["t"] - (s["t"][0] if len(s["t"]) else 0.0)
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 4.8), dpi=110, gridspec_kw={"width_ratios": [2, 1]})
        ax.plot(t, s["gospa_all"], lw=0.8, color="tab:gray", label="GOSPA, all vehicles")
        ax.plot(t, s["gospa_covered"], lw=0.9, color="tab:blue", label="GOSPA, observable vehicles")
        ax.set_xlabel("simulated time, s")
        ax.set_ylabel(f"GOSPA (c = {self.c:g} m, p = {self.p:g}), m")
        ax.grid(alpha=0.3)
        cx = ax.twinx()
        cx.plot(t, s["n_truth"], lw=0.6, ls="--", color="tab:gray", label="vehicles")
        cx.plot(t, s["n_covered"], lw=0.6, ls="--", color="tab:blue", label="observable")
        cx.set_ylabel("vehicles")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = cx.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
        q = self.queue_errors()
        if len(q):
            bx.hist(q, bins=np.linspace(0.0, max(float(q.max()), 1.0), 40), color="tab:orange")
            bx.axvline(float(q.mean()), color="k", lw=0.8, label=f"mean {q.mean():.2f} m")
            bx.legend(fontsize=8)
            bx.set_yscale("log")
        else:
            bx.text(0.5, 0.5, "no queues", ha="center", va="center", transform=bx.transAxes)
        bx.set_xlabel("|fused - truth| queue length per lane, m")
        bx.set_ylabel("lane-ticks with a queue")
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out)
        plt.close(fig)
        return out
