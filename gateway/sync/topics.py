"""The topic layout: PREFIX/SITE/... for all one gateway sends and receives (docs/mqtt.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# Outbox rows whose type is not an event go to their own topics; every other type to events/TYPE.
_ROUTES = {
    "command_reply": "cmd/reply",
    "sync_request": "sync/request",
    "sync_error": "sync/error",
}
_TYPE = re.compile(r"^[a-z0-9_]{1,40}$")

Downlink = Literal["snapshot", "delta", "command"]


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str
    site: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.site}"

    @property
    def status(self) -> str:
        """Retained online/offline; the broker publishes the offline one as our last will."""
        return f"{self.base}/status"

    @property
    def health(self) -> str:
        return f"{self.base}/health"

    @property
    def sync_state(self) -> str:
        """Retained: the directory version this gateway has applied."""
        return f"{self.base}/sync/state"

    @property
    def snapshot(self) -> str:
        return f"{self.base}/sync/snapshot"

    @property
    def delta(self) -> str:
        return f"{self.base}/sync/delta"

    @property
    def command(self) -> str:
        return f"{self.base}/cmd"

    def upstream(self, record_type: str) -> str | None:
        """The topic of an outbox row of this type; None for a type that cannot be a topic level."""
        if not _TYPE.match(record_type):
            return None
        return f"{self.base}/{_ROUTES.get(record_type, f'events/{record_type}')}"

    def downlink(self) -> list[str]:
        return [self.snapshot, self.delta, self.command]

    def kind_of(self, topic: str) -> Downlink | None:
        if topic == self.snapshot:
            return "snapshot"
        if topic == self.delta:
            return "delta"
        if topic == self.command:
            return "command"
        return None


def all_sites(prefix: str, what: str) -> str:
    """A filter over every gateway under a prefix, for the central side: PREFIX/+/WHAT."""
    return f"{prefix}/+/{what}"


def site_of(prefix: str, topic: str) -> str | None:
    """The site id in a topic under PREFIX, or None for a topic that is not one of ours."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    site, _, rest = topic[len(head) :].partition("/")
    return site if site and rest else None
