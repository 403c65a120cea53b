"""The central server re-registers a parked car under a new plate (a green new-energy plate
replacing a blue one): its vehicle entry's `previous_plate` (review 62d).

Keyed by plate, the centre could only delete 皖A22222 and add 皖AD22222: two unrelated cars. R1's
second car (一位多车, paying by the hour in the shared spaces) left on its new plate free (a
registered car with no entry record), and its stay under the old plate stayed open for good. With
`previous_plate` the car is corrected in place, as an admin's PATCH /api/vehicles/{id} {"plate"}
corrects it: its stay, slot and the rest are the car's under the new plate.

R1's cars 皖A11111 and 皖A22222 share slot B001 (tests/parking/conftest.py); 30 minutes free, 5元
the first hour, 2元 an hour after it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from tests.parking.conftest import T0, gw, make_gw, show  # noqa: F401  (fixtures)
from tests.parking.directory_exit_helpers import delta, stage_delta
from tests.sync.snapshot_steps import register, snapshot

H = timedelta(hours=1)
A, B, GREEN_B = "皖A11111", "皖A22222", "皖AD22222"
B001 = {"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": [A, B]}
B_RE_REGISTERED = {"kind": "vehicle", "plate": GREEN_B, "resident": "R1", "previous_plate": B}


def _second_car_parked(gw: Gateway) -> None:  # noqa: F811
    assert show(gw, "car-in", A, T0).billing == "slot"
    second = show(gw, "car-in", B, T0 + timedelta(minutes=1))
    assert (second.reason, second.flags) == ("temporary", ("shared_slot",))


def _open_plates(gw: Gateway) -> list[str]:  # noqa: F811
    return sorted(s["plate"] for s in open_stays(gw.conn))


def test_second_car_re_registered_by_a_delta_pays_its_stay_on_its_new_plate(gw: Gateway) -> None:  # noqa: F811
    _second_car_parked(gw)
    slot_listing_new = {**B001, "plates": [A, GREEN_B]}
    delta(gw, 1, 0, T0 + H, upsert=[B_RE_REGISTERED, slot_listing_new])
    assert _open_plates(gw) == [A, GREEN_B]
    out = show(gw, "car-out", GREEN_B, T0 + 5 * H)
    assert "no_entry_record" not in out.flags
    assert (out.reason, out.fee_fen) == ("payment_due", 1300), (out.reason, out.fee_fen, out.flags)
    audit = gw.conn.execute(
        "SELECT actor, action, detail FROM audit WHERE action = 'vehicle.update'"
    ).fetchall()
    assert audit == [("central", "vehicle.update", f"{B} corrected to {GREEN_B}")]


def test_car_on_its_slot_re_registered_keeps_the_slot_and_leaves_free(gw: Gateway) -> None:  # noqa: F811
    """A, parked on B001, re-registered as 皖AD11111: the slot is still its (B, coming in, is the
    slot's second car), and it leaves free on its new plate with no stay left behind."""
    assert show(gw, "car-in", A, T0).billing == "slot"
    green_a = {"kind": "vehicle", "plate": "皖AD11111", "resident": "R1", "previous_plate": A}
    delta(gw, 1, 0, T0 + H, upsert=[green_a])
    second = show(gw, "car-in", B, T0 + 2 * H)
    assert (second.reason, second.flags) == ("temporary", ("shared_slot",))
    out = show(gw, "car-out", "皖AD11111", T0 + 3 * H)
    assert (out.admitted, out.reason, out.fee_fen) == (True, "resident", 0), out
    assert _open_plates(gw) == [B]


def test_snapshot_re_registers_a_parked_car_and_sent_again_changes_nothing(gw: Gateway) -> None:  # noqa: F811
    """A snapshot says what the register is: its entry's previous_plate moves the car where the
    store still has the old plate, and is nothing once it has moved (the snapshot sent again)."""
    _second_car_parked(gw)
    entries = [e for e in register([{**B001, "plates": [A, GREEN_B]}]) if e.get("plate") != B]
    entries.append(B_RE_REGISTERED)
    snapshot(gw, 1, entries, T0 + H, rows=2)
    snapshot(gw, 2, entries, T0 + 2 * H, rows=2)
    assert _open_plates(gw) == [A, GREEN_B]
    out = show(gw, "car-out", GREEN_B, T0 + 5 * H)
    assert (out.reason, out.fee_fen) == ("payment_due", 1300), (out.reason, out.fee_fen, out.flags)


REFUSED: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    (
        "unknown_previous_plate",
        {**B_RE_REGISTERED, "previous_plate": "皖A99999"},
        {},
        f"vehicle {GREEN_B}: previous_plate 皖A99999: no vehicle 皖A99999 in the gateway's register "
        "to re-register",
    ),
    (
        "previous_plate_also_deleted",
        B_RE_REGISTERED,
        {"delete": [{"kind": "vehicle", "plate": B}]},
        f"vehicle {GREEN_B}: previous_plate {B} is also deleted by this change: leave the delete out "
        f"(the car keeps its stay, payments, cards and slot under {GREEN_B})",
    ),
    (
        "new_plate_registered_already",
        {**B_RE_REGISTERED, "plate": "皖B33333"},
        {},
        "vehicle 皖B33333: 皖B33333 is resident R2's plate already; a car re-registered takes a plate "
        "nobody holds: delete that registration in an earlier delta",
    ),
    (
        "slot_names_the_previous_plate",
        B_RE_REGISTERED,
        {"upsert": [B001]},
        f"slot main/B001: vehicle {B} is re-registered as {GREEN_B} (previous_plate): name {GREEN_B}",
    ),
    (
        "previous_plate_is_the_plate",
        {**B_RE_REGISTERED, "previous_plate": GREEN_B},
        {},
        f"entry 0 (vehicle {GREEN_B}): previous_plate: is the entry's own plate {GREEN_B}: send the plate "
        "the car had before, or leave it out",
    ),
]


@pytest.mark.parametrize(("entry", "more", "problem"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_a_re_registration_that_cannot_be_made_refuses_the_delta_whole(
    gw: Gateway,  # noqa: F811
    entry: dict[str, Any],
    more: dict[str, Any],
    problem: str,
) -> None:
    _second_car_parked(gw)
    meta = stage_delta(gw, 1, 0, upsert=[entry, *more.get("upsert", [])], delete=more.get("delete"))
    assert (meta["status"], meta["problems"]) == ("rejected", [problem])
    assert _open_plates(gw) == [A, B]
    plates = {p for (p,) in gw.conn.execute("SELECT plate FROM vehicles")}
    assert B in plates and GREEN_B not in plates
