"""Device alarms: a device that goes offline raises `device_offline`, one back online clears it
(and `repair_overdue`), and at start the alarms an earlier run left open are settled.

Run on the decision worker (the gateway hands them over); `now` is the gateway's clock.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime

from drivers.health import DeviceHealth
from gateway.alarm_texts import AlarmText
from gateway.store.alarms import (
    DEVICE_ALARMS,
    UPLOAD_ALARMS,
    clear_alarm,
    clear_open_alarms,
    open_alarm_text,
    raise_alarm,
    reword_alarm,
)

log = logging.getLogger(__name__)


def offline_text(health: DeviceHealth, error: str) -> AlarmText:
    params = {"device_kind": health.kind, "device": health.device, "lane": health.lane}
    return AlarmText("device_offline", {**params, "error": error})


def device_alarm(
    conn: sqlite3.Connection, health: DeviceHealth, online: bool, now: Callable[[], datetime]
) -> None:
    source, at = health.device, now()
    if online:
        clear_alarm(conn, "device_offline", source, at)
        clear_alarm(conn, "repair_overdue", source, at)  # repaired: the deadline is met or moot
    else:
        raise_alarm(conn, "device_offline", source, offline_text(health, health.last_error), at)


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
) -> None:
    """At start: a device that is back clears the alarm an earlier run left open; one that is
    missing (a reader unplugged while the gateway was down) raises it now, and one still offline
    has its alarm name the lane the config puts it on now. Alarms nothing could clear under this
    config are cleared: those of a device taken out of it (a broken camera replaced by one under a
    new id), and the upload alarms with MQTT off (nothing is sent, so nothing is behind; the
    records stay queued for when it is turned on)."""
    for health in devices:
        if health.online or health.last_error:
            device_alarm(conn, health, health.online, now)
        if not health.online:
            _name_configured_lane(conn, health, now())
    configured = {health.device for health in devices}
    for kind, source in clear_open_alarms(conn, DEVICE_ALARMS, now(), keep=configured):
        log.info("alarm %s cleared: device %s is no longer in the site config", kind, source)
    if not mqtt_enabled:
        for kind, _ in clear_open_alarms(conn, UPLOAD_ALARMS, now()):
            log.info("alarm %s cleared: MQTT is off, no record waits to go upstream", kind)
