"""A car recorded inside since a time when its slot's other car was on the slot, that other car
having left before the record was made. docs/parking.md, *Cars already inside*: "Each opens the
stay an entry of that plate at entered_at would have opened ... on its own slot if the slot is
free, else as the slot's second car"; "The car there first has the slot"; "the household pays for
the hours both cars were inside". README: "whichever row comes first, the car there first has the
slot".

R1's slot B001 lists 皖A11111 (A) and 皖A22222 (B). Tariff: 30 minutes free, 5元 the first hour,
2元 an hour after it."""

from __future__ import annotations

from collections.abc import Callable

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_api import serving
from tests.parking.test_inside_fix44_restored import A, B, H, M, listed, record
from tests.parking.test_no_plate_car import Site


def test_a_car_recorded_in_while_its_slot_mate_was_on_the_slot_pays_as_the_second_car(
    make_gw: Callable[..., Gateway],
) -> None:
    """B drives in at 06:00 onto B001. A comes in at 08:30 while the entry camera is down. B
    drives out at 10:00. At 11:00 the admin records A, in since 08:30. A was the slot's second car
    08:30-10:00 (B was there first) and, through the lane, would leave at 13:00 asked 7元 (handed
    the slot at B's exit). Recorded, A is put on B001 free from 08:30 and leaves at 13:00 asked
    nothing: the household's two cars were both inside for 90 minutes and nobody paid."""
    with serving(make_gw()) as served:
        s = Site(*served)
        s.now = T0 - 3 * H
        assert s.show("car-in", B).billing == "slot"
        s.now = T0 + H
        assert s.show("car-out", B).fee_fen == 0
        s.now = T0 + 2 * H
        made = record(s, A, T0 - 30 * M, "entry camera down: came in at 08:30")
        row = listed(s, A)
        s.now = T0 + 4 * H
        out = s.show("car-out", A)
    assert (out.reason, out.fee_fen) == ("payment_due", 700), (
        f"A, in at 08:30 behind B (on B001 06:00-10:00), was recorded {made['billing']} on "
        f"{made['slot']} (车位 page: billing {row['billing']}, billed_until {row['billed_until']}) and "
        f"let out at 13:00 as {out.reason} asked {out.fee_fen / 100:g}元; through the lane it pays 7元"
    )
    assert (made["billing"], made["slot"]) == ("temporary", "B001"), made  # handed B001 at B's exit
    assert made["handed_over_at"] == (T0 + H).isoformat(), made  # said upstream: the report counts it
