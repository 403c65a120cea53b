"""Everything the gateway does with the central server, started and stopped as one."""

from __future__ import annotations

from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.sync.link import SyncLink


class SyncService:
    def __init__(self, gw: Gateway):
        self.gw = gw
        self.link = SyncLink(gw)

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()

    def status(self) -> dict[str, Any]:
        return self.link.status()
