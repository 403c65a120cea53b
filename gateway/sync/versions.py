"""Which delta to apply when, and when to ask for a snapshot: a pure state machine of versions.

Time is a parameter (monotonic seconds), so the gap and resync rules are tested without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_HELD = 1000


@dataclass(frozen=True, slots=True)
class Apply:
    version: int
    base: int


@dataclass(frozen=True, slots=True)
class Request:
    reason: str
    # Asked again for no new cause (tick: still no snapshot): not queued while an earlier request
    # waits unsent in the outbox (the link down), which asks for the same (Directory._request).
    again: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Ignore:
    reason: str


Action = Apply | Request | Ignore


@dataclass
class Versions:
    applied: int
    gap_wait: float
    resync_interval: float
    held: dict[int, int] = field(default_factory=dict)  # base -> version of deltas waiting
    waiting_since: float | None = None
    need_snapshot: bool = False
    last_request: float | None = None
    busy: bool = False  # a snapshot is being applied: gaps are not timed meanwhile

    def delta(self, version: int, base: int, now: float) -> list[Action]:
        if version <= self.applied:
            return [Ignore(f"delta {version} is already applied (at {self.applied})")]
        if base == self.applied and not self.busy:
            return [Apply(version, base)]
        if base < self.applied:
            return self._request(f"delta {version} is based on {base}, below the applied {self.applied}", now)
        self.held[base] = version
        if self.waiting_since is None:
            self.waiting_since = now
        if len(self.held) > MAX_HELD:
            self.held.clear()
            return self._request(f"more than {MAX_HELD} deltas wait for a missing one", now)
        return []

    def applied_to(self, version: int, now: float) -> list[Action]:
        """A delta or snapshot is in: whatever waited on it can follow."""
        self.applied = version
        self.busy = False
        self.held = {b: v for b, v in self.held.items() if v > version}
        if version in self.held:
            following = self.held.pop(version)
            self.waiting_since = now if self.held else None
            return [Apply(following, version)]
        self.waiting_since = now if self.held else None
        return []

    def snapshot_done(self, version: int, now: float) -> list[Action]:
        self.need_snapshot = False
        return self.applied_to(version, now)

    def rejected(self, kind: str, version: int | None, now: float) -> list[Action]:
        """A delta or snapshot could not be used: the chain is broken, only a snapshot mends it."""
        what = f"{kind} {version}" if version is not None else f"a {kind}"
        return self._request(f"{what} was rejected", now)

    def not_staged(self, now: float, ago: float = 0.0) -> list[Action]:
        """A snapshot or delta given up after its staging failed time after time (its child
        process killed: out of memory): only a snapshot mends the chain, asked for after
        resync_interval, not at once, so that a box short of memory is not sent one after another.
        `ago`: seconds since it was given up, for one given up before a restart (the wall clock's,
        from the record: one set back reads as just now, so the wait is never past resync_interval)."""
        self.need_snapshot = True
        self.last_request = now - min(max(ago, 0.0), self.resync_interval)
        return []

    def failed(self, action: Apply) -> None:
        """The delta could not be written (a full disk, a lock): held on its base, as if it waited
        for it, until it is tried again and in (or passed by a snapshot)."""
        self.held[action.base] = action.version

    def tick(self, now: float) -> list[Action]:
        if self.busy:
            return []
        if self.held and self.waiting_since is not None and now - self.waiting_since >= self.gap_wait:
            nxt = min(self.held)
            self.waiting_since = None
            return self._request(f"gap: at {self.applied}, the next delta waiting is based on {nxt}", now)
        if (
            self.need_snapshot
            and self.last_request is not None
            and now - self.last_request >= self.resync_interval
        ):
            return self._request("still waiting for a snapshot", now, again=True)
        return []

    def session_lost(self, reason: str, now: float) -> list[Action]:
        """The broker kept no session for the gateway while it was offline: the deltas it queued
        meanwhile may be gone, and nothing else would tell until the centre's next change shows a
        gap (days), a card struck off opening meanwhile. A snapshot mends it, asked for once, unless
        one is asked for already (asked again every resync_interval: an answer lost with the session
        is asked for again; the first connect of a new box, whose request waits in the outbox) or no
        version of the centre's is applied (a register kept by hand: one would never come).
        At most one a resync_interval: with session_expiry_s = 0 every reconnect of a flapping link
        loses its session, and a full snapshot each time (100,000 residents) would keep the link
        and the box busy with nothing else. One asked for within the interval (for the last lost
        session, or a gap) leaves this one owed, asked for by tick once the interval is over."""
        if self.need_snapshot:
            return [Ignore(f"{reason}; a snapshot is asked for already")]
        if self.applied == 0:
            return [Ignore(f"{reason}; no version of the central server's is applied, none asked for")]
        if self.last_request is not None and now - self.last_request < self.resync_interval:
            self.need_snapshot = True
            wait = self.resync_interval - (now - self.last_request)
            return [Ignore(f"{reason}; a snapshot was asked for lately, asked for again in {wait:.0f} s")]
        return self._request(reason, now, force=True)

    def resync(self, reason: str, now: float) -> list[Action]:
        """Asked for by an operator or a command: always sent."""
        return self._request(reason, now, force=True)

    def _request(self, reason: str, now: float, force: bool = False, again: bool = False) -> list[Action]:
        self.need_snapshot = True
        if not force and self.last_request is not None and now - self.last_request < min(self.gap_wait, 5.0):
            return []  # asked a moment ago; the answer is on its way
        self.last_request = now
        return [Request(reason, again)]
