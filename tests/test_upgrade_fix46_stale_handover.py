"""The service upgraded from the release before the last session's (da79715, schema 37) while the
Pi still runs on fake-hwclock's stale boot clock: a slot was handed, on that clock and under the
old release, to a second car parked since before the power cut; NTP sets the clock under this one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from tests.old_release import PREVIOUS_RELEASE, OldRelease, old_release
from tests.parking.conftest import T0, parking_config, show
from tests.parking.test_operations import Steady, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
STALE = T0 - 37 * H  # Saturday 20:00: fake-hwclock's last save before the cut (it is Monday 09:00)

# Under da79715: 皖A11111 (on B001) and 皖A22222 (its slot-mate, the second car: temporary) parked
# on Saturday before the power cut. The Pi boots on Monday 09:00 saying Saturday 20:00; at the true
# 09:42 皖A11111 leaves and B001 is handed to 皖A22222, dated on the stale clock (Saturday 20:42).
# `first_left` minutes after the stale boot clock: negative, before the power cut (a true time).
OLD_STALE_HANDOVER = """
from datetime import timedelta
from pathlib import Path
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config, seed, show
from tests.parking.test_operations import Steady, a_new_boot, ops
H = timedelta(hours=1)
M = timedelta(minutes=1)
STALE = T0 - 37 * H
cfg = parking_config(Path(site) / "data")
seed(cfg, Path(site))
gw = Gateway(cfg)
show(gw, "car-in", "皖A11111", STALE - 3 * H)
second = show(gw, "car-in", "皖A22222", STALE - 150 * M)
if first_left < 0:
    left = show(gw, "car-out", "皖A11111", STALE + first_left * M)
a_new_boot(gw)
steady = Steady()
o = ops(gw, started=STALE, steady=steady)
o.tick(STALE)
if first_left >= 0:
    steady.s = first_left * 60
    left = show(gw, "car-out", "皖A11111", STALE + first_left * M)
steady.s = 43 * 60
o.tick(STALE + 43 * M)
gw.conn.close()
result = {"second": [second.admitted, second.billing], "left": [left.admitted, left.reason]}
"""


def _upgraded_and_set(gw: Gateway) -> str:
    """The service upgraded at the true 09:45 (on the stale clock), NTP sets the clock at 09:50:
    the handover of 皖A22222's stay as stored after the re-dating."""
    steady = Steady()
    steady.s = 45 * 60
    again = ops(gw, started=STALE + 45 * M, steady=steady)  # upgraded: the service restarted
    again.tick(STALE + 45 * M)
    steady.s = 50 * 60
    again.tick(T0 + 50 * M)  # NTP sets the clock
    steady.s = 51 * 60
    again.tick(T0 + 51 * M)
    return str(gw.conn.execute("SELECT handed_over_at FROM stays WHERE plate = '皖A22222'").fetchone()[0])


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, PREVIOUS_RELEASE)


def test_a_handover_on_the_stale_clock_before_the_upgrade_moves_when_ntp_sets_it(
    old: OldRelease, tmp_path: Path
) -> None:
    """docs/parking.md (Repairs): what the boot wrote on the old clock onto the stay of a car parked
    since before the power cut moves when NTP sets it (the slot handed to it), so a second car pays
    to its real handover, not days short. Written by the previous release, the service upgraded at
    the true 09:45 before NTP set the clock at 09:50, the handover stayed on Saturday 20:42: 皖A22222
    was asked 11元 at 09:55 for a stay to Monday 09:42 (60元 on the same box not upgraded)."""
    got = old.run(OLD_STALE_HANDOVER, site=str(tmp_path), first_left=42)
    assert got == {"second": [True, "temporary"], "left": [True, "resident"]}, got
    gw = Gateway(parking_config(tmp_path / "data"))
    try:
        handed = _upgraded_and_set(gw)
        out = show(gw, "car-out", "皖A22222", T0 + 55 * M)
    finally:
        gw.conn.close()
    assert (handed[:16], out.fee_fen) == ("2025-03-03T01:42", 6000), (
        f"B001 was handed to 皖A22222 at the true Monday 09:42 (01:42 UTC); after the upgrade and NTP "
        f"it is stored at {handed}, and the car is asked {out.fee_fen} fen at the exit, not the 6000 "
        "of its real stay"
    )


def test_a_handover_before_the_power_cut_stays_after_the_upgrade(old: OldRelease, tmp_path: Path) -> None:
    """皖A11111 left at Saturday 19:30, before the power cut and before the time fake-hwclock saved
    (20:00): the slot was handed to 皖A22222 then, a true time, which NTP setting the clock after
    the upgrade leaves as it is (moved, the car would pay to Monday for a stay that stopped
    billing on Saturday)."""
    got = old.run(OLD_STALE_HANDOVER, site=str(tmp_path), first_left=-30)
    assert got == {"second": [True, "temporary"], "left": [True, "resident"]}, got
    gw = Gateway(parking_config(tmp_path / "data"))
    try:
        handed = _upgraded_and_set(gw)
    finally:
        gw.conn.close()
    assert handed.startswith("2025-03-01T11:30"), handed
