"""A full SD card while the gateway runs (a runaway export, logs): the records that are no decision
but must not be lost (a device's alarm, a barrier's alarm, a guard's patrol tap) wait in memory, as
a single opening by hand does, and are written, at the time of what they say, once the disk takes
writes again. They used to be tried once and lost: the alarms page and the centre never heard of a
relay unplugged or a barrier forced up while the disk was full, a relay plugged back stayed alarmed
until a false 设备超时未修复, and a guard's tap was gone (his round judged 巡更漏巡).

The full disk is the suite's (tests/ui/conftest.py, fill_the_disk): SQLite's SQLITE_FULL on each
insert into the audit, outbox and access log tables, which every one of these writes makes."""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.health import DeviceHealth
from gateway.runtime.outbox_stream import HIGH_WATER_NAME, check_outbox_stream
from tests.drivers.conftest import gpio_io, mock_pins  # noqa: F401  (fixtures)
from tests.ui.conftest import (
    CARD,
    Site,
    decided,
    fill_the_disk,
    free_the_disk,
    make_config,
    start_site,
    stored,
    wait_for,
)

OPEN_ALARMS = "SELECT kind, source FROM alarms WHERE cleared_at IS NULL ORDER BY kind"
CLEAR_AFTER = timedelta(seconds=300)  # [alarms] clear_after_s: a device back clears its fault after


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Site]:
    site = start_site(make_config(tmp_path / "data"))
    yield site
    site.gw.stop()


def _door_lock(site: Site) -> DeviceHealth:
    return next(h for h in site.gw.devices.health if h.device == "door-lock")


def test_a_device_that_went_offline_while_the_disk_was_full_is_alarmed_once_there_is_room(
    running: Site,
) -> None:
    """The door's relay is unplugged while the card is full. Once the guard frees space, the alarms
    page (and the centre) say 设备离线, raised when it went offline: its repair deadline counts
    from the fault (REQUIREMENTS 8)."""
    site, relay = running, _door_lock(running)
    fill_the_disk(site)
    before = site.gw.now()
    relay.set_offline("USB relay unplugged")
    site.gw.on_worker(lambda c: None).result(60)  # its alarm was tried, and failed
    assert stored(site, OPEN_ALARMS) == []
    time.sleep(0.5)
    freed = site.gw.now()
    free_the_disk(site)
    wait_for(lambda: stored(site, OPEN_ALARMS) == [("device_offline", "door-lock")])
    ((raised_at,),) = stored(site, "SELECT raised_at FROM alarms WHERE kind = 'device_offline'")
    assert before <= datetime.fromisoformat(raised_at) < freed  # when it went offline
    upstream = "SELECT count(*) FROM outbox WHERE topic = 'alarm'"
    assert stored(site, upstream) == [(1,)]  # the centre is told


def test_a_device_back_online_while_the_disk_was_full_does_not_stay_alarmed(running: Site) -> None:
    """The relay went offline (alarmed), then was plugged back while the card was full. Once space
    is freed its 设备离线 alarm clears: it would otherwise run on to a false 设备超时未修复."""
    site, relay = running, _door_lock(running)
    relay.set_offline("USB relay unplugged")
    assert stored(site, OPEN_ALARMS) == [("device_offline", "door-lock")]
    fill_the_disk(site)
    relay.set_online()
    site.gw.on_worker(lambda c: None).result(60)
    assert stored(site, OPEN_ALARMS) == [("device_offline", "door-lock")]
    free_the_disk(site)
    wait_for(lambda: site.gw.by_hand.unrecorded_opens() == 0)
    site.gw.operations.returns(site.gw.now() + CLEAR_AFTER)  # back for [alarms] clear_after_s
    assert stored(site, OPEN_ALARMS) == []


def test_a_device_that_came_and_went_while_the_disk_was_full_ends_as_it_is(running: Site) -> None:
    """Unplugged and plugged back while the card is full: its alarm, once written, is raised and
    cleared in that order, not left open for a relay that works."""
    site, relay = running, _door_lock(running)
    fill_the_disk(site)
    relay.set_offline("USB relay unplugged")
    relay.set_online()
    site.gw.on_worker(lambda c: None).result(60)
    free_the_disk(site)
    history = "SELECT kind, cleared_at IS NOT NULL FROM alarms"
    wait_for(lambda: stored(site, history) == [("device_offline", 0)])
    wait_for(lambda: site.gw.by_hand.unrecorded_opens() == 0)
    site.gw.operations.returns(site.gw.now() + CLEAR_AFTER)  # back for [alarms] clear_after_s
    assert stored(site, history) == [("device_offline", 1)]
    assert stored(site, OPEN_ALARMS) == []


