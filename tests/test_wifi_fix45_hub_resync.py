"""The live stream's hub when a page falls a queue's length behind (a tablet on a weak Wi-Fi link)."""

from __future__ import annotations

import asyncio

from gateway.api.hub import QUEUE_SIZE, Hub, sse


def test_a_page_resynced_is_sent_the_last_status_after_the_resync() -> None:
    """The hub alone: a page's queue overflows; what it then holds is `resync` and the last status
    (with the alarm count), in that order, whatever was dropped."""
    closed = {"lanes": {"car-out": {"closed": True}}, "alarms": 2}

    async def overflow() -> list[str]:
        hub = Hub(status=lambda: closed)
        queue = hub.connect()
        hub.publish_status()  # kept as the last status; its message is queued on the loop
        await asyncio.sleep(0)
        for _ in range(QUEUE_SIZE):
            hub._fan_out(sse("ping", {}))
        hub.disconnect(queue)
        return [queue.get_nowait() for _ in range(queue.qsize())]

    held = asyncio.run(overflow())
    assert held == [sse("resync", {}), sse("status", closed)]
