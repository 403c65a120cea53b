"""A car held to pay on its card at a vehicle exit with no camera (a card reader only): its card
names the car, so the hold is that car's, as a hold on its plate is. The guard's "收费放行 Take the
fee" finds it (the lane's quote names its plate and the fee the lane display asked), the payment
lets it out, and the day's report counts it as held once, however often the driver taps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.conftest import report_so_far
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_api import serving

H = timedelta(hours=1)
S = timedelta(seconds=1)
CARD = "0012345678"
SECOND_CAR = "皖A22222"  # R1's second car; 皖A11111, its first, is on their shared slot B001


def _tap(gw: Gateway, lane: str, at: datetime) -> AccessEvent:
    p = Presented(lane, "card", CARD, 1.0, at, "reader")
    return gw.on_worker(lambda _: gw.handle(p)).result(10)


@contextmanager
def _held_on_its_card(gw: Gateway) -> Iterator[tuple[TestClient, dict[str, str], AccessEvent]]:
    """R1's second car comes in on its card while the first is on the slot (a temporary car) and,
    three hours later, taps its card at car-out: held to pay."""
    with serving(gw) as (_, client, auth):
        now = gw.now()
        card = {"kind": "card", "card": CARD, "resident": "R1", "plate": SECOND_CAR}
        delta(gw, 1, 0, now - 5 * H, upsert=[card])
        first = Presented("car-in", "plate", "皖A11111", 0.97, now - 4 * H, "cam")
        assert gw.on_worker(lambda _: gw.handle(first)).result(10).reason == "resident"
        came = _tap(gw, "car-in", now - 3 * H)
        assert (came.reason, came.flags) == ("temporary", ("shared_slot",))
        held = _tap(gw, "car-out", now - 30 * S)
        assert held.reason == "payment_due" and held.fee_fen > 0, held
        yield client, auth, held


def _quote(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    return answer


def test_a_car_held_on_its_card_at_a_card_only_exit_is_charged_from_the_tablet(
    make_gw: Any,
) -> None:
    """The lane display asks 9元; the guard's quote names the car and the 9元, and taking it lets
    the car out and closes its stay. It asked nothing, and a typed plate was asked another fee."""
    gw = make_gw()
    with _held_on_its_card(gw) as (client, auth, held):
        quote = _quote(client, auth)
        assert (quote["plate"], quote["due_fen"]) == (SECOND_CAR, held.fee_fen), quote
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": quote["plate"], "amount_fen": quote["due_fen"], "method": "cash"},
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["admitted"]
        assert _quote(client, auth)["due_fen"] == 0  # let out: no longer held there
        open_stays = gw.conn.execute(
            "SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NULL", (SECOND_CAR,)
        ).fetchone()[0]
    assert open_stays == 0


def test_a_car_tapping_its_card_again_while_held_is_asked_the_fee_of_its_first_tap(make_gw: Any) -> None:
    """The driver taps again a minute later: the display asks what it asked, as for a car held on
    its plate (the fee runs to the start of the hold), and the guard's quote agrees."""
    gw = make_gw()
    with _held_on_its_card(gw) as (client, auth, held):
        again = _tap(gw, "car-out", gw.now() + 30 * S)
        assert (again.reason, again.fee_fen) == ("payment_due", held.fee_fen), again
        assert _quote(client, auth)["due_fen"] == held.fee_fen


def test_a_car_held_on_its_card_is_counted_held_once_in_the_report(make_gw: Any) -> None:
    """Held on its card, and tapping again as it waits: one car held for payment in the report."""
    gw = make_gw()
    with _held_on_its_card(gw):
        _tap(gw, "car-out", gw.now())
        report = report_so_far(gw)
    assert report["held_for_payment"] == 1, report
