"""Comparing asn1tools values with the samples' own renderings (JSON of the CSAE decode, J2735 XER)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

#: Open types: their XER element wraps the value in an element named for its type.
OPEN_TYPES = frozenset({"value", "partII-Value"})


def to_sample_json(v: Any) -> Any:
    """asn1tools value -> the form of ``decoded_values.json`` (CHOICE as a list, bits as hex + nbits)."""
    if isinstance(v, dict):
        return {k: to_sample_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_sample_json(x) for x in v]
    if isinstance(v, tuple) and isinstance(v[0], bytes):
        return {"bits": v[0].hex(), "nbits": v[1]}
    if isinstance(v, tuple):
        return [v[0], to_sample_json(v[1])]
    if isinstance(v, bytes):
        return v.hex()
    return v


def xer_diff(v: Any, el: ET.Element, path: str = "") -> list[str]:
    """Differences between an asn1tools value and its XER element (empty list: equal)."""
    kids = list(el)
    here = path or el.tag
    if isinstance(v, dict):
        if el.tag in OPEN_TYPES:  # unwrap <value><TypeName>...</TypeName></value>
            if len(kids) != 1:
                return [f"{here}: open type holds {len(kids)} elements"]
            kids = list(kids[0])
        tags = [k.tag for k in kids]
        out = [f"{here}: {sorted(set(v) ^ set(tags))} only on one side"] if set(v) != set(tags) else []
        for k in kids:
            if k.tag in v:
                out += xer_diff(v[k.tag], k, f"{here}.{k.tag}")
        return out
    if isinstance(v, list):
        if len(v) != len(kids):
            return [f"{here}: {len(v)} items, XER {len(kids)}"]
        return [d for i, (x, k) in enumerate(zip(v, kids, strict=True)) for d in xer_diff(x, k, f"{here}[{i}]")]
    if isinstance(v, tuple) and isinstance(v[0], bytes):  # BIT STRING
        text = "".join(f"{b:08b}" for b in v[0])[: v[1]]
        return [] if text == (el.text or "").strip() else [f"{here}: bits {text} != {el.text}"]
    if isinstance(v, tuple):  # CHOICE
        if len(kids) != 1 or kids[0].tag != v[0]:
            return [f"{here}: choice {v[0]} != {[k.tag for k in kids]}"]
        return xer_diff(v[1], kids[0], f"{here}.{v[0]}")
    if isinstance(v, bool):
        return [] if [k.tag for k in kids] == [str(v).lower()] else [f"{here}: {v} != {kids}"]
    if isinstance(v, str):  # ENUMERATED (or a string)
        got = kids[0].tag if kids else (el.text or "").strip()
        return [] if got == v else [f"{here}: {v!r} != {got!r}"]
    if isinstance(v, bytes):
        return [] if v.hex() == (el.text or "").strip().lower() else [f"{here}: {v.hex()} != {el.text}"]
    return [] if str(v) == (el.text or "").strip() else [f"{here}: {v} != {el.text}"]
