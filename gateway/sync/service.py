"""Everything the gateway does with the central server, started and stopped as one."""

from __future__ import annotations

from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.sync.client import Received
from gateway.sync.commands import Commands
from gateway.sync.directory import Directory
from gateway.sync.inbox import INBOX_NAME, Inbox
from gateway.sync.link import SyncLink


class SyncService:
    def __init__(self, gw: Gateway):
        self.gw = gw
        self.link = SyncLink(gw)
        topics = self.link.topics
        self.inbox = Inbox(gw.data_dir / INBOX_NAME, lambda: gw.now().astimezone(gw.site.tz))
        self.directory = Directory(gw, self._retain, topics.sync_state, self.inbox)
        if self.inbox.set_aside is not None:  # the snapshot parts and deltas it held are lost
            self.directory.resync(f"{INBOX_NAME} was damaged and is set aside: what it held is lost")
        self.commands = Commands(gw, self.directory.resync, self.inbox)
        self.link.on_downlink(self._downlink)
        self.link.on_arrival(self._arrival)
        self.link.on_session_lost(self.directory.session_lost)

    def start(self) -> None:
        self.directory.start()
        self.commands.start()
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        self.commands.stop()
        if self.directory.stop():  # else its thread may still write to the inbox
            self.inbox.close()

    def status(self) -> dict[str, Any]:
        return {
            **self.link.status(),
            "directory": self.directory.status(),
            "commands": {"accepted": self.commands.accepted, "refused": self.commands.refused},
        }

    def _retain(self, topic: str, payload: dict[str, Any]) -> None:
        self.link.retain(topic, payload)

    def _arrival(self, ev: Received) -> bool:
        """On paho's thread, before the broker is acknowledged: snapshot parts and deltas go to
        the directory, commands to the commands; each keeps them on disk until done with them."""
        kind = self.link.topics.kind_of(ev.topic)
        if kind == "snapshot" or kind == "delta":
            self.directory.receive(kind, ev)
            return True
        if kind == "command":
            self.commands.receive(ev.payload)
            return True
        return False

    def _downlink(self, ev: Received) -> None:
        """On the link's thread: a message _arrival did not take (it failed to keep it on disk),
        handled all the same, from memory."""
        kind = self.link.topics.kind_of(ev.topic)
        if kind == "command":
            self.commands.receive(ev.payload)
        elif kind is not None:
            self.directory.receive(kind, ev)
