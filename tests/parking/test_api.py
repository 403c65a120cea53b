"""The parking HTTP endpoints on a running gateway: fees at the lane, payments, stays, reports, prices."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account, create_token

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


@contextmanager
def serving(gw: Gateway) -> Iterator[tuple[Gateway, TestClient, dict[str, str]]]:
    gw.start()
    client = TestClient(create_app(gw))
    _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "booth", "admin", None)).result()
    try:
        yield gw, client, {"Authorization": f"Bearer {token}"}
    finally:
        gw.stop()


@pytest.fixture
def running(make_gw: Callable[..., Gateway]) -> Iterator[tuple[Gateway, TestClient, dict[str, str]]]:
    with serving(make_gw()) as served:
        yield served


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
    gw.on_worker(lambda c: create_account(c, now, "test", "wang", "王保安", "guard", "x")).result(10)
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
            "actor": "Wang",
        },
    )
    assert paid.status_code == 200 and paid.json()["admitted"] is True
    assert client.get("/api/parking/lanes/car-out/quote", headers=auth).json()["plate"] is None
    row = gw.conn.execute("SELECT receipt, actor, method FROM payments").fetchone()
    # The token acts, naming its guard by his account's spelling: his shift finds the fee.
    assert row == ("WX-0001", "token:booth for wang", "qr")
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


def test_fee_at_the_lane_runs_to_when_the_car_was_held_not_to_the_cameras_repeats(
    running: tuple[Gateway, TestClient, dict[str, str]],
) -> None:
    """The guard is busy for ten minutes while a car waits at the barrier, read again every 15 s.
    The fee shown and taken is the one of the moment it was held (7元), not the next hour's."""
    gw, client, auth = running
    now = gw.now()
    held_at = now - 11 * M
    show(gw, "car-in", "苏E12345", held_at - 2 * H + 5 * M)  # 1 h 55 parked when held: 5 + 2 = 7元
    held = show(gw, "car-out", "苏E12345", held_at)
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    t = held_at
    while t < now - 15 * S:  # still standing at the barrier: the camera decides it again
        t += 15 * S
        show(gw, "car-out", "苏E12345", t)
    quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    assert (quote["due_fen"], datetime.fromisoformat(quote["at"])) == (700, held_at)
    paid = client.post(
        "/api/parking/lanes/car-out/pay",
        headers=auth,
        json={"plate": "苏E12345", "amount_fen": 700, "method": "cash"},
    )
    assert paid.status_code == 200 and paid.json()["admitted"], paid.json()


def test_a_retried_lane_payment_is_not_told_the_car_owes_a_days_cap(make_gw: Callable[..., Gateway]) -> None:
    """The tablet loses the answer to "QR code taken" and sends it again. The car has paid and
    left: the retry says it went through, not "the fee is 30元" (a day's cap, as for a car seen
    leaving without an entry), which a guard would take from a driver who already paid."""
    with serving(make_gw(exit_without_entry="charge")) as (gw, client, auth):
        now = gw.now()
        show(gw, "car-in", "苏E12345", now - 2 * H)
        held = show(gw, "car-out", "苏E12345", now - M)
        body = {"plate": "苏E12345", "amount_fen": held.fee_fen, "method": "qr", "receipt": "WX-778899"}
        first = client.post("/api/parking/lanes/car-out/pay", headers=auth, json=body)
        assert first.status_code == 200 and first.json()["admitted"]
        retry = client.post("/api/parking/lanes/car-out/pay", headers=auth, json=body)
        error = retry.json()["error"]
        assert retry.status_code == 409 and error["code"] == "already_paid", error
        assert error["message"] == "nothing is owed"
        assert "WX-778899" in error["fix"], error
        # The same without a receipt number: the car was let out after it was held here.
        again = client.post("/api/parking/lanes/car-out/pay", headers=auth, json={**body, "receipt": ""})
        assert again.status_code == 409 and again.json()["error"]["message"] == "nothing is owed"
        assert gw.conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 1


def test_rebuilding_a_kept_report_after_retention_does_not_replace_its_figures_with_zeros(
    running: tuple[Gateway, TestClient, dict[str, str]],
) -> None:
    """Reports are kept 400 days, access records 180. Rebuilt by hand after its records are
    deleted, a report would become all zeros, stored and sent upstream: it is refused."""
    gw, client, auth = running
    now = gw.now()
    day = (now - 200 * 24 * H).replace(hour=9, minute=0, second=0, microsecond=0)
    show(gw, "car-in", "苏E12345", day)
    show(gw, "car-out", "苏E12345", day + 20 * M)
    show(gw, "car-in", "皖B33333", day + H)
    assert gw.operations.build_report(day.date(), now)["vehicles"]["entries"]["total"] == 2
    gw.operations.retention(now)  # the hourly pass: records older than 180 days go
    rebuilt = client.post(f"/api/parking/reports/{day.date()}/build", headers=auth)
    assert rebuilt.status_code == 409 and rebuilt.json()["error"]["code"] == "records_deleted"
    stored = client.get(f"/api/parking/reports/{day.date()}", headers=auth).json()
    assert stored["vehicles"]["entries"]["total"] == 2
    # A day past retention with no report kept can still be built from what is left.
    older = (day - 24 * H).date()
    assert client.post(f"/api/parking/reports/{older}/build", headers=auth).status_code == 200


def test_a_stay_is_found_by_its_plate_as_the_guard_types_it(
    running: tuple[Gateway, TestClient, dict[str, str]],
) -> None:
    """The guard types the plate in lower case on the stays page, as on the quote page: the car is found."""
    gw, client, auth = running
    show(gw, "car-in", "苏E12345", gw.now() - H)
    found = client.get("/api/parking/stays", headers=auth, params={"plate": "苏e12345 "}).json()
    assert [s["plate"] for s in found] == ["苏E12345"]
    quoted = client.get("/api/parking/quote", headers=auth, params={"plate": "苏e12345 "}).json()
    assert quoted["stay_id"] == found[0]["stay_id"]
    bad = client.get("/api/parking/stays", headers=auth, params={"plate": "苏E1234"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_plate"
    # Digits alone are no plate: a ticket's number typed wrong, refused as the exit does.
    digits = client.get("/api/parking/stays", headers=auth, params={"plate": "12345"})
    assert digits.status_code == 404 and digits.json()["error"]["code"] == "unknown_ticket"


def test_a_report_day_outside_the_years_2000_to_2200_is_refused(
    running: tuple[Gateway, TestClient, dict[str, str]],
) -> None:
    """docs/guard-app.md: dates in a request lie in the years 2000 to 2200, else 422. A report
    built for 1999-12-31 was stored and queued upstream to the property company."""
    gw, client, auth = running
    for day in ("1999-12-31", "2201-01-01"):
        for r in (
            client.post(f"/api/parking/reports/{day}/build", headers=auth),
            client.get(f"/api/parking/reports/{day}", headers=auth),
            client.get(f"/api/parking/reports/{day}.csv", headers=auth),
        ):
            assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request"), r.text
    with sqlite3.connect(gw.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM daily_reports").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM outbox WHERE topic = 'report'").fetchone()[0] == 0
