"""The project's own versioned map format (``.xjmap``).

A ``.xjmap`` file is a zip archive (numpy ``.npz``) holding one array per field of
:class:`RoadNetwork` and a ``__meta__`` JSON document with the format name, its version and the
scalar fields. Loading checks the format and version; saving and loading round-trip exactly.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from roadnet.errors import MapError
from roadnet.model import RoadNetwork

FORMAT = "xiangjiang-map"
VERSION = 1
SUFFIX = ".xjmap"


def save_map(net: RoadNetwork, path: str | Path) -> Path:
    """Write ``net`` to ``path`` (any name; ``.xjmap`` by convention) and return the path."""
    p = Path(path)
    arrays: dict[str, Any] = {}
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "fields": {}}
    for f in fields(net):
        v = getattr(net, f.name)
        if isinstance(v, np.ndarray):
            arrays[f.name] = v
        elif isinstance(v, list):
            arrays["s:" + f.name] = np.array(v, dtype=np.str_) if v else np.zeros(0, dtype="<U1")
        else:
            meta["fields"][f.name] = list(v) if isinstance(v, tuple) else v
    arrays["__meta__"] = np.array(json.dumps(meta))
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("wb") as fh:
        np.savez_compressed(fh, **arrays)
    return p


def load_map(path: str | Path) -> RoadNetwork:
    """Read a ``.xjmap`` file.

    Raises
    ------
    MapError
        When the file is missing, not a map, of a newer version, or lacks a field.
    """
    p = Path(path)
    src = str(p)
    if not p.exists():
        raise MapError(src, "file not found")
    if not zipfile.is_zipfile(p):
        raise MapError(src, "not a Xiangjiang map (.xjmap) file")
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise MapError(src, f"unreadable map archive: {exc}") from None
    if "__meta__" not in data:
        raise MapError(src, "not a Xiangjiang map: no __meta__ entry")
    meta = json.loads(str(data["__meta__"]))
    if meta.get("format") != FORMAT:
        raise MapError(src, f"format is {meta.get('format')!r}, expected {FORMAT!r}")
    if int(meta.get("version", 0)) > VERSION:
        raise MapError(src, f"map format version {meta['version']} is newer than this software's {VERSION}")
    net = RoadNetwork()
    for f in fields(net):
        if f.name in meta["fields"]:
            v = meta["fields"][f.name]
            setattr(net, f.name, tuple(v) if isinstance(getattr(net, f.name), tuple) else v)
        elif f.name in data:
            setattr(net, f.name, data[f.name])
        elif "s:" + f.name in data:
            setattr(net, f.name, [str(x) for x in data["s:" + f.name].tolist()])
        else:
            raise MapError(src, f"field {f.name!r} missing from the map")
    return net


def load_any(path: str | Path, additional: list[str] | None = None) -> RoadNetwork:
    """Load a saved map or a SUMO network (with additional files), by content."""
    from roadnet.sumo import load_sumo

    p = Path(path)
    if p.exists() and zipfile.is_zipfile(p):
        if additional:
            raise MapError(str(p), "--additional files apply to SUMO networks, not to a saved map")
        return load_map(p)
    return load_sumo(p, additional or [])
