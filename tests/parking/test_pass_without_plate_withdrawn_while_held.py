"""A visitor's car on a central pass registered without a plate, held to pay at a scanner-only exit
on its QR, whose pass the centre withdraws while the car waits at the barrier (docs/parking.md: "a
pass withdrawn after it was held is still the car held, in the guard's quote while it waits"). The
quote still names it by its pass, and the fee taken for that pass lets it out. Read from the live
pass, the quote named nothing (plate and pass null) and paying by the pass was answered 404."""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)
S = timedelta(seconds=1)
QR = "QR-visit-P9-0001"
VISIT = {
    "kind": "pass",
    "ref": "P9",
    "pass_kind": "visitor",
    "name": "孙八",
    "host_building": "3栋",
    "host_unit": "2单元",
    "valid_from": "2025-03-03T08:00+08:00",
    "valid_to": "2025-03-10T18:00+08:00",
    "credentials": [{"kind": "qr", "value": QR}],
}


def _scan(gw: Gateway, lane: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "qr", QR, 1.0, at, "scanner"))


def _held(gw: Gateway) -> AccessEvent:
    """The car comes in on the pass at 09:00 and is held at car-out at 11:00."""
    delta(gw, 1, 0, T0 - 5 * 60 * S, upsert=[VISIT])
    assert _scan(gw, "car-in", T0).admitted
    held = _scan(gw, "car-out", T0 + 2 * H)
    assert held.reason == "payment_due", held
    return held


def _withdraw(gw: Gateway) -> None:
    delta(gw, 2, 1, T0 + 2 * H + 20 * S, delete=[{"kind": "pass", "ref": "P9"}])


def test_quote_still_names_the_pass_car_after_withdrawal(gw: Gateway) -> None:
    """The guard's "Take the fee" shows the same stay and fee as before, named by the pass (its id
    and kind: the holder's name and the unit went with the pass), never by its QR."""
    held = _held(gw)
    before = gw.parking.lane_quote(gw.conn, "car-out", T0 + 2 * H + 10 * S)
    assert before is not None and before["pass"]["id"] == held.holder_id, before
    _withdraw(gw)
    after = gw.parking.lane_quote(gw.conn, "car-out", T0 + 2 * H + 30 * S)
    assert after is not None, "the car still at the barrier vanished from the lane"
    assert (after["due_fen"], after["stay_id"]) == (held.fee_fen, before["stay_id"]), after
    assert (after["plate"], after["pass"]["id"], after["pass"]["kind"]) == (None, held.holder_id, "visitor")
    assert QR not in str(after)


def test_fee_taken_for_pass_car_after_withdrawal_lets_it_out(gw: Gateway) -> None:
    """The guard takes the fee the quote names, by the pass: the car leaves, its stay closes, and
    the lane no longer shows it held."""
    held = _held(gw)
    _withdraw(gw)
    take = gw.parking.pay_at_lane(
        "car-out", "", held.fee_fen, "cash", "", "guard1", T0 + 2 * H + 40 * S, held.holder_id
    )
    assert gw.decide_now(take).admitted
    inside = gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
    assert inside == 0
    assert gw.parking.lane_quote(gw.conn, "car-out", T0 + 2 * H + 50 * S) is None
