"""The multi-sensor tracker: one tick of all sensors' detections and vehicles' reports at once.

A tick at time ``t``:

1. every track is predicted to ``t`` (one vectorised predict);
2. connected-vehicle reports (BSMs) are fused: a report goes to the track that already carries
   its vehicle id, else to a gated anonymous track (which takes the identity), else it starts a
   confirmed track of its own;
3. all roadside detections of the tick are associated in one pass (merged scans, not one pass
   per sensor): gated over a spatial grid, then global nearest neighbour, each track taking at
   most one detection per sensor frame, so detections from overlapping sensors update one
   track. Each detection relates to the tick-time state through ``H(tau) = [I, tau I]`` for
   its own time offset ``tau``; a track's detections of one time are fused in information form
   and applied as one update (the same as applying them in turn), frames of different times
   in turn;
4. unassigned detections start tentative tracks, one per object however many sensors saw it,
   except beside a confirmed track (its outliers and clutter near it start nothing);
5. M-of-N confirmation, deletion, and the table of confirmed tracks.

Detections much older than the tracks' time (a late sensor) are related by the same
``H(tau)`` with ``tau < 0``; a tick earlier than the last is predicted backwards with
``Q(|dt|)``, a conservative approximation.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import cast

import numpy as np

from fusion.arraytypes import FloatArray, IntArray, StructArray
from fusion.association import GNNAssociator
from fusion.attributes import AttributeVoter
from fusion.deleter import MissDeleter
from fusion.gating import MahalanobisGate
from fusion.identity import IdentityTable
from fusion.indexing import amax, amin, compact, stack2
from fusion.initiator import MofNInitiator, birth_seeds
from fusion.measurements import Measurements, NoiseDefaults, from_detections, from_reports
from fusion.predictor import KalmanPredictor
from fusion.roles import Associator, Deleter, Gate, Initiator, Predictor, Updater, Voter
from fusion.tracks import HEAD_INTS, HEAD_STATE, HEAD_TIMES, TRACK_BLOCKS, TRACK_DTYPE, TrackStore
from fusion.updater import KalmanUpdater, combine, innovation, mahalanobis2

#: up to this many (track, detection) combinations, one gate pass serves both association and
#: the birth-exclusion test (a wider gate costs little when the scene is small)
ONE_PASS_PAIRS = 250_000

_FIVE = np.arange(5)[:, None]


def _empty_pairs() -> IntArray:
    return np.zeros((2, 0), dtype=np.int64)


def _layers(rows: IntArray, n: int) -> IntArray:
    """Layer of each entry so that every layer holds each row at most once, shape (k,)."""
    layer = np.zeros(len(rows), dtype=np.int64)
    left = np.arange(len(rows))
    k = 0
    while len(left):
        first = np.full(n, len(rows), dtype=np.int64)
        np.minimum.at(first, rows[left], left)
        take = first[rows[left]] == left
        layer[left[take]] = k
        left = left[~take]
        k += 1
    return layer


class Tracker:
    """Multi-sensor, multi-target tracker over arrays of all tracks.

    Every component is optional and replaceable: anything with the methods of its role in
    :mod:`fusion.roles` will do (tests pass fakes).

    Parameters
    ----------
    predictor
        ``predict(x, P, dt)`` in place; default :class:`KalmanPredictor` (q = 2 m^2/s^3).
    gate
        ``gate(x, P, meas, scale) -> (pairs, d2, cost)`` plus ``threshold`` and ``max_radius``; default
        :class:`MahalanobisGate`.
    associator
        ``associate(pairs, cost, scan) -> assigned``; default :class:`GNNAssociator`.
    updater
        ``update`` / ``update_velocity`` in place; default :class:`KalmanUpdater`.
    initiator
        ``initiate``, ``confirm``, ``failed`` and ``velocity_sd``; default :class:`MofNInitiator`.
    deleter
        ``delete(store) -> mask``; default :class:`MissDeleter`.
    voter
        ``vote`` and ``resolve``; default :class:`AttributeVoter`.
    noise
        Measurement noise where inputs do not state it.
    birth_exclusion
        An unassigned detection within this many gates (threshold multiple) of a confirmed track
        starts no track: it is that track's outlier, or clutter beside it. A vehicle's report
        may name an anonymous track this far away.
    reseat
        A track whose own vehicle reports a position beyond this many gates restarts there.
    """

    def __init__(
        self,
        *,
        predictor: Predictor | None = None,
        gate: Gate | None = None,
        associator: Associator | None = None,
        updater: Updater | None = None,
        initiator: Initiator | None = None,
        deleter: Deleter | None = None,
        voter: Voter | None = None,
        noise: NoiseDefaults | None = None,
        birth_exclusion: float = 4.0,
        reseat: float = 10.0,
    ) -> None:
        self.predictor: Predictor = predictor or KalmanPredictor()
        self.gate: Gate = gate or MahalanobisGate()
        self.associator: Associator = associator or GNNAssociator()
        self.updater: Updater = updater or KalmanUpdater()
        self.initiator: Initiator = initiator or MofNInitiator()
        self.deleter: Deleter = deleter or MissDeleter()
        self.voter: Voter = voter or AttributeVoter()
        self.noise = noise or NoiseDefaults()
        self.birth_exclusion = float(birth_exclusion)
        self.reseat = float(reseat)
        self.store = TrackStore()
        self.identities = IdentityTable()
        #: counters: ticks, detections, reports, invalid_detections, invalid_reports,
        #: births, deletions, suppressed (births refused beside a confirmed track),
        #: unplaced (birth-cluster members left without a track), reseated (tracks restarted
        #: at their own vehicle's report)
        self.stats: Counter[str] = Counter()

    @property
    def time(self) -> float:
        """Time of the track states (s), NaN before the first tick."""
        return self.store.time

    def step(self, t: float, detections: StructArray, reports: StructArray | None = None) -> StructArray:
        """Run one tick.

        Parameters
        ----------
        t
            Tick time, s (platform clock); detections and reports may be a little older or newer.
        detections
            ``DETECTION_DTYPE`` rows of every sensor, shape (m,). Rows without finite t, x, y
            are counted in ``stats["invalid_detections"]`` and ignored.
        reports
            ``VEHICLE_REPORT_DTYPE`` rows, shape (r,), or None. Several reports of one vehicle:
            the latest counts.

        Returns
        -------
        tracks
            ``TRACK_DTYPE`` rows of the confirmed tracks at time ``t``, shape (n,).
        """
        self._begin(t)
        if reports is not None and len(reports):
            self._fuse_reports(reports, t)
        if len(detections):
            self._fuse_detections(detections, t)
        self._end()
        return self.table()

    # -- tick phases -------------------------------------------------------------------------

    def _begin(self, t: float) -> None:
        st = self.store
        if st.n and math.isfinite(st.time):
            self.predictor.predict(st.x, st.P, t - st.time)
        st.time = float(t)
        st.counts[1:3] += 1  # misses (an update sets them back to 0), ticks lived
        self.stats["ticks"] += 1

    def _end(self) -> None:
        st = self.store
        self.initiator.confirm(st)
        drop = self.initiator.failed(st) | self.deleter.delete(st)
        self.stats["deletions"] += int(np.count_nonzero(drop & st.confirmed))
        st.keep(~drop)

    def _fuse_detections(self, detections: StructArray, t: float) -> None:
        self.stats["detections"] += len(detections)
        meas, invalid = from_detections(detections, t, self.noise)
        if invalid:
            self.stats["invalid_detections"] += invalid
        st = self.store
        # births are refused beside a confirmed track (the detection is its outlier or clutter):
        # a small scene finds those pairs in the same pass as association's, with confirmed
        # tracks' gates widened, a large one in a second pass over the unassigned detections only
        m = len(meas)
        one_pass = st.n * m <= ONE_PASS_PAIRS
        widen = one_pass and self.birth_exclusion > 1.0
        scale: float | FloatArray = np.where(st.confirmed, self.birth_exclusion, 1.0) if widen else 1.0
        wide, d2, cost = self.gate.gate(st.x, st.P, meas, scale)
        if widen:
            inside = (d2 <= self.gate.threshold).nonzero()[0]
            assigned = self.associator.associate(wide.take(inside, axis=1), cost[inside], meas.scan)
        else:
            assigned = self.associator.associate(wide, cost, meas.scan)
        free = np.empty(m, dtype=np.bool_)
        free.fill(True)
        free[assigned[1]] = False
        n_free = m - assigned.shape[1]
        if n_free and st.n:
            if one_pass:
                near = wide
            else:
                idx = free.nonzero()[0]
                near, _, _ = self.gate.gate(st.x, st.P, meas.take(idx), self.birth_exclusion)
                near[1] = idx[near[1]]
            free[near[1][st.confirmed[near[0]]]] = False
        idx = free.nonzero()[0]
        self.stats["suppressed"] += n_free - len(idx)
        seeded, extra = self._birth(meas, idx, t, cluster=True)
        self._apply(np.concatenate([assigned, extra], axis=1) if extra.shape[1] else assigned, seeded, meas)

    def _fuse_reports(self, reports: StructArray, t: float) -> None:
        self.stats["reports"] += len(reports)
        ok = (
            np.isfinite(reports["t"])
            & np.isfinite(reports["x"])
            & np.isfinite(reports["y"])
            & np.isfinite(reports["vx"])
            & np.isfinite(reports["vy"])
            & (reports["vehicle_id"] != "")
        )
        if not ok.all():
            self.stats["invalid_reports"] += int(np.count_nonzero(~ok))
            reports = reports[ok]
        # the latest report of each vehicle
        order = np.lexsort((reports["t"], reports["vehicle_id"]))
        ids = reports["vehicle_id"][order]
        last = np.ones(len(order), dtype=np.bool_)
        last[:-1] = ids[1:] != ids[:-1]
        reports = reports[order[last]]
        ident = self.identities.lookup(reports["vehicle_id"])
        self.identities.record(ident, reports)
        meas = from_reports(reports, t, self.noise)
        st = self.store
        row_of = np.full(len(self.identities), -1, dtype=np.int64)
        carried = (st.ident >= 0).nonzero()[0]
        row_of[st.ident[carried]] = carried
        rows = row_of[ident]
        direct = rows >= 0
        self._reseat(rows[direct], meas.take(direct.nonzero()[0]))
        rest = (~direct).nonzero()[0]
        anon = (st.ident < 0).nonzero()[0]
        sub = meas.take(rest)
        # a vehicle's own position may sit a few metres off its perceived track (GNSS): a wider
        # gate, so that it names that track rather than starting a second one beside it
        pairs, _, cost = self.gate.gate(st.x[anon], st.P[anon], sub, max(self.birth_exclusion, 1.0))
        a = self.associator.associate(pairs, cost, sub.scan)
        matched = stack2(anon[a[0]], rest[a[1]])
        st.ident[matched[0]] = ident[matched[1]]
        st.confirmed[matched[0]] = True
        free = np.ones(len(rest), dtype=np.bool_)
        free[a[1]] = False
        newcomers = rest[free]
        seeded, _ = self._birth(meas, newcomers, t, cluster=False)
        st.ident[seeded[0]] = ident[seeded[1]]
        st.confirmed[seeded[0]] = True
        direct_pairs = stack2(rows[direct], direct.nonzero()[0])
        self._apply(np.concatenate([direct_pairs, matched], axis=1), seeded, meas)

    def _reseat(self, rows: IntArray, meas: Measurements) -> None:
        """Restart tracks whose own vehicle reports a position far outside their gate.

        The report carries the vehicle's identity, so the track is that vehicle's: when the two
        disagree beyond ``reseat`` gates the track has gone astray and starts again from the
        report.
        """
        if len(rows) == 0:
            return
        st = self.store
        r, S, _ = innovation(st.xT[:, rows], st.PT[:, :, rows], meas.z, meas.R, meas.tau)
        astray = (mahalanobis2(r, S) > self.reseat * self.gate.threshold).nonzero()[0]
        if len(astray):
            x, P = self.initiator.initiate(meas.take(astray))
            self.predictor.predict(x, P, -meas.tau[astray])
            st.x[rows[astray]] = x
            st.P[rows[astray]] = P
            self.stats["reseated"] += len(astray)

    # -- shared steps ------------------------------------------------------------------------

    def _birth(self, meas: Measurements, idx: IntArray, t: float, *, cluster: bool) -> tuple[IntArray, IntArray]:
        """Start tracks for measurements ``idx``.

        Returns ``(seeded, extra)``: (2, s) pairs (new row, seeding measurement) and (2, e) pairs
        (new row, other measurement of the same object) still to be applied as updates.
        """
        if len(idx) == 0:
            return _empty_pairs(), _empty_pairs()
        sub = meas.take(idx)
        seed = (
            birth_seeds(sub, self.gate.threshold, self.initiator.velocity_sd, self.gate.max_radius) if cluster else None
        )
        s_idx = idx if seed is None else idx[seed]
        x, P = self.initiator.initiate(sub if seed is None else meas.take(s_idx))
        if meas.tau_range != (0.0, 0.0):  # to the tick time
            tau = meas.tau[s_idx]
            self.predictor.predict(x, P, -tau if amin(tau) != amax(tau) else -float(tau[0]))
        st = self.store
        rows = st.add(x, P, t)
        self.stats["births"] += len(rows)
        seeded = stack2(rows, s_idx)
        if seed is None:
            return seeded, _empty_pairs()
        others = idx[~seed]
        osub = meas.take(others)
        pairs, _, cost = self.gate.gate(st.x[rows], st.P[rows], osub)
        a = self.associator.associate(pairs, cost, osub.scan)
        self.stats["unplaced"] += len(others) - a.shape[1]
        return seeded, stack2(rows[a[0]], others[a[1]])

    def _apply(self, pairs: IntArray, seeded: IntArray, meas: Measurements) -> None:
        """Kalman-update ``pairs`` (track row, measurement), then book-keep them and the
        ``seeded`` pairs (hits, misses, last update, votes).

        The measurements of one track taken at one time (one per sensor frame) are fused in
        information form, which equals updating with each in turn. When every frame of the tick
        has one time, all tracks are updated in one pass over the information sums; otherwise
        each track is updated once per time, in layers of distinct tracks.
        """
        st = self.store
        rows, j = pairs
        lo, hi = meas.tau_range
        one_time = lo == hi
        if len(rows):
            if one_time:
                self._update_all(rows, j, meas)
            else:
                self._update_layers(rows, j, meas)
        if seeded.shape[1]:
            rows, j = np.concatenate([pairs, seeded], axis=1)
        st.misses[rows] = 0
        st.hits += np.bincount(rows, minlength=st.n)
        # any of the tick's measurement times
        st.t_update[rows] = st.time + (float(meas.tau[0]) if one_time else meas.tau[j])
        self.voter.vote(st, rows, meas, j)

    def _update_all(self, rows: IntArray, j: IntArray, meas: Measurements) -> None:
        """Every track at once with the summed information of its measurements (all of one time)."""
        st = self.store
        n, m = st.n, len(meas)
        # per measurement R^-1 packed [xx; xy; yy] and R^-1 z, then the pairs' sums per track
        R = meas.R
        w = np.empty((5, m))
        np.divide(R[::-1], R[0] * R[2] - R[1] * R[1], out=w[0:3])  # [yy; xy; xx] / det
        np.negative(w[1], out=w[1])
        np.multiply(w[0:2], meas.z[0], out=w[3:5])
        w[3:5] += w[1:3] * meas.z[1]
        sums = cast(
            FloatArray, np.bincount((rows + _FIVE * n).ravel(), w.take(j, axis=1).ravel(), minlength=5 * n)
        ).reshape(5, n)
        self.updater.update_information(st.x, st.P, sums[0:3], sums[3:5], float(meas.tau[0]))
        hv = np.isfinite(meas.v[0][j]) if meas.with_velocity else None
        if hv is not None and np.count_nonzero(hv):
            v_rows, v_j = rows[hv], j[hv]
            group, n_v = compact(v_rows)
            vc, Rvc = combine(group, n_v, meas.v[:, v_j], meas.Rv[:, v_j])
            g_rows = np.zeros(n_v, dtype=np.int64)
            g_rows[group] = v_rows
            self.updater.update_velocity(st.x, st.P, g_rows, vc, Rvc)

    def _update_layers(self, rows: IntArray, j: IntArray, meas: Measurements) -> None:
        """Each track once per measurement time, its measurements of one time fused first."""
        st = self.store
        n_scans = int(amax(meas.scan)) + 1
        scan_tau = np.zeros(n_scans)
        scan_tau[meas.scan] = meas.tau
        tau_values, tau_rank = np.unique(scan_tau, return_inverse=True)
        group, n_groups = compact(rows * len(tau_values) + tau_rank[meas.scan[j]])
        g_rows = np.zeros(n_groups, dtype=np.int64)
        g_rows[group] = rows
        g_tau = np.zeros(n_groups)
        g_tau[group] = meas.tau[j]
        zc, Rc = combine(group, n_groups, meas.z[:, j], meas.R[:, j])
        hv = np.isfinite(meas.v[0][j])
        with_v = bool(hv.any())
        if with_v:
            v_group, n_v = compact(group[hv])
            vc, Rvc = combine(v_group, n_v, meas.v[:, j[hv]], meas.Rv[:, j[hv]])
            v_of_group = np.full(n_groups, -1, dtype=np.int64)
            v_of_group[group[hv]] = v_group
            v_rows = np.zeros(n_v, dtype=np.int64)
            v_rows[v_group] = g_rows[group[hv]]
        layer = _layers(g_rows, st.n)
        for k in range(int(amax(layer)) + 1):
            sel = (layer == k).nonzero()[0]
            self.updater.update(st.x, st.P, g_rows[sel], zc[:, sel], Rc[:, sel], g_tau[sel])
            if with_v:
                vs = v_of_group[sel]
                vs = vs[vs >= 0]
                self.updater.update_velocity(st.x, st.P, v_rows[vs], vc[:, vs], Rvc[:, vs])

    # -- output ------------------------------------------------------------------------------

    def table(self, include_tentative: bool = False) -> StructArray:
        """The tracks as ``TRACK_DTYPE`` rows, shape (n,): confirmed ones, or all."""
        st = self.store
        rows = np.arange(st.n) if include_tentative else st.confirmed.nonzero()[0]
        out = np.zeros(len(rows), dtype=TRACK_DTYPE)
        blocks = out.view(TRACK_BLOCKS)
        head = st.head.take(rows, axis=1)
        ints = head[HEAD_INTS].view(np.int64)  # track id, identity, hits, misses, ticks
        blocks["track_id"] = ints[0]
        blocks["t"] = st.time
        blocks["state"] = head[HEAD_STATE].T  # x, y, vx, vy, P
        blocks["counts"] = ints[2:4].T  # hits, misses
        times = head[HEAD_TIMES]  # birth -> age, last update
        np.subtract(st.time, times[0], out=times[0])
        blocks["times"] = times.T
        cls, length, width = self.voter.resolve(st, rows)
        if len(self.identities):
            ident = st.ident[rows]
            known = (ident >= 0).nonzero()[0]
            if len(known):
                ids = self.identities
                k = ident[known]
                cls[known] = np.where(ids.cls[k] > 0, ids.cls[k], cls[known])
                length[known] = np.where(ids.length[k] > 0, ids.length[k], length[known])
                width[known] = np.where(ids.width[k] > 0, ids.width[k], width[known])
                out["vehicle_id"][known] = ids.vehicle_id[k]
                out["bus_line"][known] = ids.bus_line[k]
        blocks["cls"] = cls
        blocks["length"] = length
        blocks["width"] = width
        return out
