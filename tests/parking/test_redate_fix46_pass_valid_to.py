"""A visitor's pass registered on fake-hwclock's stale boot clock, its end given on that clock too, once
NTP sets the clock: its window moves whole, and never ends before it starts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from gateway.timefmt import from_db
from tests.parking.conftest import T0
from tests.parking.test_operations import Steady, a_new_boot, ops

M = timedelta(minutes=1)
STALE = T0 - timedelta(days=3)  # the box boots at the true Monday 09:00 saying Friday 09:00


def test_a_pass_whose_end_was_given_on_the_stale_clock_does_not_end_before_it_starts(
    make_gw: Callable[..., Gateway],
) -> None:
    """The guard registers 王五 at 09:01 on the stale clock, until 13:00 on that clock (Friday's, the
    booth's wall clock then), the start left empty; NTP sets the clock at 09:10. The start moved to
    Monday 09:01, the end stayed on Friday 13:00: a pass that ends before it starts, and her QR
    refused as expired at the door. It should run Monday 09:01 to 13:00, as she was let in for."""
    gw = make_gw()
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=STALE, steady=steady)
    o.tick(STALE)
    steady.s = 60
    visit = NewPass("visitor", "王五", STALE + M, STALE + 240 * M, host_building="3栋", host_unit="2单元")
    pass_id = create_pass(gw.conn, gw.secrets, visit, STALE + M, "guard1")
    steady.s = 10 * 60
    o.tick(T0 + 10 * M)  # NTP sets the clock
    steady.s = 11 * 60
    o.tick(T0 + 11 * M)
    window = gw.conn.execute("SELECT valid_from, valid_to FROM passes WHERE id = ?", (pass_id,)).fetchone()
    qr = gw.conn.execute(
        "SELECT valid_from, valid_to FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pass_id,)
    ).fetchone()
    start, end = (from_db(t) for t in window)
    assert (start, end) == (T0 + M, T0 + 240 * M), (
        f"the pass registered at the true 09:01 until 13:00 on the stale clock runs {window[0]} to "
        f"{window[1]} once NTP set the clock"
    )
    assert tuple(qr) == tuple(window), qr  # her QR's window with it
