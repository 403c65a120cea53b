"""The service upgraded from the release of two sessions ago (e7a463d) while the Pi still runs on
fake-hwclock's stale boot clock: the old release wrote boot-alarms.json (no `stale_rounds`, no
`materials_out` among the boot's first rows), NTP sets the clock under the new one."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from tests.old_release import OldRelease, old_release
from tests.parking.conftest import T0, parking_config
from tests.parking.test_operations import PATROL, Steady, alarms, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
STALE = datetime(2025, 2, 28, 21, 50, tzinfo=T0.tzinfo)  # fake-hwclock's last save before the cut

# Under e7a463d: the Pi boots saying 21:50 on 28 February (it is 09:00 on 3 March), its network
# down; the operations thread looks every ten minutes for 70 minutes and judges the night route's
# 22:00 round late on that clock (巡更超时, sent upstream).
OLD_STALE_BOOT = """
from datetime import datetime, timedelta
from pathlib import Path
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config, seed
from tests.parking.test_operations import PATROL, Steady, a_new_boot, ops, alarms
from gateway.store.materials import record_materials_out
from gateway.store.passes import NewPass, create_pass
M = timedelta(minutes=1)
S = timedelta(seconds=1)
STALE = datetime(2025, 2, 28, 21, 50, tzinfo=T0.tzinfo)
cfg = parking_config(Path(site) / "data", extra=PATROL)
seed(cfg, Path(site))
gw = Gateway(cfg)
a_new_boot(gw)
steady = Steady()
o = ops(gw, started=STALE, steady=steady)
o.tick(STALE)
registered = STALE + 15 * S
crew = NewPass(
    "contractor", "孙师傅", registered, registered + 8 * 60 * M, host_building="3栋", host_unit="2单元"
)
steady.s = 15
pass_id = create_pass(gw.conn, gw.secrets, crew, registered, "guard1")
steady.s = 30
record_materials_out(gw.conn, STALE + 30 * S, "guard1", items="旧橱柜 1 套", pass_id=pass_id)
for m in range(10, 71, 10):
    steady.s = m * 60
    o.tick(STALE + m * M)
gw.conn.close()
result = {"pass_id": pass_id}
"""


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory)


def _upgraded_on_the_stale_clock(old: OldRelease, tmp_path: Path) -> tuple[Gateway, object]:
    """The old release ran 70 minutes on the stale clock; the installer upgrades and restarts the
    service at 75 minutes, the clock still stale; NTP sets it at 80 minutes."""
    old.run(OLD_STALE_BOOT, site=str(tmp_path))
    gw = Gateway(parking_config(tmp_path / "data", extra=PATROL))
    assert [kind for kind, _ in alarms(gw)] == ["patrol_late"]  # the guard saw 巡更超时
    steady = Steady()
    steady.s = 75 * 60
    again = ops(gw, started=STALE + 75 * M, steady=steady)
    again.start(lambda: STALE + 75 * M)
    again.stop()
    steady.s = 80 * 60
    again.tick(T0 + 80 * M)  # NTP sets the clock
    steady.s = 90 * 60
    again.tick(T0 + 90 * M)
    return gw, again


def test_a_round_judged_on_the_stale_clock_by_the_old_release_is_undone_after_the_upgrade(
    old: OldRelease, tmp_path: Path
) -> None:
    """docs/parking.md: a round judged on the stale clock is taken off the record and its alarm
    cleared when NTP sets the clock, also after a restart of the service (an update). Upgraded
    from e7a463d on the stale clock, the 22:00 round of the night the box was off stays judged and
    its 巡更超时 alarm stays open on the alarms page and at the centre."""
    gw, _ = _upgraded_on_the_stale_clock(old, tmp_path)
    try:
        rounds = gw.conn.execute("SELECT route, due_at, status FROM patrol_rounds").fetchall()
        still_open = gw.conn.execute("SELECT kind, source FROM alarms WHERE cleared_at IS NULL").fetchall()
        assert (rounds, still_open) == ([], []), (
            f"after the upgrade and NTP, the power cut's round is still on record {rounds} and its "
            f"alarm still open {still_open}"
        )
    finally:
        gw.conn.close()


def test_materials_carried_out_on_the_stale_clock_under_the_old_release_move_after_the_upgrade(
    old: OldRelease, tmp_path: Path
) -> None:
    """docs/parking.md: the materials carried out on the stale boot clock move to their true time
    with the boot's other rows. Carried out under e7a463d 15 s after their contractor's pass was
    registered, upgraded before NTP: the pass moves three days on, the materials record stays three
    days early (carried out before the pass it left on, in another day's report)."""
    gw, _ = _upgraded_on_the_stale_clock(old, tmp_path)
    try:
        created = gw.conn.execute("SELECT created_at FROM passes WHERE kind = 'contractor'").fetchone()[0]
        carried = gw.conn.execute("SELECT at FROM materials_out").fetchone()[0]
        assert created.startswith("2025-03-03"), created  # the pass moved to its true day
        assert carried >= created, (
            f"the contractor's pass is registered at {created}; the cabinet carried out under it "
            f"15 s later is still recorded at {carried} (the stale boot clock)"
        )
    finally:
        gw.conn.close()
