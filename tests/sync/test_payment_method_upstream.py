"""A payment's method corrected reaches the centre over a real Mosquitto (docs/mqtt.md, `payment`):
the receipt again, `"change": "method_corrected"`, and the day's report built again and sent, so
that a centre keeping the newest record of each receipt, and of each day's report, books the money
under the method the driver paid by."""

from __future__ import annotations

from pathlib import Path

from centre_helpers import H, centre

from tests.parking.conftest import T0


def test_the_centre_gets_the_payment_and_its_days_report_again_under_cash(tmp_path: Path) -> None:
    """苏E12345 pays its 7元 at car-out at 11:00 and the guard taps QR; Monday's report goes up with
    7元 by QR. On Tuesday an admin corrects it to cash: the centre gets the receipt again (cash,
    previous_method qr, the same time, amount and actor) and Monday's report again, 7元 in cash."""
    with centre(tmp_path) as c:
        c.look("car-in", "苏E12345", T0)
        c.look("car-out", "苏E12345", T0 + 2 * H)
        paid = c.post(
            "/api/parking/lanes/car-out/pay", {"plate": "苏E12345", "amount_fen": 700, "method": "qr"}
        )
        assert paid.status_code == 200, paid.text
        receipt = paid.json()["receipt"]
        day = T0.date().isoformat()
        c.now = T0 + 24 * H
        assert c.report(day)["parking"]["revenue_by_method_fen"]["qr"] == 700

        corrected = c.post(f"/api/payments/{receipt}/method", {"method": "cash", "reason": "司机付的现金"})
        assert corrected.status_code == 200, corrected.text
        c.gw.operations.reports(c.now)
        c.drain()

        taken, again = [r for r in c.records("payment") if r["receipt"] == receipt]
        assert (taken["method"], again["method"], again["previous_method"]) == ("qr", "cash", "qr")
        assert again["change"] == "method_corrected" and again["reason"] == "司机付的现金"
        assert {k: again[k] for k in ("at", "plate", "amount_fen", "actor")} == {
            k: taken[k] for k in ("at", "plate", "amount_fen", "actor")
        }
        first, rebuilt = (r["report"] for r in c.records("report") if r["report"]["day"] == day)
        assert first["parking"]["revenue_by_method_fen"] == {"cash": 0, "qr": 700, "monthly": 0}
        assert rebuilt["parking"]["revenue_by_method_fen"] == {"cash": 700, "qr": 0, "monthly": 0}
        assert rebuilt["period_start"] == first["period_start"]
