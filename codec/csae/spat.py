"""CSAE SPAT <-> ``pb.Spat`` (one per intersection).

Time: an intersection's time is its own ``moy``/``timeStamp`` or else the message's, resolved
against the reference time; countdown TimeMarks (0.1 s) are relative to it, UTC-timing
TimeMarks are 0.1 s within the hour. Each phase's *current* state (the one that started last,
normally ``startTime`` 0) becomes one ``SignalGroupState`` with ``group_id`` = phase id; later
states of the phase are not represented in the contract. A missing min/max end is 0 (unknown).
"""

from __future__ import annotations

from typing import Any

from codec import ids, signals, timebase
from codec.message import Context
from proto import pb

_TENTH_NS = timebase.NS_PER_S // 10


def _ends(timing: tuple[str, dict[str, Any]], t0: int) -> tuple[int, dict[str, int]]:
    """(start ns, {"min", "max", "likely": ns or 0}) of one PhaseState timing."""
    kind, t = timing
    if kind == "counting":

        def at(key: str) -> int:
            v = t.get(key)
            return 0 if v is None or v >= timebase.TIMEMARK_UNKNOWN else t0 + v * _TENTH_NS

        start = t0 + t["startTime"] * _TENTH_NS
        return start, {"min": at("minEndTime"), "max": at("maxEndTime"), "likely": at("likelyEndTime")}

    def utc(key: str) -> int:
        v = t.get(key)
        return 0 if v is None else timebase.from_timemark(v, t0)

    return utc("startUTCTime"), {"min": utc("minEndUTCTime"), "max": utc("maxEndUTCTime"),
                                 "likely": utc("likelyEndUTCTime")}  # fmt: skip


def _group(phase: dict[str, Any], t0: int) -> pb.SignalGroupState:
    states = []
    for state in phase["phaseStates"]:
        start, ends = _ends(state["timing"], t0) if "timing" in state else (t0, {})
        states.append((start, ends, state))
    started = [s for s in states if s[0] <= t0]
    start, ends, state = max(started, key=lambda s: s[0]) if started else min(states, key=lambda s: s[0])
    conf = state["timing"][1].get("timeConfidence") if "timing" in state else None
    return pb.SignalGroupState(
        group_id=phase["id"],
        state=signals.CSAE_LIGHT[state["light"]],
        min_end_ns=ends.get("min", 0),
        max_end_ns=ends.get("max", 0),
        likely_end_ns=ends.get("likely", 0),
        confidence_pct=0 if conf is None else conf // 2,
    )


def to_platform(raw: dict[str, Any], ctx: Context) -> tuple[pb.Spat, ...]:
    """SPAT value -> one ``pb.Spat`` per IntersectionState."""
    return signals.spats(
        raw["intersections"],
        "intersectionId",
        lambda i: timebase.from_moy_ms(
            i.get("moy", raw.get("moy")), i.get("timeStamp", raw.get("timeStamp")), ctx.ref_ns
        ),
        lambda i, t0: [_group(p, t0) for p in i["phases"]],
    )


def _counting(g: pb.SignalGroupState, t0: int) -> dict[str, int]:
    def rel(t: int) -> int:
        return timebase.to_tenths_after(t, t0)

    likely = g.likely_end_ns or g.max_end_ns or g.min_end_ns
    out = {"startTime": 0, "likelyEndTime": rel(likely) if likely else timebase.TIMEMARK_UNKNOWN}
    if g.min_end_ns:
        out["minEndTime"] = rel(g.min_end_ns)
    if g.max_end_ns:
        out["maxEndTime"] = rel(g.max_end_ns)
    if g.confidence_pct:
        out["timeConfidence"] = min(200, 2 * g.confidence_pct)
    return out


def from_platform(msg: pb.Spat, ctx: Context) -> dict[str, Any]:
    """``pb.Spat`` -> SPAT value with one IntersectionState (time at the message level).

    The program, phase index and link state of the contract have no place in SPAT. Each group
    becomes a phase with its current state counting down from ``timestamp_ns`` (0.1 s).

    Raises
    ------
    CodecError
        When the junction id is not a node reference (``"<id>"`` or ``"<region>-<id>"``).
    """
    t0 = msg.timestamp_ns - msg.timestamp_ns % timebase.NS_PER_MS  # what the receiver will read
    return {
        "msgCnt": ctx.msg_count,
        "moy": timebase.moy_of(t0),
        "timeStamp": timebase.ms_of_minute(t0),
        "intersections": [
            {
                "intersectionId": ids.node_ref(msg.junction_id, "Spat.junction_id"),
                "status": signals.status_of(msg.mode),
                "phases": [
                    {
                        "id": g.group_id,
                        "phaseStates": [
                            {"light": signals.csae_light(g.state), "timing": ("counting", _counting(g, t0))}
                        ],
                    }
                    for g in msg.groups
                ],
            }
        ],
    }
