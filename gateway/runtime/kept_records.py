"""Alarms and patrol taps that a full disk must not lose: each a record kept in memory while storage
takes no writes and written, in turn with the lane records that wait (hand_opens.WaitingRecords,
write_in_turn), at the time of what it says rather than of the write, the settling of device alarms
at start too (the devices as they were at the start). An alarm's changes fold while they wait
(hand_opens.WaitingRecords._fold: `switch`), so that a device that flaps never fills memory.

Tried once, they were lost: a relay unplugged or a barrier forced up while the SD card was full was
never alarmed (not on the alarms page, not at the centre, no repair deadline), a relay plugged back
kept its alarm open until a false repair_overdue, and a guard's patrol tap was gone, his round
judged missed. In turn, since their order is their meaning: an alarm's clearing written before its
raise that waits would leave the alarm open for good. What still waits is what the operations
thread must not judge on (held_back: a patrol round, a device's repair deadline).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from drivers.health import DeviceHealth
from gateway.parking.operations import Unwritten
from gateway.privacy import mask_card
from gateway.runtime.device_alarms import device_alarm, settle_alarms
from gateway.runtime.hand_opens import Kept, Switch
from gateway.store.alarms import raise_alarm
from gateway.store.patrol import PatrolCards, record_tap


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """A barrier's alarm raised or cleared (lanes.py): `change` is raise_alarm or clear_alarm given
    all but the connection by keyword, the kind written out where it is made, so that a test can
    check each kind has its words (tests/ui/test_guard_words.py)."""

    change: partial[bool]

    @property
    def at(self) -> datetime:
        at: datetime = self.change.keywords["at"]
        return at

    @property
    def what(self) -> str:
        done = "raised" if self.change.func is raise_alarm else "cleared"
        return f"alarm {self.change.keywords['kind']} {done}"

    @property
    def switch(self) -> Switch:
        keywords = self.change.keywords
        return Switch(keywords["kind"], keywords["source"], self.change.func is raise_alarm)

    def details(self) -> str:
        return f"source={self.change.keywords['source']!r}"

    def write(self, conn: sqlite3.Connection) -> bool:
        return self.change(conn)


@dataclass(frozen=True, slots=True)
class DeviceChange:
    """A device gone offline or back online (device_alarms.device_alarm), as it was when it changed:
    its health is a copy of that moment, so that the alarm written later names the error it went
    offline with, not whatever it says by then."""

    at: datetime
    health: DeviceHealth
    clear_after: timedelta = timedelta(0)  # [alarms] clear_after_s: how long back before it clears

    @classmethod
    def of(
        cls, health: DeviceHealth, online: bool, at: datetime, clear_after: timedelta = timedelta(0)
    ) -> DeviceChange:
        return cls(at, _then(health, online), clear_after)

    @property
    def what(self) -> str:
        return f"device {'online' if self.health.online else 'offline'} alarm"

    @property
    def switch(self) -> Switch:  # its return clears repair_overdue too: folded with device_offline
        return Switch("device_offline", self.health.device, not self.health.online)

    def details(self) -> str:
        return f"device={self.health.device!r} lane={self.health.lane}"

    def write(self, conn: sqlite3.Connection) -> None:
        device_alarm(conn, self.health, self.health.online, lambda: self.at, self.clear_after)


def _then(health: DeviceHealth, online: bool) -> DeviceHealth:
    """A copy of the device's health as it is now: what a record that waits says of it."""
    return DeviceHealth(
        health.device, health.kind, health.lane, health.driver, online, last_error=health.last_error
    )


@dataclass(frozen=True, slots=True)
class DevicesSettled:
    """At start, the device alarms an earlier run left open settled against the devices
    (device_alarms.settle_alarms), as they were at the start and at its time: kept while the disk is
    full, a device's change since is its own record behind it, with its own time. Read as they were
    at the write, a relay unplugged since was alarmed as of the write (its repair deadline counted
    from the day the disk was freed), and the record of the fault itself found the alarm open."""

    at: datetime
    devices: tuple[DeviceHealth, ...]
    mqtt_enabled: bool
    clear_after: timedelta = timedelta(0)

    @classmethod
    def of(
        cls,
        devices: Iterable[DeviceHealth],
        at: datetime,
        mqtt_enabled: bool,
        clear_after: timedelta = timedelta(0),
    ) -> DevicesSettled:
        return cls(at, tuple(_then(health, health.online) for health in devices), mqtt_enabled, clear_after)

    @property
    def what(self) -> str:
        return "device alarms settled at start"

    @property
    def switch(self) -> None:  # every device's alarms: it folds with none
        return None

    def details(self) -> str:
        return f"devices={len(self.devices)}"

    def write(self, conn: sqlite3.Connection) -> None:
        settle_alarms(conn, list(self.devices), lambda: self.at, self.mqtt_enabled, self.clear_after)


@dataclass(frozen=True, slots=True)
class PatrolTap:
    """A card at a patrol checkpoint (store/patrol.py): its round is judged by its time, if it is a
    guard's (`cards`: [patrol] guard_cards, and the register as it is written)."""

    at: datetime
    tap_id: str
    checkpoint: str
    lane: str
    card: str
    cards: PatrolCards = PatrolCards()

    @property
    def what(self) -> str:
        return "patrol tap"

    def details(self) -> str:
        return f"checkpoint={self.checkpoint!r} lane={self.lane} card={mask_card(self.card)}"

    def write(self, conn: sqlite3.Connection) -> None:
        record_tap(conn, self.tap_id, self.at, self.checkpoint, self.lane, self.card, self.cards)


def held_back(records: Sequence[Kept]) -> Unwritten:
    """What the records that wait hold back from the operations thread's looks (Operations): the
    patrol taps, and the devices whose alarms wait (every device while the start's settling does)."""
    changes = [r for r in records if isinstance(r, DeviceChange | DevicesSettled)]
    return Unwritten(
        patrol_taps=sum(isinstance(r, PatrolTap) for r in records),
        devices=frozenset(r.health.device for r in changes if isinstance(r, DeviceChange)),
        every_device=any(isinstance(r, DevicesSettled) for r in changes),
        since=min((r.at for r in changes), default=None),
    )
