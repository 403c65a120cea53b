"""57o: the by-hand repair of docs/parking.md *Misread plates* where the misread plate is a
resident's. Stranger 苏E12346 (in 08:45) is read at the exit at 10:00 as resident 皖A11111 (on
B001, in since 08:00) and leaves free; 皖A11111's stay is closed at that exit. The office repairs
at 14:00: (1) corrects that row to 苏E12346, (2) 已离场 on 苏E12346's stay, (3) records 皖A11111
inside at its entry, typed as 08:05 (the minute it remembers / rounded up from the plate log).
_LEFT_SINCE ignores the exit corrected away, but _SLOT_AT_ENTRY does not: 皖A11111's own stay,
closed by that exit, is taken for another car on B001 that left at 10:00, so the resident is made
the second car of its own slot, billed 08:05-10:00, and the report counts a handover that never was."""

from __future__ import annotations

from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
OWNER, STRANGER = "皖A11111", "苏E12346"


def test_resident_recorded_back_is_on_its_own_slot_free(gw: Gateway) -> None:
    assert show(gw, "car-in", OWNER, T0 - H).reason == "resident"
    assert show(gw, "car-in", STRANGER, T0 - 15 * M).admitted
    out = show(gw, "car-out", OWNER, T0 + H)  # really 苏E12346: leaves free as the resident
    assert out.admitted
    correct_plate(gw.conn, out.event_id, STRANGER, "admin1", T0 + 5 * H)
    stay = gw.conn.execute(
        "SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL", (STRANGER,)
    ).fetchone()[0]
    with gw.conn:
        gw.parking.close_stay(gw.conn, stay, "出口误识别", "admin1", T0 + 5 * H + M)
    with gw.conn:
        said = record_inside(
            gw.conn, gw.site, CarInside(OWNER, T0 - 55 * M), "出口误识别已纠正", "admin1", T0 + 5 * H + 2 * M
        )
    leaves = show(gw, "car-out", OWNER, T0 + 6 * H)
    handovers = report_of_t0_day(gw, T0 + 24 * H)["parking"]["handovers"]
    assert (said["billing"], said["handed_over_at"]) == ("slot", None), said
    assert leaves.admitted and not leaves.fee_fen, f"the resident asked {leaves.fee_fen} fen for its own slot"
    assert handovers == 0
