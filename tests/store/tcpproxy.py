"""A TCP proxy in front of the real PostgreSQL that a test can cut and restore.

``cut()`` resets every open connection (both sides) and refuses new ones, as a crashed server or
a broken network would look to the client; ``restore()`` lets connections through again. Only
connections through the proxy are affected, so other users of the server are not.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading


class TcpProxy:
    """Forward 127.0.0.1:``port`` to ``target`` in a background thread."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._listener, selectors.EVENT_READ, None)
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._lock = threading.Lock()
        self._open = True
        self._stop = False
        self.cuts = 0
        self.sent = 0  # bytes forwarded client -> server
        self._cut_at: int | None = None
        self._thread = threading.Thread(target=self._loop, name="tcp-proxy", daemon=True)
        self._thread.start()

    def url(self, dbname: str) -> str:
        """A PostgreSQL URL for ``dbname`` through the proxy."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        if not self._open:
            _reset(client)
            return
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            _reset(client)
            return
        for s in (client, server):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._pairs[client], self._pairs[server] = server, client
        self._sel.register(client, selectors.EVENT_READ, "c")
        self._sel.register(server, selectors.EVENT_READ, "s")

    def _close_pair(self, s: socket.socket) -> None:
        with self._lock:
            peer = self._pairs.pop(s, None)
            if peer is not None:
                self._pairs.pop(peer, None)
        for x in (s, peer):
            if x is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(x)
                _reset(x)

    def _loop(self) -> None:
        while not self._stop:
            for key, _ in self._sel.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept()
                    continue
                with self._lock:
                    peer = self._pairs.get(sock)
                if peer is None:
                    continue
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._close_pair(sock)
                    continue
                if key.data == "c":
                    if self._cut_at is not None and self.sent + len(data) >= self._cut_at:
                        self._cut_at = None
                        self._open = False  # the rest of this data never reaches the server
                        self.cuts += 1
                        continue
                    self.sent += len(data)
                try:
                    peer.settimeout(5.0)
                    peer.sendall(data)
                    peer.setblocking(False)
                except OSError:
                    self._close_pair(sock)
            if not self._open:
                with self._lock:
                    socks = list(self._pairs)
                for s in socks:
                    self._close_pair(s)

    def cut(self) -> None:
        """Reset every connection through the proxy and refuse new ones until :meth:`restore`."""
        self._open = False
        self.cuts += 1
        while True:
            with self._lock:
                if not self._pairs:
                    return
            threading.Event().wait(0.01)

    def cut_after(self, nbytes: int) -> None:
        """Cut (as :meth:`cut`) once ``nbytes`` more bytes have gone from clients to the server."""
        self._cut_at = self.sent + nbytes

    @property
    def is_cut(self) -> bool:
        """Whether connections are being refused."""
        return not self._open

    def restore(self) -> None:
        """Let connections through again."""
        self._open = True

    def close(self) -> None:
        """Stop the proxy and reset what is open."""
        self._open = False
        self._stop = True
        self._thread.join(timeout=5)
        for s in list(self._pairs):
            self._close_pair(s)
        self._listener.close()


def _reset(s: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a dead peer would."""
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        s.close()
