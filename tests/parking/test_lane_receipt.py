"""The receipt of a fee taken at the exit lane. docs/parking.md: receipt numbers are the guard's
(a QR transaction number) or made by the gateway (20250303-0001); config/example-estate.toml: "A
stay pays the tariff version in force on the day it began, and that version is printed on the
receipt". A fee taken in cash at the lane with no receipt number typed gets a number made by the
gateway, stored and sent upstream: the answer the guard's tablet gets (and its toast) must give it,
or the guard has nothing to hand the driver, and a driver who disputes the fee later cannot name
the payment."""

from __future__ import annotations

from datetime import timedelta

from tests.parking.test_api import running, show  # noqa: F401  (the fixture, served for real)

H = timedelta(hours=1)


def test_the_lane_payment_answer_gives_the_receipt_and_tariff_version(running) -> None:  # noqa: F811
    """Cash taken at the lane, no receipt number typed: the answer names the number the gateway
    made (the one stored and sent upstream) and the tariff version the car was charged under."""
    gw, client, auth = running
    now = gw.now()
    show(gw, "car-in", "苏E12345", now - 2 * H)
    held = show(gw, "car-out", "苏E12345", now - timedelta(minutes=1))
    assert held.reason == "payment_due"
    paid = client.post(
        "/api/parking/lanes/car-out/pay",
        headers=auth,
        json={"plate": "苏E12345", "amount_fen": held.fee_fen, "method": "cash"},
    )
    assert paid.status_code == 200 and paid.json()["admitted"] is True
    made = gw.conn.execute("SELECT receipt FROM payments").fetchone()[0]
    charged = gw.conn.execute("SELECT tariff_version FROM charges").fetchone()[0]
    answer = paid.json()
    assert (answer.get("receipt"), answer.get("tariff_version"), charged) == (made, "t1", "t1"), sorted(
        answer
    )


def test_the_booth_payment_answer_gives_the_tariff_version_too(running) -> None:  # noqa: F811
    """Paid ahead at the booth: the answer names the receipt and the version its receipt prints."""
    gw, client, auth = running
    show(gw, "car-in", "苏E12345", gw.now() - 2 * H)
    due = client.get("/api/parking/quote", headers=auth, params={"plate": "苏E12345"}).json()["due_fen"]
    paid = client.post(
        "/api/parking/prepay", headers=auth, json={"plate": "苏E12345", "amount_fen": due, "method": "qr"}
    )
    made = gw.conn.execute("SELECT receipt FROM payments").fetchone()[0]
    assert paid.status_code == 200, paid.text
    assert (paid.json()["receipt"], paid.json().get("tariff_version")) == (made, "t1"), paid.json()
