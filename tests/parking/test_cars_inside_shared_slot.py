"""Cars already inside on a shared slot (一位多车) whose other car came in after them (review s43shared).

R1 has one fixed slot, B001, listing its two cars 皖A11111 (A) and 皖A22222 (B)
(tests/parking/conftest.py). The example tariff: 30 minutes free, 5元 the first hour, 2元 an hour
after it, at most 30元 a day.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
A, B = "皖A11111", "皖A22222"


def test_car_recorded_inside_is_not_billed_for_the_time_it_was_alone_before_its_slot_was_taken(
    gw: Gateway,
) -> None:
    """Day one: A has been parked on B001 since 07:00, under the old system. At 09:00 B drives in;
    the gateway does not know A is there, so B takes the slot, free. At 10:00 the admin records A
    inside since 07:00 (docs/parking.md, *Cars already inside*): A is made the slot's second car and
    billed from 07:00. At 12:00 B leaves (A handed the slot), and A pays 13元 for 07:00-12:00.
    From 07:00 to 09:00 A was the only car of the slot inside: the household owes for two cars at
    once only from 09:00 to 12:00, 9元 (whichever car pays it), not 13元."""
    assert show(gw, "car-in", B, T0).billing == "slot"
    record_inside(gw.conn, gw.site, CarInside(A, T0 - 2 * H), "day one: parked before", "admin1", T0 + H)
    b_out = show(gw, "car-out", B, T0 + 3 * H)
    a_out = show(gw, "car-out", A, T0 + 4 * H)
    paid = b_out.fee_fen + a_out.fee_fen
    assert paid == 900, (
        f"the household is asked {paid / 100:.0f}元 "
        f"(A {a_out.fee_fen / 100:.0f}元, B {b_out.fee_fen / 100:.0f}元) "
        "for two cars on one slot from 09:00 to 12:00"
    )


def test_the_car_there_first_keeps_the_slot_and_the_later_one_pays_as_the_second_car(gw: Gateway) -> None:
    """The same morning, as the admin sees it: A, recorded inside since 07:00, is on B001 (it was
    there first), and B, in at 09:00, is the slot's second car from its entry. A leaving first at
    11:00 hands B the slot: B pays 09:00-11:00 (7元) at its exit, A nothing. The record names B
    as made the second car, in the answer, the audit trail and the `stay` record upstream."""
    assert show(gw, "car-in", B, T0).billing == "slot"
    b_stay = gw.conn.execute("SELECT id FROM stays WHERE plate = ?", (B,)).fetchone()[0]
    made = record_inside(
        gw.conn, gw.site, CarInside(A, T0 - 2 * H), "day one: parked before", "admin1", T0 + H
    )
    assert (made["billing"], made["slot"]) == ("slot", "B001")
    second = made["second_car"]
    assert (second["stay_id"], second["plate"], second["billing"], second["slot_id"]) == (
        b_stay,
        B,
        "temporary",
        None,
    )
    detail = gw.conn.execute("SELECT detail FROM audit WHERE action = 'stay.record'").fetchone()[0]
    assert f"{B} (stay {b_stay})" in detail and "second car" in detail
    a_out = show(gw, "car-out", A, T0 + 2 * H)
    b_out = show(gw, "car-out", B, T0 + 5 * H)
    assert (a_out.reason, a_out.fee_fen) == ("resident", 0)
    assert (b_out.reason, b_out.fee_fen) == ("payment_due", 700)


def test_a_car_that_came_in_before_the_time_recorded_keeps_its_slot(gw: Gateway) -> None:
    """B on B001 since 09:00; A recorded inside since 10:00: B was there first, so A is the slot's
    second car, billed from 10:00 until it is handed the slot as B leaves at 12:00: 7元."""
    show(gw, "car-in", B, T0)
    made = record_inside(gw.conn, gw.site, CarInside(A, T0 + H), "found parked", "admin1", T0 + 2 * H)
    assert (made["billing"], made["slot_id"], made["second_car"]) == ("temporary", None, None)
    assert show(gw, "car-out", B, T0 + 3 * H).fee_fen == 0
    assert show(gw, "car-out", A, T0 + 4 * H).fee_fen == 700  # 10:00-12:00 billed, the slot's from 12:00


@pytest.mark.parametrize("first", [A, B])
def test_both_cars_recorded_inside_the_car_there_first_has_the_slot_whichever_row_comes_first(
    gw: Gateway, first: str
) -> None:
    """Day one's import lists both cars of B001: A in since 07:00, B since 09:00. Whichever row is
    recorded first, A is on the slot and B is its second car, billed from 09:00."""
    since = {A: T0 - 2 * H, B: T0}
    for plate in (first, B if first == A else A):
        record_inside(gw.conn, gw.site, CarInside(plate, since[plate]), "day one", "cli:admin", T0 + H)
    on = dict(gw.conn.execute("SELECT plate, billing FROM stays WHERE exited_at IS NULL").fetchall())
    assert on == {A: "slot", B: "temporary"}
    assert show(gw, "car-out", B, T0 + 3 * H).fee_fen == 900
    assert show(gw, "car-out", A, T0 + 4 * H).fee_fen == 0
