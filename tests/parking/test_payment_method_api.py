"""A payment's method corrected (扫码已付 tapped for a fee paid in cash, or the reverse), over the API
(docs/parking.md, *Payment method corrected*): the guard who took it within his shift, or an admin
any time; audited, sent upstream again, the shift's totals and the day's report following."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from tests.parking.test_shift_handover_api import GUARD2, booth, take
from tests.ui.conftest import GUARD, log_in

H, M = timedelta(hours=1), timedelta(minutes=1)
CASH = {"method": "cash", "reason": "司机付的现金，点错了"}
QR = {"method": "qr", "reason": "司机扫码付的"}


def receipts(client: TestClient) -> dict[str, str]:
    """The logged-in guard's shift: each payment's receipt by its plate."""
    return {p["plate"]: p["receipt"] for p in client.get("/api/shift").json()["payments"]}


def upstream(gw: Gateway, receipt: str) -> list[dict[str, object]]:
    """The `payment` records queued for the centre of the receipt, oldest first."""
    rows = gw.on_worker(
        lambda c: c.execute("SELECT payload FROM outbox WHERE topic = 'payment' ORDER BY seq").fetchall()
    )
    return [r for r in (json.loads(p) for (p,) in rows.result(10)) if r["receipt"] == receipt]


def audited(client: TestClient, token: dict[str, str]) -> list[dict[str, object]]:
    return list(client.get("/api/audit", params={"action": "payment.method"}, headers=token).json())


def test_a_guard_corrects_his_own_qr_fee_to_cash_and_his_shift_follows(
    make_gw: Callable[..., Gateway],
) -> None:
    """guard1 tapped 扫码已付 for a fee paid in cash: corrected with a reason, his cash on record
    rises by it and his QR falls to 0; the row says cash, the audit trail keeps both methods and the
    reason, and the centre gets the same receipt again, method_corrected, with the method before. A
    fee the booth's token took for him is his to correct too, its receipt (a QR transaction number)
    holding slashes."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        fee = take(gw, client, csrf, "苏E40001", method="qr")
        kiosk = take(gw, client, token, "苏E40002", actor="guard1", receipt="WX/2025/77")  # a QR number
        before = client.get("/api/shift").json()
        assert (before["cash_fen"], before["by_method"]["qr"]["total_fen"]) == (kiosk, fee)
        receipt = receipts(client)["苏E40001"]

        clock["now"] += M
        done = client.post(f"/api/payments/{receipt}/method", headers=csrf, json=CASH)
        assert done.status_code == 200, done.text
        d = done.json()
        assert (d["receipt"], d["previous_method"], d["method"], d["amount_fen"]) == (
            receipt,
            "qr",
            "cash",
            fee,
        )
        assert (d["taken_by"], d["corrected_by"], d["reason"]) == ("guard1", "guard1", CASH["reason"])
        after = client.get("/api/shift").json()
        assert after["by_method"]["cash"] == {"count": 2, "total_fen": fee + kiosk}
        assert after["by_method"]["qr"] == {"count": 0, "total_fen": 0}
        assert after["total_fen"] == before["total_fen"]

        (row,) = audited(client, token)
        assert (row["actor"], row["target"]) == ("guard1", f"receipt:{receipt}")
        assert row["detail"] == f"{fee} fen qr -> cash; {CASH['reason']}"
        taken, corrected = upstream(gw, receipt)
        assert (taken["method"], "change" in taken) == ("qr", False)
        assert corrected["change"] == "method_corrected"
        assert (corrected["method"], corrected["previous_method"]) == ("cash", "qr")
        assert (corrected["corrected_by"], corrected["reason"]) == ("guard1", CASH["reason"])
        same = ("at", "plate", "pass_id", "stay_id", "lane", "amount_fen", "receipt", "actor")
        assert {k: corrected[k] for k in same} == {k: taken[k] for k in same}
        assert corrected["event_id"] != taken["event_id"]

        by_kiosk = receipts(client)["苏E40002"]
        assert by_kiosk == "WX/2025/77"
        back = client.post(f"/api/payments/{quote(by_kiosk, safe='')}/method", headers=csrf, json=QR)
        assert back.status_code == 200 and back.json()["taken_by"] == "token:booth for guard1"
        assert client.get("/api/shift").json()["by_method"]["qr"] == {"count": 1, "total_fen": kiosk}


