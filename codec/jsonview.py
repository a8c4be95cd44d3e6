"""Messages as JSON in the standard's own field names and units (X.697 JER), and back.

CSAE: the MessageFrame, e.g. ``{"spatFrame": {...}}``. J2735: ``{"messageId": 19, "value":
{"SPAT": {...}}}``, open types named by their type as in XER (BSM part II values too; one this
subset cannot read stays a hex string). An RSU frame: ``{"rsuId", "utcMs", "messages": [...]}``.
OCTET STRINGs and BIT STRINGs are hex; CHOICEs are ``{"alternative": value}``.
"""

from __future__ import annotations

import copy
from typing import Any

from codec import csae, j2735, schema
from codec.errors import CodecError
from codec.j2735 import bsm as j2735_bsm
from codec.message import DecodedMessage


def message_json(m: DecodedMessage) -> Any:
    """One decoded message -> its JSON form."""
    if m.std == "csae":
        return schema.to_jer("csae", "MessageFrame", (csae.FRAME_OF[m.msg_type], m.raw))
    name = j2735.type_name(m.msg_type)
    raw = m.raw
    names: list[str | None] = []
    if m.msg_type == "BSM":
        raw = copy.copy(raw)
        parts = []
        for part in m.raw.get("partII", ()):
            value = part["partII-Value"]
            names.append(j2735_bsm.PART_II_TYPES[part["partII-Id"]] if isinstance(value, dict) else None)
            parts.append({**part, "partII-Value": b"" if isinstance(value, dict) else value})
        if parts:
            raw["partII"] = parts
    body = schema.to_jer("j2735", name, raw)
    for i, type_name in enumerate(names):
        if type_name is not None:
            value = m.raw["partII"][i]["partII-Value"]
            body["partII"][i]["partII-Value"] = {type_name: schema.to_jer("j2735", type_name, value)}
    return {"messageId": j2735.ID_OF[m.msg_type], "value": {name: body}}


def _one_key(obj: Any, what: str) -> tuple[str, Any]:
    if not isinstance(obj, dict) or len(obj) != 1:
        raise CodecError(f"{what}: expected an object with exactly one member", reason="malformed", field=what)
    ((k, v),) = obj.items()
    return k, v


def message_from_json(std: str, obj: Any) -> tuple[str, dict[str, Any]]:
    """JSON form of one message -> ``(message type, value)`` for :func:`codec.encode_raw`.

    Raises
    ------
    CodecError
        When the JSON is not a message of ``std`` in the form :func:`message_json` writes.
    """
    if schema.check_std(std) == "csae":
        alt, _ = _one_key(obj, "MessageFrame")
        if alt not in csae.FRAMES:
            raise CodecError(
                f"MessageFrame: {alt!r} is not one of {', '.join(csae.FRAMES)}",
                reason="wrong_type",
                field="MessageFrame",
            )
        alt, raw = schema.from_jer("csae", "MessageFrame", obj)
        return csae.FRAMES[alt], raw
    if not isinstance(obj, dict) or set(obj) != {"messageId", "value"}:
        raise CodecError('MessageFrame: expected {"messageId": ..., "value": {TYPE: ...}}', reason="malformed")
    msg_id = obj["messageId"]
    if msg_id not in j2735.MESSAGES:
        raise CodecError(
            f"MessageFrame.messageId: {msg_id!r} is not one of {sorted(j2735.MESSAGES)}", reason="wrong_type"
        )
    msg_type, name = j2735.MESSAGES[msg_id]
    key, body = _one_key(obj["value"], "MessageFrame.value")
    if key != name:
        raise CodecError(f"MessageFrame.value: messageId {msg_id} holds a {name}, not {key}", reason="wrong_type")
    inner: dict[int, Any] = {}
    if msg_type == "BSM" and isinstance(body, dict):
        body = copy.deepcopy(body)
        for i, part in enumerate(body.get("partII", ())):
            if isinstance(part, dict) and isinstance(part.get("partII-Value"), dict):
                type_name, value = _one_key(part["partII-Value"], f"BasicSafetyMessage.partII[{i}].partII-Value")
                inner[i] = schema.from_jer("j2735", type_name, value)
                part["partII-Value"] = ""
    raw = schema.from_jer("j2735", name, body)
    for i, value in inner.items():
        raw["partII"][i]["partII-Value"] = value
    return msg_type, raw
