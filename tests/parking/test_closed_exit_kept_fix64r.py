"""Review 64Ra, faults 2-4 of c83943b8 (a car kept at a closed exit pays its fee to when it got
there). The rule now (store/holds.py kept_since): the fee ends at the car's first lane_closed
refusal at an exit since that lane's latest close, when that exit still refused it within
KEPT_WITHIN (5 minutes) and it was not let out since; at whichever exit, and at the booth alike.

2. The booth quoted nothing for a car refused at the closed car-out; the open car-out-2 held it.
3. A car refused once, the lane reopened a minute later, parked half an hour more for free.
4. Each decision walked back the car's whole row of refusals: slower the longer it stood there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking.test_api import serving, show
from tests.parking.test_exit_fix57g_two_exit_cameras import SECOND_EXIT

CAR = "苏E12345"
TWIN = "苏E67890"
S = timedelta(seconds=1)
M = timedelta(minutes=1)


def test_the_booth_and_the_other_exit_agree_for_a_car_refused_at_a_closed_exit(
    make_gw: Callable[..., Gateway],
) -> None:
    with serving(make_gw(extra=SECOND_EXIT)) as (gw, client, auth):
        entered = gw.now() - 24 * M  # the exit closed at minute 24
        assert show(gw, "car-in", CAR, entered).reason == "temporary"
        r = client.post("/api/lanes/car-out/close", headers=auth, json={"reason": "检修"})
        assert r.status_code == 200, r.text
        for minute in (25, 26, 27):  # at the closed exit at minute 25 of 30 free, then parked again
            assert show(gw, "car-out", CAR, entered + minute * M).reason == "lane_closed"
        later = entered + 40 * M  # 13 minutes after its last refusal
        booth = gw.on_worker(lambda c: gw.parking.quote(c, CAR, later)).result(10)
        out = show(gw, "car-out-2", CAR, later)
    assert (booth["due_fen"], out.reason, out.fee_fen) == (500, "payment_due", 500)


def test_a_car_sent_round_from_a_closed_exit_leaves_the_other_exit_on_its_fee_to_the_refusal(
    make_gw: Callable[..., Gateway],
) -> None:
    with serving(make_gw(extra=SECOND_EXIT)) as (gw, client, auth):
        entered = gw.now() - 24 * M  # the exit closed at minute 24
        assert show(gw, "car-in", CAR, entered).reason == "temporary"
        r = client.post("/api/lanes/car-out/close", headers=auth, json={"reason": "检修"})
        assert r.status_code == 200, r.text
        for minute in (25, 26, 30):  # kept at the closed exit from minute 25 of 30 free
            assert show(gw, "car-out", CAR, entered + minute * M).reason == "lane_closed"
        sent_round = entered + 33 * M
        booth = gw.on_worker(lambda c: gw.parking.quote(c, CAR, sent_round)).result(10)
        out = show(gw, "car-out-2", CAR, sent_round)
    assert (booth["due_fen"], out.admitted, out.fee_fen) == (0, True, 0)


def test_a_car_refused_once_at_a_closed_exit_reopened_a_minute_later_pays_for_its_parking_after(
    make_gw: Callable[..., Gateway],
) -> None:
    with serving(make_gw()) as (gw, client, auth):
        entered = gw.now() - 26 * M
        for car in (CAR, TWIN):
            assert show(gw, "car-in", car, entered).reason == "temporary"
        r = client.post("/api/lanes/car-out/close", headers=auth, json={"reason": "检修"})
        assert r.status_code == 200, r.text
        assert show(gw, "car-out", CAR, entered + 25 * M).reason == "lane_closed"
        r = client.post("/api/lanes/car-out/reopen", headers=auth, json={"reason": "检修完毕"})
        assert r.status_code == 200, r.text
        twin = show(gw, "car-out", TWIN, entered + 53 * M)
        out = show(gw, "car-out", CAR, entered + 54 * M)
    assert (out.reason, out.fee_fen) == (twin.reason, twin.fee_fen) == ("payment_due", 500)


def _repeat(gw: Gateway, first_at: datetime, count: int) -> None:
    """The camera's repeats of the car's first refusal every 15 s, as written (rows cloned)."""

    def work(conn: sqlite3.Connection) -> None:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(access_log)") if r[1] != "id"]
        row = conn.execute(
            f"SELECT {', '.join(cols)} FROM access_log WHERE reason = 'lane_closed' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        base = dict(zip(cols, row, strict=True))
        for i in range(1, count + 1):
            vals = dict(base, at=to_db(first_at + i * 15 * S), event_id=f"{base['event_id'][:-6]}{i:06d}")
            conn.execute(
                f"INSERT INTO access_log ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [vals[c] for c in cols],
            )
        conn.commit()

    gw.on_worker(work).result(120)


def _steps_of_a_repeat(make_gw: Callable[..., Gateway], hours: int) -> int:
    """SQLite's steps (in thousands of VM instructions) of the decision on the car's camera repeat
    after `hours` of repeats at the closed exit."""
    with serving(make_gw()) as (gw, client, auth):
        entered = gw.now() - (hours * 60 + 60) * M
        assert show(gw, "car-in", CAR, entered).reason == "temporary"
        r = client.post("/api/lanes/car-out/close", headers=auth, json={"reason": "检修"})
        assert r.status_code == 200, r.text
        first = entered + 20 * M
        assert show(gw, "car-out", CAR, first).reason == "lane_closed"
        n = hours * 240
        _repeat(gw, first, n)
        p = Presented("car-out", "plate", CAR, 0.97, first + (n + 1) * 15 * S, "cam")
        steps = [0]

        def decide(conn: sqlite3.Connection) -> str:
            def step() -> int:
                steps[0] += 1
                return 0

            conn.set_progress_handler(step, 1000)
            try:
                return gw.handle(p).reason
            finally:
                conn.set_progress_handler(None, 1000)

        assert gw.on_worker(decide).result(60) == "lane_closed"
    return steps[0]


def test_a_decision_at_a_closed_exit_does_not_grow_with_the_time_the_car_stood_there(
    make_gw: Callable[..., Gateway],
) -> None:
    an_hour, a_night = _steps_of_a_repeat(make_gw, 1), _steps_of_a_repeat(make_gw, 10)
    assert a_night <= an_hour * 1.2 + 20, (an_hour, a_night)
