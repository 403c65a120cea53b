"""Between the gateway and mosquitto: while `refusing`, the last topic of every SUBACK the broker
sends is answered 0x87 (not authorized), as EMQX, HiveMQ or AWS IoT answer a subscription their
ACL refuses (mosquitto 2 grants it and drops the messages instead). It can hold each SUBACK back
`suback_delay` s (a broker a long round trip away) and be cut off (`offline`)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

SUBACK = 0x90
NOT_AUTHORIZED = 0x87


class SubackRefusingLink:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.refusing = True
        self.suback_delay = 0.0
        self.offline = False  # connections refused, and those open cut (go_offline)
        self._open: list[socket.socket] = []
        self.subacks = 0  # SUBACKs passed on to the gateway
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def go_offline(self) -> None:
        self.offline = True
        _close(*self._open)
        self._open.clear()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if self.offline:
                _close(client)
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                _close(client)
                continue
            self._open += [client, up]
            threading.Thread(target=_pipe, args=(client, up), daemon=True).start()
            threading.Thread(target=self._down, args=(up, client), daemon=True).start()

    def _down(self, up: socket.socket, client: socket.socket) -> None:
        """Broker to gateway, packet by packet, a SUBACK's last reason code rewritten."""
        buf = b""
        while data := _received(up):
            buf += data
            while (size := _packet_size(buf)) is not None and len(buf) >= size:
                packet, buf = bytearray(buf[:size]), buf[size:]
                if packet[0] == SUBACK:
                    time.sleep(self.suback_delay)
                    self.subacks += 1
                    if self.refusing:
                        packet[-1] = NOT_AUTHORIZED
                with contextlib.suppress(OSError):
                    client.sendall(bytes(packet))
        _close(up, client)


def _packet_size(buf: bytes) -> int | None:
    """The whole size of the MQTT packet at the start of `buf`, None until its header is in."""
    length, shift = 0, 0
    for i in range(1, min(len(buf), 5)):
        length += (buf[i] & 0x7F) << shift
        if not buf[i] & 0x80:
            return 1 + i + length
        shift += 7
    return None


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    while data := _received(src):
        with contextlib.suppress(OSError):
            dst.sendall(data)
    _close(src, dst)


def _received(sock: socket.socket) -> bytes:
    """What came next on `sock`; nothing once it is closed."""
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _close(*socks: socket.socket) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.close()
