"""uvicorn's HTTP protocol (h11), with waits for what a client sends. A client that connected and
sent no whole request, or stopped in the middle of a request's body, kept its connection open for
good: a tablet that left the Wi-Fi mid-request sends no FIN, and nothing is written back to it to
notice. Each held a file descriptor, and over weeks they reach the process's limit (1024), past
which the gateway opens no database, serial port, camera or socket. uvicorn's own keep-alive
timeout starts only once a response has been sent."""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

# A request's head (its line and headers) must be whole within this long of its first byte (of the
# connection, when nothing came), and its body must not stop coming for this long.
REQUEST_WAIT_S = 30.0


class RequestsWaitedFor(H11Protocol):
    _head_due: asyncio.TimerHandle | None = None
    _body_due: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        """uvicorn takes a request pipelined behind the one answered (sent before its answer) from
        its buffer here, not in data_received, and stops its own keep-alive timer once the head is
        whole: its waits are set here too, else a pipelined body that stopped was kept for good.
        Reading was paused while the answer was made (h11's PAUSED), so the wait counts from now,
        not from the request's first byte: a slow answer is not the client's fault."""
        super().on_response_complete()
        begun = self.cycle is not None and not self.cycle.response_complete  # its head was whole
        part_of_a_head = self.conn.their_state is h11.IDLE and bool(self.conn.trailing_data[0])
        if begun or part_of_a_head:  # else nothing came: idle, left to uvicorn's keep-alive
            self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_wait()
        self._stop_body_wait()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """After what came: the wait for a request's head (not put off by each byte: one sent a
        byte at a time is no more whole), or for more of its body (put off by each piece)."""
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:  # no request whole yet
            self._stop_body_wait()
            if self._head_due is None:
                self._head_due = self.loop.call_later(REQUEST_WAIT_S, self._let_go)
            return
        self._stop_head_wait()
        self._stop_body_wait()
        if self.conn.their_state is h11.SEND_BODY:  # its body still to come
            self._body_due = self.loop.call_later(REQUEST_WAIT_S, self._body_stopped)

    def _body_stopped(self) -> None:
        self._body_due = None
        if self.flow.read_paused:  # the app has not read what came: the client is not to blame
            self._watch()
        elif self.conn.their_state is h11.SEND_BODY:
            self._let_go()

    def _let_go(self) -> None:
        self._head_due = None
        if not self.transport.is_closing():
            self.transport.close()

    def _stop_head_wait(self) -> None:
        if self._head_due is not None:
            self._head_due.cancel()
            self._head_due = None

    def _stop_body_wait(self) -> None:
        if self._body_due is not None:
            self._body_due.cancel()
            self._body_due = None
