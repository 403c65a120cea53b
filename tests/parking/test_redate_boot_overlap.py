"""A Pi boots on fake-hwclock's stale time, saved about once an hour: the boot clock can read a little
before the last things written before the power cut. docs/parking.md (*Repairs*): 'an older clearing
from before this boot is a true time and stays', 'a fault from before a power cut keeps its true
age'; only what this boot wrote on the old clock is re-dated."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway.parking.boot_clock import BOOT_MARKER
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm, clear_alarm, raise_alarm
from gateway.timefmt import from_db
from tests.parking.conftest import T0
from tests.parking.test_operations import Steady, a_new_boot, offline, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def alarm_records(gw: Gateway) -> list[dict[str, object]]:
    return [
        json.loads(p)
        for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    ]


def test_a_repair_made_before_the_power_cut_is_not_moved_to_after_it(
    make_gw: Callable[..., Gateway],
) -> None:
    """The car-out display fails at 09:00; the contractor has it back at 10:10 (70 minutes, well
    inside the 8-hour repair limit; the centre gets the clearing dated 10:10). fake-hwclock last
    saved the time at 10:05; the power is cut at 10:30 and comes back at 20:00. The Pi boots
    saying 10:05, and the estate's router takes ten minutes to come up, so NTP sets the clock when
    the Pi reads 10:15.

    What happened: the 10:10 repair, written by the previous boot, was taken for one written on the
    stale clock and moved ten hours later: the fault became 11 hours long, the centre was sent its
    clearing again 'redated' to 20:10, and the contractor was told the repair was overdue."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    nine = T0.replace(hour=9)
    raise_alarm(gw.conn, "device_offline", "car-out-display", offline("car-out-display"), nine)
    clear_alarm(gw.conn, "device_offline", "car-out-display", nine + 70 * M)  # repaired, on time
    ops(gw, started=nine - H, steady=Steady()).repairs(nine + 71 * M)  # the look after it: on time
    (cleared_before,) = gw.conn.execute(
        "SELECT cleared_at FROM alarms WHERE kind = 'device_offline'"
    ).fetchone()
    records_before = len(alarm_records(gw))

    # power cut at 10:30; the Pi boots at 20:00 on fake-hwclock's 10:05
    a_new_boot(gw)
    steady = Steady()
    stale = nine + 65 * M
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 600  # ten minutes later NTP sets the clock
    o.tick(nine.replace(hour=20) + 10 * M)
    o.tick(nine.replace(hour=20) + 10 * M + 30 * S)  # the next look

    (cleared_after,) = gw.conn.execute(
        "SELECT cleared_at FROM alarms WHERE kind = 'device_offline'"
    ).fetchone()
    sent = alarm_records(gw)[records_before:]
    told = [(r["kind"], r["state"], r["at"], r.get("change")) for r in sent]
    assert from_db(cleared_after) == from_db(cleared_before), (
        f"repaired at {cleared_before} before the power cut; now kept repaired at {cleared_after}; "
        f"sent to the centre since the boot: {told}"
    )
    assert not [r for r in sent if r["kind"] == "repair_overdue"], sent


