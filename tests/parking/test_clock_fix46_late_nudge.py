"""A forward step of under an hour long after NTP set the boot clock (docs/parking.md, *When the
clock jumps*: only "a second forward one of at most an hour just after it" is the boot clock being
set; any other step is a running clock's, whose rows keep their dates)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.timefmt import from_db
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def test_a_booth_payment_taken_on_the_set_clock_keeps_its_time_through_a_later_small_step(
    make_gw: Callable[..., Gateway],
) -> None:
    """The Pi boots Monday 09:00 on a stale Saturday; NTP sets it at 09:10. At 12:00, on the right
    clock, a stranger's car that came in at 11:00 pays 5元 ahead at the booth. At 20:00 a bad time
    source steps the running clock 50 minutes ahead. The payment, taken on a right clock, should
    stay at 12:00 and not be sent upstream again; it is moved to 12:50 and sent `redated`."""
    gw = make_gw()
    stale = T0 - 37 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 10 * 60
    o.tick(T0 + 10 * M)  # NTP sets the boot clock: the first step
    steady.s = 2 * 3600
    show(gw, "car-in", "苏E12345", T0 + 2 * H)
    o.tick(T0 + 2 * H)
    steady.s = 3 * 3600
    gw.parking.prepay(gw.conn, "苏E12345", 500, "cash", "", "booth", T0 + 3 * H)
    o.tick(T0 + 3 * H)
    steady.s = 11 * 3600
    o.tick(T0 + 11 * H + 50 * M)  # 20:00 true, the running clock stepped 50 minutes ahead
    steady.s = 11 * 3600 + 30
    o.tick(T0 + 11 * H + 50 * M + 30 * S)
    paid_at = from_db(gw.conn.execute("SELECT at FROM payments").fetchone()[0])
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays").fetchone()[0])
    redated = [
        json.loads(p)
        for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic IN ('payment', 'stay')")
        if json.loads(p).get("change") == "redated"
    ]
    assert (paid_at, entered, redated) == (T0 + 3 * H, T0 + 2 * H, []), (
        f"a payment taken at 12:00 on a clock NTP had set is now at {paid_at.astimezone(gw.site.tz):%H:%M}, "
        f"its car's entry at {entered.astimezone(gw.site.tz):%H:%M}, after a 50-minute step of the running "
        f"clock at 20:00; sent again: {[(r.get('at'), r.get('previous_at')) for r in redated]}"
    )


def test_only_the_first_nudge_after_ntp_set_the_clock_moves_the_rows(make_gw: Callable[..., Gateway]) -> None:
    """A rough source sets the stale clock 10 minutes short at 09:10; a car comes in at 09:10:30; NTP
    nudges the clock 5 minutes on a minute later, and a bad source 5 minutes more a minute after.
    The car's entry moves by the nudge only: the third step is a running clock's."""
    gw = make_gw()
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=T0 - 37 * H, steady=steady)
    o.tick(T0 - 37 * H)
    steady.s = 600
    o.tick(T0 + 10 * M - 10 * M)  # the first step: 10 minutes short
    show(gw, "car-in", "苏E12345", T0 + 630 * S - 10 * M)
    steady.s = 660
    o.tick(T0 + 660 * S - 5 * M)  # the nudge
    steady.s = 720
    o.tick(T0 + 720 * S)  # a running clock's step
    steady.s = 750
    o.tick(T0 + 750 * S)
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays").fetchone()[0])
    assert entered == T0 + 630 * S - 5 * M


def test_a_restart_just_after_ntp_set_the_clock_still_takes_its_nudge(
    make_gw: Callable[..., Gateway],
) -> None:
    """The service restarts between the step that set the clock and NTP's nudge 3 minutes on: when
    the clock was set is kept in boot-alarms.json, so the nudge still moves the car that came in."""
    gw = make_gw()
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=T0 - 37 * H, steady=steady)
    o.tick(T0 - 37 * H)
    steady.s = 600
    o.tick(T0 + 10 * M - 5 * M)  # the first step: 5 minutes short
    show(gw, "car-in", "苏E12345", T0 + 630 * S - 5 * M)
    steady.s = 660
    again = ops(gw, started=T0 + 660 * S - 5 * M, steady=steady)
    again.start(lambda: T0 + 660 * S - 5 * M)
    again.stop()
    steady.s = 780
    again.tick(T0 + 780 * S)  # NTP's nudge
    steady.s = 810
    again.tick(T0 + 810 * S)
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays").fetchone()[0])
    kept = json.loads((gw.data_dir / "boot-alarms.json").read_text())
    assert (entered, kept["clock_set_at"], kept["nudged"]) == (T0 + 630 * S, 600, True)


def test_a_kill_before_the_set_clock_was_kept_leaves_a_later_step_a_running_clocks(
    make_gw: Callable[..., Gateway],
) -> None:
    """NTP sets the stale clock at 09:10 and the gateway, having re-dated the boot's rows, is killed
    before it keeps the clock (boot-alarms.json still says stale). The next run finds the re-dating's
    mark; a car comes in at 11:00, and at 20:00 a bad source steps the clock 50 minutes ahead: the
    clock was set already, so the car's entry stays at 11:00."""
    gw = make_gw()
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=T0 - 3 * H, steady=steady)
    o.tick(T0 - 3 * H)
    kept = (gw.data_dir / "boot-alarms.json").read_text()
    steady.s = 600
    o.tick(T0 + 10 * M)  # NTP sets the clock
    (gw.data_dir / "boot-alarms.json").write_text(kept)  # killed before the file was written
    steady.s = 660
    again = ops(gw, started=T0 + 11 * M, steady=steady)
    again.start(lambda: T0 + 11 * M)
    again.stop()
    show(gw, "car-in", "苏E12345", T0 + 2 * H)
    steady.s = 2 * 3600
    again.tick(T0 + 2 * H)
    steady.s = 11 * 3600
    again.tick(T0 + 11 * H + 50 * M)  # 20:00 true, the running clock stepped 50 minutes ahead
    steady.s += 30
    again.tick(T0 + 11 * H + 50 * M + 30 * S)
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays").fetchone()[0])
    assert entered == T0 + 2 * H
