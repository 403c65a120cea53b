"""Alarms and patrol taps that a full disk must not lose: each a record kept in memory while storage
takes no writes and written, in turn with the lane records that wait (hand_opens.WaitingRecords,
write_in_turn), at the time of what it says rather than of the write (but the settling of device
alarms at start, which reads the devices as they are when it is written).

Tried once, they were lost: a relay unplugged or a barrier forced up while the SD card was full was
never alarmed (not on the alarms page, not at the centre, no repair deadline), a relay plugged back
kept its alarm open until a false repair_overdue, and a guard's patrol tap was gone, his round
judged missed. In turn, since their order is their meaning: an alarm's clearing written before its
raise that waits would leave the alarm open for good.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from drivers.health import DeviceHealth
from gateway.privacy import mask_card
from gateway.runtime.device_alarms import device_alarm, settle_alarms
from gateway.store.alarms import raise_alarm
from gateway.store.patrol import record_tap


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

    @classmethod
    def of(cls, health: DeviceHealth, online: bool, at: datetime) -> DeviceChange:
        then = DeviceHealth(
            health.device, health.kind, health.lane, health.driver, online, last_error=health.last_error
        )
        return cls(at, then)

    @property
    def what(self) -> str:
        return f"device {'online' if self.health.online else 'offline'} alarm"

    def details(self) -> str:
        return f"device={self.health.device!r} lane={self.health.lane}"

    def write(self, conn: sqlite3.Connection) -> None:
        device_alarm(conn, self.health, self.health.online, lambda: self.at)


@dataclass(frozen=True, slots=True)
class DevicesSettled:
    """At start, the device alarms an earlier run left open settled against the devices
    (device_alarms.settle_alarms). It reads the devices, and the clock, as they are when written:
    kept while the disk is full, it settles them as they are once it takes writes."""

    at: datetime
    devices: list[DeviceHealth]
    now: Callable[[], datetime]
    mqtt_enabled: bool

    @property
    def what(self) -> str:
        return "device alarms settled at start"

    def details(self) -> str:
        return f"devices={len(self.devices)}"

    def write(self, conn: sqlite3.Connection) -> None:
        settle_alarms(conn, self.devices, self.now, self.mqtt_enabled)


@dataclass(frozen=True, slots=True)
class PatrolTap:
    """A guard's card at a patrol checkpoint (store/patrol.py): its round is judged by its time."""

    at: datetime
    tap_id: str
    checkpoint: str
    lane: str
    card: str

    @property
    def what(self) -> str:
        return "patrol tap"

    def details(self) -> str:
        return f"checkpoint={self.checkpoint!r} lane={self.lane} card={mask_card(self.card)}"

    def write(self, conn: sqlite3.Connection) -> None:
        record_tap(conn, self.tap_id, self.at, self.checkpoint, self.lane, self.card)
