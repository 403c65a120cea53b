"""A record of a car inside typed at a wrong, early time (made its slot-mate the second car),
closed (已离场) and made again at a time later than the first but still before the slot-mate came
in. docs/mqtt.md, `recorded_by_admin`: `restored` is "the car it had made the second car ... given
back its slot as it was (billing slot and handed_over_at null when the slot was its own from its
entry ...): the report counts the entry of access_event_id as that record says again"; docs/
parking.md: "the audit row of that record names the car given back".

R1's slot B001 lists 皖A11111 (A) and 皖A22222 (B)."""

from __future__ import annotations

import json
from collections.abc import Callable

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_api import serving
from tests.parking.test_inside_fix44_restored import A, B, H, M, close, listed, record
from tests.parking.test_no_plate_car import Site


def test_a_car_still_made_the_second_car_is_not_said_to_be_given_back_its_slot(
    make_gw: Callable[..., Gateway],
) -> None:
    """B drives in at 09:00 onto B001. At 11:00 the admin records A typing 07:00 by mistake (B
    made the second car), closes it at 11:05 and records A again at its true 08:30: before B came
    in, so B is rightly the slot's second car from 09:00 (the 车位 page: temporary, no slot). But
    the record's answer, its audit row and the `recorded_by_admin` record sent to the centre say B
    was given back B001 as it was (restored, billing slot, its entry counted as a resident's) beside
    second_car saying the opposite: the centre cannot tell which, and the audit ends on the wrong one."""
    with serving(make_gw()) as served:
        s = Site(*served)
        assert s.show("car-in", B).billing == "slot"
        s.now = T0 + 2 * H
        wrong = record(s, A, T0 - 2 * H, "camera down: parked before")
        s.now = T0 + 2 * H + 5 * M
        close(s, int(wrong["stay_id"]), "entered_at typed wrong")
        again = record(s, A, T0 - 30 * M, "camera down: came in at 08:30")
        b_row = listed(s, B)
        sent = [json.loads(p) for (p,) in s.read("SELECT payload FROM outbox WHERE topic = 'stay'")]
        upstream = [p for p in sent if p["change"] == "recorded_by_admin"][-1]
        detail = s.read("SELECT detail FROM audit WHERE action = 'stay.record' ORDER BY id")[-1][0]
    assert (b_row["billing"], b_row["slot"]) == ("temporary", None), b_row  # B is the second car
    restored = upstream["restored"]
    assert restored is None or restored["billing"] == b_row["billing"], (
        f"B pays as the slot's second car (车位: {b_row['billing']}, slot {b_row['slot']}), but the record "
        f"sent upstream says it was given back its slot: restored={restored}, second_car="
        f"{upstream['second_car']}; audit: {detail}"
    )
    assert again["restored"] is None, again  # the answer says one outcome, as the record sent does
    assert again["second_car"]["billing"] == "temporary", again
    assert "back on its slot" not in detail, detail  # the audit trail ends on what B is
