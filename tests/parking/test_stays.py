"""Stays, fixed slots, 一位多车 and fees at the exit, through the real runtime on a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from drivers.simulated import SimulatedDisplay
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import occupancy
from gateway.store.parking import ParkingError
from gateway.store.passes import NewPass, create_pass
from gateway.timefmt import to_db
from tests.parking.conftest import T0, add_visitor, pay, show
from tests.parking.test_operations import ops

H = timedelta(hours=1)
M = timedelta(minutes=1)


def shared(gw: Gateway) -> int:
    return next(r["shared_occupied"] for r in occupancy(gw.conn, gw.site.capacity) if r["class"] == "car")


def open_stays(gw: Gateway) -> list[tuple[str, int | None, str | None]]:
    sql = "SELECT plate, slot_id, billing FROM stays WHERE exited_at IS NULL ORDER BY id"
    return [tuple(r) for r in gw.conn.execute(sql)]


def test_temporary_car_pays_at_the_exit_then_the_barrier_opens(gw: Gateway) -> None:
    assert show(gw, "car-in", "苏E12345", T0).reason == "temporary"
    held = show(gw, "car-out", "苏E12345", T0 + 2 * H)
    assert (held.admitted, held.reason, held.fee_fen) == (False, "payment_due", 700)
    display = gw.devices.lanes["car-out"].displays[0]
    assert isinstance(display, SimulatedDisplay)
    assert display.shown[-1] == ["临时车 请缴费 7元", "苏E12345"]
    with pytest.raises(ParkingError, match="7元"):
        pay(gw, "苏E12345", 500, T0 + 2 * H + M)
    out = pay(gw, "苏E12345", 700, T0 + 2 * H + M, method="qr")
    assert out.admitted and out.reason == "temporary" and out.device == "guard:guard1"
    assert display.shown[-1] == ["一路平安", "苏E12345"]
    charge = gw.conn.execute(
        "SELECT amount_fen, tariff_version, kind, settled_at IS NOT NULL FROM charges"
    ).fetchall()
    assert charge == [(700, "t1", "exit", 1)]
    paid = gw.conn.execute(
        "SELECT amount_fen, method, charge_id IS NOT NULL, receipt FROM payments"
    ).fetchall()
    assert paid == [(700, "qr", 1, "20250303-0001")]
    assert open_stays(gw) == []
    topics = [r[0] for r in gw.conn.execute("SELECT topic FROM outbox WHERE topic IN ('payment', 'charge')")]
    assert topics == ["payment", "charge"]


def test_a_fee_taken_at_the_lane_long_after_the_car_was_held_still_opens(gw: Gateway) -> None:
    """The fee stops when the car was held, and the grace period starts when the money is taken:
    a guard busy for 20 minutes (longer than the 15 of grace) does not owe the driver more."""
    show(gw, "car-in", "苏E12345", T0)
    held = show(gw, "car-out", "苏E12345", T0 + 2 * H - 5 * M)
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    assert gw.parking.lane_quote(gw.conn, "car-out", T0 + 2 * H + 15 * M)["due_fen"] == 700
    out = pay(gw, "苏E12345", 700, T0 + 2 * H + 15 * M)
    assert out.admitted and out.fee_fen == 0
    assert open_stays(gw) == []


@pytest.mark.parametrize("refused", ["lane_closed", "blocked"])
def test_no_fee_is_taken_for_a_car_the_exit_still_refuses(gw: Gateway, refused: str) -> None:
    """The exit lane is closed (by a guard or the central server), or the car is blocked: the
    guard taking its fee at the lane is told why, and no money is recorded for a shut barrier."""
    show(gw, "car-in", "苏E12345", T0)
    assert show(gw, "car-out", "苏E12345", T0 + 2 * H).fee_fen == 700
    if refused == "lane_closed":
        gw.lane_modes["car-out"] = "closed"
    else:
        add_visitor(gw, "苏E12345")
        gw.conn.execute("UPDATE credentials SET blocked = 1 WHERE value = '苏E12345'")
    with pytest.raises(ParkingError, match=f"the exit refuses 苏E12345 \\({refused}\\)"):
        pay(gw, "苏E12345", 700, T0 + 2 * H + M)
    assert gw.conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 0
    assert open_stays(gw) == [("苏E12345", None, "temporary")]


def test_a_short_stay_leaves_free_and_its_zero_charge_is_recorded(gw: Gateway) -> None:
    show(gw, "car-in", "苏E12345", T0)
    out = show(gw, "car-out", "苏E12345", T0 + 30 * M)
    assert out.admitted and out.fee_fen == 0
    assert gw.conn.execute("SELECT amount_fen, tariff_version FROM charges").fetchall() == [(0, "t1")]


def test_paid_at_the_booth_leaves_within_the_grace_period_and_pays_more_after_it(gw: Gateway) -> None:
    show(gw, "car-in", "苏E12345", T0)
    show(gw, "car-in", "苏E67890", T0)
    for plate in ("苏E12345", "苏E67890"):
        assert gw.parking.quote(gw.conn, plate, T0 + 90 * M)["due_fen"] == 700
        gw.parking.prepay(gw.conn, plate, 700, "cash", "", "booth", T0 + 90 * M)
    assert show(gw, "car-out", "苏E12345", T0 + 104 * M).admitted  # within 15 minutes
    late = show(gw, "car-out", "苏E67890", T0 + 3 * H + 10 * M)
    assert late.reason == "payment_due" and late.fee_fen == 1100 - 700
    amounts = gw.conn.execute("SELECT amount_fen FROM charges ORDER BY id").fetchall()
    assert amounts == [(700,)]


def test_second_car_of_a_shared_slot_moves_onto_it_when_the_first_leaves(gw: Gateway) -> None:
    first = show(gw, "car-in", "皖A11111", T0)
    assert first.reason == "resident" and first.billing == "slot"
    second = show(gw, "car-in", "皖A22222", T0 + H)
    assert second.reason == "temporary" and "shared_slot" in second.flags
    assert shared(gw) == 1
    assert show(gw, "car-out", "皖A11111", T0 + 2 * H + 30 * M).admitted
    slot = gw.conn.execute("SELECT id FROM slots WHERE number = 'B001'").fetchone()[0]
    assert open_stays(gw) == [("皖A22222", slot, "temporary")]
    assert shared(gw) == 0  # it left the shared spaces for its own slot
    # Billing stopped at the handover (1h30 after it came in): 5 + 2 = 7元, however long it stays on.
    held = show(gw, "car-out", "皖A22222", T0 + 9 * H)
    assert held.reason == "payment_due" and held.fee_fen == 700
    assert held.holder_kind == "resident"
    pay(gw, "皖A22222", 700, T0 + 9 * H + M)
    # The first car returns to a free slot.
    assert show(gw, "car-in", "皖A11111", T0 + 10 * H).billing == "slot"


def test_the_first_car_back_while_the_second_is_on_the_slot_pays(gw: Gateway) -> None:
    show(gw, "car-in", "皖A11111", T0)
    show(gw, "car-in", "皖A22222", T0 + H)
    show(gw, "car-out", "皖A11111", T0 + 2 * H)  # 皖A22222 takes the slot
    back = show(gw, "car-in", "皖A11111", T0 + 3 * H)
    assert back.reason == "temporary" and "shared_slot" in back.flags


def test_second_car_refused_when_the_site_says_so(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(shared="refuse")
    show(gw, "car-in", "皖A11111", T0)
    assert show(gw, "car-in", "皖A22222", T0 + H).reason == "slot_occupied"


def test_full_zone_refuses_temporary_cars_but_not_a_car_with_a_free_slot(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(capacity=4)  # 2 fixed slots, 2 shared spaces
    assert show(gw, "car-in", "苏E00001", T0).admitted
    assert show(gw, "car-in", "苏E00002", T0).admitted
    assert show(gw, "car-in", "苏E00003", T0).reason == "zone_full"
    assert show(gw, "car-in", "皖B33333", T0).billing == "slot"
    assert shared(gw) == 2


@pytest.mark.parametrize("plate", ["苏E00001", "皖C44444"], ids=["temporary", "monthly"])
def test_a_car_whose_exit_was_missed_comes_back_into_its_own_space_of_a_full_zone(
    make_gw: Callable[..., Gateway], plate: str
) -> None:
    gw = make_gw(capacity=3)  # 2 fixed slots, 1 shared space
    assert show(gw, "car-in", plate, T0).admitted
    assert show(gw, "car-in", "苏E00002", T0 + M).reason == "zone_full"
    again = show(gw, "car-in", plate, T0 + 3 * H)  # its exit read was missed
    assert again.admitted and "already_inside" in again.flags
    assert shared(gw) == 1
    assert show(gw, "car-in", "苏E00002", T0 + 3 * H + M).reason == "zone_full"


def test_monthly_car_parks_free_and_an_expired_one_pays_as_temporary(gw: Gateway) -> None:
    assert show(gw, "car-in", "皖C44444", T0).reason == "monthly"
    assert show(gw, "car-out", "皖C44444", T0 + 5 * H).admitted
    expired = show(gw, "car-in", "皖D55555", T0)
    assert expired.reason == "temporary" and "monthly_expired" in expired.flags
    held = show(gw, "car-out", "皖D55555", T0 + 2 * H)
    assert held.reason == "payment_due" and held.fee_fen == 700


def test_a_residents_own_second_car_cannot_be_validated_as_a_visitor(gw: Gateway) -> None:
    """一位多车: the second car of a slot pays as temporary; its own unit validating it as its
    visitor would park it free."""
    show(gw, "car-in", "皖A11111", T0)
    assert "shared_slot" in show(gw, "car-in", "皖A22222", T0 + M).flags
    stay = gw.conn.execute("SELECT id FROM stays WHERE plate = '皖A22222'").fetchone()[0]
    with pytest.raises(ParkingError, match="resident's own car"):
        gw.parking.validate(gw.conn, stay, "3栋", "2单元", "guard1", T0 + H)
    # A stranger's car (temporary) can still be confirmed by the unit it visits.
    show(gw, "car-in", "苏E12345", T0)
    stranger = gw.conn.execute("SELECT id FROM stays WHERE plate = '苏E12345'").fetchone()[0]
    assert gw.parking.validate(gw.conn, stranger, "3栋", "2单元", "guard1", T0 + H)["stay_id"] == stranger


def test_a_monthly_car_whose_period_ends_while_parked_pays_from_that_moment(gw: Gateway) -> None:
    ends = T0 + 2 * H
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖C44444'", (to_db(ends),))
    assert show(gw, "car-in", "皖C44444", T0).reason == "monthly"
    held = show(gw, "car-out", "皖C44444", T0 + 4 * H)
    assert (held.reason, held.billing, held.fee_fen) == ("payment_due", "monthly", 700)  # 2 hours
    display = gw.devices.lanes["car-out"].displays[0]
    assert isinstance(display, SimulatedDisplay)
    assert display.shown[-1] == ["月租到期 请缴费 7元", "皖C44444"]
    out = pay(gw, "皖C44444", 700, T0 + 4 * H + M)
    assert out.admitted and out.reason == "monthly"  # it leaves as what it came in as
    charge = gw.conn.execute("SELECT billing, started_at, amount_fen FROM charges").fetchone()
    assert charge == ("monthly", to_db(ends), 700)


def test_a_monthly_car_renewed_while_parked_leaves_free(gw: Gateway) -> None:
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖C44444'", (to_db(T0 + H),))
    show(gw, "car-in", "皖C44444", T0)
    renewed = T0 + 31 * 24 * H
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖C44444'", (to_db(renewed),))
    out = show(gw, "car-out", "皖C44444", T0 + 5 * H)
    assert out.admitted and out.reason == "monthly" and out.fee_fen == 0


def test_visitor_validated_by_the_host_unit_parks_two_hours_free(gw: Gateway) -> None:
    add_visitor(gw, "浙A99999")
    add_visitor(gw, "浙A88888")
    assert show(gw, "car-in", "浙A99999", T0).reason == "visitor"
    show(gw, "car-in", "浙A88888", T0)
    stay = gw.conn.execute("SELECT id FROM stays WHERE plate = '浙A99999'").fetchone()[0]
    with pytest.raises(ParkingError, match="registered for 3栋 2单元"):
        gw.parking.validate(gw.conn, stay, "5栋", "1单元", "guard1", T0 + H)
    gw.parking.validate(gw.conn, stay, "3栋", "2单元", "guard1", T0 + H)
    assert show(gw, "car-out", "浙A99999", T0 + 2 * H).admitted
    unvalidated = show(gw, "car-out", "浙A88888", T0 + 2 * H)
    assert unvalidated.reason == "payment_due" and unvalidated.fee_fen == 700


def test_a_visitor_whose_pass_ran_out_while_parked_pays_and_leaves(gw: Gateway) -> None:
    add_visitor(gw, "苏E99999")  # valid for a day from an hour before T0
    assert show(gw, "car-in", "苏E99999", T0).reason == "visitor"
    held = show(gw, "car-out", "苏E99999", T0 + 25 * H)
    assert held.reason == "payment_due" and held.fee_fen > 0
    out = pay(gw, "苏E99999", held.fee_fen, T0 + 25 * H + M)
    assert out.admitted and out.reason == "visitor"
    assert open_stays(gw) == []


def test_a_car_registered_while_parked_is_found_when_it_leaves_and_pays_for_its_stay(gw: Gateway) -> None:
    assert show(gw, "car-in", "苏E99999", T0).reason == "temporary"
    add_visitor(gw, "苏E99999")  # the guard registers the driver as a visitor while the car is inside
    held = show(gw, "car-out", "苏E99999", T0 + 5 * H)
    assert (held.reason, held.flags, held.fee_fen) == ("payment_due", (), 1300)  # 5 h, as it came in
    assert pay(gw, "苏E99999", 1300, T0 + 5 * H + M).admitted
    assert open_stays(gw) == []


def test_a_stranger_registered_as_a_visitor_while_parked_leaves_as_it_came_in(gw: Gateway) -> None:
    """Came in as temporary, registered as a visitor's while parked, paid as temporary: it leaves
    as temporary, so the daily report's exits by kind match its entries."""
    assert show(gw, "car-in", "苏E12345", T0).reason == "temporary"
    add_visitor(gw, "苏E12345")
    held = show(gw, "car-out", "苏E12345", T0 + 2 * H)
    out = pay(gw, "苏E12345", held.fee_fen, T0 + 2 * H + M)
    assert (out.admitted, out.reason, out.billing) == (True, "temporary", "temporary")
    v = ops(gw).build_report(T0.date(), T0 + 2 * 24 * H)["vehicles"]
    assert v["exits"]["by_kind"] == v["entries"]["by_kind"]


