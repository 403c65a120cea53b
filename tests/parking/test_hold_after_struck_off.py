"""A car held to pay at an exit on its card, or on the QR of a pass registered with its plate, is
held as that plate's car. The register may change after the hold: the centre strikes the car off
(sold), or withdraws the visit. The hold happened all the same: the day's report still counts it,
and a car still waiting at the barrier is still the one the guard's quote names. Keyed by the
register as it is now, the struck-off car's hold vanished from both."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.conftest import report_so_far
from tests.parking.conftest import T0, pay, report_of_t0_day, show
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_card_held_at_exit import SECOND_CAR, H, _held_on_its_card, _quote

QR = "QR-visit-P3-0001"
VISIT = {
    "kind": "pass",
    "ref": "P3",
    "pass_kind": "visitor",
    "name": "孙八",
    "host_building": "3栋",
    "host_unit": "2单元",
    "plate": "皖E33333",
    "valid_from": "2025-03-03T08:00+08:00",
    "valid_to": "2025-03-10T18:00+08:00",
    "credentials": [{"kind": "plate", "value": "皖E33333"}, {"kind": "qr", "value": QR}],
}


def test_card_hold_still_counted_after_the_car_is_struck_off(make_gw: Any) -> None:
    """Held on its card at the card-only exit, the car pays and leaves; that evening the centre
    strikes it off. The day's report still says one car was held for payment (it said 0, while
    its refusals still counted the hold: a rebuilt report differed from the one sent)."""
    gw = make_gw()
    with _held_on_its_card(gw) as (client, auth, held):
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": SECOND_CAR, "amount_fen": held.fee_fen, "method": "cash"},
        )
        assert paid.status_code == 200, paid.text
        before = report_so_far(gw)
        assert before["held_for_payment"] == 1, before
        delta(gw, 2, 1, gw.now() + H, delete=[{"kind": "vehicle", "plate": SECOND_CAR}])
        after = report_so_far(gw)
    by_reason = [r["refusals"]["by_reason"].get("payment_due") for r in (before, after)]
    assert by_reason[0] == by_reason[1], by_reason
    assert after["held_for_payment"] == 1, (
        f"the card's hold vanished from the report once the car was struck off: {after['held_for_payment']}"
    )


def test_a_car_struck_off_while_held_on_its_card_is_still_the_car_the_lane_shows(make_gw: Any) -> None:
    """The centre strikes the car off while it waits at the barrier: the guard's quote still names
    it, with the fee the lane display asked (it showed no car, and nothing could be taken)."""
    gw = make_gw()
    with _held_on_its_card(gw) as (client, auth, held):
        delta(gw, 2, 1, gw.now(), delete=[{"kind": "vehicle", "plate": SECOND_CAR}])
        quote = _quote(client, auth)
    assert (quote.get("plate"), quote.get("due_fen")) == (SECOND_CAR, held.fee_fen), quote


def test_a_hold_on_a_pass_withdrawn_since_is_still_counted(gw: Gateway) -> None:
    """A visitor held on its pass's QR at the exit pays and leaves; the centre then withdraws the
    pass (the visit is over). The day's report still counts the car held."""
    delta(gw, 1, 0, T0 - timedelta(minutes=5), upsert=[VISIT])
    assert show(gw, "car-in", "皖E33333", T0).reason == "visitor"
    held = gw.handle(Presented("car-out", "qr", QR, 1.0, T0 + 2 * H, "scanner"))
    assert held.reason == "payment_due", held
    assert pay(gw, "皖E33333", held.fee_fen, T0 + 2 * H + timedelta(seconds=30)).admitted
    delta(gw, 2, 1, T0 + 3 * H, delete=[{"kind": "pass", "ref": "P3"}])
    report = report_of_t0_day(gw, T0 + 4 * H)
    assert report["held_for_payment"] == 1, report
