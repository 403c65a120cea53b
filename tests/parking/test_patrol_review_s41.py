"""Patrol rounds judged on every tap the guard made, and counted in the report of their period
(REQUIREMENTS 11; docs/parking.md, *Patrols* and *Daily report*)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.parking.operations import Operations, worker_of
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from tests.parking.conftest import T0, show
from tests.parking.test_operations import PATROL, Steady, ops, tap

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
NIGHT = T0.replace(hour=22)

CHECKPOINTS = """
[[devices]]
id = "cp-a"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyREVIEW-cp-a"
format = "line"
role = "patrol"

[[devices]]
id = "cp-b"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyREVIEW-cp-b"
format = "line"
role = "patrol"

[[patrol.routes]]
id = "night"
name = "夜间巡更"
checkpoints = ["cp-a", "cp-b"]
hours = "22:00-02:00"
every_minutes = 120
round_minutes = 45
"""

MORNING_ROUND = "[reports]\nhour = 8\n" + PATROL.replace('"22:00-02:00"', '"07:30-08:30"').replace(
    "every_minutes = 120", "every_minutes = 60"
)


def _wait(cond: Callable[[], bool]) -> None:
    for _ in range(200):
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_last_checkpoint_tapped_just_before_midnight_while_worker_busy_is_not_missed(
    make_gw: Callable[..., Gateway],
) -> None:
    """The night guard taps cp-a at 22:10 and the last checkpoint cp-b at 23:59:50: the 22:00 round
    is finished (late), before the 00:00 round is due. The decision worker is busy for half a
    second just then (a directory push, a retention batch, a burst of cars), so the tap's row is
    written a moment later. The operations thread's look at 00:00:05 must not judge the round
    missed on the taps written so far: the centre gets a patrol_missed alarm and the daily report
    a missed round for a round the guard walked, and a missed round is never judged again."""
    gw = make_gw(extra=CHECKPOINTS)
    clock = {"now": NIGHT + 10 * M}
    gw.now = lambda: clock["now"]  # type: ignore[method-assign]
    gw.worker.start()
    try:
        o = Operations(gw.site, gw.db_path, gw.data_dir, worker_of(gw.on_worker), NIGHT - H)
        gw._emitter("door", "cp-a")("card", "0A0B0C0D0E", 1.0)  # 22:10, a real patrol reader's read
        _wait(lambda: gw.conn.execute("SELECT count(*) FROM patrol_taps").fetchone()[0] == 1)
        assert [r.status for r in o.patrols(NIGHT + 45 * M + 5 * S)] == ["overdue"]  # cp-b not yet

        busy = threading.Event()
        gw.on_worker(lambda conn: busy.wait(0.5))  # the worker busy for half a second
        clock["now"] = NIGHT + 2 * H - 10 * S  # 23:59:50: the last checkpoint
        gw._emitter("door", "cp-b")("card", "0A0B0C0D0E", 1.0)
        o.patrols(NIGHT + 2 * H + 5 * S)  # the look at 00:00:05
        _wait(lambda: gw.conn.execute("SELECT count(*) FROM patrol_taps").fetchone()[0] == 2)
        o.patrols(NIGHT + 2 * H + 35 * S)  # the next look

        status = gw.conn.execute("SELECT status FROM patrol_rounds ORDER BY due_at").fetchall()
        kinds = [k for (k,) in gw.conn.execute("SELECT kind FROM alarms ORDER BY id")]
        assert status == [("late",)], f"the 22:00 round, finished at 23:59:50, is on record as {status}"
        assert "patrol_missed" not in kinds, kinds
    finally:
        gw.worker.stop()


def test_last_checkpoint_tapped_just_before_the_deadline_while_worker_busy_is_not_late(
    make_gw: Callable[..., Gateway],
) -> None:
    """The same with the round's 45 minutes: cp-b tapped at 22:44:55 while the worker is busy, and
    the look at 22:45:05 must not raise patrol_late for a round done on time."""
    gw = make_gw(extra=CHECKPOINTS)
    clock = {"now": NIGHT + 10 * M}
    gw.now = lambda: clock["now"]  # type: ignore[method-assign]
    gw.worker.start()
    try:
        o = Operations(gw.site, gw.db_path, gw.data_dir, worker_of(gw.on_worker), NIGHT - H)
        gw._emitter("door", "cp-a")("card", "0A0B0C0D0E", 1.0)  # 22:10
        _wait(lambda: gw.conn.execute("SELECT count(*) FROM patrol_taps").fetchone()[0] == 1)

        busy = threading.Event()
        gw.on_worker(lambda conn: busy.wait(0.5))
        clock["now"] = NIGHT + 45 * M - 5 * S  # 22:44:55: the last checkpoint, on time
        gw._emitter("door", "cp-b")("card", "0A0B0C0D0E", 1.0)
        o.patrols(NIGHT + 45 * M + 5 * S)  # the look at 22:45:05

        status = gw.conn.execute("SELECT status FROM patrol_rounds ORDER BY due_at").fetchall()
        kinds = [k for (k,) in gw.conn.execute("SELECT kind FROM alarms ORDER BY id")]
        assert status == [("done",)], f"the 22:00 round, finished at 22:44:55, is on record as {status}"
        assert "patrol_late" not in kinds, kinds
    finally:
        gw.worker.stop()


def test_report_built_by_hand_while_the_0730_round_is_walked_still_counts_it(
    make_gw: Callable[..., Gateway],
) -> None:
    """Reports at 08:00; one round a day, due 07:30, 45 minutes. On 4 March the guard taps cp-a at
    07:35 and cp-b at 08:10: done on time. At 08:05 the report of 3 March (08:00 on the 3rd to
    08:00 on the 4th) has not appeared (it waits for that round), so the admin builds it with the
    button / POST .../build. The report kept and sent upstream must count that 07:30 round (done);
    it says no round was due that day, and the gateway never builds that day again. Refused while
    the round is open (409 rounds_open, saying when to try again), it is built once the round is
    done."""
    gw = make_gw(extra=MORNING_ROUND)
    show(gw, "car-in", "苏E00001", T0)  # 3 March, 09:00
    due = T0.replace(hour=7, minute=30) + 24 * H  # 4 March 07:30
    steady = Steady()
    o = ops(gw, started=T0, steady=steady)

    def tick(at):  # type: ignore[no-untyped-def]
        steady.s = (at - T0).total_seconds()
        o.tick(at)

    tap(gw, due + 5 * M, "cp-a")
    tick(due + 30 * M + 7 * S)  # 08:00:07: the report waits for the 07:30 round
    assert gw.conn.execute("SELECT count(*) FROM daily_reports").fetchone() == (0,)

    gw.now = lambda: due + 35 * M  # type: ignore[method-assign]  # 08:05, the admin at the booth PC
    gw.worker.start()
    try:
        _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "office", "admin", None)).result()
        client = TestClient(create_app(gw))
        r = client.post("/api/parking/reports/2025-03-03/build", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        # the round may change until 08:30, when the next one would be due
        assert error["code"] == "rounds_open" and "2025-03-04T08:30:00+08:00" in error["message"], error
    finally:
        gw.worker.stop()
    assert gw.conn.execute("SELECT count(*) FROM daily_reports").fetchone() == (0,)

    tap(gw, due + 40 * M, "cp-b")  # 08:10: the round is done, within its 45 minutes
    tick(due + 40 * M + 7 * S)
    tick(due + 70 * M + 7 * S)
    assert gw.conn.execute("SELECT status FROM patrol_rounds").fetchall() == [("done",)]
    (body,) = gw.conn.execute("SELECT body FROM daily_reports WHERE day = '2025-03-03'").fetchone()
    patrol = json.loads(body)["patrol"]
    assert (patrol["rounds"], patrol["done"]) == (1, 1), f"report of 2025-03-03 kept and sent: {patrol}"
