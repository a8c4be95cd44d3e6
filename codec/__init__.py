"""Standard V2X messages at the platform's edge (issue 7).

Adapters between the contract (:mod:`proto`) and the standards' ASN.1 UPER messages: the
Chinese Day-1 set (YD/T 3709 / T/CSAE 53: BSM, MAP, RSM, SPAT, RSI) and SAE J2735 (BSM, SPaT,
MAP, SRM, SSM), plus the vendor RSU-to-centre frame.

For ingest (topic ``v2x/v1/rsu/{id}/frame/up``)::

    try:
        for m in codec.decode("csae", payload, frame="rsu"):
            handle(m.platform)          # pb.Bsm / pb.PerceptionFrame / pb.Spat / pb.MapData / pb.RoadsideInfo
    except codec.CodecError as err:
        count(err.reason); set_aside(payload, str(err))

For control's downlink: ``codec.encode("csae", spat)`` -> UPER bytes of a SPAT (and MAP, RSI);
``codec.encode("j2735", advisory)`` -> an SSM granting a bus's priority request.
"""

from codec.api import decode, decode_message, encode, encode_raw
from codec.errors import REASONS, CodecError
from codec.frame import RsuFrame, decode_rsu_frame, encode_rsu_frame
from codec.message import Context, DecodedMessage
from codec.schema import STANDARDS

__all__ = [
    "REASONS",
    "STANDARDS",
    "CodecError",
    "Context",
    "DecodedMessage",
    "RsuFrame",
    "decode",
    "decode_message",
    "decode_rsu_frame",
    "encode",
    "encode_raw",
    "encode_rsu_frame",
]
