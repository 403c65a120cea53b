"""57o: docs/parking.md *Misread plates*, the by-hand repair of an exit that let a car out under
a misread plate, followed step by step where the car that left is a registered one on a shared
slot (一位多车).

皖A11111 (resident, on B001 shared with 皖A22222) in at 08:00; stranger 苏E12346 in at 08:30. At
10:00 皖A11111 is at the exit read as 苏E12346, its 7元 is taken, 皖A11111 drives out. At 10:30
the household's 皖A22222 comes in: B001 is recorded taken (皖A11111's stay is open), so it comes in
as the slot's second car, billed. At 14:00 the office repairs as the docs say: (1) 纠正车牌 on the
row that let the car out, (2) 已离场 on 皖A11111's stay, (3) record 苏E12346 inside at 08:30.
The gateway knows 皖A11111 left at 10:00 (the exit is corrected to it), yet step (2) hands B001
over at 14:01: 皖A22222, which came in to an empty slot, is asked 11元 at 15:00 for 10:30-14:01."""

from __future__ import annotations

from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, pay, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
OWNER, SECOND, STRANGER = "皖A11111", "皖A22222", "苏E12346"


def test_second_car_not_billed_for_the_hours_its_slot_was_empty(gw: Gateway) -> None:
    assert show(gw, "car-in", OWNER, T0 - H).reason == "resident"
    assert show(gw, "car-in", STRANGER, T0 - 30 * M).admitted
    held = show(gw, "car-out", STRANGER, T0 + H)  # really 皖A11111 at the barrier
    assert held.reason == "payment_due"
    out = pay(gw, STRANGER, held.fee_fen or 0, T0 + H + M)
    assert out.admitted  # 皖A11111 drives out at 10:01
    came = show(gw, "car-in", SECOND, T0 + H + 30 * M)
    assert came.admitted
    # The office's repair, docs/parking.md *Misread plates* steps (1)-(3).
    correct_plate(gw.conn, out.event_id, OWNER, "admin1", T0 + 5 * H)
    stay = gw.conn.execute("SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL", (OWNER,)).fetchone()[
        0
    ]
    with gw.conn:
        gw.parking.close_stay(gw.conn, stay, "出口误识别，已于10:01离场", "admin1", T0 + 5 * H + M)
    with gw.conn:
        record_inside(
            gw.conn,
            gw.site,
            CarInside(STRANGER, T0 - 30 * M),
            "出口误识别已纠正",
            "admin1",
            T0 + 5 * H + 2 * M,
        )
    leaves = show(gw, "car-out", SECOND, T0 + 6 * H)
    assert leaves.admitted and not leaves.fee_fen, (
        f"came in at 10:30 to B001, empty since 10:00: asked {leaves.fee_fen} fen ({leaves.reason})"
    )