def test_another_guards_fee_and_a_shift_handed_over_are_an_admins_to_correct(
    make_gw: Callable[..., Gateway],
) -> None:
    """guard2 may not correct guard1's fee (403 not_your_payment); guard1, once he has handed over,
    may not correct his own (403 not_this_shift); an admin may, by receipt or by the payment's id.
    Nothing is changed by a refusal."""
    with booth(make_gw) as (gw, clock, one, token):
        two = TestClient(one.app)
        csrf1, csrf2 = log_in(one, GUARD), log_in(two, GUARD2)
        clock["now"] += M
        fee = take(gw, one, csrf1, "苏E50001", method="qr")
        receipt = receipts(one)["苏E50001"]

        theirs = two.post(f"/api/payments/{receipt}/method", headers=csrf2, json=CASH)
        assert theirs.status_code == 403, theirs.text
        error = theirs.json()["error"]
        assert error["code"] == "not_your_payment" and "guard1" in error["message"] and error["fix"]

        clock["now"] += M
        assert (
            one.post("/api/shift/handover", headers=csrf1, json={"counted_cash_fen": fee}).status_code == 201
        )
        clock["now"] += M
        late = one.post(f"/api/payments/{receipt}/method", headers=csrf1, json=CASH)
        assert late.status_code == 403 and late.json()["error"]["code"] == "not_this_shift", late.text
        assert "admin" in late.json()["error"]["fix"]
        assert audited(one, token) == [] and len(upstream(gw, receipt)) == 1

        (pid,) = gw.on_worker(
            lambda c: c.execute("SELECT id FROM payments WHERE receipt = ?", (receipt,)).fetchone()
        ).result(10)
        by_admin = one.post(f"/api/payments/{pid}/method", headers=token, json=CASH)
        assert by_admin.status_code == 200, by_admin.text
        assert by_admin.json()["corrected_by"] == "token:booth"
        (row,) = audited(one, token)
        assert row["actor"] == "token:booth" and row["target"] == f"receipt:{receipt}"


def test_the_same_method_an_unknown_payment_a_monthly_one_and_a_kiosk_token_are_refused(
    make_gw: Callable[..., Gateway],
) -> None:
    """Corrected to the method it has: 409 already_done. A receipt nobody has: 404 unknown_payment.
    A monthly account's payment: 422 method_not_correctable. A guard's API token (a kiosk) has no
    shift: 403 not_an_account. No reason: 422 reason_required. Nothing is recorded for any."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        take(gw, client, csrf, "苏E60001")
        take(gw, client, csrf, "皖D55555", method="monthly")  # R4's car: its fee on its monthly account
        mine = receipts(client)

        same = client.post(f"/api/payments/{mine['苏E60001']}/method", headers=csrf, json=CASH)
        assert same.status_code == 409 and same.json()["error"]["code"] == "already_done", same.text
        unknown = client.post("/api/payments/20990101-0001/method", headers=csrf, json=CASH)
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_payment"
        assert client.post("/api/payments/987654/method", headers=token, json=CASH).status_code == 404
        monthly = client.post(f"/api/payments/{mine['皖D55555']}/method", headers=token, json=QR)
        assert monthly.status_code == 422, monthly.text
        assert monthly.json()["error"]["code"] == "method_not_correctable"
        assert "monthly" in monthly.json()["error"]["message"]
        wrong = client.post(
            f"/api/payments/{mine['苏E60001']}/method", headers=csrf, json={**QR, "method": "monthly"}
        )
        assert wrong.status_code == 422

        _, kiosk = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "kiosk", "guard", None)).result(
            10
        )
        by_kiosk = client.post(
            f"/api/payments/{mine['苏E60001']}/method", headers={"Authorization": f"Bearer {kiosk}"}, json=QR
        )
        assert by_kiosk.status_code == 403 and by_kiosk.json()["error"]["code"] == "not_an_account"
        for reason in ("", "  ", "x"):
            said = client.post(
                f"/api/payments/{mine['苏E60001']}/method", headers=csrf, json={**QR, "reason": reason}
            )
            assert said.status_code == 422 and said.json()["error"]["code"] == "reason_required", reason
        assert (
            client.post(
                f"/api/payments/{mine['苏E60001']}/method", headers=csrf, json={"method": "qr"}
            ).status_code
            == 422
        )
        assert audited(client, token) == []
        assert len(upstream(gw, mine["苏E60001"])) == 1


def test_a_correction_sent_again_with_its_key_is_recorded_once(make_gw: Callable[..., Gateway]) -> None:
    """The answer lost on the Wi-Fi, the tablet sends the correction again with its
    Idempotency-Key: answered the correction made (not 409), one audit row, one upstream record."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        take(gw, client, csrf, "苏E70001", method="qr")
        receipt = receipts(client)["苏E70001"]
        keyed = {**csrf, "Idempotency-Key": "method-1"}
        first = client.post(f"/api/payments/{receipt}/method", headers=keyed, json=CASH)
        clock["now"] += M
        again = client.post(f"/api/payments/{receipt}/method", headers=keyed, json=CASH)
        assert first.status_code == again.status_code == 200, again.text
        assert again.json() == first.json()
        assert len(audited(client, token)) == 1
        assert [r.get("change") for r in upstream(gw, receipt)] == [None, "method_corrected"]
        other = client.post(f"/api/payments/{receipt}/method", headers=keyed, json=QR)
        assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_mismatch"