def test_a_fault_from_before_the_power_cut_keeps_its_true_start_when_the_pi_boots_on_a_stale_clock(
    make_gw: Callable[..., Gateway],
) -> None:
    """The car-out display fails on Monday at 10:20 (the centre gets device_offline dated 10:20).
    fake-hwclock last saved the time at 10:05; the power is cut at 10:30 and is back at 20:00; the
    Pi boots saying 10:05 and NTP sets it two minutes later. The display is still broken.

    What happened: the first look on the stale clock took the 10:20 fault for one 'dated after now'
    (a clock that ran ahead, docs "When the clock jumps") and moved its start back to 10:05; the
    centre was sent its raise again, 'redated' to 10:05. NTP's step then left it there (an older
    alarm's raise is not moved), so the fault counted from 10:05 for good: repaired on Tuesday at
    10:12, 23 h 52 min after it failed, inside the 24-hour limit, the contractor was told it was
    overdue (repair_overdue raised at the look at Tuesday 10:10)."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 24\n")
    failed = T0.replace(hour=10, minute=20)
    raise_alarm(gw.conn, "device_offline", "car-out-display", offline("car-out-display"), failed)
    records_before = len(alarm_records(gw))

    a_new_boot(gw)
    steady = Steady()
    stale = T0.replace(hour=10, minute=5)  # the Pi boots at 20:00 saying 10:05
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale + 30 * S)
    steady.s = 120
    ntp = T0.replace(hour=20, minute=2)
    o.tick(ntp)  # NTP has set the clock
    for k in range(1, 29):  # the looks go on, every half hour here, to Tuesday 10:10
        steady.s += 1800
        o.tick(ntp + k * 30 * M)
    steady.s += 480
    o.tick(failed + 23 * H + 50 * M)  # Tuesday 10:10: 23 h 50 min after the display failed

    (raised,) = gw.conn.execute("SELECT raised_at FROM alarms WHERE kind = 'device_offline'").fetchone()
    sent = alarm_records(gw)[records_before:]
    told = [(r["kind"], r["state"], r["at"], r.get("change")) for r in sent]
    assert from_db(raised) == failed, (
        f"the display failed at {failed}; kept failed at {raised}; centre told {told}"
    )
    assert not [r for r in sent if r["kind"] == "repair_overdue"], told


def test_an_acknowledgement_is_moved_only_when_this_boot_wrote_it(make_gw: Callable[..., Gateway]) -> None:
    """Two old camera faults, both repaired before the power cut. The guard acknowledged one at
    10:10, after fake-hwclock's last save at 10:05; the Pi boots at 20:00 saying 10:05 and the guard
    acknowledges the other on that clock at 10:06. NTP's step moves the boot's acknowledgement (to
    about 20:01) and leaves the one from before the power cut at 10:10."""
    gw = make_gw()
    nine = T0.replace(hour=9)
    for cam in ("cam-a", "cam-b"):
        raise_alarm(gw.conn, "device_offline", cam, offline(cam), nine)
        clear_alarm(gw.conn, "device_offline", cam, nine + 30 * M)
    a_id, b_id = (i for (i,) in gw.conn.execute("SELECT id FROM alarms ORDER BY id"))
    acknowledge_alarm(gw.conn, a_id, nine + 70 * M, "guard")  # before the power cut

    a_new_boot(gw)
    steady = Steady()
    stale = nine + 65 * M
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    acknowledge_alarm(gw.conn, b_id, stale + M, "guard")  # on the stale boot clock
    steady.s = 120
    o.tick(nine.replace(hour=20) + 2 * M)  # NTP has set the clock

    acked = dict(gw.conn.execute("SELECT source, acknowledged_at FROM alarms").fetchall())
    assert from_db(acked["cam-a"]) == nine + 70 * M
    assert from_db(acked["cam-b"]) == nine.replace(hour=20) + M


def test_an_older_fault_cleared_on_the_stale_clock_before_a_restart_is_still_moved(
    make_gw: Callable[..., Gateway],
) -> None:
    """A camera down since 10:00 comes back as the Pi boots on fake-hwclock's 10:05 (cleared at
    10:06 on that clock); the service restarts before NTP sets the clock. The next run of the boot
    still knows the fault was open as the box booted: its clearing is moved to its true time."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    gw = make_gw()
    ten = T0.replace(hour=10)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), ten)
    (gw.data_dir / BOOT_MARKER).write_text(json.dumps({"boot": "the boot before"}))
    steady = Steady()
    stale = ten + 5 * M
    first = ops(gw, started=stale, steady=steady)  # the boot's first run keeps the open fault
    assert json.loads((gw.data_dir / BOOT_MARKER).read_text())["boot"] == boot
    first.tick(stale)
    clear_alarm(gw.conn, "device_offline", "cam", stale + M)
    steady.s = 90
    again = ops(gw, started=stale + 90 * S, steady=steady)  # the service restarted, same boot
    again.tick(stale + 90 * S)
    steady.s = 120
    again.tick(ten.replace(hour=20) + 2 * M)  # NTP has set the clock

    (cleared,) = gw.conn.execute("SELECT cleared_at FROM alarms WHERE kind = 'device_offline'").fetchone()
    assert from_db(cleared) == ten.replace(hour=20) + M


def test_a_fault_cleared_on_the_stale_clock_before_an_upgrade_restart_is_still_moved(
    make_gw: Callable[..., Gateway],
) -> None:
    """A camera down since 10:00 (before the power cut) comes back as the Pi boots at 20:00 on
    fake-hwclock's 10:05: cleared at 10:06 on that clock. The gateway is upgraded and restarted
    before NTP sets the clock; the boot's marker was written by the version before, which kept no
    `older_open`. When NTP sets the clock, the clearing should move to its true time (about 20:01):
    the camera was down ten hours, not six minutes. It stays at 10:06: the fault reads six minutes
    long, in the daily report and at the centre."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    gw = make_gw()
    ten = T0.replace(hour=10)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), ten)
    (gw.data_dir / BOOT_MARKER).write_text(json.dumps({"boot": "the boot before"}))
    steady = Steady()
    stale = ten + 5 * M
    first = ops(gw, started=stale, steady=steady)  # the boot's first run, the version before
    first.tick(stale)
    clear_alarm(gw.conn, "device_offline", "cam", stale + M)  # back as the Pi boots
    # The version before wrote the marker without older_open (same boot, same first ids).
    marker = json.loads((gw.data_dir / BOOT_MARKER).read_text())
    assert marker["boot"] == boot
    marker.pop("older_open")
    (gw.data_dir / BOOT_MARKER).write_text(json.dumps(marker))

    steady.s = 90
    again = ops(gw, started=stale + 90 * S, steady=steady)  # upgraded, restarted, same boot
    again.tick(stale + 90 * S)
    steady.s = 120
    again.tick(ten.replace(hour=20) + 2 * M)  # NTP has set the clock
    again.tick(ten.replace(hour=20) + 2 * M + 30 * S)

    (cleared,) = gw.conn.execute("SELECT cleared_at FROM alarms WHERE kind = 'device_offline'").fetchone()
    assert from_db(cleared) == ten.replace(hour=20) + M, f"cleared at {cleared}"
