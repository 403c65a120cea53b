"""The README's way back from this version to the release at 8a3aa59 (schema 44) on a Pi upgraded
while it still ran on fake-hwclock's stale boot clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from tests.old_release import LAST_RELEASE, STALE_BOOT_UNDER_OLD, OldRelease, go_back, old_release
from tests.parking.conftest import T0, parking_config, show
from tests.parking.test_operations import Steady, a_new_boot, ops

M = timedelta(minutes=1)
STALE = T0 - timedelta(days=3)

# Under 8a3aa59: the Pi boots at the true Monday 09:00 saying Friday 09:00; an unknown car (a
# temporary one) drives in at 09:02 on that clock.
OLD_BOOT = STALE_BOOT_UNDER_OLD + """came = show(gw, "car-in", "苏E77777", STALE + 2 * M)
gw.conn.close()
result = [came.admitted, came.billing]
"""

# 8a3aa59 again, on the restored copy: its service starts at the true 09:20 and the car leaves at 09:25.
OLD_AGAIN = """
from datetime import timedelta
from pathlib import Path
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config, show
from tests.parking.test_operations import Steady, a_new_boot, ops
M = timedelta(minutes=1)
gw = Gateway(parking_config(Path(site) / "data"))
steady = Steady()
steady.s = 20 * 60
o = ops(gw, started=T0 + 20 * M, steady=steady)
o.start(lambda: T0 + 20 * M)
o.stop()
steady.s = 21 * 60
o.tick(T0 + 21 * M)
entered = gw.conn.execute("SELECT entered_at FROM stays WHERE plate = '苏E77777'").fetchone()[0]
steady.s = 25 * 60
out = show(gw, "car-out", "苏E77777", T0 + 25 * M)
gw.conn.close()
result = {"entered_at": entered, "fee_fen": out.fee_fen}
"""


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, LAST_RELEASE)


def test_going_back_after_ntp_set_the_clock_under_this_version_keeps_the_stale_entry(
    old: OldRelease, tmp_path: Path
) -> None:
    """A Pi upgraded at 09:05 on the stale boot clock (3 days behind), NTP setting it at 09:10 under
    this version, and taken back to 8a3aa59 as the README says (the .v44.bak copies restored): the
    car that came in at 09:02 is charged from Friday, 3 days, for a 23-minute stay. It should be
    charged from Monday 09:02, as on a box never upgraded."""
    assert old.run(OLD_BOOT, site=str(tmp_path)) == [True, "temporary"]
    data = tmp_path / "data"
    gw = Gateway(parking_config(data))  # upgraded at 09:05, still on the stale clock
    try:
        steady = Steady()
        steady.s = 5 * 60
        again = ops(gw, started=STALE + 5 * M, steady=steady)
        again.start(lambda: STALE + 5 * M)
        again.stop()
        steady.s = 10 * 60
        again.tick(T0 + 10 * M)  # NTP sets the clock
        steady.s = 11 * 60
        again.tick(T0 + 11 * M)
        moved = gw.conn.execute("SELECT entered_at FROM stays WHERE plate = '苏E77777'").fetchone()[0]
    finally:
        gw.conn.close()
    assert moved.startswith("2025-03-03T01:02"), moved  # this version re-dated it
    go_back(data, 44)  # the README's way back
    got = old.run(OLD_AGAIN, site=str(tmp_path))
    assert got["entered_at"].startswith("2025-03-03T01:02"), (
        f"back on 8a3aa59 with the README's way back, the car that came in at the true Monday 09:02 is "
        f"recorded in at {got['entered_at']} (Friday's stale clock) and asked {got['fee_fen']} fen at "
        "09:25"
    )


OLD_BEFORE = """
from datetime import timedelta
from pathlib import Path
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config, seed, show
cfg = parking_config(Path(site) / "data")
seed(cfg, Path(site))
gw = Gateway(cfg)
show(gw, "car-in", "苏E70000", T0 - timedelta(hours=30))
gw.conn.close()
"""

# 8a3aa59 put back in the boot after the upgrade, before NTP set the clock (10 hours behind).
OLD_BACK_ON_STALE = """
from datetime import timedelta
from pathlib import Path
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config, show
from tests.parking.test_operations import Steady, a_new_boot, ops
M = timedelta(minutes=1)
STALE = T0 - timedelta(hours=10)
gw = Gateway(parking_config(Path(site) / "data"))
steady = Steady()
steady.s = 5 * 60
o = ops(gw, started=STALE + 5 * M, steady=steady)
o.start(lambda: STALE + 5 * M)
o.stop()
steady.s = 10 * 60
show(gw, "car-in", "苏E88888", STALE + 10 * M)
steady.s = 20 * 60
o.tick(T0 + 20 * M)  # NTP sets the clock
steady.s = 21 * 60
o.tick(T0 + 21 * M)
result = gw.conn.execute("SELECT entered_at FROM stays WHERE plate = '苏E88888'").fetchone()[0]
gw.conn.close()
"""


def test_going_back_in_a_later_boot_before_ntp_leaves_new_cars_on_the_stale_clock(
    old: OldRelease, tmp_path: Path
) -> None:
    """Upgraded, three cars came in under this version, the Pi rebooted on fake-hwclock's clock (10
    hours behind) and 8a3aa59 was put back as the README says before NTP set it: a car that comes in
    at the true 09:10 stays recorded in at 23:10 the night before when NTP sets the clock (charged
    10 hours too many). It should move to 09:10, as every row of the boot does."""
    old.run(OLD_BEFORE, site=str(tmp_path))
    data = tmp_path / "data"
    gw = Gateway(parking_config(data))  # upgraded
    try:
        for i, plate in enumerate(("苏E71111", "苏E72222", "苏E73333")):
            show(gw, "car-in", plate, T0 - timedelta(hours=20 - i))
        a_new_boot(gw)  # the Pi restarts, on the stale clock
        booted = ops(gw, started=T0 - timedelta(hours=10), steady=Steady())
        booted.tick(T0 - timedelta(hours=10))
    finally:
        gw.conn.close()
    go_back(data, 44)  # the README's way back
    entered = old.run(OLD_BACK_ON_STALE, site=str(tmp_path))
    assert entered.startswith("2025-03-03T01:10"), (
        f"back on 8a3aa59, the car that came in at the true 09:10 (01:10 UTC) is recorded in at "
        f"{entered} after NTP set the clock: this version's boot-alarms.json names the boot's first "
        "stay as one the restored copy never had"
    )
