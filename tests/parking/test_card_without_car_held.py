"""A resident's own card that names no car, tapped at a card-only vehicle exit (docs/parking.md:
tapped first at the entrance it is the resident alone, by policy.no_slot = "temporary": a
temporary stay). Held to pay, it is one hold the guard sees and can clear: tapped again it asks the
fee of its first tap, the guard's quote names the resident, the fee taken for that resident lets
the car out, an opening by hand closes its stay, and the day's report counts one hold. Keyed by
nothing, each tap asked more, the quote and the report showed no car held, and the opening by hand
left the stay open, billed for the days the car was away."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_api import serving
from tests.parking.test_opened_by_hand import RELAY, _exit_with_relay

H = timedelta(hours=1)
M = timedelta(minutes=1)
CARD = "0077001122"
DOOR_CARD = {"kind": "card", "card": CARD, "resident": "R2"}  # 李四's card, naming no car


def _tap(gw: Gateway, lane: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "card", CARD, 1.0, at, "reader"))


def test_card_without_car_held_is_one_hold_the_guard_sees(gw: Gateway) -> None:
    """Held at 11:58, tapped again at 12:02 (past the hour): the same fee; the quote names the
    resident (masked) with that fee and no plate, the report counts one hold, and the fee taken
    for the resident lets the car out."""
    delta(gw, 1, 0, T0 - H, upsert=[DOOR_CARD])
    assert _tap(gw, "car-in", T0).admitted
    held = _tap(gw, "car-out", T0 + 3 * H - 2 * M)
    assert held.reason == "payment_due", held
    again = _tap(gw, "car-out", T0 + 3 * H + 2 * M)
    assert (again.reason, again.fee_fen) == ("payment_due", held.fee_fen)
    quote = gw.parking.lane_quote(gw.conn, "car-out", T0 + 3 * H + 3 * M)
    assert quote is not None and (quote["plate"], quote["due_fen"]) == (None, held.fee_fen), quote
    assert quote["resident"] == {
        "id": held.holder_id,
        "kind": "resident",
        "name": "李*",
        "building": "5栋",
        "unit": "1单元",
    }
    assert CARD not in str(quote)
    take = gw.parking.pay_at_lane(
        "car-out", "", held.fee_fen, "cash", "", "guard1", T0 + 3 * H + 4 * M, resident_id=held.holder_id
    )
    assert gw.decide_now(take).admitted
    assert report_of_t0_day(gw, T0 + 4 * H)["held_for_payment"] == 1


def test_the_tablet_takes_the_fee_for_the_resident_its_quote_names(make_gw: Callable[..., Gateway]) -> None:
    """The guard's tablet sends the quote back as it is (POST .../pay with the resident's id and
    no plate): the car leaves, and its stay closes."""
    gw = make_gw()
    with serving(gw) as (_, client, auth):
        now = gw.now()
        delta(gw, 1, 0, now - 4 * H, upsert=[DOOR_CARD])
        assert gw.on_worker(lambda _: _tap(gw, "car-in", now - 3 * H)).result(10).admitted
        held = gw.on_worker(lambda _: _tap(gw, "car-out", now - M)).result(10)
        assert held.reason == "payment_due", held
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        body = {"resident_id": quote["resident"]["id"], "amount_fen": quote["due_fen"], "method": "cash"}
        paid = client.post("/api/parking/lanes/car-out/pay", headers=auth, json=body)
        assert paid.status_code == 200 and paid.json()["admitted"], paid.text
        assert CARD not in paid.text
        inside = gw.on_worker(
            lambda c: c.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
        ).result(10)
    assert inside == 0


def test_card_without_car_held_and_let_out_by_hand_leaves_no_stay_open(
    make_gw: Callable[..., Gateway],
) -> None:
    """The guard opens by hand (docs/parking.md, *Let out by hand*): the car held that the lane
    shows leaves, and its stay closes."""
    gw = make_gw(extra=RELAY)
    with _exit_with_relay(gw) as (_look, open_by_hand):
        delta(gw, 1, 0, T0 - H, upsert=[DOOR_CARD])
        assert gw.on_worker(lambda _: _tap(gw, "car-in", T0)).result(10).admitted
        gw.now = lambda: T0 + 3 * H  # type: ignore[method-assign]
        held = gw.on_worker(lambda _: _tap(gw, "car-out", T0 + 3 * H)).result(10)
        assert held.reason == "payment_due", held
        open_by_hand()
        open_stays = gw.on_worker(
            lambda c: c.execute("SELECT subject FROM stays WHERE exited_at IS NULL").fetchall()
        ).result(10)
    assert open_stays == [], f"the car let out by hand is still recorded inside: {open_stays}"
