"""Device alarms: a device that goes offline raises `device_offline`, one back online for
`[alarms] clear_after_s` clears it (and `repair_overdue`), and at start the alarms an earlier run
left open are settled.

Run on the decision worker (the gateway hands them over); `now` is the gateway's clock.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

from drivers.health import DeviceHealth
from gateway.alarm_texts import AlarmText
from gateway.store.alarms import (
    DEVICE_ALARMS,
    UPLOAD_ALARMS,
    clear_open_alarms,
    end_alarm,
    open_alarm_text,
    reword_alarm,
    write_alarm,
)
from gateway.store.database import transaction
from gateway.store.device_returns import gone_again, mark_back

log = logging.getLogger(__name__)


def offline_text(health: DeviceHealth, error: str) -> AlarmText:
    params = {"device_kind": health.kind, "device": health.device, "lane": health.lane}
    return AlarmText("device_offline", {**params, "error": error})


def device_alarm(
    conn: sqlite3.Connection,
    health: DeviceHealth,
    online: bool,
    now: Callable[[], datetime],
    clear_after: timedelta = timedelta(0),
) -> None:
    """Offline: raise device_offline, or keep the one open (a device that went again before it had
    stayed back `clear_after`, `[alarms] clear_after_s`: the same fault, from its first going off).
    Online: with `clear_after` its alarm waits to clear until it has stayed online that long (the
    operations thread clears it: store/device_returns.py clear_returned); with none, at once."""
    source, at = health.device, now()
    if online and clear_after > timedelta(0):
        mark_back(conn, source, at)
    elif online:
        with transaction(conn):
            for kind in DEVICE_ALARMS:  # its fault, and the deadline it set (met or moot)
                end_alarm(conn, kind, source, at)
    else:
        with transaction(conn):
            write_alarm(conn, "device_offline", source, offline_text(health, health.last_error), at)
            gone_again(conn, source)


def _name_configured_lane(conn: sqlite3.Connection, health: DeviceHealth, at: datetime) -> None:
    """A device moved to another lane in the config while it was offline: its open alarm names
    the lane it is on now. Raising it again would keep the first words, and a device that stays
    broken never clears it, so the guard and the centre would be sent to the old lane for good."""
    said = open_alarm_text(conn, "device_offline", health.device)
    if said is None or said.params.get("lane") == health.lane:
        return
    error = str(said.params.get("error", ""))
    if reword_alarm(conn, "device_offline", health.device, offline_text(health, error), at):
        log.info(
            "alarm device_offline of %s now names lane %s (was %s), where the site config puts it",
            health.device,
            health.lane,
            said.params.get("lane"),
        )


def settle_alarms(
    conn: sqlite3.Connection,
    devices: list[DeviceHealth],
    now: Callable[[], datetime],
    mqtt_enabled: bool,
    clear_after: timedelta = timedelta(0),
) -> None:
    """At start: a device that is back clears the alarm an earlier run left open; one that is
    missing (a reader unplugged while the gateway was down) raises it now, and one still offline
    has its alarm name the lane the config puts it on now. Alarms nothing could clear under this
    config are cleared: those of a device taken out of it (a broken camera replaced by one under a
    new id), and the upload alarms with MQTT off (nothing is sent, so nothing is behind; the
    records stay queued for when it is turned on). A device back whose fault waited to clear at
    the last stop (`clear_after`) goes on waiting from when it came back: nothing says it went off
    while the gateway was down."""
    for health in devices:
        if health.online or health.last_error:
            device_alarm(conn, health, health.online, now, clear_after)
        if not health.online:
            _name_configured_lane(conn, health, now())
    configured = {health.device for health in devices}
    for kind, source in clear_open_alarms(conn, DEVICE_ALARMS, now(), keep=configured):
        log.info("alarm %s cleared: device %s is no longer in the site config", kind, source)
    if not mqtt_enabled:
        for kind, _ in clear_open_alarms(conn, UPLOAD_ALARMS, now()):
            log.info("alarm %s cleared: MQTT is off, no record waits to go upstream", kind)
