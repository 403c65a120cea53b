"""reentry = "charge": a car that paid at the booth a quote with a charge carried from a missed exit
in it, and then stayed past its grace, pays the rest of its own stay's fee. The answer (and so the
receipt) must name the tariff version that fee is priced by (docs/parking.md, *At the exit lane*:
null only for a car that paid only a carried charge)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"


def test_the_rest_of_a_stays_fee_paid_after_a_carried_charge_names_its_tariff_version(
    make_gw: Callable[..., Gateway],
) -> None:
    """苏E12345 in at 09:00, in again at 12:00 (its exit missed: 9元 carried). At 13:00 it pays the
    14元 the booth asks (5元 for 12:00-13:00 and the 9元), and at 13:40, past its grace, the booth
    asks 2元 more: the 13:00-13:40 part of its own stay, priced by t1.

    What the guard hands the driver: a receipt naming no tariff version (null, as for a car that
    paid only a carried charge). What they should get: t1, the version the 2元 is priced by."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", CAR, T0)
    show(gw, "car-in", CAR, T0 + 3 * H)
    with gw.conn:
        first = gw.parking.prepay(gw.conn, CAR, 1400, "cash", "", "booth", T0 + 4 * H)
    assert first["tariff_version"] == "t1", first
    later = T0 + 4 * H + 40 * M
    quote = gw.parking.quote(gw.conn, CAR, later)
    assert (quote["fee_fen"], quote["carried_fen"], quote["paid_fen"], quote["due_fen"]) == (
        700,
        900,
        1400,
        200,
    ), quote
    with gw.conn:
        rest = gw.parking.prepay(gw.conn, CAR, 200, "qr", "WX-77", "booth", later)
    assert rest["tariff_version"] == "t1", (
        f"the 2元 of the stay's own fee (13:00-13:40) was receipted with tariff_version "
        f"{rest['tariff_version']!r}, as if it paid only a carried charge"
    )
