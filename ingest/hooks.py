"""What ingest asks of the trust stage, as interfaces (``cloud`` plugs ``trust`` in).

- :class:`FrameCheck`: before decoding, is this frame's signature valid and fresh?
- :class:`VehicleIds`: before batching, the pseudonym of each vehicle id (or ``None`` when its
  owner revoked consent), so nothing after ingest sees a real vehicle id.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from proto import pb


class FrameCheck(Protocol):
    """Checks a device's frame before it is decoded."""

    def check(self, kind: str, device_id: str, payload: bytes, recv_ns: int) -> tuple[str, pb.Envelope | None]:
        """``("", envelope or None)`` when the frame may pass, else ``(reason code, ...)``.

        Codes are :class:`ingest.Reason` values (``unsigned``, ``bad_signature``, ...);
        ``malformed`` counts as ``decode_error``. A returned envelope is decoded as is (the
        payload is not parsed twice).
        """
        ...


class VehicleIds(Protocol):
    """Replaces real vehicle ids with pseudonyms."""

    def pseudonym(self, vehicle_id: str, t_ns: int) -> str | None:
        """The pseudonym of ``vehicle_id`` at ``t_ns`` (ns since the epoch); None when revoked."""
        ...

    def pseudonyms(
        self, vehicle_ids: npt.NDArray[Any], t_ns: int
    ) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.bool_]]:
        """Pseudonyms of ids, shape (N,), and the rows to keep (False: revoked)."""
        ...
