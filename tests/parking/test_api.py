"""The parking HTTP endpoints on a running gateway: fees at the lane, payments, stays, reports, prices."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token

H = timedelta(hours=1)


@pytest.fixture
def running(make_gw: Callable[..., Gateway]) -> Iterator[tuple[Gateway, TestClient, dict[str, str]]]:
    gw = make_gw()
    gw.start()
    client = TestClient(create_app(gw))
    _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "booth", "admin", None)).result()
    try:
        yield gw, client, {"Authorization": f"Bearer {token}"}
    finally:
        gw.stop()


def show(gw: Gateway, lane: str, plate: str, at: datetime) -> AccessEvent:
    p = Presented(lane, "plate", plate, 0.97, at, "cam")
    return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)


def test_state_changing_endpoints_need_a_login_or_token(
    running: tuple[Gateway, TestClient, dict[str, str]],
) -> None:
    gw, client, auth = running
    body = {"plate": "苏E12345", "amount_fen": 500, "method": "cash"}
    for method, path in [
        ("post", "/api/parking/lanes/car-out/pay"),
        ("post", "/api/parking/prepay"),
        ("get", "/api/parking/stays"),
        ("get", "/api/parking/reports"),
    ]:
        r = client.request(method, path, json=body, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "bad_token"
        r = client.request(method, path, json=body)
        assert r.status_code == 401 and r.json()["error"]["code"] == "login_required"
    assert client.get("/api/parking/occupancy").status_code == 200  # counts only: public


def test_guard_takes_the_fee_shown_for_the_lane_and_the_barrier_opens(
    running: tuple[Gateway, TestClient, dict[str, str]],
) -> None:
    gw, client, auth = running
    now = gw.now()
    show(gw, "car-in", "苏E12345", now - 2 * H)
    held = show(gw, "car-out", "苏E12345", now - timedelta(minutes=1))
    assert held.reason == "payment_due"
    quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    assert (quote["plate"], quote["due_fen"], quote["due_text"], quote["tariff_version"]) == (
        "苏E12345",
        held.fee_fen,
        f"{held.fee_fen // 100}元",
        "t1",
    )
    wrong = client.post(
        "/api/parking/lanes/car-out/pay",
        headers=auth,
        json={"plate": "苏E12345", "amount_fen": 100, "method": "cash"},
    )
    assert wrong.status_code == 409 and "fee is" in wrong.json()["error"]["message"]
    paid = client.post(
        "/api/parking/lanes/car-out/pay",
        headers=auth,
        json={
            "plate": "苏E12345",
            "amount_fen": held.fee_fen,
            "method": "qr",
            "receipt": "WX-0001",
            "actor": "王保安",
        },
    )
    assert paid.status_code == 200 and paid.json()["admitted"] is True
    assert client.get("/api/parking/lanes/car-out/quote", headers=auth).json()["plate"] is None
    row = gw.conn.execute("SELECT receipt, actor, method FROM payments").fetchone()
    assert row == ("WX-0001", "token:booth for 王保安", "qr")  # the token acts, naming its guard
    again = client.post(
        "/api/parking/lanes/car-out/pay",
        headers=auth,
        json={"plate": "苏E12345", "amount_fen": 100, "method": "cash"},
    )
    assert again.status_code == 409 and again.json()["error"]["message"] == "nothing is owed"


def test_booth_prepay_stays_and_admin_close(running: tuple[Gateway, TestClient, dict[str, str]]) -> None:
    gw, client, auth = running
    now = gw.now()
    show(gw, "car-in", "苏E22222", now - 2 * H)
    show(gw, "car-in", "皖B33333", now - H)
    due = client.get("/api/parking/quote", params={"plate": "苏E22222"}, headers=auth).json()["due_fen"]
    r = client.post(
        "/api/parking/prepay", headers=auth, json={"plate": "苏E22222", "amount_fen": due, "method": "cash"}
    )
    assert r.status_code == 200 and r.json()["receipt"]
    assert show(gw, "car-out", "苏E22222", gw.now()).admitted
    stays = client.get("/api/parking/stays", headers=auth).json()
    assert [s["plate"] for s in stays] == ["皖B33333"] and stays[0]["slot"] == "B002"
    closed = client.post(
        f"/api/parking/stays/{stays[0]['stay_id']}/close",
        headers=auth,
        json={"reason": "camera down", "actor": "admin"},
    )
    assert closed.status_code == 200
    assert client.get("/api/parking/stays", headers=auth).json() == []
    car = next(r for r in client.get("/api/parking/occupancy").json() if r["class"] == "car")
    assert car["inside"] == 0
    bad = client.post(
        "/api/parking/prepay", headers=auth, json={"plate": "X", "amount_fen": 1, "method": "cash"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_plate"


NOT_INSIDE = {"plate": "苏E12345", "amount_fen": 1, "method": "qr"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/api/parking/lanes/moon/quote", None, 404, "unknown_lane"),
        ("get", "/api/parking/lanes/car-in/quote", None, 422, "wrong_lane"),  # an entrance
        ("get", "/api/parking/quote?plate=xx", None, 422, "invalid_plate"),
        ("post", "/api/parking/stays/5/validate", {"building": "3栋", "unit": "2单元"}, 404, "not_found"),
        ("post", "/api/parking/stays/5/close", {"reason": "camera down"}, 404, "not_found"),
        ("post", "/api/parking/prepay", NOT_INSIDE, 409, "refused"),
    ],
    ids=["unknown-lane", "entrance-lane", "bad-plate", "no-stay-validate", "no-stay-close", "not-inside"],
)
def test_parking_errors_say_what_kind_of_mistake(
    running: tuple[Gateway, TestClient, dict[str, str]],
    method: str,
    path: str,
    body: dict[str, object] | None,
    status: int,
    code: str,
) -> None:
    _, client, auth = running
    answer = client.request(method.upper(), path, headers=auth, json=body)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert answer.json()["error"]["fix"]


def test_payments_and_report_builds_are_audited(running: tuple[Gateway, TestClient, dict[str, str]]) -> None:
    gw, client, auth = running
    now = gw.now()
    gw.handle(Presented("car-in", "plate", "苏E12345", 0.99, now - timedelta(hours=3), "cam"))
    due = client.get("/api/parking/quote?plate=苏E12345", headers=auth).json()["due_fen"]
    paid = client.post(
        "/api/parking/prepay", headers=auth, json={"plate": "苏E12345", "amount_fen": due, "method": "qr"}
    )
    assert paid.status_code == 200
    yesterday = (now - timedelta(days=1)).date()
    assert client.post(f"/api/parking/reports/{yesterday}/build", headers=auth).status_code == 200
    rows = gw.conn.execute("SELECT action, target, detail FROM audit ORDER BY id").fetchall()
    assert ("payment.take", "plate:苏E12345", f"{due} fen qr {paid.json()['receipt']} at booth") in rows
    assert ("report.build", f"day:{yesterday}", "") in rows


def test_reports_are_built_listed_and_exported(running: tuple[Gateway, TestClient, dict[str, str]]) -> None:
    gw, client, auth = running
    yesterday = (gw.now() - timedelta(days=1)).date()
    future = client.post(f"/api/parking/reports/{gw.now().date()}/build", headers=auth)
    assert future.status_code == 409
    assert client.get(f"/api/parking/reports/{yesterday}", headers=auth).status_code == 404
    built = client.post(f"/api/parking/reports/{yesterday}/build", headers=auth)
    assert built.status_code == 200 and built.json()["day"] == yesterday.isoformat()
    listed = client.get("/api/parking/reports", headers=auth).json()
    assert [r["day"] for r in listed] == [yesterday.isoformat()]
    csv = client.get(f"/api/parking/reports/{yesterday}.csv", headers=auth)
    assert csv.headers["content-type"].startswith("text/csv")
    assert "parking.revenue_fen,0" in csv.text


def test_price_table_is_published(running: tuple[Gateway, TestClient, dict[str, str]]) -> None:
    _, client, _ = running
    page = client.get("/prices")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "停车收费标准" in page.text and "首60分钟 5元" in page.text and "每24小时最高 30元" in page.text
    prices = client.get("/api/parking/prices").json()
    assert prices["tariffs"][0]["version"] == "t1" and prices["grace_minutes"] == 15


def test_a_plate_misread_at_the_entry_and_corrected_pays_its_whole_stay_at_the_exit(
    running: tuple[Gateway, TestClient, dict[str, str]],
) -> None:
    gw, client, auth = running
    now = gw.now()
    entry = show(gw, "car-in", "渝E12345", now - 2 * H)  # 苏E12345, its province misread
    fixed = client.post(f"/api/events/{entry.event_id}/plate", headers=auth, json={"plate": "苏E12345"})
    assert fixed.status_code == 200 and fixed.json()["stay_moved"] is True
    held = show(gw, "car-out", "苏E12345", now - timedelta(minutes=1))
    assert held.reason == "payment_due" and "no_entry_record" not in held.flags
    # The fee runs from the misread entry: the whole stay, as if it had been read right.
    plain = show(gw, "car-in", "苏E99999", now - 2 * H)
    assert plain.plate == "苏E99999"
    assert held.fee_fen == show(gw, "car-out", "苏E99999", now - timedelta(minutes=1)).fee_fen > 0


def test_a_plate_misread_at_the_exit_is_let_out_by_the_fee_for_the_corrected_plate(
    running: tuple[Gateway, TestClient, dict[str, str]],
) -> None:
    gw, client, auth = running
    now = gw.now()
    show(gw, "car-in", "苏E12346", now - 2 * H)
    misread = show(gw, "car-out", "渝E12346", now - timedelta(minutes=1))
    assert not misread.admitted and "no_entry_record" in misread.flags
    fixed = client.post(f"/api/events/{misread.event_id}/plate", headers=auth, json={"plate": "苏E12346"})
    assert fixed.status_code == 200 and fixed.json()["stay_moved"] is False  # an exit moves no stay
    due = client.get("/api/parking/quote", headers=auth, params={"plate": "苏E12346"}).json()["due_fen"]
    paid = client.post(
        "/api/parking/lanes/car-out/pay",
        headers=auth,
        json={"plate": "苏E12346", "amount_fen": due, "method": "cash"},
    )
    assert paid.status_code == 200 and paid.json()["admitted"] is True
    open_stays = gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
    assert open_stays == 0
