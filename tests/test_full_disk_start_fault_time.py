"""A gateway started on a full disk: the start's settling of the device alarms waits in memory
(kept_records.DevicesSettled) and settles them, once the disk has room, as the devices were at the
start, so that a fault after the start keeps its own time (docs/hardware.md, Health and alarms)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from drivers.health import DeviceHealth
from gateway.runtime.gateway import Gateway
from tests.test_full_disk_start_held_lane import fill_the_disk, free_the_disk
from tests.ui.conftest import Traffic, make_config, wait_for


def _health(gw: Gateway, device: str) -> DeviceHealth:
    return next(h for h in gw.devices.health if h.device == device)


def _raised_at(gw: Gateway, source: str) -> list[str]:
    rows = gw.on_worker(
        lambda c: c.execute(
            "SELECT raised_at FROM alarms WHERE kind = 'device_offline' AND source = ?", (source,)
        ).fetchall()
    ).result(10)
    return [r[0] for r in rows]


def test_a_relay_unplugged_while_a_box_started_on_a_full_disk_counts_from_the_fault(tmp_path: Path) -> None:
    """The box boots on a full SD card with the barrier's relay missing (its alarm must wait), and
    a while later the door's relay is unplugged too. Once the guard frees space, the door relay's
    设备离线 should be dated when it was unplugged (hardware.md: an alarm raised while the disk is
    full is written with its own time, its repair deadline counted from the fault). It is dated when
    the disk was freed: the start's settling, kept in memory ahead of it, reads every device as it
    is at the write and raises the door relay's alarm then; the record of the real fault, written
    after it, is ignored (one alarm open per source)."""
    gw = Gateway(make_config(tmp_path / "data"), chooser_for=Traffic().chooser_for)
    _health(gw, "car-in-barrier").set_offline("USB relay not found")  # missing at boot
    fill_the_disk(gw)
    try:
        started = gw.now()
        gw.start()
        gw.on_worker(lambda c: None).result(10)
        assert gw.by_hand.unrecorded_opens() >= 1  # the settling at start waits for the disk
        unplugged = gw.now()
        _health(gw, "door-lock").set_offline("USB relay unplugged")
        gw.on_worker(lambda c: None).result(10)
        time.sleep(2.0)  # the disk stays full a while (hours, on a site)
        freed = gw.now()
        free_the_disk(gw)
        wait_for(lambda: len(_raised_at(gw, "door-lock")) == 1)
        (raised_at,) = _raised_at(gw, "door-lock")
        assert datetime.fromisoformat(raised_at) < freed, (
            f"alarm dated {raised_at}, when the disk was freed ({freed.isoformat()}), not when the "
            f"relay was unplugged ({unplugged.isoformat()})"
        )
        # The relay missing at boot is alarmed as of the start, not of the write.
        (barrier_at,) = _raised_at(gw, "car-in-barrier")
        assert started <= datetime.fromisoformat(barrier_at) < unplugged
    finally:
        gw.stop()
