"""一位多车: a slot is not handed to a car whose registration, or its resident's, is over by then
(review 62d).

R1 has one fixed slot, B001, listing its two cars 皖A11111 (A) and 皖A22222 (B)
(tests/parking/conftest.py). A parks on B001 at 09:00, B comes in at 09:01 as its second car and
pays by time (30 minutes free, 5元 the first hour, 2元 an hour after it). At 10:00 the centre ends
R1's lease (or B's registration). When B001 frees at 12:00, B was handed it: its billing stopped,
and it parked free from then on, on the slot of a household no longer here, though driving in
then it would have been a stranger (registration_expired). It pays its whole stay, 09:01-19:00.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)
A, B = "皖A11111", "皖A22222"
WHOLE_STAY = 2300  # 09:01-19:00: 5元 + 9 x 2元
HANDED_AT_NOON = 900  # 09:01-12:00, billing stopped at the handover


def _lease(valid_to: str) -> dict[str, Any]:
    return {
        "kind": "resident",
        "ref": "R1",
        "building": "3栋",
        "unit": "2单元",
        "name": "张三",
        "valid_to": valid_to,
    }


def _car_b(valid_to: str) -> dict[str, Any]:
    return {"kind": "vehicle", "plate": B, "resident": "R1", "valid_to": valid_to}


def _b_parked_as_second_car(gw: Gateway) -> None:
    assert show(gw, "car-in", A, T0).billing == "slot"
    second = show(gw, "car-in", B, T0 + timedelta(minutes=1))
    assert (second.reason, second.flags) == ("temporary", ("shared_slot",))


@pytest.mark.parametrize("ended", [_lease, _car_b], ids=["household_moved_out", "car_registration_ended"])
def test_car_whose_registration_ended_is_not_handed_the_slot_at_an_exit(gw: Gateway, ended: Any) -> None:
    _b_parked_as_second_car(gw)
    delta(gw, 1, 0, T0 + H, upsert=[ended((T0 + H).isoformat())])
    assert show(gw, "car-out", A, T0 + 3 * H).admitted
    out = show(gw, "car-out", B, T0 + 10 * H)
    assert (out.reason, out.fee_fen) == ("payment_due", WHOLE_STAY), (out.reason, out.fee_fen, out.flags)


def test_car_whose_household_moved_out_is_not_handed_a_slot_the_centre_gives_anew(gw: Gateway) -> None:
    """The centre ends R1's lease and strikes A off B001 in one delta: A moves into the shared
    spaces, and B001, left listing B alone, is not handed to B (cause reassigned)."""
    _b_parked_as_second_car(gw)
    b001_b_only = {"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": [B]}
    delta(gw, 1, 0, T0 + H, upsert=[_lease((T0 + H).isoformat()), b001_b_only])
    out = show(gw, "car-out", B, T0 + 10 * H)
    assert (out.reason, out.fee_fen) == ("payment_due", WHOLE_STAY), (out.reason, out.fee_fen, out.flags)


def test_car_still_registered_at_the_handover_is_handed_the_slot(gw: Gateway) -> None:
    """R1's lease ends at 14:00, after A has left at 12:00: B was still the slot's car then, and
    is handed it, paying 09:01-12:00 only."""
    _b_parked_as_second_car(gw)
    delta(gw, 1, 0, T0 + H, upsert=[_lease((T0 + 5 * H).isoformat())])
    assert show(gw, "car-out", A, T0 + 3 * H).admitted
    out = show(gw, "car-out", B, T0 + 10 * H)
    assert (out.reason, out.fee_fen) == ("payment_due", HANDED_AT_NOON), (out.reason, out.fee_fen, out.flags)
