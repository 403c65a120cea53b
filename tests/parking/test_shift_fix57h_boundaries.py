"""Where a 交班 shift begins and ends (docs/guard-app.md, *Shift handover*), as a reviewer found it
broken: a fee after a handover lost at a re-login, a 24-hour shift handed over with only its last
12 hours, a look-back of 25 hours on the night the clocks go back, the fees after a clock set back
in no shift, and a fee written while the handover waited on the worker in neither. A shift runs
from the guard's last handover (with none, his first login in 36 real hours) and holds what was
written after it, by row order, not time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from gateway.store.shifts import shift_of
from gateway.timefmt import elapsed
from tests.parking.conftest import show
from tests.parking.test_prepay_leave_by_dst import BERLIN, CAR, berlin_gw
from tests.parking.test_shift_handover_api import GUARD, H, M, booth, log_in, take


def test_a_fee_taken_after_the_handover_stays_his_after_logging_in_again(
    make_gw: Callable[..., Gateway],
) -> None:
    """He hands over and works on; he takes a fee, then his tablet restarts and he logs in again:
    the fee stays in his shift (before, the re-login began a new one and the fee was in none: his
    next handover's cash on record was short of it, the drawer 长款)."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        take(gw, client, csrf, "苏E40001")
        clock["now"] += M
        assert (
            client.post("/api/shift/handover", headers=csrf, json={"counted_cash_fen": 0}).status_code == 201
        )
        clock["now"] += 2 * M
        after = take(gw, client, csrf, "苏E40002")
        clock["now"] += 3 * M
        log_in(client, GUARD)
        shift = client.get("/api/shift").json()
        assert [p["plate"] for p in shift["payments"]] == ["苏E40002"]
        assert (shift["since"], shift["cash_fen"]) == ("handover", after)


def test_a_24_hour_shift_re_logged_in_after_12_hours_hands_over_all_its_cash(
    make_gw: Callable[..., Gateway],
) -> None:
    """做一休一: in at 09:00, a fee; the 12-hour session ends, in again at 21:00, a fee; in again at
    09:05 next morning to hand over at 09:10. Both fees are on record (before, the 24-hour window
    left the 09:00 login out: the shift began at 21:00 and the drawer read 长款 7元)."""
    with booth(make_gw) as (gw, clock, client, token):
        start = clock["now"]
        csrf = log_in(client, GUARD)
        clock["now"] += M
        morning = take(gw, client, csrf, "苏E50001")
        clock["now"] = start + 12 * H
        csrf = log_in(client, GUARD)
        clock["now"] += M
        evening = take(gw, client, csrf, "苏E50002")
        clock["now"] = start + 24 * H + 5 * M
        csrf = log_in(client, GUARD)
        clock["now"] += 5 * M
        shift = client.get("/api/shift").json()
        assert [p["plate"] for p in shift["payments"]] == ["苏E50001", "苏E50002"]
        assert (shift["since"], shift["start"]) == ("login", start.isoformat())
        handed = client.post(
            "/api/shift/handover", headers=csrf, json={"counted_cash_fen": morning + evening}
        )
        assert handed.json()["difference_fen"] == 0


def test_the_look_back_is_36_real_hours_on_the_night_the_clocks_go_back(tmp_path: Path) -> None:
    """Europe/Berlin, 25 October 2026 has 25 hours. A guard who never logged in nor handed over: a
    fee taken for him 36 h 30 min before is not his shift's (on the wall clock, 36 hours back from
    12:00 is 00:00 the day before, 37 real hours, and it was counted again)."""
    gw = berlin_gw(tmp_path)
    try:
        show(gw, "car-in", CAR, datetime(2026, 10, 23, 22, 0, tzinfo=BERLIN))
        paid = datetime(2026, 10, 24, 0, 30, tzinfo=BERLIN)
        due = gw.parking.quote(gw.conn, CAR, paid)["due_fen"]
        gw.parking.prepay(gw.conn, CAR, due, "cash", "", "token:kiosk for guard1", paid)
        now = datetime(2026, 10, 25, 12, 0, tzinfo=BERLIN)
        assert elapsed(paid, now) == timedelta(hours=36, minutes=30)
        shift = shift_of(gw.conn, "guard1", now)
        assert shift.start.since == "look_back"
        assert shift.payments == []
        assert elapsed(shift.start.at, now) == timedelta(hours=36)
        assert shift_of(gw.conn, "guard1", now - H).payments != []  # 35 h 30 min before: his
    finally:
        gw.conn.close()


def test_fees_taken_after_the_clock_is_set_back_are_in_his_shift(make_gw: Callable[..., Gateway]) -> None:
    """The box's clock ran an hour ahead when he logged in, and is set right soon after: the fees
    he takes then are dated before his login, and are his shift's all the same (before, the page
    showed 0.00 and the handover 长款 for the whole drawer). So are those after a handover recorded
    on the clock ahead."""
    with booth(make_gw) as (gw, clock, client, token):
        ahead = clock["now"]
        csrf = log_in(client, GUARD)
        clock["now"] = ahead - H + 5 * M
        fee = take(gw, client, csrf, "苏E60001")
        assert client.get("/api/shift").json()["cash_fen"] == fee
        clock["now"] = ahead + M  # ahead again, for the handover
        handed = client.post("/api/shift/handover", headers=csrf, json={"counted_cash_fen": fee})
        assert handed.json()["difference_fen"] == 0
        clock["now"] = ahead - H + 10 * M  # set right again
        later = take(gw, client, csrf, "苏E60002")
        shift = client.get("/api/shift").json()
        assert [p["plate"] for p in shift["payments"]] == ["苏E60002"]
        assert shift["cash_fen"] == later


def test_a_fee_taken_while_the_handover_waits_for_the_worker_is_in_the_next_shift(
    make_gw: Callable[..., Gateway],
) -> None:
    """He presses 确认交班 while the decision worker is busy a moment; the kiosk then takes a fee for
    him, dated as its request came, before the handover is written. The handover covers the
    payments written before it, the next shift those after: the fee is in the next one (before, it
    was dated before the handover and written after it, and in neither)."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        plate = "苏E70001"
        show(gw, "car-in", plate, clock["now"] - 2 * H)
        fee = show(gw, "car-out", plate, clock["now"]).fee_fen
        clock["now"] += M

        busy, release = threading.Event(), threading.Event()

        def worker_busy(_: object) -> None:  # a report being built, a burst of plates
            busy.set()
            release.wait(10)

        gw.on_worker(worker_busy)
        assert busy.wait(10)
        queued, submit = threading.Semaphore(0), gw.on_worker

        def counted(run: Callable[..., Any]) -> Future[Any]:
            future = submit(run)
            queued.release()
            return future

        gw.on_worker = counted  # type: ignore[method-assign]
        answers: dict[str, Any] = {}

        def hand_over() -> None:
            answers["handover"] = client.post(
                "/api/shift/handover", headers=csrf, json={"counted_cash_fen": fee}
            ).json()

        def kiosk_pays() -> None:
            body = {"plate": plate, "amount_fen": fee, "method": "cash", "actor": "guard1"}
            paid = TestClient(client.app).post("/api/parking/lanes/car-out/pay", headers=token, json=body)
            answers["pay"] = paid.status_code

        threads = [threading.Thread(target=hand_over), threading.Thread(target=kiosk_pays)]
        for thread in threads:
            thread.start()
            assert queued.acquire(timeout=10)  # each waits for the worker, the handover first
        clock["now"] += timedelta(seconds=1)  # the handover is written a second after the fee's time
        release.set()
        for thread in threads:
            thread.join(10)
        assert answers["pay"] == 200
        assert answers["handover"]["recorded_cash_fen"] == 0
        after = client.get("/api/shift").json()
        assert [p["plate"] for p in after["payments"]] == [plate]
        assert (after["since"], after["cash_fen"]) == ("handover", fee)
