"""A slow uplink (a congested 4G modem): the broker's bytes reach the gateway `delay` s late."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time


class SlowLink:
    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self._accepted(client)
            self._serve(client)

    def _accepted(self, client: socket.socket) -> None:
        """A connection the gateway opened, before it is served (a subclass cuts it later)."""

    def _serve(self, client: socket.socket) -> None:
        try:
            up = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        q: queue.Queue = queue.Queue()
        threading.Thread(target=self._up, args=(client, up), daemon=True).start()
        threading.Thread(target=self._down_read, args=(up, q), daemon=True).start()
        threading.Thread(target=self._down_write, args=(client, up, q), daemon=True).start()

    def _up(self, client: socket.socket, up: socket.socket) -> None:
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if not data:
                with contextlib.suppress(OSError):
                    up.close()
                return
            with contextlib.suppress(OSError):
                up.sendall(data)

    def _down_read(self, up: socket.socket, q: queue.Queue) -> None:
        while True:
            try:
                data = up.recv(65536)
            except OSError:
                data = b""
            q.put((time.monotonic() + self.delay, data))
            if not data:
                return

    def _down_write(self, client: socket.socket, up: socket.socket, q: queue.Queue) -> None:
        while True:
            due, data = q.get()
            time.sleep(max(0.0, due - time.monotonic()))
            if not data:
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_RDWR)
                client.close()
                return
            try:
                client.sendall(data)
            except OSError:
                return