def test_a_barrier_forced_up_while_the_disk_was_full_is_alarmed_once_there_is_room(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
) -> None:
    """The car-in barrier is forced up (nobody told it to open) while the card is full, and stays
    up. Once space is freed both 强行开门 and 长时间未关 are raised, as on a disk with room
    (tests/drivers/test_held_open.py): the held-open check no longer counts an alarm as raised
    that is lost."""
    site = start_site(make_config(tmp_path / "data", gpio_io(held_open_s=0.3)))
    try:
        fill_the_disk(site)
        mock_pins.pin(6).drive_low()  # forced up, and it stays up
        time.sleep(1.0)  # past held_open_s: both alarms were tried, and failed
        site.gw.on_worker(lambda c: None).result(60)
        assert stored(site, OPEN_ALARMS) == []
        free_the_disk(site)
        wanted = [("forced_open", "car-in"), ("held_open", "car-in")]
        wait_for(lambda: stored(site, OPEN_ALARMS) == wanted)
        mock_pins.pin(6).drive_high()  # let down: both clear, as on a disk with room
        wait_for(lambda: stored(site, OPEN_ALARMS) == [], timeout=20)  # forced_open: after its 5 s settle
    finally:
        site.gw.stop()


def test_a_barrier_forced_up_and_let_down_while_the_disk_was_full_ends_cleared(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
) -> None:
    """Forced up and let down again while the card is full: once written, its 强行开门 is on record
    and cleared, not left open for a barrier that is down."""
    site = start_site(make_config(tmp_path / "data", gpio_io()))
    try:
        fill_the_disk(site)
        mock_pins.pin(6).drive_low()
        mock_pins.pin(6).drive_high()
        site.gw.on_worker(lambda c: None).result(60)
        free_the_disk(site)
        history = "SELECT kind, cleared_at IS NOT NULL FROM alarms"
        wait_for(lambda: stored(site, history) == [("forced_open", 1)], timeout=20)  # after its 5 s settle
    finally:
        site.gw.stop()


def test_a_patrol_tap_made_while_the_disk_was_full_is_recorded_once_there_is_room(running: Site) -> None:
    """A guard on his round taps checkpoint cp-a while the card is full. Once space is freed the tap
    is in patrol_taps and queued upstream, at the time he tapped (his round is judged by it)."""
    site = running
    # What a patrol reader's driver calls with each card it reads, as Gateway wires it at start.
    tap = site.gw._patrol_tap("door", "cp-a")
    fill_the_disk(site)
    tapped = site.gw.now()
    tap("card", "0A0B0C0D0E", 1.0)
    site.gw.on_worker(lambda c: None).result(60)  # tried, and failed
    assert stored(site, "SELECT count(*) FROM patrol_taps") == [(0,)]
    free_the_disk(site)
    wait_for(lambda: stored(site, "SELECT count(*) FROM patrol_taps") == [(1,)])
    ((checkpoint, at),) = stored(site, "SELECT checkpoint, at FROM patrol_taps")
    assert checkpoint == "cp-a"
    assert abs((datetime.fromisoformat(at) - tapped).total_seconds()) < 1  # its time, not the write's
    assert stored(site, "SELECT count(*) FROM outbox WHERE topic = 'patrol'") == [(1,)]


def test_the_high_water_file_on_a_full_disk_is_said_to_need_disk_space(
    running: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """outbox-stream.json cannot be written because the card is full (its part file goes to
    /dev/full, which answers each write with ENOSPC). The journal says to free disk space, not
    to give the data directory to the gateway's user (a chown the installer would run for nothing)."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    site = running
    decided(site, "door-reader", "card", CARD)  # a record queued upstream: a seq above the file's
    (site.gw.data_dir / f"{HIGH_WATER_NAME}.part").symlink_to("/dev/full")
    caplog.set_level(logging.ERROR, logger="gateway.runtime.outbox_stream")
    site.gw.on_worker(lambda c: check_outbox_stream(c, site.gw.data_dir, site.gw.now())).result(10)
    [line] = [r.getMessage() for r in caplog.records if HIGH_WATER_NAME in r.getMessage()]
    assert os.strerror(errno.ENOSPC) in line
    assert "free disk space" in line and "gateway's user" not in line, line
