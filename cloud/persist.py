"""What the platform keeps in the store, off the hot path: one ``try_write`` per table per tick.

The writer (``store.StoreWriter``) queues, COPYs in its own thread and spools during outages;
a full queue drops (counted by the writer, never blocking a tick). Lane states are kept at 1 Hz,
signal states when a controller's SPaT changes, events when they start or change.

With the trust stage wired (``trust``), every vehicle id the sink sees is already a pseudonym
(ingest replaced it): it is stored as ``vehicle_pseudonym`` as it is, and the sealed vault
records of pseudonyms first seen this tick go to ``pseudonym_vault`` in the same tick. The audit
trail is not written here: it is a hash chain with its own appender (:class:`store.AuditWriter`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cloud.core import TickResult
from cloud.standins import OVERRIDE_KINDS
from cloud.trustwiring import PlatformTrust
from ingest import Batch
from proto import pb, units
from roadnet.model import RoadNetwork
from store import Offer, StoreWriter
from store.rows import advisory_rows, spat_rows
from store.schema import PSEUDONYM

LOG = logging.getLogger("xiangjiang.cloud.persist")


class StoreSink:
    """Turns batches and tick results into store rows.

    Parameters
    ----------
    writer
        A started store writer.
    net
        The road network (lane ids).
    region_id
        Written with tracks and lane states.
    raw_detections
        Also keep every raw detection (replay needs them).
    trust
        Gives the vault records to store; its presence means vehicle ids are pseudonyms
        already (without it, raw ids go through the writer's pseudonymiser).
    """

    def __init__(
        self,
        writer: StoreWriter,
        net: RoadNetwork,
        region_id: str,
        *,
        raw_detections: bool = True,
        trust: PlatformTrust | None = None,
    ) -> None:
        self.writer = writer
        self.trust = trust
        self._vid = PSEUDONYM if trust is not None else "vehicle_id"
        self.net = net
        self.region_id = region_id
        self.raw_detections = raw_detections
        self._lane_ids = np.asarray(net.lane_ids, dtype=object)
        self._last_lane_s = 0.0
        self._spat_seen: dict[str, int] = {}
        self._events_seen: dict[str, bytes] = {}
        self.dropped = 0
        self.errors = 0

    def _write(self, table: str, data: Mapping[str, Any] | np.ndarray) -> None:
        try:
            if self.writer.try_write(table, data) is Offer.DROPPED:
                self.dropped += 1
        except Exception:  # a bad batch must not stop the platform; the writer logs data errors
            self.errors += 1
            LOG.exception("store: could not queue a %s batch", table)

    def offer(self, batch: Batch, result: TickResult) -> None:
        """Queue one tick's rows."""
        p = result.picture
        if self.raw_detections and len(batch.detections):
            det = batch.detections
            names = np.asarray(batch.sensors, dtype=object)
            self._write(
                "detections_raw", {**{k: det[k] for k in det.dtype.names or ()}, "sensor_id": names[det["sensor"]]}
            )
        self._vault()
        rep = batch.reports
        if len(rep):
            self._write("vehicle_reports", {**{k: rep[k] for k in rep.dtype.names or ()}, self._vid: rep["vehicle_id"]})
        tr = p.tracks
        if len(tr):
            self._write(
                "tracks",
                {
                    "time": np.full(len(tr), p.t),
                    "region_id": np.full(len(tr), self.region_id, dtype=object),
                    **{k: tr[k] for k in ("track_id", "x", "y", "vx", "vy", "length", "width", "cls")},
                    self._vid: tr["vehicle_id"],
                    "speed": np.hypot(tr["vx"], tr["vy"]),
                    "heading": np.arctan2(tr["vy"], tr["vx"]),
                    "lane_index": p.lane.astype(np.int32),
                    "dist_to_stop": p.dist_to_stop,
                },
            )
        if p.t - self._last_lane_s >= 1.0:
            self._last_lane_s = p.t
            ls = p.lanes
            n = len(ls)
            self._write(
                "lane_states",
                {
                    "time": np.full(n, p.t),
                    "region_id": np.full(n, self.region_id, dtype=object),
                    "lane_id": self._lane_ids,
                    "lane_index": np.arange(n, dtype=np.int32),
                    **{k: ls[k] for k in ls.dtype.names or ()},
                },
            )
        self._signals(p.signals)
        self._events(p.events, p.t)
        if result.advisories:
            rows = advisory_rows(result.advisories)
            rows[self._vid] = rows.pop("vehicle_id")
            self._write("advisories", rows)

    def _vault(self) -> None:
        if self.trust is None:
            return
        records = self.trust.identities.take_vault_records()
        if records:
            sealed = np.empty(len(records), dtype=object)
            sealed[:] = [r.sealed for r in records]
            self._write(
                "pseudonym_vault",
                {
                    "time": np.array([r.t for r in records]),
                    PSEUDONYM: np.array([r.pseudonym for r in records], dtype=object),
                    "sealed": sealed,
                },
            )

    def _signals(self, spat: Mapping[str, pb.Spat]) -> None:
        fresh = [s for j, s in spat.items() if self._spat_seen.get(j) != s.timestamp_ns]
        for s in fresh:
            self._spat_seen[s.junction_id] = s.timestamp_ns
        if fresh:
            self._write("signal_states", spat_rows(fresh))

    def _events(self, events: Sequence[pb.Event], t: float) -> None:
        changed = []
        for e in events:
            key = e.SerializeToString(deterministic=True)
            if self._events_seen.get(e.event_id) != key:
                self._events_seen[e.event_id] = key
                changed.append(e)
        if len(self._events_seen) > 10_000:
            live = {e.event_id for e in events}
            self._events_seen = {k: v for k, v in self._events_seen.items() if k in live}
        if not changed:
            return
        lat = units.e7_to_deg([e.lat_e7 for e in changed])
        lon = units.e7_to_deg([e.lon_e7 for e in changed])
        x, y = self.net.frame.to_local(lat, lon)
        self._write(
            "events",
            {
                "time": np.full(len(changed), t),
                "event_id": np.array([e.event_id for e in changed], dtype=object),
                "kind": np.array([e.kind for e in changed], np.int16),
                "severity": np.array([e.severity for e in changed], np.int16),
                "end_time": np.array([e.end_ns for e in changed], np.int64),
                "x": x,
                "y": y,
                "lane_id": np.array([e.lane_id for e in changed], dtype=object),
                "junction_id": np.array([e.junction_id for e in changed], dtype=object),
                "track_id": np.array([e.track_id for e in changed], np.int64),
                "description": np.array([e.description for e in changed], dtype=object),
            },
        )

    def override_request(self, record: Mapping[str, Any], command: pb.SignalCommand | None) -> None:
        """Queue one ``overrides`` row for an operator's request, accepted or not.

        ``record`` is the API's ``OverridePublic`` dict; the stored id is made unique across
        process restarts by the issue time (ms).
        """
        one = np.empty(1, dtype=object)
        one[0] = {
            "accepted": record["accepted"],
            "api_id": record["override_id"],
            "source": f"operator:{record['operator']}",
        }
        self._write(
            "overrides",
            {
                "override_id": np.array([f"{record['override_id']}@{int(record['issued'] * 1000)}"], dtype=object),
                "time": np.array([record["issued"]]),
                "junction_id": np.array([record["junction_id"]], dtype=object),
                "kind": np.array([OVERRIDE_KINDS[record["kind"]]], np.int16),
                "phase_index": np.array([record["phase_index"]], np.int32),
                "program_id": np.array([record["program_id"]], dtype=object),
                "duration_s": np.array([record["duration_s"]], np.float32),
                "expires": np.array([command.expires_ns if command is not None else 0], np.int64),
                "operator": np.array([record["operator"]], dtype=object),
                "reason": np.array([record["reason"]], dtype=object),
                "outcome": np.array([record["outcome"]], dtype=object),
                "details": one,
            },
        )