def test_the_days_report_is_built_again_with_the_money_under_its_true_method(
    make_gw: Callable[..., Gateway],
) -> None:
    """A QR fee in Monday's report, built and sent, is corrected to cash on Tuesday by an admin: the
    day is marked, the next reports step builds it again and sends it once more, its revenue moved
    from QR to cash, the total unchanged."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        fee = take(gw, client, csrf, "苏E80001", method="qr")
        receipt = receipts(client)["苏E80001"]
        day = clock["now"].date().isoformat()
        clock["now"] += 24 * H
        built = client.post(f"/api/parking/reports/{day}/build", headers=token)
        assert built.status_code == 200, built.text
        parking = built.json()["parking"]
        assert parking["revenue_by_method_fen"] == {"cash": 0, "qr": fee, "monthly": 0}

        done = client.post(f"/api/payments/{receipt}/method", headers=token, json=CASH)
        assert done.status_code == 200 and done.json()["reports_sent_again"] == [day], done.text
        rebuilt = client.get(f"/api/parking/reports/{day}", headers=token).json()["parking"]
        assert rebuilt["revenue_by_method_fen"] == {"cash": fee, "qr": 0, "monthly": 0}
        assert rebuilt["revenue_fen"] == parking["revenue_fen"] == fee

        def sent(c: sqlite3.Connection) -> list[dict[str, object]]:
            rows = c.execute("SELECT payload FROM outbox WHERE topic = 'report' ORDER BY seq")
            return [json.loads(p)["report"] for (p,) in rows]

        reports = [r for r in gw.on_worker(sent).result(10) if r["day"] == day]
        assert [r["parking"]["revenue_by_method_fen"]["qr"] for r in reports][-2:] == [fee, 0]
        assert gw.operations.reports(clock["now"]) == []  # nothing left to build again


def test_a_report_whose_records_are_past_retention_has_its_method_moved_too(
    make_gw: Callable[..., Gateway],
) -> None:
    """Corrected 40 days on, past the visitors' retention (30 days): the kept report is not built
    again from what is left (it would lose the figures of the records deleted), but its revenue by
    method moves all the same, its other figures as sent."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        fee = take(gw, client, csrf, "苏E90001", method="qr")
        receipt = receipts(client)["苏E90001"]
        day = clock["now"].date().isoformat()
        clock["now"] += 24 * H
        built = client.post(f"/api/parking/reports/{day}/build", headers=token).json()["parking"]
        clock["now"] += 40 * 24 * H
        done = client.post(f"/api/payments/{receipt}/method", headers=token, json=CASH)
        assert done.status_code == 200, done.text
        assert done.json()["reports_sent_again"] == [day]
        assert day not in gw.operations.reports(clock["now"])
        kept = client.get(f"/api/parking/reports/{day}", headers=token).json()["parking"]
        assert kept["revenue_by_method_fen"] == {"cash": fee, "qr": 0, "monthly": 0}
        assert {k: v for k, v in kept.items() if k != "revenue_by_method_fen"} == {
            k: v for k, v in built.items() if k != "revenue_by_method_fen"
        }
