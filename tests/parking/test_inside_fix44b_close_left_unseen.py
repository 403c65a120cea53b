"""A car recorded inside at its TRUE time, closed later because it left unseen (camera down, the
documented use of 已离场 / POST /api/parking/stays/{id}/close), must hand the slot on as at an
exit: the car it had made the slot's second car pays from its own entry until that close
(docs/parking.md, *Cars already inside*: "B pays from 09:00 until it leaves or A leaves first (a
handover)"; *Admin correction*: "a shared slot passes on as at an exit").

Since 8b8829a the close cannot tell a record typed wrong from a car that left unseen, and gives the
second car its slot back free from its entry: B's four hours as the slot's second car are let go.

R1 has one fixed slot, B001, listing 皖A11111 (A) and 皖A22222 (B). Tariff: 30 minutes free, 5元 the
first hour, 2元 an hour after it.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_api import serving
from tests.parking.test_inside_fix44_restored import A, B, H, M, close, listed, record
from tests.parking.test_no_plate_car import Site


def test_a_correct_record_closed_as_left_unseen_hands_the_slot_on_and_the_second_car_pays(
    make_gw: Callable[..., Gateway],
) -> None:
    """Day one. B drives in at 09:00 onto B001 (the gateway thinks the slot free). At 10:00 the
    admin records A from the old system's list, truly parked since 07:00: B is made the second car,
    as the docs say. A leaves at 12:00 past an exit camera that is down; at 12:30 the admin presses
    已离场 on A (left unseen). B leaves at 13:00: it was the slot's second car 09:00-12:30 and pays
    for it (11元), as it would had A's exit been read."""
    with serving(make_gw()) as served:
        s = Site(*served)
        assert s.show("car-in", B).billing == "slot"
        s.now = T0 + H
        made = record(s, A, T0 - 2 * H, "old system's list: parked since 07:00")
        assert made["second_car"]["plate"] == B
        s.now = T0 + 3 * H + 30 * M
        closed = close(s, int(made["stay_id"]), "left unseen, exit camera down")
        b_row = listed(s, B)
        s.now = T0 + 4 * H
        b_out = s.show("car-out", B)
        assert (b_out.reason, b_out.fee_fen) == ("payment_due", 1100), (
            f"B was the slot's second car 09:00-12:30 (A truly inside) and should pay 11元; "
            f"it was let out as {b_out.reason} asked {b_out.fee_fen} fen (B at the close: {b_row})"
        )
        assert closed["handover_to"] == b_row["stay_id"], (
            f"A's close should hand B001 to B as an exit does; it said {closed}"
        )


def test_a_car_recorded_back_after_it_left_unseen_gives_the_second_car_nothing_back(
    make_gw: Callable[..., Gateway],
) -> None:
    """The same morning: A, recorded at its true 07:00, leaves unseen at 12:00 and the admin presses
    已离场 at 12:30 (B is handed B001). A comes back at 13:00 past the camera, still down, and the
    admin records it since 13:00: a new visit, not the first record typed wrong (it came in after
    that close). B leaves at 14:00 and pays its time as the slot's second car, 09:00-12:30 (11元);
    A, in after B, is the slot's second car now."""
    with serving(make_gw()) as served:
        s = Site(*served)
        assert s.show("car-in", B).billing == "slot"
        s.now = T0 + H
        made = record(s, A, T0 - 2 * H, "old system's list: parked since 07:00")
        assert made["second_car"]["plate"] == B
        s.now = T0 + 3 * H + 30 * M
        close(s, int(made["stay_id"]), "left unseen, exit camera down")
        s.now = T0 + 4 * H + 10 * M
        back = record(s, A, T0 + 4 * H, "came back at 13:00, camera still down")
        assert (back["billing"], back["slot"], back["restored"]) == ("temporary", None, None), back
        s.now = T0 + 5 * H
        b_out = s.show("car-out", B)
        assert (b_out.reason, b_out.fee_fen) == ("payment_due", 1100), (
            f"B was the slot's second car 09:00-12:30; A recorded back since 13:00 let it out as "
            f"{b_out.reason} asked {b_out.fee_fen} fen"
        )
