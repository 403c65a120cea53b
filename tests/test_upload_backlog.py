"""The upload backlog alarm (上传积压) is about records waiting for the central server: a site without
MQTT (the default) has none waiting, however many records it queues for a server it may get later."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from gateway.alarm_texts import AlarmText
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.runtime.watch import AlarmWatch
from gateway.store.alarms import raise_alarm
from tests.parking.conftest import parking_config, seed

BACKLOG = "[alarms]\noutbox_backlog = 20\n"
MQTT_ON = "[mqtt]\nenabled = true\n"


def open_alarms(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as c:
        return [tuple(r) for r in c.execute("SELECT kind, source FROM alarms WHERE cleared_at IS NULL")]


def unsent(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])


def busy_gate(gw: Gateway, cars: int = 30) -> None:
    at = gw.now()
    for i in range(cars):  # residents' cars in and out
        lane = "car-in" if i % 2 == 0 else "car-out"
        gw.handle(Presented(lane, "plate", "皖B33333", 0.97, at + timedelta(minutes=i), "cam"))


def started(tmp_path: Path, extra: str) -> Gateway:
    cfg = parking_config(tmp_path / "data", extra=extra)
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    gw.start()
    return gw


def test_a_site_without_mqtt_gets_no_upload_backlog_alarm_for_records_that_never_go_anywhere(
    tmp_path: Path,
) -> None:
    """[mqtt] is off by default (a site with no central server; docs/config.md: "With MQTT off
    (nothing to deliver to)"). Every decision still queues an outbox row, for a server the site may
    get later; nothing sends it now. Once [alarms] outbox_backlog rows are queued (1000 by default:
    half a day at a busy gate) the guards' alarm list must not show 上传积压 "1001 records wait to go
    upstream" for ever."""
    gw = started(tmp_path, BACKLOG)
    assert not gw.site.config.mqtt.enabled
    try:
        gw.on_worker(lambda c: busy_gate(gw)).result(10)
        AlarmWatch(gw, gw.site.config.alarms).check_outbox()  # what the watch thread does every minute
        gw.on_worker(lambda c: None).result(60)
    finally:
        gw.stop()
    assert ("outbox_backlog", "outbox") not in open_alarms(gw.db_path)
    assert unsent(gw.db_path) >= 30  # kept: they go up once MQTT is turned on


def test_upload_alarms_left_from_when_mqtt_was_on_are_cleared_when_it_is_turned_off(tmp_path: Path) -> None:
    """The site had a central server, the link was down and the backlog alarm went up; then MQTT was
    turned off. Nothing will ever send those records now, nor clear the alarm: the start does."""
    gw = started(tmp_path, BACKLOG + MQTT_ON)
    text = AlarmText("outbox_backlog", {"pending": 21, "limit": 20})
    gw.on_worker(lambda c: raise_alarm(c, "outbox_backlog", "outbox", text, gw.now())).result(60)
    gw.stop()
    off = started(tmp_path, BACKLOG)
    off.on_worker(lambda c: None).result(60)
    off.stop()
    assert open_alarms(off.db_path) == []


def test_with_mqtt_on_a_backlog_raises_the_alarm_and_clears_once_sent(tmp_path: Path) -> None:
    """The link to the central server is down: records pile up, and the guards are told."""
    gw = started(tmp_path, BACKLOG + MQTT_ON)
    try:
        gw.on_worker(lambda c: busy_gate(gw)).result(10)
        watch = AlarmWatch(gw, gw.site.config.alarms)
        assert watch.check_outbox() > 20
        gw.on_worker(lambda c: None).result(60)
        assert ("outbox_backlog", "outbox") in open_alarms(gw.db_path)
        gw.on_worker(lambda c: c.execute("UPDATE outbox SET sent_at = 'x'")).result(60)
        watch.check_outbox()
        gw.on_worker(lambda c: None).result(60)
    finally:
        gw.stop()
    assert ("outbox_backlog", "outbox") not in open_alarms(gw.db_path)
