"""The traffic picture: tracks on the map, lane and edge states, and events, tick by tick.

:meth:`Picture.update` takes the tracker's table (``TRACK_DTYPE``) and, optionally, the signal
state of every link (see :mod:`fusion.signals` for the array's shape) and returns a
:class:`PictureState`:

- every track map-matched (lane, distance along it, distance to the stop line, lateral offset),
  heading-aware so that a vehicle lands on its own carriageway;
- per lane the ``LANE_STATE_DTYPE`` contract of ``proto.arrays``: count, halting, queue (metres
  and vehicles back from the stop line), mean speed, occupancy, density, flow over the stop line
  (exponentially smoothed) and the detector gap (time since a vehicle last entered the 30 m
  before the stop line);
- per edge a smoothed travel time (edge length over the mean speed of the vehicles on it,
  free-flow time when empty) and a congestion level 0 (free) .. 3 (jammed) from its ratio to
  the free-flow time;
- the events raised in this tick (``EVENT_DTYPE``, :mod:`fusion.events`).

A picture keeps a little memory per track id (smoothed velocity, previous lane, distance to the
stop line, the start of lasting conditions) and per lane (smoothed flow, last entry time).
Speeds are judged on each track's velocity smoothed over about a second. Pedestrians
(ObjectClass 5) are left out of lane and edge states and checked against pedestrian zones only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fusion import events as ev
from fusion.arraytypes import BoolArray, FloatArray, IntArray, StructArray
from fusion.indexing import ragged_ranges
from fusion.lanes import CLASS_LENGTH, QueueRule, edge_sums, lane_aggregates
from fusion.signals import GREEN, RED, SignalLinks
from proto import pb
from roadnet import MapMatcher, Match, RoadNetwork

PEDESTRIAN = int(pb.OBJECT_CLASS_PEDESTRIAN)

#: One row per edge, shape (E,): vehicles on it; mean speed m/s (NaN when empty); smoothed
#: travel time s; free-flow travel time s; congestion 0 free, 1 slow, 2 heavy, 3 jammed.
EDGE_STATE_DTYPE = np.dtype(
    [
        ("count", np.int32),
        ("speed", np.float64),
        ("travel_time", np.float64),
        ("free_time", np.float64),
        ("congestion", np.uint8),
    ]
)


@dataclass(frozen=True)
class PictureState:
    """The picture at one tick.

    Attributes
    ----------
    t
        Time, s.
    tracks
        The ``TRACK_DTYPE`` rows it was made from, (n,).
    lane, s, dist_to_stop, lateral
        (n,) map match of each track (lane -1 when unmatched or a pedestrian).
    queued
        (n,) True for tracks in a stop-line queue.
    lanes
        ``LANE_STATE_DTYPE`` (L,).
    edges
        ``EDGE_STATE_DTYPE`` (E,).
    events
        ``EVENT_DTYPE`` (k,), raised in this tick.
    """

    t: float
    tracks: StructArray
    lane: IntArray
    s: FloatArray
    dist_to_stop: FloatArray
    lateral: FloatArray
    queued: BoolArray
    lanes: StructArray
    edges: StructArray
    events: StructArray


class _Memory:
    """Per-track memory, sorted by track id."""

    def __init__(self) -> None:
        self.ids: IntArray = np.zeros(0, dtype=np.int64)
        self.lane: IntArray = np.zeros(0, dtype=np.int64)
        self.dist: FloatArray = np.zeros(0)
        self.still: FloatArray = np.zeros(0)
        self.wrong: FloatArray = np.zeros(0)
        self.fast: FloatArray = np.zeros(0)
        self.raised: IntArray = np.zeros(0, dtype=np.int64)
        self.velocity: FloatArray = np.zeros((0, 2))

    def recall(self, ids: IntArray) -> tuple[BoolArray, IntArray]:
        """(known (n,), position in memory (n,)) of the current track ids."""
        if len(self.ids) == 0:
            return np.zeros(len(ids), dtype=np.bool_), np.zeros(len(ids), dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return self.ids[pos] == ids, pos


class Picture:
    """Builds the traffic picture of a road network from tracks, tick by tick.

    Parameters
    ----------
    net
        The road network.
    matcher
        A map matcher of ``net`` (default: vehicle lanes, 10 m radius).
    queue
        What counts as a queue.
    rules
        Event thresholds.
    travel_time_tau, flow_tau
        Time constants of the exponential smoothing of edge travel times and lane flows, s.
    velocity_tau
        Time constant of the smoothing of each track's velocity before speeds are judged, s:
        a tracker's velocity of a standing vehicle wanders by a few tenths of a m/s, as much
        as the 0.5 m/s that separates halting from moving.
    detector_zone
        The stretch before the stop line whose entries define the detector gap, m.
    stop_reach
        A vehicle that leaves its lane within this distance of the stop line crossed it, m.
    pedestrian_radius
        A pedestrian this close to a vehicle path or crosswalk is on it, m.
    congestion_ratios
        Travel time over free-flow time at which congestion becomes 1, 2, 3.
    """

    def __init__(
        self,
        net: RoadNetwork,
        matcher: MapMatcher | None = None,
        *,
        queue: QueueRule | None = None,
        rules: ev.EventRules | None = None,
        travel_time_tau: float = 30.0,
        flow_tau: float = 60.0,
        velocity_tau: float = 1.0,
        detector_zone: float = 30.0,
        stop_reach: float = 25.0,
        pedestrian_radius: float = 2.0,
        congestion_ratios: tuple[float, float, float] = (1.5, 2.5, 4.0),
    ) -> None:
        self.net = net
        self.matcher = matcher or MapMatcher(net)
        self.queue = queue or QueueRule()
        self.rules = rules or ev.EventRules()
        self.travel_time_tau = float(travel_time_tau)
        self.flow_tau = float(flow_tau)
        self.velocity_tau = float(velocity_tau)
        self.detector_zone = float(detector_zone)
        self.stop_reach = float(stop_reach)
        self.congestion_ratios = np.asarray(congestion_ratios, dtype=np.float64)
        self.links = SignalLinks.of(net)
        n_lanes, n_edges = len(net.lane_ids), len(net.edge_ids)
        self._zones: MapMatcher | None = None
        if len(self.links.zone_lanes):
            mask = np.zeros(n_lanes, dtype=np.bool_)
            mask[self.links.zone_lanes] = True
            self._zones = MapMatcher(net, lanes=mask, radius=pedestrian_radius)
        self._zone_of_lane = np.full(n_lanes, -1, dtype=np.int64)
        self._zone_of_lane[self.links.zone_lanes] = np.arange(len(self.links.zone_lanes))
        lanes_per_edge = np.maximum(np.bincount(net.lane_edge, minlength=n_edges), 1)
        self.edge_length = edge_sums(net.lane_edge, n_edges, net.lane_length) / lanes_per_edge
        edge_speed = edge_sums(net.lane_edge, n_edges, net.lane_speed) / lanes_per_edge
        self.free_time = self.edge_length / np.maximum(edge_speed, 0.1)
        # bus stops and parking areas: where a standing vehicle is no incident (CSR by lane)
        lanes = np.concatenate([net.stop_lane, net.parking_lane])
        order = np.argsort(lanes, kind="stable")
        self._bay_start = np.concatenate([net.stop_start, net.parking_start])[order]
        self._bay_end = np.concatenate([net.stop_end, net.parking_end])[order]
        self._bay_off = np.zeros(n_lanes + 1, dtype=np.int64)
        np.cumsum(np.bincount(lanes, minlength=n_lanes), out=self._bay_off[1:])
        self._mem = _Memory()
        self._t = float("nan")
        self._flow = np.zeros(n_lanes)
        self._last_entry = np.full(n_lanes, -np.inf)
        self._travel = self.free_time.copy()

    def update(self, t: float, tracks: StructArray, signals: npt.NDArray[np.str_] | None = None) -> PictureState:
        """The picture at time ``t``.

        Parameters
        ----------
        t
            Time of the tracks, s (increasing from call to call).
        tracks
            ``TRACK_DTYPE`` rows, (n,).
        signals
            (K,) link states (:mod:`fusion.signals`), or None: no red-light and pedestrian
            events.
        """
        net = self.net
        n_lanes, n_edges = len(net.lane_ids), len(net.edge_ids)
        dt = t - self._t if np.isfinite(self._t) else float("nan")
        ids = tracks["track_id"].astype(np.int64)
        xy = np.empty((len(tracks), 2))
        xy[:, 0] = tracks["x"]
        xy[:, 1] = tracks["y"]
        known, pos = self._mem.recall(ids)
        v = np.empty((len(tracks), 2))
        v[:, 0] = tracks["vx"]
        v[:, 1] = tracks["vy"]
        if np.isfinite(dt) and dt > 0 and len(self._mem.ids):
            a = 1.0 - np.exp(-dt / self.velocity_tau)
            v[known] = self._mem.velocity[pos[known]] + a * (v[known] - self._mem.velocity[pos[known]])
        speed = np.hypot(v[:, 0], v[:, 1])
        heading = np.where(speed > 1.0, np.arctan2(v[:, 1], v[:, 0]), np.nan)
        walker = tracks["cls"] == PEDESTRIAN
        m = self.matcher.match(xy, heading)
        lane = np.where(walker, -1, m.lane)
        on = lane >= 0
        cls = np.minimum(tracks["cls"], len(CLASS_LENGTH) - 1)
        length = np.where(tracks["length"] > 0, tracks["length"], CLASS_LENGTH[cls])
        states, q_on = lane_aggregates(lane[on], m.dist_to_stop[on], speed[on], length[on], net.lane_length, self.queue)
        queued = np.zeros(len(tracks), dtype=np.bool_)
        queued[on] = q_on
        prev_lane = np.where(known, self._mem.lane[pos] if len(self._mem.ids) else -1, -1)
        prev_dist = np.where(known, self._mem.dist[pos] if len(self._mem.ids) else np.nan, np.nan)
        # stop-line crossings: left a lane close to its stop line for another lane
        crossed = (
            on
            & (prev_lane >= 0)
            & (prev_dist <= self.stop_reach)
            & (lane != prev_lane)
            & ((net.lane_edge[lane] != net.lane_edge[np.maximum(prev_lane, 0)]) | net.lane_internal[lane])
        )
        crossings = np.bincount(prev_lane[crossed], minlength=n_lanes)
        if np.isfinite(dt) and dt > 0:
            a = 1.0 - np.exp(-dt / self.flow_tau)
            self._flow += a * (crossings / dt - self._flow)
        entered = on & (m.dist_to_stop <= self.detector_zone)
        entered &= ~known | (prev_lane != lane) | ~(prev_dist <= self.detector_zone)
        self._last_entry[lane[entered]] = t
        states["flow"] = self._flow
        states["gap_s"] = t - self._last_entry
        edges = self._edges(lane[on], speed[on], dt, n_edges)
        found, timers = self._events(
            t, ids, xy, speed, heading, lane, m, queued, walker, known, pos, crossed, prev_lane, signals
        )
        self._remember(ids, lane, m.dist_to_stop, v, timers)
        self._t = t
        return PictureState(
            t=t,
            tracks=tracks,
            lane=lane,
            s=np.where(walker, np.nan, m.s),
            dist_to_stop=np.where(walker, np.nan, m.dist_to_stop),
            lateral=np.where(walker, np.nan, m.lateral),
            queued=queued,
            lanes=states,
            edges=edges,
            events=found,
        )

    # -- parts -------------------------------------------------------------------------------

    def _edges(self, lane: IntArray, speed: FloatArray, dt: float, n_edges: int) -> StructArray:
        edge = self.net.lane_edge[lane]
        count = np.bincount(edge, minlength=n_edges)
        total = np.bincount(edge, weights=speed, minlength=n_edges)
        out = np.zeros(n_edges, dtype=EDGE_STATE_DTYPE)
        out["count"] = count
        mean = np.full(n_edges, np.nan)
        busy = count > 0
        mean[busy] = total[busy] / count[busy]
        out["speed"] = mean
        now = np.where(busy, self.edge_length / np.maximum(np.nan_to_num(mean), 0.5), self.free_time)
        now = np.minimum(now, 20.0 * self.free_time)
        a = 1.0 - np.exp(-dt / self.travel_time_tau) if np.isfinite(dt) and dt > 0 else 1.0
        self._travel += a * (now - self._travel)
        out["travel_time"] = self._travel
        out["free_time"] = self.free_time
        out["congestion"] = np.searchsorted(self.congestion_ratios, self._travel / self.free_time, side="right")
        return out

    def _at_bay(self, lane: IntArray, s: FloatArray) -> BoolArray:
        """(n,) tracks inside a bus stop or parking area of their lane (5 m of slack)."""
        out = np.zeros(len(lane), dtype=np.bool_)
        on = np.flatnonzero(lane >= 0)
        owner, bay = ragged_ranges(self._bay_off[lane[on]], self._bay_off[lane[on] + 1])
        inside = (s[on][owner] >= self._bay_start[bay] - 5.0) & (s[on][owner] <= self._bay_end[bay] + 5.0)
        out[on[owner[inside]]] = True
        return out

    def _events(
        self,
        t: float,
        ids: IntArray,
        xy: FloatArray,
        speed: FloatArray,
        heading: FloatArray,
        lane: IntArray,
        m: Match,
        queued: BoolArray,
        walker: BoolArray,
        known: BoolArray,
        pos: IntArray,
        crossed: BoolArray,
        prev_lane: IntArray,
        signals: npt.NDArray[np.str_] | None,
    ) -> tuple[StructArray, tuple[FloatArray, FloatArray, FloatArray, IntArray]]:
        """Events raised now, and the per-track timers (still, wrong, fast since; raised bits)."""
        net, r, mem = self.net, self.rules, self._mem
        n = len(ids)
        have = len(mem.ids) > 0

        def carried(col: FloatArray) -> FloatArray:
            return np.where(known, col[pos] if have else np.nan, np.nan)

        raised = np.where(known, mem.raised[pos] if have else 0, 0).astype(np.int64)
        on = lane >= 0
        s, lane_heading, lateral = m.s, m.lane_heading, m.lateral
        found: list[StructArray] = []
        # stopped vehicle: halting on a road, not queued, not at a stop or parking bay
        normal = on & ~net.lane_internal[np.maximum(lane, 0)]
        still_cond = normal & (speed < r.halt_speed) & ~queued & ~self._at_bay(lane, s)
        still = ev.lasting(still_cond, carried(mem.still), t)
        due, raised = ev.raise_once(ev.STOPPED, still_cond, still, r.stopped_after, raised, t)
        found.append(ev.rows(ev.STOPPED, t, np.flatnonzero(due), ids, lane, xy, t - still, 3))
        # wrong way: against the matched lane; on a two-way road the heading-aware match picks
        # the other carriageway, so tracks far off their lane's centre are checked geometrically
        moving = on & (speed > r.wrong_way_speed)
        against = moving & (np.cos(heading - lane_heading) < r.wrong_way_cos)
        width = net.lane_width[np.maximum(lane, 0)]
        off_lane = np.flatnonzero(moving & ~against & (np.abs(lateral) > 0.5 * width + 0.5))
        if len(off_lane):
            g = self.matcher.match(xy[off_lane])
            against[off_lane] = (g.lane >= 0) & (np.cos(heading[off_lane] - g.lane_heading) < r.wrong_way_cos)
        wrong = ev.lasting(against, carried(mem.wrong), t)
        due, raised = ev.raise_once(ev.WRONG_WAY, against, wrong, r.wrong_way_after, raised, t)
        found.append(ev.rows(ev.WRONG_WAY, t, np.flatnonzero(due), ids, lane, xy, speed, 5))
        # speeding over the matched lane's limit
        limit = net.lane_speed[np.maximum(lane, 0)] * (1.0 + r.speeding_margin[0]) + r.speeding_margin[1]
        over = on & (speed > limit)
        fast = ev.lasting(over, carried(mem.fast), t)
        due, raised = ev.raise_once(ev.SPEEDING, over, fast, r.speeding_after, raised, t)
        found.append(ev.rows(ev.SPEEDING, t, np.flatnonzero(due), ids, lane, xy, speed, 2))
        if signals is not None and len(signals) == len(net.link_group):
            red = np.isin(signals, RED)
            green = np.isin(signals, GREEN)
            protected = signals == "G"
            # red light: crossed a stop line whose movement (or, unknown, every movement) is red
            who = np.flatnonzero(crossed)
            link = self.links.movement_link(prev_lane[who], lane[who], len(net.lane_ids))
            bad = np.where(link >= 0, red[np.maximum(link, 0)], self.links.all_red_from(red)[prev_lane[who]])
            found.append(ev.rows(ev.RED_LIGHT, t, who[bad], ids, prev_lane, xy, speed, 4))
            # pedestrian in a vehicle path or on a crosswalk while a conflicting movement is green
            walkers = np.flatnonzero(walker)
            conflict = np.zeros(n, dtype=np.bool_)
            if len(walkers) and self._zones is not None:
                zl = self._zones.match(xy[walkers]).lane
                zone = np.where(zl >= 0, self._zone_of_lane[np.maximum(zl, 0)], -1)
                hot = self.links.zone_green(green, protected)
                conflict[walkers] = (zone >= 0) & hot[np.maximum(zone, 0)]
            zero = np.full(n, t)
            due, raised = ev.raise_once(ev.PEDESTRIAN, conflict, zero, 0.0, raised, t)
            zlane = np.full(n, -1, dtype=np.int64)
            found.append(ev.rows(ev.PEDESTRIAN, t, np.flatnonzero(due), ids, zlane, xy, np.zeros(n), 5))
        return np.concatenate(found), (still, wrong, fast, raised)

    def _remember(
        self,
        ids: IntArray,
        lane: IntArray,
        dist: FloatArray,
        velocity: FloatArray,
        timers: tuple[FloatArray, FloatArray, FloatArray, IntArray],
    ) -> None:
        """Store this tick's per-track memory, sorted by id."""
        mem = self._mem
        order = np.argsort(ids)
        mem.ids = ids[order]
        mem.lane = lane[order]
        mem.dist = dist[order]
        mem.velocity = velocity[order]
        still, wrong, fast, raised = timers
        mem.still, mem.wrong, mem.fast, mem.raised = still[order], wrong[order], fast[order], raised[order]
