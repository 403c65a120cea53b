"""The service upgraded from the release at 8a3aa59 (schema 44) between the rough step that set
the stale boot clock and NTP's nudge just after it (both under a minute apart at boot)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from tests.old_release import LAST_RELEASE, STALE_BOOT_UNDER_OLD, OldRelease, old_release
from tests.parking.conftest import T0, parking_config
from tests.parking.test_operations import Steady, ops

M = timedelta(minutes=1)

# Under 8a3aa59: the Pi boots at the true Monday 09:00 saying Friday 09:00; a temporary car drives
# in at 09:02 on that clock. At 09:25 a rough time source sets the clock to 08:55 (30 minutes
# behind the truth): the old release re-dates the boot's rows onto that clock.
OLD_SET_ROUGHLY = STALE_BOOT_UNDER_OLD + """came = show(gw, "car-in", "苏E88888", STALE + 2 * M)
steady.s = 25 * 60
o.tick(T0 - 5 * M)  # the rough source sets the clock, 30 minutes behind
steady.s = 26 * 60
o.tick(T0 - 4 * M)
entered = gw.conn.execute("SELECT entered_at FROM stays WHERE plate = '苏E88888'").fetchone()[0]
gw.conn.close()
result = [came.admitted, entered]
"""


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, LAST_RELEASE)


def test_ntp_nudge_just_after_the_upgrade_moves_the_boot_rows(old: OldRelease, tmp_path: Path) -> None:
    """docs/parking.md (When the clock jumps): the nudge of at most an hour within 10 minutes of the
    step that set the boot clock re-dates the boot's rows. Upgraded from 8a3aa59 at 09:27, between
    the rough step (09:25) and NTP's +30 min nudge (09:28), the car that came in at 09:02 stays
    recorded at 08:32 and is asked 7元 at 09:40 where both releases, never upgraded, ask 5元."""
    came, entered = old.run(OLD_SET_ROUGHLY, site=str(tmp_path))
    assert came and entered.startswith("2025-03-03T00:32"), entered  # on the rough clock
    gw = Gateway(parking_config(tmp_path / "data"))  # upgraded at 09:27 (the clock reads 08:57)
    try:
        steady = Steady()
        steady.s = 27 * 60
        again = ops(gw, started=T0 - 3 * M, steady=steady)
        again.start(lambda: T0 - 3 * M)
        again.stop()
        steady.s = 28 * 60
        again.tick(T0 + 28 * M)  # NTP's nudge: +30 minutes, a minute after the upgrade
        steady.s = 29 * 60
        again.tick(T0 + 29 * M)
        entered = gw.conn.execute("SELECT entered_at FROM stays WHERE plate = '苏E88888'").fetchone()[0]
        due = gw.parking.quote(gw.conn, "苏E88888", T0 + 40 * M).get("due_fen")
    finally:
        gw.conn.close()
    assert (entered[:16], due) == ("2025-03-03T01:02", 500), (
        f"the car that came in at the true 09:02 (01:02 UTC) is recorded in at {entered} after the "
        f"upgrade and NTP's nudge, and quoted {due} fen at 09:40, not 500"
    )
