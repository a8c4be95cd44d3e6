"""``xj codec``: decode and encode standard V2X messages by hand.

``xj codec decode --std {csae,j2735} [--frame rsu] HEX_OR_FILE`` prints the message(s) as JSON
in the standard's own field names and units (:mod:`codec.jsonview`); ``--platform`` prints the
contract messages instead. ``xj codec encode --std ... JSON_OR_FILE`` reads that JSON back and
prints the UPER (or RSU frame) bytes as hex, or writes them raw with ``--out``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from codec import api, jsonview, schema
from codec.errors import CodecError
from codec.frame import decode_rsu_frame, encode_rsu_frame

_HEX = re.compile(r"^(0x)?[0-9a-fA-F\s]+$")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``codec decode`` and ``codec encode`` to the ``xj`` command."""
    p = sub.add_parser("codec", help="decode/encode standard V2X messages (CSAE Day-1, SAE J2735; UPER)")
    cmds = p.add_subparsers(dest="codec_command", metavar="SUBCOMMAND", required=True)

    d = cmds.add_parser("decode", help="UPER (hex text or a file) -> JSON in the standard's field names and units")
    _common(d)
    d.add_argument("data", metavar="HEX_OR_FILE", help="hex text, or a file of hex text or raw bytes ('-': stdin)")
    d.add_argument("--platform", action="store_true", help="print the contract (protobuf) messages instead")
    d.add_argument(
        "--ref-ms",
        type=int,
        default=None,
        help="reference UTC time (ms since the epoch) for partial times; default: the frame's, else now",
    )
    d.set_defaults(func=_decode)

    e = cmds.add_parser("encode", help="JSON (as `decode` prints it) -> UPER, printed as hex")
    _common(e)
    e.add_argument("data", metavar="JSON_OR_FILE", help="JSON text, or a file of it ('-': stdin)")
    e.add_argument("--out", type=Path, default=None, help="write the raw bytes to this file instead of printing hex")
    e.set_defaults(func=_encode)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--std", required=True, choices=schema.STANDARDS, help="message set: csae (YD/T 3709) or j2735")
    p.add_argument("--frame", choices=["rsu"], default=None, help="the input is an RSU-to-centre frame (csae)")


def _fail(text: str) -> int:
    print(f"xj: error: {text}", file=sys.stderr)
    return 2


def _is_file(arg: str) -> bool:
    try:
        return Path(arg).is_file()
    except OSError:  # e.g. a long hex string is no valid file name
        return False


def _read(arg: str) -> bytes:
    if arg == "-":
        return sys.stdin.buffer.read()
    return Path(arg).read_bytes() if _is_file(arg) else arg.encode()


def _bytes_of(blob: bytes, arg: str) -> bytes:
    try:
        text = blob.decode("ascii")
    except UnicodeDecodeError:
        return blob  # a raw binary file
    if _HEX.match(text):
        digits = "".join(text.removeprefix("0x").split())
        if len(digits) % 2 == 0:
            return bytes.fromhex(digits)
        if not _is_file(arg):
            raise CodecError(f"{len(digits)} hex digits: give whole bytes (an even number)", reason="malformed")
    if _is_file(arg):
        return blob
    raise CodecError(f"{arg!r} is neither hex text nor a file; give hex digits or a path", reason="malformed")


def _decode(args: argparse.Namespace) -> int:
    try:
        data = _bytes_of(_read(args.data), args.data)
        ref = None if args.ref_ms is None else args.ref_ms * 1_000_000
        msgs = api.decode(args.std, data, frame=args.frame, ref_ns=ref)
        if args.platform:
            out: Any = [
                {"type": type(p).__name__, **json_format.MessageToDict(p, preserving_proto_field_name=True)}
                for m in msgs
                for p in m.platform
            ]
        elif args.frame:
            frame = decode_rsu_frame(data)
            out = {"rsuId": frame.rsu_id, "utcMs": frame.utc_ms, "messages": [jsonview.message_json(m) for m in msgs]}
        else:
            out = jsonview.message_json(msgs[0])
    except (CodecError, OSError) as exc:
        return _fail(str(exc))
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def _encode(args: argparse.Namespace) -> int:
    try:
        obj = json.loads(_read(args.data))
    except (OSError, ValueError) as exc:
        return _fail(f"{args.data!r} is not JSON text or a file of it ({exc})")
    try:
        if args.frame:
            if not isinstance(obj, dict) or not {"rsuId", "utcMs", "messages"} <= set(obj):
                raise CodecError('an RSU frame is {"rsuId": ..., "utcMs": ..., "messages": [...]}', reason="frame")
            messages = [api.encode_raw(args.std, *jsonview.message_from_json(args.std, m)) for m in obj["messages"]]
            data = encode_rsu_frame(str(obj["rsuId"]), int(obj["utcMs"]), messages)
        else:
            data = api.encode_raw(args.std, *jsonview.message_from_json(args.std, obj))
        if args.out is not None:
            args.out.write_bytes(data)
            return 0
    except (CodecError, OSError, ValueError, TypeError) as exc:
        return _fail(str(exc))
    print(data.hex())
    return 0
