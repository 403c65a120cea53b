"""A car recorded inside with a typed entry time on a Pi's stale boot clock keeps that time when
NTP sets the clock; one recorded as in since now is re-dated with the boot's other rows
(docs/parking.md, Cars already inside; gateway/store/redate.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.database import transaction
from gateway.timefmt import from_db
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)


def test_an_entry_time_the_admin_typed_is_not_moved_when_ntp_sets_the_boot_clock(
    make_gw: Callable[..., Gateway],
) -> None:
    """Day one, the Pi boots on fake-hwclock's time, three days behind, with no network yet. The
    installer records 苏E12345 from the old system's list: in since 4 days ago (a true time, typed;
    the stale clock takes it, it is not in its future), and 皖A11111 as in since now (no time
    given). A minute later NTP sets the clock and the boot's rows are re-dated. What the installer
    saw: the car's typed entry was moved 3 days later, on record as in since yesterday, paying a
    day instead of four. docs/parking.md re-dates what was "dated by the old clock" and keeps what
    a person typed; the car recorded as in since now, and one that came in at the lane just then,
    were dated by the clock and are re-dated."""
    gw = make_gw()
    boot = T0 - 72 * H  # the stale clock
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    came_in = T0 - 96 * H  # the old system's time, true
    with transaction(gw.conn):
        reason = "day one: parked before"
        record_inside(gw.conn, gw.site, CarInside("苏E12345", came_in), reason, "admin1", boot + 10 * S)
        record_inside(gw.conn, gw.site, CarInside("皖A11111"), reason, "admin1", boot + 15 * S)
    show(gw, "car-in", "苏E54321", boot + 20 * S)  # a car in at the lane on the stale clock: true T0 + 20 s
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP: the clock jumps three days
    steady.s = 90
    o.tick(T0 + 90 * S)
    entered = {p: from_db(at) for p, at in gw.conn.execute("SELECT plate, entered_at FROM stays")}
    assert entered["苏E54321"] == T0 + 20 * S  # the lane's entry, dated by the clock, is re-dated
    assert entered["皖A11111"] == T0 + 15 * S  # recorded as in since now: dated by the clock
    assert entered["苏E12345"] == came_in, f"typed {came_in}, now on record as {entered['苏E12345']}"
