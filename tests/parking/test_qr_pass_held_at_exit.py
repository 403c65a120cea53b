"""A visitor's car let in on a QR pass with no plate, held to pay at the exit: the lane display asks
the fee, and the guard's "收费放行 Take the fee" (the lane's quote, then its payment) must find the
car by its pass, take the fee, open the barrier and close the stay, as it does for a car with a plate
(docs/guard-app.md, *Taking the fee at the exit*). The pass's QR opens the gate to whoever holds it:
it appears in no answer, payment, audit row or upstream record."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from tests.parking.test_api import serving

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _visitor_without_a_plate(gw: Gateway, now: datetime) -> tuple[int, str]:
    """钱七 visits 3栋2单元 by car, registered without its plate: the pass's QR is all that names it."""
    new = NewPass(
        kind="visitor",
        name="钱七",
        valid_from=now - 5 * H,
        valid_to=now + 5 * H,
        host_building="3栋",
        host_unit="2单元",
    )
    pid = gw.on_worker(lambda c: create_pass(c, gw.secrets, new, now - 5 * H, "guard1")).result(10)
    row = gw.conn.execute(
        "SELECT value FROM credentials WHERE pass_id = ? AND kind = 'qr'", (pid,)
    ).fetchone()
    return pid, str(row[0])


def _scan(gw: Gateway, lane: str, qr: str, at: datetime) -> AccessEvent:
    return gw.on_worker(lambda _: gw.handle(Presented(lane, "qr", qr, 1.0, at, "scanner"))).result(10)


def test_a_qr_visitor_held_at_the_exit_can_be_charged_by_the_guard(make_gw: Callable[..., Gateway]) -> None:
    with serving(make_gw()) as (gw, client, auth):
        now = gw.now()
        pid, qr = _visitor_without_a_plate(gw, now)
        assert _scan(gw, "car-in", qr, now - 4 * H).admitted
        held = _scan(gw, "car-out", qr, now - M)
        assert held.reason == "payment_due" and held.fee_fen > 0  # the lane display asks the fee

        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth)
        assert quote.json()["due_fen"] == held.fee_fen, (
            f"the car held at car-out owes {held.fee_fen} fen, but the lane's quote is {quote.json()}: "
            "'Take the fee' says nothing is owed and the visitor's stay can never be paid and closed"
        )
        assert quote.json()["plate"] is None
        assert quote.json()["pass"] == {
            "id": pid,
            "kind": "visitor",
            "name": "钱*",
            "building": "3栋",
            "unit": "2单元",
        }

        # What the guard page sends: the quote as it is, the pass's id in place of a plate.
        body = {"plate": "", "pass_id": pid, "amount_fen": held.fee_fen, "method": "cash"}
        paid = client.post("/api/parking/lanes/car-out/pay", json=body, headers=auth)
        assert paid.status_code == 200 and paid.json()["admitted"] is True, paid.json()
        again = client.post("/api/parking/lanes/car-out/pay", json=body, headers=auth)
        assert (again.status_code, again.json()["error"]["code"]) == (409, "already_paid")

        stay = gw.conn.execute(
            "SELECT exited_at FROM stays WHERE subject = ?", (f"visitor:{pid}",)
        ).fetchone()
        assert stay[0] is not None, "the visitor's stay is still open: it holds a space for good"
        payment = gw.conn.execute("SELECT subject, plate, amount_fen FROM payments").fetchall()
        assert payment == [(f"visitor:{pid}", None, held.fee_fen)]
        taken = gw.conn.execute("SELECT target FROM audit WHERE action = 'payment.take'").fetchall()
        assert taken == [(f"pass:{pid}",)]
        upstream = [
            json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'payment'")
        ]
        assert [(u["pass_id"], u["plate"], u["amount_fen"]) for u in upstream] == [(pid, None, held.fee_fen)]

        # The QR opens the gate to whoever holds it while the pass lasts: shown nowhere.
        records = [
            *(r for (r,) in gw.conn.execute("SELECT detail || target FROM audit")),
            *(r for (r,) in gw.conn.execute("SELECT payload FROM outbox")),
            *(str(r) for r in gw.conn.execute("SELECT * FROM payments")),
        ]
        assert all(qr not in text for text in (quote.text, paid.text, again.text, *records))


def test_a_qr_visitor_scanning_again_at_the_barrier_is_asked_the_fee_of_the_first_scan(
    make_gw: Callable[..., Gateway],
) -> None:
    """The driver scans the pass again and again while the guard comes: one hold, one fee, as for a
    car whose plate the camera decides again (docs/parking.md, *At the exit lane*)."""
    with serving(make_gw()) as (gw, _, _):
        now = gw.now()
        _, qr = _visitor_without_a_plate(gw, now)
        assert _scan(gw, "car-in", qr, now - 2 * H - 5 * M).admitted
        first = _scan(gw, "car-out", qr, now - 20 * M)  # 1 h 45 min: 5元 + 2元
        later = _scan(gw, "car-out", qr, now)  # 2 h 5 min: would be 9元
    assert (first.fee_fen, later.fee_fen) == (700, 700)
