"""J2735 SPaT <-> ``pb.Spat`` (one per intersection).

An intersection's time is its ``moy`` (else the message ``timeStamp``) and ``timeStamp`` (ms of
the minute), resolved against the reference time. For each movement the first MovementEvent is
the current one; its TimeMarks (0.1 s within the UTC hour) are resolved to the instance nearest
that time, so they must lie within half an hour of it. ``minEndTime`` 36001 (unknown) and
absent max/likely times are 0 in the contract. TimeIntervalConfidence maps to percent by the
standard's table.
"""

from __future__ import annotations

from typing import Any

from codec import ids, signals, timebase
from codec.message import Context
from proto import pb


def _group(movement: dict[str, Any], t0: int) -> pb.SignalGroupState:
    event = movement["state-time-speed"][0]
    timing = event.get("timing", {})

    def at(key: str) -> int:
        return timebase.from_timemark(timing[key], t0) if key in timing else 0

    conf = timing.get("confidence")
    return pb.SignalGroupState(
        group_id=movement["signalGroup"],
        state=signals.J2735_LIGHT[event["eventState"]],
        min_end_ns=at("minEndTime"),
        max_end_ns=at("maxEndTime"),
        likely_end_ns=at("likelyTime"),
        confidence_pct=0 if conf is None else signals.J2735_CONFIDENCE_PCT[conf],
    )


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.Spat, ...]:
    """SPAT value -> one ``pb.Spat`` per IntersectionState."""
    return signals.spats(
        raw["intersections"],
        "id",
        lambda i: timebase.from_moy_ms(i.get("moy", raw.get("timeStamp")), i.get("timeStamp"), ctx.ref_ns),
        lambda i, t0: [_group(m, t0) for m in i["states"]],
    )


def _timing(g: pb.SignalGroupState) -> dict[str, int]:
    out = {"minEndTime": timebase.to_timemark(g.min_end_ns)}
    if g.max_end_ns:
        out["maxEndTime"] = timebase.to_timemark(g.max_end_ns)
    if g.likely_end_ns:
        out["likelyTime"] = timebase.to_timemark(g.likely_end_ns)
    if g.confidence_pct:
        out["confidence"] = signals.j2735_confidence(g.confidence_pct)
    return out


def from_platform(msg: pb.Spat, ctx: Context) -> dict[str, Any]:
    """``pb.Spat`` -> SPAT value with one IntersectionState (``revision`` = the message count).

    Raises
    ------
    CodecError
        When the junction id is not a node reference or a state is not a LightState.
    """
    t = msg.timestamp_ns
    return {
        "timeStamp": timebase.moy_of(t),
        "intersections": [
            {
                "id": ids.node_ref(msg.junction_id, "Spat.junction_id"),
                "revision": ctx.msg_count,
                "status": signals.status_of(msg.mode),
                "moy": timebase.moy_of(t),
                "timeStamp": timebase.ms_of_minute(t),
                "states": [
                    {
                        "signalGroup": g.group_id,
                        "state-time-speed": [{"eventState": signals.j2735_phase_state(g.state), "timing": _timing(g)}],
                    }
                    for g in msg.groups
                ],
            }
        ],
    }
