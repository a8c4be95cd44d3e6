"""GLOSA: the speed at which a connected vehicle reaches the stop line on green.

For every connected vehicle on a signalised approach within ``range_m`` of the stop line, the
predicted green windows of its movement give arrival-time intervals ``[start + margin + queue
discharge, end - margin]`` (relative to now); at constant speed ``v`` the stop line is reached
after ``d / v``, so window w is reachable for ``v`` in ``[d / (end - margin), d / (start +
margin + queue)]`` intersected with ``[v_min, lane limit]``. The first reachable window wins and
the advice is the top of that speed range (see below); a green already shown counts up to its
latest predicted end, since vehicles still arriving on it hold an actuated or pressure-led green;
no advice when no window within the horizon is reachable. Vectorised over vehicles x windows.

The advice is the fastest speed of the reachable interval (OBUs apply it as a speed cap: a
vehicle driving slower keeps its speed, a faster one slows down and reaches the line just after
green starts); while the green lasts long enough at the limit, that is the limit itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from control.advice import advisory
from control.approach import Approaches
from control.config import GlosaConfig
from control.spat import Prediction, link_windows_many
from proto import pb, units
from roadnet import MapMatcher, RoadNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: classes that get no speed advice (pedestrians, cyclists)
NO_ADVICE_CLASSES = (5, 6)


@dataclass(frozen=True)
class SpeedWindow:
    """Per vehicle (N,): the advised speed (the range's top) and the feasible range, m/s; NaN when infeasible."""

    speed: F64
    v_lo: F64
    v_hi: F64
    window: I64  #: index of the green window reached, -1 none

    @property
    def feasible(self) -> B:
        """(N,) True where an advice exists."""
        out: B = self.window >= 0
        return out


def advise(
    dist: F64,
    speed: F64,
    v_max: F64,
    start: F64,
    end: F64,
    *,
    v_min: float = 5.0,
    margin: float = 1.5,
    queue_delay: F64 | None = None,
) -> SpeedWindow:
    """Advisory speeds for N vehicles and W green windows each.

    Parameters
    ----------
    dist
        (N,) metres to the stop line.
    speed
        (N,) current speed, m/s (kept for callers that rank advice by change; unused here).
    v_max
        (N,) speed limit, m/s.
    start, end
        (N, W) green window bounds relative to now, s (a window already open has start <= 0;
        NaN pads missing windows).
    v_min
        Slowest speed advised, m/s.
    margin
        Arrive at least this long after green starts and before it ends, s.
    queue_delay
        (N,) s the queue ahead needs to discharge after green starts (0 when None).
    """
    d = np.asarray(dist, dtype=np.float64)[:, None]
    qd = np.zeros(len(dist)) if queue_delay is None else np.asarray(queue_delay, dtype=np.float64)
    t_lo = np.where(start <= 0, 0.0, start + margin) + qd[:, None]
    t_hi = end - margin
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        hi = np.where(t_lo > 0, d / t_lo, np.inf)
        lo = np.where(t_hi > 0, d / t_hi, np.inf)
    vmax = np.asarray(v_max, dtype=np.float64)[:, None]
    lo_c = np.maximum(lo, v_min)
    hi_c = np.minimum(hi, vmax)
    ok = np.isfinite(start) & np.isfinite(end) & (t_hi > t_lo) & (lo_c <= hi_c)
    any_ok = ok.any(axis=1)
    w = np.where(any_ok, np.argmax(ok, axis=1), -1)
    rows = np.arange(len(d))
    wi = np.maximum(w, 0)
    a = np.where(any_ok, lo_c[rows, wi], np.nan)
    b = np.where(any_ok, hi_c[rows, wi], np.nan)
    return SpeedWindow(speed=b, v_lo=a, v_hi=b, window=w.astype(np.int64))


@dataclass
class Glosa:
    """GLOSA advisories for the connected vehicles of a map, rate-limited per vehicle.

    Parameters
    ----------
    net
        The road network.
    approaches
        Lane -> controller / link of its main movement.
    matcher
        Map-matcher for vehicle positions.
    cfg
        Range, minimum speed, margins, re-send period.
    """

    net: RoadNetwork
    approaches: Approaches
    matcher: MapMatcher
    cfg: GlosaConfig = field(default_factory=GlosaConfig)
    _last: dict[str, tuple[float, float]] = field(default_factory=dict)
    _seq: int = 0

    def advisories(
        self,
        now: float,
        vehicles: npt.NDArray[Any],
        lanes: npt.NDArray[Any],
        predictions: Mapping[int, Prediction],
        *,
        match: tuple[I64, F64] | None = None,
    ) -> list[pb.Advisory]:
        """Speed advisories for this tick.

        Parameters
        ----------
        now
            s since the epoch.
        vehicles
            ``VEHICLE_REPORT_DTYPE`` rows, (N,).
        lanes
            ``LANE_STATE_DTYPE`` rows, (L,) (queues ahead of the vehicles).
        predictions
            Per controller index, its :class:`Prediction`.
        match
            (lane, dist_to_stop), each (N,), when the caller already map-matched the vehicles.
        """
        cfg = self.cfg
        if len(vehicles) == 0 or not cfg.enabled:
            return []
        if match is None:
            mm = self.matcher.match(np.stack([vehicles["x"], vehicles["y"]], axis=1), vehicles["heading"])
            lane, dist = mm.lane, mm.dist_to_stop
        else:
            lane, dist = match
        ap = self.approaches
        li = np.maximum(lane, 0)
        tls = np.where(lane >= 0, ap.lane_tls[li], -1)
        sel = np.flatnonzero(
            (tls >= 0)
            & (dist <= cfg.range_m)
            & (dist > 1.0)
            & ~np.isin(vehicles["cls"], NO_ADVICE_CLASSES)
            & np.isin(tls, list(predictions))
        )
        if len(sel) == 0:
            return []
        tsel = tls[sel]
        # every vehicle's next green windows, gathered per controller from its cached prediction
        ctl, which = np.unique(tsel, return_inverse=True)
        preds = [predictions[t] for t in ctl.tolist()]
        s_like, e_like, e_max = link_windows_many(preds, which.astype(np.int64), ap.lane_link[li[sel]])
        # a green already shown lasts, for a vehicle still to arrive on it, up to its latest
        # end (an actuated or pressure-led green is held while vehicles keep arriving)
        e = np.where(s_like <= now, e_max, e_like)
        start, end = s_like - now, e - now
        sp = np.asarray(vehicles["speed"], dtype=np.float64)[sel]
        ln = li[sel]
        q = np.asarray(lanes["queue_veh"], dtype=np.float64)[ln]
        qm = np.asarray(lanes["queue_m"], dtype=np.float64)[ln]
        d = dist[sel]
        # vehicles already in the queue get no advice; others wait for the queue ahead to discharge
        in_queue = (sp < 1.0) & (d <= qm + 5.0)
        res = advise(
            d,
            sp,
            self.net.lane_speed[ln],
            start,
            end,
            v_min=cfg.v_min_mps,
            margin=cfg.margin_s,
            queue_delay=q * cfg.headway_s,
        )
        out: list[pb.Advisory] = []
        now_ns = round(now * 1e9)
        idx = np.flatnonzero(res.feasible & ~in_queue)
        if len(idx) == 0:
            return out
        # the per-advisory values as arrays first, then one message per advised vehicle (a
        # message object each, and the re-send check is per vehicle id: the loop stays)
        w = res.window[idx]
        ln_ok = ln[idx]
        # the advice is the top of the feasible range (res.speed is res.v_hi): one conversion
        rows = zip(
            vehicles["vehicle_id"][sel[idx]].tolist(),
            res.speed[idx].tolist(),
            tls[sel[idx]].tolist(),
            ap.lane_group[ln_ok].tolist(),
            units.speed_to_002(res.speed[idx]).tolist(),
            units.speed_to_002(res.v_lo[idx]).tolist(),
            d[idx].tolist(),
            start[idx, w].tolist(),
            end[idx, w].tolist(),
            strict=True,
        )
        for vid_raw, adv, t, group, s002, lo002, dist_m, w_start, w_end in rows:
            vid = str(vid_raw)
            last = self._last.get(vid)
            if last is not None and abs(last[1] - adv) < 0.5 and now - last[0] < cfg.resend_s:
                continue
            self._last[vid] = (now, adv)
            self._seq += 1
            out.append(
                advisory(
                    f"glosa-{self._seq}",
                    vid,
                    now_ns,
                    cfg.expiry_s,
                    speed=pb.SpeedAdvice(
                        junction_id=self.net.tls_ids[t],
                        group_id=int(group),
                        speed_002=int(s002),
                        min_speed_002=int(lo002),
                        max_speed_002=int(s002),
                        distance_to_stop_m=dist_m,
                        green_start_ns=now_ns + round(max(w_start, 0.0) * 1e9),
                        green_end_ns=now_ns + round(w_end * 1e9),
                    ),
                )
            )
        if len(self._last) > 50_000:
            self._last = {k: v for k, v in self._last.items() if now - v[0] < 60.0}
        return out