def test_a_visitors_stay_follows_the_plate_to_a_new_pass_and_back_to_a_stranger(gw: Gateway) -> None:
    add_visitor(gw, "苏E99999")
    assert show(gw, "car-in", "苏E99999", T0).reason == "visitor"
    visit = NewPass(
        "visitor", "钱七", T0 + 3 * H, T0 + 8 * H, host_building="3栋", host_unit="2单元", plate="苏E99999"
    )
    second = create_pass(gw.conn, gw.secrets, visit, T0 + 3 * H, "guard1")  # the visit goes on
    assert gw.conn.execute("SELECT subject FROM stays").fetchall() == [(f"visitor:{second}",)]
    gw.conn.execute("DELETE FROM credentials WHERE pass_id = ?", (second,))  # and it is struck off
    assert gw.conn.execute("SELECT subject FROM stays").fetchall() == [("plate:苏E99999",)]
    held = show(gw, "car-out", "苏E99999", T0 + 5 * H)
    assert held.reason == "payment_due" and "no_entry_record" not in held.flags


@pytest.mark.parametrize(
    ("rule", "reason", "fee"),
    [("guard", "unknown", 0), ("open", "temporary", 0), ("charge", "payment_due", 3000)],
)
def test_exit_without_entry_follows_the_site_rule(
    make_gw: Callable[..., Gateway], rule: str, reason: str, fee: int
) -> None:
    gw = make_gw(exit_without_entry=rule)
    ev = show(gw, "car-out", "苏E12345", T0)
    assert (ev.reason, ev.fee_fen, ev.flags) == (reason, fee, ("no_entry_record",))
    if rule == "charge":
        out = pay(gw, "苏E12345", 3000, T0 + M)
        assert out.admitted and "no_entry_record" in out.flags
        charges = gw.conn.execute("SELECT kind, amount_fen, subject, plate FROM charges").fetchall()
        assert charges == [("no_entry", 3000, "plate:苏E12345", "苏E12345")]
    # A registered car with a missed entry read always leaves, flagged.
    resident = show(gw, "car-out", "皖B33333", T0)
    assert resident.admitted and resident.flags == ("no_entry_record",)


