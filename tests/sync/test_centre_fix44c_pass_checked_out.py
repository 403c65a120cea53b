"""A visitor registered and checked out while the Pi ran on its stale boot clock: NTP moves the pass's
registration and window three days on and sends the pass again as redated (docs/mqtt.md: "the newest
record of a pass holds"), but its check-out, dated on the same stale clock, is left where it was: the
centre's newest record of the pass says it was checked out three days before it was registered."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tests.parking.conftest import T0
from tests.parking.test_operations import Steady, a_new_boot, ops
from tests.sync.centre_helpers import Uplink

H = timedelta(hours=1)
S = timedelta(seconds=1)


def test_a_pass_checked_out_on_the_stale_clock_is_not_sent_checked_out_before_it_was_registered(
    tmp_path: Path,
) -> None:
    from gateway.store.passes import NewPass, check_out, create_pass

    up = Uplink(tmp_path)
    gw = up.gw
    boot = T0 - 72 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    registered = boot + 15 * S
    hours = timedelta(hours=gw.site.config.visitors.default_hours)
    visit = NewPass("visitor", "钱七", registered, registered + hours, host_building="3栋", host_unit="2单元")
    pass_id = create_pass(gw.conn, gw.secrets, visit, registered, "guard1")
    steady.s = 30
    check_out(gw.conn, pass_id, boot + 30 * S, "guard1")  # the visitor left a quarter minute later
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP: the clock jumps three days
    steady.s = 90
    o.tick(T0 + 90 * S)
    records = up.deliver(T0 + 2 * H)
    up.close()
    of_pass = [r for r in records if r["type"] == "pass" and r["pass"]["id"] == pass_id]
    newest = of_pass[-1]
    at = datetime.fromisoformat(newest["at"])
    out = newest["pass"]["checked_out_at"]
    assert out is not None and datetime.fromisoformat(out) >= at, (
        f"the centre's newest record of pass {pass_id} ({newest.get('op')}, {newest.get('change')}) "
        f"says it was registered at {newest['at']} and checked out at {out}: "
        "checked out before it was registered"
    )
    assert newest["op"] == "checked_out", f"the visitor has left; the newest record says {newest['op']}"
