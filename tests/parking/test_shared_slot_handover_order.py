"""一位多车: the second car handed the slot as it comes in (review s43shared).

R1 has one fixed slot, B001, listing its two cars 皖A11111 (A) and 皖A22222 (B)
(tests/parking/conftest.py). The example tariff: 30 minutes free, 5元 the first hour, 2元 an hour
after it, at most 30元 a day.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
MS = timedelta(milliseconds=1)
A, B = "皖A11111", "皖A22222"


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
