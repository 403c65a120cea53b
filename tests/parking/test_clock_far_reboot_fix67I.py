"""A clock far ahead at a reboot after the one that alarmed it (Review 67 I1). The far boot's alarm
and pause (Review 67 B1) judged the boot by the newest time the database knew, the later of its
last heartbeat and its newest access record: a car let in while the clock read 2035 left a 2035
record behind it, so the next boot on the same bad NTP answer, days after the clock was set
right, found nothing far, and retention deleted the history at once. Nor did a reboot during the
pause, the clock still ahead, find anything far: the heartbeats were written on it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.parking.boot_clock import BOOT_MARKER
from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking.conftest import T0, show
from tests.parking.test_clock_jumps import ahead, counts, run_for_weeks
from tests.parking.test_operations import Steady, ops

S, H, D = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)


def _reboot(gw: Gateway, booted: datetime, steady: Steady) -> Operations:
    """The Pi reboots: its marker, as the last boot left it, names that boot; the service starts
    20 s into the new one, on the clock `booted`."""
    marker = gw.data_dir / BOOT_MARKER
    kept = json.loads(marker.read_text())
    marker.write_text(json.dumps({**kept, "boot": "the boot before"}))
    steady.s = 20.0
    o = ops(gw, started=booted, steady=steady)
    o.start(lambda: booted)
    o.stop()
    return o


def _clock_alarms(gw: Gateway) -> int:
    return int(gw.conn.execute("SELECT count(*) FROM alarms WHERE kind = 'clock_stepped'").fetchone()[0])


def _bad_ntp(o: Operations, steady: Steady, booted: datetime, minutes: int) -> None:
    """NTP's answer ten years ahead a minute after the boot, and the gateway's looks for `minutes`."""
    wall = ahead(booted) + 60 * S
    for k in range(1, 2 * minutes + 1):
        steady.s += 30
        o.tick(wall + k * 30 * S)


def test_the_same_bad_ntp_answer_at_a_later_boot_is_alarmed_again(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    run_for_weeks(gw, Steady())
    boot = Steady()
    o = _reboot(gw, T0, boot)
    _bad_ntp(o, boot, T0, 3)
    show(gw, "car-in", "苏E70002", ahead(T0) + 5 * 60 * S)  # let in while the clock reads 2035
    true = T0 + 12 * 60 * S  # the installer sets it right; the pause runs out, the box runs on
    boot.s += 600
    o.tick(true)
    gw.conn.execute("UPDATE alarms SET cleared_at = ? WHERE kind = 'clock_stepped'", (to_db(true + H),))
    for hour in range(1, 30):
        boot.s += 3600
        o.tick(true + hour * H)
    before, alarms = counts(gw), _clock_alarms(gw)
    o = _reboot(gw, T0 + 2 * D, boot)  # two days later, the same NTP server says 2035 again
    _bad_ntp(o, boot, T0 + 2 * D, 3)
    assert (_clock_alarms(gw), counts(gw)) == (alarms + 1, before)


def test_a_reboot_while_the_clock_is_still_ahead_keeps_the_pause(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    run_for_weeks(gw, Steady())
    boot = Steady()
    o = _reboot(gw, T0, boot)
    _bad_ntp(o, boot, T0, 3)
    for hour in range(1, 4):  # heartbeats on the clock ahead, and fake-hwclock saves it
        boot.s += 3600
        o.tick(ahead(T0) + hour * H)
    before = counts(gw)
    wall = ahead(T0) + 4 * H  # rebooted in the pause, on fake-hwclock's save; NTP says 2035 still
    o = _reboot(gw, wall, boot)
    assert not o.clock.trusted(boot.s)
    for k in range(1, 4):
        boot.s += 30
        o.tick(wall + k * 30 * S)
    assert counts(gw) == before
    # set right in the new pause, the box runs on for 40 days past it: the reboot after, on the
    # clock right, alarms nothing (40 days past the time before the clock ahead, not its last run)
    boot.s += 60
    o.tick(T0 + 5 * H)
    for day in range(1, 42):
        boot.s += 86400
        o.tick(T0 + 5 * H + day * D)
    gw.conn.execute("UPDATE alarms SET cleared_at = ? WHERE kind = 'clock_stepped'", (to_db(T0 + 2 * D),))
    alarms = _clock_alarms(gw)
    o = _reboot(gw, T0 + 42 * D, boot)
    assert (o.clock.trusted(boot.s), _clock_alarms(gw)) == (True, alarms)


def test_a_reboot_in_the_pause_of_a_clock_typed_ahead_keeps_it(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    run_for_weeks(gw, Steady())
    steady = Steady()
    o = _reboot(gw, T0, steady)  # up on the right clock, its heartbeats written
    steady.s += 30
    o.tick(T0 + 30 * S)
    for hour in range(1, 4):  # an installer types 2035 on the running box: alarm, pause
        steady.s += 3600
        o.tick(ahead(T0) + hour * H)
    before = counts(gw)
    wall = ahead(T0) + 4 * H  # a power cut; no NTP: the Pi boots on fake-hwclock's save
    o = _reboot(gw, wall, steady)
    for k in range(1, 4):
        steady.s += 30
        o.tick(wall + k * 30 * S)
    assert (o.clock.trusted(steady.s), counts(gw)) == (False, before)
