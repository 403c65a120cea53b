"""The shared-slot (一位多车) fixes of 256dd49 finished (review s43r2shared).

R1 has one fixed slot, B001, listing its two cars 皖A11111 (A) and 皖A22222 (B)
(tests/parking/conftest.py). The example tariff: 30 minutes free, 5元 the first hour, 2元 an hour
after it, at most 30元 a day.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.registry import add_slot, add_vehicle, delete_slot
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
A, B, C = "皖A11111", "皖A22222", "皖A33333"


def _slot(gw: Gateway) -> tuple[int, int]:
    return gw.conn.execute("SELECT id, resident_id FROM slots WHERE number = 'B001'").fetchone()


def test_slot_added_again_puts_back_the_car_handed_it_so_its_other_car_is_the_second_car(gw: Gateway) -> None:
    """A on B001 from 09:00, B in at 10:00 as its second car; A leaves at 11:00 and B is handed the
    slot (its billing stops then: it is now the slot's car, parked free). At 12:00 the admin changes
    B001 the only way the API offers (delete, add again with the same owner and cars). B is moved
    into the shared spaces with the old slot and, unlike a car that came in free, is not put back:
    the new B001 reads empty, and A, back at 13:00, comes in on it free while B is still inside,
    its billing stopped: one slot, two cars inside, neither paying, exactly what the fix of 256dd49
    (docs/parking.md, *A slot handed on*: "so its other car comes in as the second car, not free on
    a slot that reads empty") meant to end. B, no longer paying, is the slot's car: put back on the
    slot added again, A comes in as the second car (temporary, shared_slot)."""
    assert show(gw, "car-in", A, T0).billing == "slot"
    assert "shared_slot" in show(gw, "car-in", B, T0 + H).flags
    assert show(gw, "car-out", A, T0 + 2 * H).admitted  # B handed the slot at 11:00
    sid, rid = _slot(gw)
    delete_slot(gw.conn, T0 + 3 * H, "admin1", sid)
    add_slot(gw.conn, T0 + 3 * H, "admin1", "main", "B001", rid, [A, B])
    back = show(gw, "car-in", A, T0 + 4 * H)
    on_slot = gw.conn.execute(
        "SELECT plate FROM stays WHERE exited_at IS NULL AND slot_id IS NOT NULL"
    ).fetchall()
    assert (back.billing, "shared_slot" in back.flags) == ("temporary", True), (
        f"A came in as {back.reason}/{back.billing} with B (handed B001, paying nothing) inside; "
        f"cars on a slot: {on_slot}"
    )


def test_car_recorded_inside_takes_its_slot_from_a_car_handed_it_after_its_entry(gw: Gateway) -> None:
    """R1's three cars share B001 (一位多车: A, B and C). Day one: A has been parked on B001 since
    07:00 under the old system. B drives in at 09:00 onto the slot the gateway thinks free, C at
    09:30 as its second car; B leaves at 10:00 and C is handed the slot. At 10:30 the admin records
    A inside since 07:00. The car there first has the slot (docs/parking.md, *Cars already
    inside*): A, there since 07:00, is on B001 and leaves free; the cars that came after pay as
    second cars. Instead A is made the second car, billed from 07:00 (the fix only looks for a car
    that came in on the slot free, not one handed it), and pays 13元 at 12:00 for the two hours it
    was the slot's only car inside, while C, on the slot since 10:00, pays nothing more."""
    sid, rid = _slot(gw)
    add_vehicle(gw.conn, T0 - 3 * H, "admin1", C, rid, "car", None)
    delete_slot(gw.conn, T0 - 3 * H, "admin1", sid)
    add_slot(gw.conn, T0 - 3 * H, "admin1", "main", "B001", rid, [A, B, C])
    assert show(gw, "car-in", B, T0).billing == "slot"
    assert "shared_slot" in show(gw, "car-in", C, T0 + 30 * M).flags
    assert show(gw, "car-out", B, T0 + H).admitted  # C handed B001 at 10:00
    made = record_inside(
        gw.conn, gw.site, CarInside(A, T0 - 2 * H), "day one: parked before", "admin1", T0 + 90 * M
    )
    a_out = show(gw, "car-out", A, T0 + 3 * H)
    assert (made["billing"], made["slot"], a_out.fee_fen) == ("slot", "B001", 0), (
        f"A, on B001 since 07:00, recorded as {made['billing']} on {made['slot']}, "
        f"asked {a_out.fee_fen / 100:.0f}元 at 12:00 ({a_out.reason})"
    )
    assert made["second_car"]["plate"] == C
    c_out = show(gw, "car-out", C, T0 + 3 * H)
    assert c_out.fee_fen == 900, (
        f"C, the second car from 09:30 to 12:00, is asked {c_out.fee_fen / 100:.0f}元"
    )


def test_second_car_handed_the_slot_on_a_clock_behind_its_entry_is_not_let_out_free(gw: Gateway) -> None:
    """A on B001 since 09:00; B in at 09:30 as its second car (temporary, shared spaces). Power
    blip at 10:35: the Pi boots on fake-hwclock's stale 09:05, and A drives out at what is really
    10:40, the gateway's clock saying 09:10, 20 minutes before B's entry. B is handed the slot "at
    09:10". The clock cannot time B's stay as a second car (docs/parking.md, *A clock behind the
    entry*: "it is not let out free but held for a day's fee"); before 256dd49 B was held for a
    day's fee. The clamp of 256dd49 (meant for an exit stamped a fraction of a second before the
    entry) now puts B on the slot "as it came in": B, a second car for 70 minutes, leaves at
    12:00 free."""
    assert show(gw, "car-in", A, T0).billing == "slot"
    assert "shared_slot" in show(gw, "car-in", B, T0 + 30 * M).flags
    show(gw, "car-in", "苏E00001", T0 + 90 * M)  # the last record before the blip
    assert show(gw, "car-out", A, T0 + 10 * M).admitted  # the stale clock: B handed the slot
    out = show(gw, "car-out", B, T0 + 3 * H)
    assert out.fee_fen > 0, f"B, a second car for 70 minutes, is let out free ({out.reason})"
