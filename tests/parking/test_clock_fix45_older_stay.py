"""A car parked since before the power cut, while the Pi runs on fake-hwclock's stale boot clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.timefmt import from_db
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)
FIRST, SECOND = "皖A11111", "皖A22222"  # R1's two cars, one slot B001


def test_a_car_parked_before_the_power_cut_handed_its_slot_on_the_stale_clock_pays_for_its_real_wait(
    make_gw: Callable[..., Gateway],
) -> None:
    """Slot B001's two cars came in two hours before a power cut three days ago; the second one
    parks as a paying temporary car. The Pi boots at T0 on fake-hwclock's time (its last hourly
    save, an hour before the cut); 40 s on the first car leaves and the second is handed the slot;
    NTP sets the clock at 60 s. The handover stays dated on the stale clock (this boot's stays only
    are re-dated), so the second car, a paying car for three days and two hours, is billed for one
    hour: it should be billed to the true handover, as an older alarm's clearing is moved."""
    gw = make_gw()
    cut = T0 - 72 * H
    show(gw, "car-in", FIRST, cut - 2 * H)  # the boot before: true times
    show(gw, "car-in", SECOND, cut - 2 * H + 10 * S)
    stale = cut - H  # fake-hwclock's last save
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 40
    show(gw, "car-out", FIRST, stale + 40 * S)  # really T0 + 40 s: SECOND is handed the slot
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP: the clock jumps three days on
    steady.s = 90
    o.tick(T0 + 90 * S)
    handed = from_db(
        gw.conn.execute("SELECT handed_over_at FROM stays WHERE plate = ?", (SECOND,)).fetchone()[0]
    )
    steady.s = 2 * 3600
    left = show(gw, "car-out", SECOND, T0 + 2 * H)
    paying = T0 + 40 * S - (cut - 2 * H + 10 * S)  # what it really waited as the slot's second car
    assert handed == T0 + 40 * S and left.fee_fen >= 3 * 3000, (
        f"{SECOND} was the slot's second car for {paying} (in {cut - 2 * H + 10 * S:%m-%d %H:%M}, handed "
        f"the slot at {T0 + 40 * S:%m-%d %H:%M}); the box has the handover at "
        f"{handed.astimezone(T0.tzinfo):%m-%d %H:%M} (the stale boot clock) and asks {left.fee_fen} fen "
        f"({left.reason}) at its exit"
    )


def test_a_handover_made_just_before_the_power_cut_keeps_its_true_time_when_ntp_sets_the_clock(
    make_gw: Callable[..., Gateway],
) -> None:
    """Slot B001's first car leaves ten minutes before the power cut and the second is handed the
    slot then (a true time). fake-hwclock last saved an hour before the cut, so the Pi boots on a
    clock that reads before that handover, and runs past it before NTP sets the clock 55 minutes
    on: the handover is not this boot's, for all its time, and stays where it was (moved by the
    step, the car would be billed three days it did not park as a paying car)."""
    gw = make_gw()
    cut = T0 - 72 * H
    show(gw, "car-in", FIRST, cut - 2 * H)
    show(gw, "car-in", SECOND, cut - 2 * H + 10 * S)
    show(gw, "car-out", FIRST, cut - 600 * S)  # SECOND is handed the slot
    stale = cut - H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 3300
    o.tick(T0 + 3300 * S)  # NTP: the old clock read cut - 5 min
    steady.s = 3330
    o.tick(T0 + 3330 * S)
    handed, billed = gw.conn.execute(
        "SELECT handed_over_at, billed_until FROM stays WHERE plate = ?", (SECOND,)
    ).fetchone()
    assert (from_db(handed), from_db(billed)) == (cut - 600 * S, cut - 600 * S)
    assert not [p for (p,) in gw.conn.execute("SELECT payload FROM outbox") if '"redated"' in p]


def test_the_centre_hears_that_an_older_cars_handover_moved(make_gw: Callable[..., Gateway]) -> None:
    """The handover the stale clock dated (the first test's) goes upstream again as a `stay` record,
    redated: its true time, the stale one it went with, and the car's true entry, which stays."""
    gw = make_gw()
    cut = T0 - 72 * H
    show(gw, "car-in", FIRST, cut - 2 * H)
    show(gw, "car-in", SECOND, cut - 2 * H + 10 * S)
    stale = cut - H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 40
    show(gw, "car-out", FIRST, stale + 40 * S)
    steady.s = 60
    o.tick(T0 + 60 * S)
    payloads = [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'stay'")]
    redated = [p for p in payloads if p.get("change") == "redated"]
    entered = (cut - 2 * H + 10 * S).isoformat()
    assert [(p["plate"], p["entered_at"], p["previous_at"]) for p in redated] == [(SECOND, entered, entered)]
    assert (redated[0]["handed_over_at"], redated[0]["previous_handed_over_at"]) == (
        (T0 + 40 * S).isoformat(),
        (stale + 40 * S).isoformat(),
    )