def test_reentry_charge_bills_the_stay_left_open_at_the_next_exit(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(reentry="charge")
    show(gw, "car-in", "苏E12345", T0)
    again = show(gw, "car-in", "苏E12345", T0 + 3 * H + 30 * M)  # its exit read was missed
    assert again.admitted and "already_inside" in again.flags
    assert gw.conn.execute("SELECT kind, amount_fen, settled_at FROM charges").fetchall() == [
        ("reentry", 1100, None)
    ]
    held = show(gw, "car-out", "苏E12345", T0 + 4 * H + 30 * M)
    assert held.fee_fen == 500 + 1100
    pay(gw, "苏E12345", 1600, T0 + 4 * H + 31 * M)
    unsettled = gw.conn.execute("SELECT count(*) FROM charges WHERE settled_at IS NULL").fetchone()[0]
    assert unsettled == 0
    total = gw.conn.execute("SELECT sum(amount_fen) FROM charges").fetchone()[0]
    assert total == gw.conn.execute("SELECT sum(amount_fen) FROM payments").fetchone()[0] == 1600


def test_reentry_charge_takes_off_what_was_paid_ahead_at_the_booth(make_gw: Callable[..., Gateway]) -> None:
    """Paid 7元 at the booth, then the exit read was missed: the stay carried to the next exit is
    its fee less the 7元, and the day's report counts only the rest as unpaid."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", "苏E12345", T0)
    gw.parking.prepay(gw.conn, "苏E12345", 700, "cash", "", "booth", T0 + 90 * M)
    show(gw, "car-in", "苏E12345", T0 + 3 * H + 30 * M)  # left unseen, came back
    assert gw.conn.execute("SELECT kind, amount_fen FROM charges").fetchall() == [("reentry", 1100)]
    held = show(gw, "car-out", "苏E12345", T0 + 4 * H + 30 * M)
    assert held.fee_fen == 500 + (1100 - 700)
    pay(gw, "苏E12345", 900, T0 + 4 * H + 31 * M)
    assert gw.conn.execute("SELECT count(*) FROM charges WHERE settled_at IS NULL").fetchone()[0] == 0
    charged = gw.conn.execute("SELECT sum(amount_fen) FROM charges").fetchone()[0]
    assert charged == gw.conn.execute("SELECT sum(amount_fen) FROM payments").fetchone()[0] == 1600


def test_reentry_void_closes_the_old_stay_without_a_fee(gw: Gateway) -> None:
    show(gw, "car-in", "苏E12345", T0)
    show(gw, "car-in", "苏E12345", T0 + 5 * H)
    assert gw.conn.execute("SELECT count(*) FROM charges").fetchone()[0] == 0
    assert gw.conn.execute("SELECT closed_by FROM stays ORDER BY id").fetchall() == [("reentry",), (None,)]
    assert show(gw, "car-out", "苏E12345", T0 + 5 * H + 20 * M).admitted


def test_admin_closes_a_stay_with_an_audit_row_and_the_slot_passes_on(gw: Gateway) -> None:
    show(gw, "car-in", "皖A11111", T0)
    show(gw, "car-in", "皖A22222", T0 + H)
    stay = gw.conn.execute("SELECT id FROM stays WHERE plate = '皖A11111'").fetchone()[0]
    result = gw.parking.close_stay(gw.conn, stay, "camera down, car seen leaving", "admin1", T0 + 2 * H)
    assert result["handover_to"] is not None
    audit = gw.conn.execute("SELECT actor, action, detail FROM audit WHERE action = 'stay.close'").fetchall()
    assert audit == [("admin1", "stay.close", "皖A11111: camera down, car seen leaving")]
    with pytest.raises(ParkingError, match="no car is inside"):
        gw.parking.close_stay(gw.conn, stay, "again", "admin1", T0 + 3 * H)


def test_occupancy_is_counted_from_stored_stays_and_survives_a_restart(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    show(gw, "car-in", "皖B33333", T0)
    show(gw, "car-in", "苏E12345", T0)
    before = occupancy(gw.conn, gw.site.capacity)
    gw.conn.close()
    again = Gateway(gw.site.config)
    try:
        assert occupancy(again.conn, again.site.capacity) == before
        car = next(r for r in before if r["class"] == "car")
        assert (car["on_slots"], car["shared_occupied"], car["shared_free"]) == (1, 1, 3)
    finally:
        again.conn.close()
        gw.conn = again.conn  # already closed; the fixture's close is then a no-op
