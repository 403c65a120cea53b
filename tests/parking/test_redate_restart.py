"""A restart within one boot does not lose the re-dating of a step of the wall clock (NTP setting a
Pi's stale fake-hwclock time): the run that saw the step, or should have, may be killed before its
re-dating is done; the next run of the same boot does it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.timefmt import from_db
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)
BOOT = T0 - 72 * H  # fake-hwclock's time: three days back


def run_briefly(gw: Gateway, started: datetime, steady: Steady) -> None:
    """The service runs from `started` (its operations thread up) and is killed before its next tick."""
    o = ops(gw, started=started, steady=steady)
    o.start(lambda: started)
    o.stop()


def test_a_car_in_on_the_stale_boot_clock_pays_for_its_real_stay_after_a_restart_before_the_next_tick(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    a_new_boot(gw)  # the Pi restarts
    steady = Steady()  # the kernel's monotonic clock: it runs on across restarts of the service
    run_briefly(gw, BOOT, steady)
    show(gw, "car-in", "苏E12345", BOOT + 10 * S)  # in at the gate as the Pi boots
    steady.s = 40  # NTP has set the clock, and the service is restarted before its thread ticked
    again = ops(gw, started=T0 + 10 * S, steady=steady)
    again.start(lambda: T0 + 10 * S)
    again.stop()
    steady.s = 70
    again.tick(T0 + 40 * S)
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays").fetchone()[0])
    assert entered == T0 - 20 * S  # booted at T0 - 30 s on the true clock
    held = show(gw, "car-out", "苏E12345", T0 + H)
    assert (held.reason, held.fee_fen) == ("payment_due", 700)


def test_a_re_dating_done_before_a_restart_is_not_done_again(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    a_new_boot(gw)
    steady = Steady()
    first = ops(gw, started=BOOT, steady=steady)
    first.start(lambda: BOOT)
    first.stop()
    show(gw, "car-in", "苏E12345", BOOT + 10 * S)
    steady.s = 30
    first.tick(T0)  # the thread sees the step and re-dates the stay
    steady.s = 40
    run_briefly(gw, T0 + 10 * S, steady)
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays").fetchone()[0])
    assert entered == T0 - 20 * S


def test_an_upgrade_within_the_boot_keeps_the_older_versions_mark_of_the_boots_first_rows(
    make_gw: Callable[..., Gateway],
) -> None:
    """The installer upgrades the gateway (a restart of the service, same boot) while the Pi is still
    on its stale boot clock. The older version kept the boot's first rows as first_alarm/first_stay:
    the car it let in is still this boot's, and is re-dated when NTP sets the clock."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    gw = make_gw()
    (gw.data_dir / "boot-alarms.json").write_text(
        json.dumps({"boot": boot, "first_alarm": 1, "first_stay": 1})
    )
    show(gw, "car-in", "苏E12345", BOOT + 10 * S)  # let in by the older version
    steady = Steady()
    steady.s = 60
    upgraded = ops(gw, started=BOOT + 60 * S, steady=steady)
    upgraded.start(lambda: BOOT + 60 * S)
    upgraded.stop()
    steady.s = 90
    upgraded.tick(T0)  # NTP has set the clock
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays").fetchone()[0])
    assert T0 - 2 * 60 * S <= entered <= T0, f"the older version's car kept its stale entry {entered}"
