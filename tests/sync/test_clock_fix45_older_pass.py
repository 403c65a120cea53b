"""A visitor registered before a power cut who leaves while the Pi runs on fake-hwclock's stale time."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from centre_helpers import Uplink

from gateway.store.passes import NewPass, check_out, create_pass
from tests.parking.conftest import T0
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def test_a_visitor_registered_before_the_cut_and_checked_out_on_the_stale_clock_is_not_out_before_in(
    tmp_path: Path,
) -> None:
    """A visitor is registered at 08:30, half an hour before a power cut three days ago; the Pi's
    fake-hwclock last saved 08:00. Power is back at T0 (09:00): the Pi boots saying 08:00 three days
    ago and the visitor is checked out at once; NTP sets the clock a minute later. The check-out
    stays on the stale clock (only passes registered this boot are moved), so the box and the
    centre have the visitor checked out half an hour before being registered. It should be moved
    to its true time, as an older alarm's clearing written this boot is."""
    up = Uplink(tmp_path)
    gw = up.gw
    cut = T0 - 72 * H + 0 * M  # the power cut, three days ago at 09:00
    registered = cut - 30 * M
    visit = NewPass("visitor", "钱七", registered, registered + 4 * H, host_building="3栋", host_unit="2单元")
    pass_id = create_pass(gw.conn, gw.secrets, visit, registered, "guard1")  # the boot before
    stale = cut - H  # fake-hwclock's last save, 08:00
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 20
    check_out(gw.conn, pass_id, stale + 20 * S, "guard1")  # really T0 + 20 s
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP: the clock jumps three days on
    steady.s = 90
    o.tick(T0 + 90 * S)
    records = up.deliver(T0 + 2 * H)
    up.close()
    of_pass = [r for r in records if r["type"] == "pass" and r["pass"]["id"] == pass_id]
    newest = of_pass[-1]
    out = datetime.fromisoformat(newest["pass"]["checked_out_at"])
    assert out >= registered, (
        f"the centre's newest record of pass {pass_id} ({newest['op']}, {newest.get('change')}) says it "
        f"was checked out at {newest['pass']['checked_out_at']}, before it was registered at "
        f"{registered.isoformat()}; the visitor left at {(T0 + 20 * S).isoformat()}"
    )
