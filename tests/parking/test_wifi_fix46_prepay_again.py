"""A booth prepayment sent again after its answer was lost (docs/parking.md: a payment sent again is
answered 409 already_paid, with the receipt and when it went through)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import H, running, show  # noqa: F401  (fixture)


def _prepay(client: TestClient, auth: dict[str, str], gw: Gateway, plate: str) -> dict[str, object]:
    show(gw, "car-in", plate, gw.now() - 2 * H)
    due = client.get("/api/parking/quote", params={"plate": plate}, headers=auth).json()["due_fen"]
    return {"plate": plate, "amount_fen": due, "method": "cash"}


def test_a_prepayment_sent_again_is_told_already_paid_with_its_receipt(
    running: tuple[Gateway, TestClient, dict[str, str]],  # noqa: F811
) -> None:
    """A booth kiosk takes 9元 ahead for a parked car; the answer (with the receipt the gateway made)
    is lost and the payment is sent again. It was told 409 nothing_owed "the car may leave: open the
    barrier", as if it had never owed, with no receipt to hand the driver; a payment sent again is
    told already_paid with the receipt and time it went through, as at the lane."""
    gw, client, auth = running
    body = _prepay(client, auth, gw, "苏E12345")
    first = client.post("/api/parking/prepay", json=body, headers=auth)
    assert first.status_code == 200, first.text
    again = client.post("/api/parking/prepay", json=body, headers=auth)  # the answer to `first` was lost
    error = again.json()["error"]
    assert again.status_code == 409 and error["code"] == "already_paid", error
    assert first.json()["receipt"] in error["fix"], error
    assert gw.conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 1


def test_another_amount_after_a_prepayment_is_not_taken_for_it(
    running: tuple[Gateway, TestClient, dict[str, str]],  # noqa: F811
) -> None:
    """Only the same amount is the same payment sent again: another is checked as ever (nothing is
    owed in the grace, so it is nothing_owed)."""
    gw, client, auth = running
    body = _prepay(client, auth, gw, "苏E12345")
    assert client.post("/api/parking/prepay", json=body, headers=auth).status_code == 200
    other = client.post("/api/parking/prepay", json={**body, "amount_fen": 100}, headers=auth)
    assert other.status_code == 409 and other.json()["error"]["code"] == "nothing_owed", other.text
    assert gw.conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 1
