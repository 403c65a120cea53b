"""Live push to the guard pages: server-sent events fanned out from the decision worker.

Gateway listeners run on the worker thread; the hub hands each message to the event loop with
call_soon_threadsafe and never blocks the worker. Each page has a bounded queue: a page that stops
reading gets its queue replaced by one `resync` message (it then reloads the recent events) and the
lanes' last status, rather than letting memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
STATUS_EVERY_S = 1.0


def sse(kind: str, data: dict[str, Any], event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class Hub:
    def __init__(self, status: Callable[[], dict[str, Any]]):
        """`status()` gives the lanes' device and hold state; a change is pushed within a second."""
        self._status = status
        self._clients: set[asyncio.Queue[str]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._last_status: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.sent = 0
        self.resyncs = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    def connect(self) -> asyncio.Queue[str]:
        """On the event loop: a queue for one page; the status ticker runs while pages listen."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._loop = loop
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self._clients.add(queue)
        if self._ticker is None or self._ticker.done():
            self._ticker = loop.create_task(self._tick())
        return queue

    def disconnect(self, queue: asyncio.Queue[str]) -> None:
        self._clients.discard(queue)

    def publish(self, kind: str, data: dict[str, Any], event_id: str | None = None) -> None:
        """From any thread, never blocking: send one message to every connected page."""
        with self._lock:
            loop = self._loop
        if loop is None or loop.is_closed() or not self._clients:
            return
        message = sse(kind, data, event_id)
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self._fan_out, message)

    def status_now(self) -> dict[str, Any]:
        return self._status()

    def publish_status(self) -> None:
        """The lanes' status now, to every page at once (after a guard's action), kept as the last
        sent: the once-a-second check compares with what the pages were last told, or a change
        back within the second (the centre reopening a lane a guard just closed) was never sent."""
        status = self._status()
        self._last_status = status  # one assignment: the tick on the loop's thread reads it whole
        self.publish("status", status)

    def _fan_out(self, message: str) -> None:
        for queue in list(self._clients):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._resync(queue)
        self.sent += 1

    def _resync(self, queue: asyncio.Queue[str]) -> None:
        """A page a queue's length behind: what was queued for it is dropped, and it is told to
        reload the recent events (`resync`). The last status goes after it: it may have been among
        what was dropped (a lane closed, an alarm raised), and the once-a-second check sends only a
        change, so the page would show the lanes and the alarm count as they were, for good."""
        self.resyncs += 1
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(sse("resync", {}))
        if self._last_status is not None:
            queue.put_nowait(sse("status", self._last_status))

    async def _tick(self) -> None:
        while self._clients:
            try:
                status = self._status()
            except Exception:  # a status read must never end the pushes
                log.exception("lane status for the guard pages failed")
                status = self._last_status or {}
            if status != self._last_status:
                self._last_status = status
                self._fan_out(sse("status", status))
            await asyncio.sleep(STATUS_EVERY_S)
