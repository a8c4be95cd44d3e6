"""One way to wrap a per-vehicle answer (speed, route, priority, parking) in a ``pb.Advisory``."""

from __future__ import annotations

from typing import Any

from proto import pb


def advisory(advisory_id: str, vehicle_id: str, now_ns: int, expiry_s: float, **body: Any) -> pb.Advisory:
    """A ``pb.Advisory`` issued at ``now_ns`` that expires ``expiry_s`` later; ``body`` is its one kind.

    Parameters
    ----------
    body
        Exactly one of ``speed``, ``route``, ``priority``, ``hazard``, ``parking`` (the message).
    """
    return pb.Advisory(
        advisory_id=advisory_id,
        vehicle_id=vehicle_id,
        issued_ns=now_ns,
        expires_ns=now_ns + round(expiry_s * 1e9),
        **body,
    )
