"""Bulk receive for the ingest client: QoS 0 PUBLISH packets parsed here, everything else to paho.

paho's reader takes one packet per socket wake-up and reads it with three ``recv`` calls (the
command byte, the length byte by byte, the rest), then builds an MQTT 5 ``Properties`` object, a
message object and aiomqtt's own message for every packet (``python -m
bench.e2e_latency.profile_tick`` shows the CPU per stage); a process that falls behind leaves
messages waiting in the socket and the broker (which drops QoS 0 beyond its queue,
``max_queued_messages``).

:func:`install` replaces the paho client's ``loop_read`` (what aiomqtt's socket reader calls):
each wake-up reads what the socket holds in large chunks (at most ``max_bytes``, so one wake-up
cannot hold the event loop, and a tick due, for long), hands every complete QoS 0 PUBLISH straight to
``on_publish(topic, payload)``, and feeds every other packet (CONNACK, SUBACK, PINGRESP, PUBACK,
QoS 1/2 PUBLISH, DISCONNECT) in order to paho's own reader through its ``_sock_recv``, so
acknowledgements, keepalive and disconnects behave as before. A partial packet waits for the next
wake-up.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion

#: Bytes read per ``recv`` call: about 60 perception frames, a few ms of decoding.
CHUNK = 64 * 1024


class BulkReader:
    """The replacement ``loop_read`` of one paho client (see the module docstring).

    Parameters
    ----------
    client
        The paho client (``aiomqtt.Client._client``).
    on_publish
        Called with ``(topic, payload)`` for each QoS 0 PUBLISH, on the event loop.
    max_bytes
        Most bytes read per wake-up; the rest waits for the next (the socket stays readable).
    """

    def __init__(
        self, client: paho.Client, on_publish: Callable[[str, bytes], None], *, max_bytes: int = CHUNK
    ) -> None:
        self.client = client
        self.on_publish = on_publish
        self.max_bytes = max_bytes
        self.v5 = client.protocol == MQTTProtocolVersion.MQTTv5
        self._buf = bytearray()
        self._paho = bytearray()  # complete packets for paho's reader
        self._eof = False
        self._error: OSError | None = None

    def _sock_recv(self, bufsize: int) -> bytes:
        """paho's socket read, served from the packets set aside for it."""
        if self._paho:
            out = bytes(self._paho[:bufsize])
            del self._paho[:bufsize]
            return out
        if self._error is not None:
            raise self._error
        if self._eof:
            return b""
        raise BlockingIOError

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read what the socket holds, dispatch every complete packet; paho's return codes."""
        c = self.client
        sock = c._sock
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        got = 0
        while got < self.max_bytes:
            try:
                chunk = sock.recv(CHUNK)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            except OSError as exc:
                self._error = exc
                break
            if not chunk:
                self._eof = True
                break
            self._buf += chunk
            got += len(chunk)
            pending = getattr(sock, "pending", None)
            if len(chunk) < CHUNK and not (pending is not None and pending() > 0):
                break
        if got:
            c._last_bytes_received = paho.time_func()  # what keepalive looks at
        rc = self._dispatch()
        if rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
            return rc
        if self._eof or self._error is not None:
            # let paho see the end: its reader gets b"" or the error and handles the loss
            return self._to_paho()
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _dispatch(self) -> MQTTErrorCode:
        buf = self._buf
        n = len(buf)
        pos = 0
        v5 = self.v5
        on_publish = self.on_publish
        try:
            while n - pos >= 2:
                head = buf[pos]
                length, i = _varint(buf, pos + 1, n)  # the remaining length
                if i == _INCOMPLETE:
                    return MQTTErrorCode.MQTT_ERR_SUCCESS  # length not complete yet
                if i == _MALFORMED:  # paho says so and drops the connection
                    self._paho += buf[pos:]
                    pos = n
                    return self._to_paho()
                end = i + length
                if end > n:
                    return MQTTErrorCode.MQTT_ERR_SUCCESS  # body not complete yet
                j = _payload_start(buf, i, end, v5) if head & 0xF6 == 0x30 else -1  # PUBLISH, QoS 0
                if j >= 0:
                    topic = buf[i + 2 : i + 2 + ((buf[i] << 8) | buf[i + 1])].decode("utf-8", "replace")
                    pos = end
                    on_publish(topic, bytes(buf[j:end]))
                else:  # anything else, or a PUBLISH that does not parse: paho's to handle (or refuse)
                    self._paho += buf[pos:end]
                    pos = end
                    rc = self._to_paho()
                    if rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                        return rc
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        finally:
            del buf[:pos]

    def _to_paho(self) -> MQTTErrorCode:
        """Run paho's reader over the packets set aside for it (and the end of the stream)."""
        c = self.client
        while self._paho or self._eof or self._error is not None:
            if c._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = c._packet_read()
            if rc > 0:
                return c._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break
        return MQTTErrorCode.MQTT_ERR_SUCCESS


_INCOMPLETE = -1
_MALFORMED = -2


def _varint(buf: bytearray, i: int, end: int) -> tuple[int, int]:
    """MQTT's variable byte integer at ``i`` (1..4 bytes, 7 bits each, low first): ``(value,
    index after it)``; the index is ``_INCOMPLETE`` when it runs to ``end``, ``_MALFORMED`` when
    longer than four bytes."""
    value = 0
    shift = 0
    while True:
        if i >= end:
            return 0, _INCOMPLETE
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7
        if shift > 21:
            return 0, _MALFORMED


def _payload_start(buf: bytearray, i: int, end: int, v5: bool) -> int:
    """Where the payload of the PUBLISH whose variable header starts at ``i`` begins; -1 when the
    topic length or (MQTT 5) the property length runs past the packet's ``end``, or the topic is
    empty (MQTT 5: given by a topic alias in the properties)."""
    if i + 2 > end:
        return -1
    tlen = (buf[i] << 8) | buf[i + 1]
    j = i + 2 + tlen
    if not v5:
        return j if j <= end else -1
    if tlen == 0:  # a topic alias (never asked for): paho resolves those
        return -1
    plen, j = _varint(buf, j, end)  # the property length
    if j < 0:
        return -1
    j += plen
    return j if j <= end else -1


def install(client: paho.Client, on_publish: Callable[[str, bytes], None]) -> BulkReader:
    """Make ``client`` read through a :class:`BulkReader` (before it connects); returns the reader."""
    reader = BulkReader(client, on_publish)
    client.loop_read = reader.loop_read  # type: ignore[method-assign]
    client._sock_recv = reader._sock_recv  # type: ignore[method-assign]
    return reader
