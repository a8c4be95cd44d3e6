"""The versioned MQTT topic tree of the contract.

One sender id per topic level, so a broker ACL can pin a device to its own topics
(``%u`` patterns in ``deploy/mosquitto``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

ROOT: Final = "v2x/v1"

#: (device kind, channel, direction) triples the contract defines.
CHANNELS: Final[frozenset[tuple[str, str, str]]] = frozenset(
    {
        ("rsu", "perception", "up"),
        ("lamp", "perception", "up"),
        ("lamp", "parking", "up"),
        ("lamp", "status", "up"),
        ("obu", "bsm", "up"),
        ("obu", "srm", "up"),
        ("obu", "advisory", "down"),
        ("tsc", "spat", "up"),
        ("tsc", "command", "down"),
        ("rsu", "spat", "down"),
        ("rsu", "map", "down"),
        ("rsu", "rsi", "down"),
        ("rsu", "frame", "up"),  # a vendor RSU-to-centre binary frame (standard V2X messages)
    }
)

_FORBIDDEN = set("/+#\x00")


class TopicError(ValueError):
    """A topic that is not part of the contract; the message says which level is wrong."""


def topic(kind: str, device_id: str, channel: str, direction: str) -> str:
    """Build a contract topic, e.g. ``topic("rsu", "r12", "perception", "up")``.

    Raises
    ------
    TopicError
        If the triple is not in :data:`CHANNELS` or the id holds ``/``, ``+``, ``#`` or NUL.
    """
    if (kind, channel, direction) not in CHANNELS:
        raise TopicError(f"no channel {kind}/{{id}}/{channel}/{direction} in the topic tree")
    if not device_id or _FORBIDDEN & set(device_id):
        raise TopicError(f"device id {device_id!r} is empty or holds one of / + # NUL")
    return f"{ROOT}/{kind}/{device_id}/{channel}/{direction}"


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed contract topic."""

    kind: str
    device_id: str
    channel: str
    direction: str


def parse(name: str) -> Topic:
    """Parse a topic name of the tree.

    Raises
    ------
    TopicError
        When the name does not have the form ``v2x/v1/{kind}/{id}/{channel}/{up|down}`` of a
        known channel.
    """
    parts = name.split("/")
    if len(parts) != 6 or f"{parts[0]}/{parts[1]}" != ROOT:
        raise TopicError(f"topic {name!r} is not of the form {ROOT}/{{kind}}/{{id}}/{{channel}}/{{dir}}")
    t = Topic(parts[2], parts[3], parts[4], parts[5])
    if (t.kind, t.channel, t.direction) not in CHANNELS:
        raise TopicError(f"topic {name!r}: no channel {t.kind}/{{id}}/{t.channel}/{t.direction}")
    if not t.device_id:
        raise TopicError(f"topic {name!r}: empty device id")
    return t


def subscription(kind: str, channel: str, direction: str = "up", share: str | None = None) -> str:
    """Wildcard subscription for one channel of all devices of a kind.

    ``share`` gives an MQTT 5 shared subscription (``$share/{share}/...``) for scale-out workers.
    """
    base = f"{ROOT}/{kind}/+/{channel}/{direction}"
    return f"$share/{share}/{base}" if share else base
