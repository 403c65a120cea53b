"""一位多车: which car a slot left free is handed, and when (reviews s43shared, 57c).

R1 has one fixed slot, B001, listing its two cars 皖A11111 (A) and 皖A22222 (B)
(tests/parking/conftest.py). The example tariff: 30 minutes free, 5元 the first hour, 2元 an hour
after it, at most 30元 a day.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)
M = timedelta(minutes=1)
MS = timedelta(milliseconds=1)
A, B, C = "皖A11111", "皖A22222", "皖A33333"
THREE_CARS_TWO_SLOTS: list[dict[str, Any]] = [
    {"kind": "vehicle", "plate": C, "resident": "R1"},
    {"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": [A, B, C]},
    {"kind": "slot", "zone": "main", "number": "B003", "resident": "R1", "plates": [C]},
]
B003_TO_R2 = {"kind": "slot", "zone": "main", "number": "B003", "resident": "R2", "plates": ["皖B33333"]}


def test_second_car_handed_the_slot_as_it_comes_in_is_not_charged_a_whole_day(gw: Gateway) -> None:
    """A, on B001 since 09:00, drives out at 12:00:00.0 just as B drives in at the entrance,
    12:00:00.3. The worker gets B's entry first (two camera threads stamp their reading and then
    queue it; or the guard opened the exit by hand for A, whose stay is closed once the relay has
    answered, a second later): B comes in as the slot's second car, and A's exit hands B the slot
    "at 12:00:00.0", 0.3 s before B's own entry. B's billing stopped before it began, and the fee
    engine takes that for a clock behind the entry: B is held at 14:00 for a whole day, 30元.
    B was on its own slot at once: it owes nothing (a few tenths of a second), never a day."""
    assert show(gw, "car-in", A, T0).billing == "slot"
    second = show(gw, "car-in", B, T0 + 3 * H + 300 * MS)
    assert second.reason == "temporary" and "shared_slot" in second.flags
    assert show(gw, "car-out", A, T0 + 3 * H).admitted  # B handed the slot
    out = show(gw, "car-out", B, T0 + 5 * H)
    assert out.fee_fen == 0, (
        f"B, on its slot from the moment it came in, is asked {out.fee_fen / 100:.0f}元 ({out.reason})"
    )


def test_slot_left_at_an_exit_goes_to_the_car_that_pays_nothing_not_the_paying_second_car(
    gw: Gateway,
) -> None:
    """R1's three cars share B001, and C has B003 of its own too. A parks on B001 at 09:00, B
    comes in at 10:00 as B001's second car and pays by time, C parks free on B003 at 11:00. At
    11:30 the centre hands B003 to neighbour R2: C moves into the shared spaces, still free. A
    leaves at 12:00. B001 went to B, which came in first: B's billing stopped and C parked on in
    a shared space free (two cars, one slot, neither paying; review 57c). B001 goes to C, which
    pays nothing whatever happens, and B pays 10:00-18:00: 5元 + 7 x 2元 = 19元."""
    delta(gw, 8, 0, T0 - 2 * H, upsert=THREE_CARS_TWO_SLOTS)
    assert show(gw, "car-in", A, T0).billing == "slot"
    second = show(gw, "car-in", B, T0 + H)
    assert (second.reason, second.flags) == ("temporary", ("shared_slot",))
    assert show(gw, "car-in", C, T0 + 2 * H).billing == "slot"
    delta(gw, 9, 8, T0 + 2 * H + 30 * M, upsert=[B003_TO_R2])
    assert show(gw, "car-out", A, T0 + 3 * H).admitted
    out = show(gw, "car-out", B, T0 + 9 * H)
    assert out.fee_fen == 1900, f"B, paying, is asked {out.fee_fen / 100:.0f}元 (stopped at 12:00)"
    assert show(gw, "car-out", C, T0 + 9 * H).fee_fen == 0
