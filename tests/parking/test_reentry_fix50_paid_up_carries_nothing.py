"""reentry = "charge": a car that paid its stay in full, whose fee is then 'carried' as a missed
exit's (let out by the guard's 开闸 after 道闸故障, or in again within the grace of a booth payment).
docs/parking.md (*Missed reads*): "a stay that owes nothing by then carries nothing ... what it paid
ahead at the booth is kept as an admin's close keeps it" (a settled exit charge); *Let out by hand*:
"within its grace nothing more is owed"."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show
from tests.parking.test_exit_fix49_barrier_not_opened_after import (  # noqa: F401
    PLATE,
    Exit,
    Served,
    exit_lane,
)

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)


def _paid_put_back_and_let_out_by_hand(lane: Exit) -> datetime:
    """In at 09:00, held at 11:00 (7元), 7元 taken at the lane at 11:01: 道闸故障, put back; the
    board plugged back, the guard's 开闸 20 s later lets it out. The time it paid."""
    lane.look("car-in", PLATE, T0)
    assert lane.look("car-out", PLATE, T0 + 2 * H).fee_fen == 700
    paid_at = T0 + 2 * H + M
    lane.clock.at = paid_at
    body = {"plate": PLATE, "amount_fen": 700, "method": "cash"}
    r = lane.client.post("/api/parking/lanes/car-out/pay", headers=lane.auth, json=body)
    assert r.status_code == 200, r.text
    assert lane.open_stays() == 1
    lane.plug_back()
    lane.open_by_hand(paid_at + 20 * S)
    assert lane.open_stays() == 0
    return paid_at


def _newest_upstream(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {r["charge_id"]: r for r in records}


def test_a_car_that_paid_in_full_and_was_let_out_by_hand_is_not_left_owing_upstream(
    exit_lane: Served,  # noqa: F811
) -> None:
    """The car paid its 7元 in full; let out by the guard's 开闸 after 道闸故障 it goes to the centre
    as an unsettled `reentry` charge (settled: false, owed 0) that stays open until the car ever
    comes back and pays a new stay. Its money should stand as a settled charge, as under "void"."""
    with exit_lane(reentry="charge") as lane:
        _paid_put_back_and_let_out_by_hand(lane)
        rows = lane.rows("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq")
        stored = lane.rows(
            "SELECT id, kind, amount_fen FROM charges WHERE voided_at IS NULL AND settled_at IS NULL"
        )
    newest = _newest_upstream([json.loads(p) for (p,) in rows])
    open_upstream = [
        (c["charge_id"], c["kind"], c["amount_fen"], c.get("owed_fen"))
        for c in newest.values()
        if c.get("change") != "voided" and not c["settled"]
    ]
    assert open_upstream == [] and stored == [], (
        f"a car that paid its 7元 in full is left with an unsettled charge: "
        f"upstream {open_upstream}, stored {stored}"
    )


def test_a_car_paid_and_let_out_by_hand_that_turned_back_is_not_asked_a_days_fee(
    exit_lane: Served,  # noqa: F811
) -> None:
    """The same car turns back under the arm the guard raised and is at the exit 4 minutes after
    paying, within its 15 minutes' grace. Under reentry = "void" it is let out (flag again); under
    "charge" it is a car with no entry record, asked a day's 30元. It should leave free."""
    with exit_lane(reentry="charge", exit_without_entry="charge") as lane:
        paid_at = _paid_put_back_and_let_out_by_hand(lane)
        back = lane.look("car-out", PLATE, paid_at + 4 * M)
    assert back.admitted and back.fee_fen == 0 and "no_entry_record" not in back.flags, (
        f"paid 7元 four minutes ago, now {back.reason} asking {back.fee_fen / 100:.0f}元 flags={back.flags}"
    )


def test_a_car_in_again_within_the_grace_of_a_booth_payment_carries_nothing(make_gw: Any) -> None:
    """Paid its 7元 at the booth at 11:00, its exit missed, in again at 11:05 (within the grace):
    the docs say such a stay carries nothing, its payment kept against a settled charge. It is
    written and sent as an unsettled `reentry` charge of 7元 (owed 0)."""
    gw: Gateway = make_gw(reentry="charge")
    show(gw, "car-in", PLATE, T0)
    with gw.conn:
        gw.parking.prepay(gw.conn, PLATE, 700, "cash", "", "booth", T0 + 2 * H)
    assert "already_inside" in show(gw, "car-in", PLATE, T0 + 2 * H + 5 * M).flags
    unsettled = gw.conn.execute(
        "SELECT kind, amount_fen FROM charges WHERE voided_at IS NULL AND settled_at IS NULL"
    ).fetchall()
    assert unsettled == [], f"a stay paid up at the booth carries an unsettled charge: {unsettled}"
