"""Review 60r (found by reviewer 60l): a resident's car let in paying because its registration has
ended ("it leaves as the temporary car it came in as, paying its stay": docs/parking.md, *No slot /
unregistered*) was handed its household's slot when the slot's other car left (一位多车): its
billing stopped, it parked free on the slot, and the household's registered car coming back was
made the slot's second car and paid. Such a car is no car of the slot for that stay, whichever
path hands a slot on (an exit, a slot given anew) and whether its stay began at a lane or
was recorded inside by an admin.

R1's slot B001 lists 皖A11111 and 皖A22222 (tests/parking/conftest.py); 皖A22222's valid_to is
made to have passed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)
ON_SLOT, ENDED = "皖A11111", "皖A22222"


def _end_registration(gw: Gateway, tmp_path: Path) -> None:
    cars = write_csv(tmp_path / "v2.csv", f"plate,resident_ref,valid_to\n{ENDED},R1,2025-03-01\n")
    import_csv(gw.site.config, [cars])


def _strangers_fee(gw: Gateway) -> int:
    """What a stranger in at T0 + 1 h and out at T0 + 26 h pays: 25 hours as a temporary car."""
    assert show(gw, "car-in", "苏E12345", T0 + H).admitted
    out = show(gw, "car-out", "苏E12345", T0 + 26 * H)
    assert out.reason == "payment_due"
    return out.fee_fen


def test_expired_car_pays_its_whole_stay_though_the_slot_frees(gw: Gateway, tmp_path: Path) -> None:
    _end_registration(gw, tmp_path)
    on_slot = show(gw, "car-in", ON_SLOT, T0)
    assert (on_slot.reason, on_slot.billing) == ("resident", "slot")
    ended = show(gw, "car-in", ENDED, T0 + H)
    assert (ended.reason, ended.billing) == ("temporary", "temporary")
    assert "registration_expired" in ended.flags
    # The registered car of the slot leaves: nothing of the registration changed for 皖A22222.
    assert show(gw, "car-out", ON_SLOT, T0 + 2 * H).admitted
    stranger = _strangers_fee(gw)
    out = show(gw, "car-out", ENDED, T0 + 26 * H)
    assert (out.reason, out.fee_fen) == ("payment_due", stranger), (out.reason, out.fee_fen)


def test_registered_car_back_is_not_made_second_car_by_the_expired_one(gw: Gateway, tmp_path: Path) -> None:
    _end_registration(gw, tmp_path)
    show(gw, "car-in", ON_SLOT, T0)
    show(gw, "car-in", ENDED, T0 + H)
    show(gw, "car-out", ON_SLOT, T0 + 2 * H)
    back = show(gw, "car-in", ON_SLOT, T0 + 3 * H)
    # The slot's only registered car: back on its own slot, free.
    assert (back.reason, back.billing, back.flags) == ("resident", "slot", ()), (back.reason, back.flags)


def test_expired_car_recorded_inside_is_not_handed_the_slot(gw: Gateway, tmp_path: Path) -> None:
    """The same car recorded inside by an admin (day one, or a camera that was down): its record is
    decided as its entry would have been, a temporary car flagged registration_expired, and the
    slot its household's car leaves stays free for that car."""
    _end_registration(gw, tmp_path)
    show(gw, "car-in", ON_SLOT, T0)
    made = record_inside(gw.conn, gw.site, CarInside(ENDED, T0 + H), "camera down", "admin1", T0 + H)
    assert (made["billing"], made["slot_id"]) == ("temporary", None)
    show(gw, "car-out", ON_SLOT, T0 + 2 * H)
    back = show(gw, "car-in", ON_SLOT, T0 + 3 * H)
    assert (back.reason, back.billing, back.flags) == ("resident", "slot", ()), (back.reason, back.flags)


def test_slot_given_anew_by_the_centre_is_not_handed_to_an_expired_car(gw: Gateway, tmp_path: Path) -> None:
    """B002, R2's with 皖B33333 parked on it, is given to R1 for 皖A22222 by the central server's
    delta while that car, its registration ended, is parked paying: 皖B33333 moves into the shared
    spaces, and B002 is not handed to 皖A22222 (off_slots_not_theirs), which pays its stay as a
    stranger does."""
    _end_registration(gw, tmp_path)
    assert show(gw, "car-in", "皖B33333", T0).billing == "slot"
    assert "registration_expired" in show(gw, "car-in", ENDED, T0 + H).flags
    b002 = {"kind": "slot", "zone": "main", "number": "B002", "resident": "R1", "plates": [ENDED]}
    delta(gw, 1, 0, T0 + 2 * H, upsert=[b002])
    stranger = _strangers_fee(gw)
    out = show(gw, "car-out", ENDED, T0 + 26 * H)
    assert (out.reason, out.fee_fen) == ("payment_due", stranger), (out.reason, out.fee_fen)
