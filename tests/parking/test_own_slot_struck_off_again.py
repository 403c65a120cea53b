"""R2's only car 皖B33333 is parked on its own (unshared) slot B002. The centre strikes it off by
mistake and sends it again, with B002 listing it, an hour later, the car still parked. It is back
on its slot once the slot lists it again and leaves free (docs/parking.md, *A slot handed on*).
No second car was involved: the day's report counts no shared-slot handover (一位多车). It counted
one, which a manager looked for in vain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day, show
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_slot_car_struck_off import _parked_on

H = timedelta(hours=1)
CAR = "皖B33333"
AGAIN = [
    {"kind": "vehicle", "plate": CAR, "resident": "R2"},
    {"kind": "slot", "zone": "main", "number": "B002", "resident": "R2", "plates": [CAR]},
]


def test_a_car_put_back_on_its_own_slot_is_no_handover_in_the_report(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    came = show(gw, "car-in", CAR, T0)
    assert came.admitted and came.reason == "resident", came
    delta(gw, 1, 0, T0 + H, delete=[{"kind": "vehicle", "plate": CAR}])
    assert _parked_on(gw)[CAR] is None  # moved into the shared spaces
    delta(gw, 2, 1, T0 + 2 * H, upsert=AGAIN)
    assert _parked_on(gw)[CAR] == "B002", _parked_on(gw)
    out = show(gw, "car-out", CAR, T0 + 5 * H)
    assert out.admitted and out.fee_fen == 0, out
    report = report_of_t0_day(gw, T0 + 6 * H)
    assert report["parking"]["handovers"] == 0, "its own slot back, counted as a 一位多车 handover"
