"""The receipt of a fee taken at the exit lane. docs/parking.md: receipt numbers are the guard's
(a QR transaction number) or made by the gateway (20250303-0001); config/example-estate.toml: "A
stay pays the tariff version in force on the day it began, and that version is printed on the
receipt". A fee taken in cash at the lane with no receipt number typed gets a number made by the
gateway, stored and sent upstream: the answer the guard's tablet gets (and its toast) must give it,
or the guard has nothing to hand the driver, and a driver who disputes the fee later cannot name
the payment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.conftest import show as decided  # on the test's thread, with no worker
from tests.parking.test_api import running, show  # noqa: F401  (the fixture, served for real)

H = timedelta(hours=1)
M = timedelta(minutes=1)


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


def test_a_fee_of_only_a_carried_charge_names_no_tariff_version(make_gw: Callable[..., Gateway]) -> None:
    """reentry = "charge": the car's exit was missed (13元 carried); it comes back at 14:00 and
    leaves at 14:10, within the 30 free minutes: the guard takes only the 13元 carried, a charge of
    the stay before, and the answer names no tariff version for a receipt of this stay."""
    gw = make_gw(reentry="charge")
    decided(gw, "car-in", "苏E12345", T0)
    assert "already_inside" in decided(gw, "car-in", "苏E12345", T0 + 5 * H).flags
    held = decided(gw, "car-out", "苏E12345", T0 + 5 * H + 10 * M)
    assert (held.reason, held.fee_fen) == ("payment_due", 1300)
    taken = gw.parking.pay_at_lane("car-out", "苏E12345", 1300, "cash", "", "guard1", T0 + 5 * H + 11 * M)
    assert gw.decide_now(taken).admitted
    assert taken.tariff_version is None, f"the answer names {taken.tariff_version!r} for a carried charge"
