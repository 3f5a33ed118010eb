"""A TCP proxy in front of a test server that can drop the connection once, mid-request,
after a given number of bytes from the client: a real network drop, as a client sees it
(reset in the middle of a body), for the resumable-upload tests."""

from __future__ import annotations

import socket
import threading


class CutProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.cut_at: int | None = None  # client bytes (all connections) to let through
        self.forwarded = 0  # client bytes forwarded since armed
        self.cuts = 0
        #: Connections refused after a cut (the network stays down a moment): a browser
        #: retries a request on its own once, and must see the drop.
        self.down_for = 0
        self.refused = 0
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_after(self, count: int, *, down_for: int = 0) -> None:
        """Drop every connection once `count` more client bytes have gone through, then
        refuse the next `down_for` connections."""
        with self.lock:
            self.cut_at, self.forwarded, self.down_for = count, 0, down_for

    def close(self) -> None:
        self.listener.close()
        self._drop()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                refuse = self.cuts and self.refused < self.down_for
                self.refused += bool(refuse)
            if refuse:
                _shut(client)
                continue
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.open += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        cut = False
        try:
            while data := source.recv(65536):
                if upstream:
                    with self.lock:
                        if self.cut_at is not None:
                            allowed = self.cut_at - self.forwarded
                            if len(data) >= allowed:
                                data = data[:max(allowed, 0)]
                                self.cut_at = None
                                self.cuts += 1
                                sink.sendall(data)
                                self.forwarded += len(data)
                                cut = True
                                break
                            self.forwarded += len(data)
                sink.sendall(data)
        except OSError:
            pass
        if cut:
            self._drop()
        else:
            for end in (source, sink):
                _shut(end)

    def _drop(self) -> None:
        with self.lock:
            ends, self.open = self.open, []
        for end in ends:
            _shut(end)


def _shut(end: socket.socket) -> None:
    try:
        end.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    end.close()
