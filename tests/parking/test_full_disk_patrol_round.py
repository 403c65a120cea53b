"""Rounds and repairs judged on the records a full disk kept in memory (hand_opens.WaitingRecords):
the operations thread's look writes them first, and judges nothing on a record still waiting
(docs/hardware.md: a patrol tap made while the disk is full is recorded at its time, "the round is
judged by it"; an alarm keeps its own time, the repair deadline counted from the fault)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.parking.operations import Operations, worker_of
from gateway.runtime.gateway import Gateway
from gateway.runtime.kept_records import DeviceChange
from gateway.store.alarms import raise_alarm
from tests.parking.conftest import T0
from tests.parking.test_operations import offline
from tests.parking.test_patrol_review_s41 import CHECKPOINTS, NIGHT

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
_FILLED = ("access_log", "audit", "outbox")


def _fill(gw: Gateway) -> None:
    with sqlite3.connect(gw.db_path) as conn:
        conn.execute("CREATE TABLE ballast (b BLOB)")
        for table in _FILLED:
            conn.execute(
                f"CREATE TRIGGER full_{table} BEFORE INSERT ON {table} "
                "BEGIN INSERT INTO ballast VALUES (zeroblob(1000000)); END"
            )
    gw.on_worker(lambda c: c.execute("PRAGMA max_page_count = 1")).result(60)


def _free(gw: Gateway) -> None:
    with sqlite3.connect(gw.db_path) as conn:
        for table in _FILLED:
            conn.execute(f"DROP TRIGGER full_{table}")
    gw.on_worker(lambda c: c.execute("PRAGMA max_page_count = 1073741823")).result(60)


def _wait(cond: Callable[[], bool]) -> None:
    for _ in range(200):
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _ops(gw: Gateway, started: datetime, monotonic: Callable[[], float] = time.monotonic) -> Operations:
    """The operations thread as the gateway makes it, on its worker and its records that wait;
    `monotonic` for a test whose looks (tick) follow its own clock, so that they see no clock step."""
    worker = worker_of(gw.on_worker)
    return Operations(gw.site, gw.db_path, gw.data_dir, worker, started, monotonic, unwritten=gw.unwritten)


def test_a_round_walked_on_time_while_the_disk_was_full_is_not_judged_late_once_it_has_room(
    make_gw: Callable[..., Gateway],
) -> None:
    """The night guard taps cp-a at 22:10 and cp-b at 22:30 (the 22:00 round, 45 minutes allowed)
    while the SD card is full: both taps wait in memory (hardware.md: recorded at the time made once
    the disk has room, "the round is judged by it"). Space is freed at 23:00 and the operations
    thread's look comes a moment later. The round should be done on time. It is judged on the taps
    written so far (none: the waiting ones are retried at most once a second, and the look's own
    turn on the worker does not write them), on record as overdue, the centre told 巡更超时
    (patrol_late); once the taps are written a round found overdue is late at best, for good."""
    gw = make_gw(extra=CHECKPOINTS)
    clock = {"now": NIGHT + 10 * M}
    gw.now = lambda: clock["now"]  # type: ignore[method-assign]
    gw.worker.start()
    try:
        o = _ops(gw, NIGHT - H)
        _fill(gw)
        gw._emitter("door", "cp-a")("card", "0A0B0C0D0E", 1.0)  # 22:10
        clock["now"] = NIGHT + 30 * M
        gw._emitter("door", "cp-b")("card", "0A0B0C0D0E", 1.0)  # 22:30: the round walked on time
        _wait(lambda: gw._waiting.waiting() == 2)
        time.sleep(1.1)
        gw.on_worker(lambda c: None).result(60)  # the worker's last try of the waiting taps
        clock["now"] = NIGHT + H
        _free(gw)  # 23:00: the guard frees space
        o.patrols(NIGHT + H + 5 * S)  # the operations thread's look, a moment later
        _wait(lambda: gw.conn.execute("SELECT count(*) FROM patrol_taps").fetchone()[0] == 2)
        o.patrols(NIGHT + H + 35 * S)  # the next look

        status = gw.conn.execute("SELECT status FROM patrol_rounds ORDER BY due_at").fetchall()
        kinds = [k for (k,) in gw.conn.execute("SELECT kind FROM alarms ORDER BY id")]
        assert status == [("done",)], f"the 22:00 round, walked by 22:30, is on record as {status}"
        assert "patrol_late" not in kinds, kinds
    finally:
        gw.worker.stop()


def test_no_round_is_judged_while_a_tap_still_waits_for_the_disk(make_gw: Callable[..., Gateway]) -> None:
    """The disk is still full at the look past the round's deadline: the round is not judged
    missed on the taps written so far (none), but once the taps are written, on time."""
    gw = make_gw(extra=CHECKPOINTS)
    clock = {"now": NIGHT + 10 * M}
    gw.now = lambda: clock["now"]  # type: ignore[method-assign]
    gw.worker.start()
    try:
        o = _ops(gw, NIGHT - H)
        _fill(gw)
        gw._emitter("door", "cp-a")("card", "0A0B0C0D0E", 1.0)
        clock["now"] = NIGHT + 30 * M
        gw._emitter("door", "cp-b")("card", "0A0B0C0D0E", 1.0)
        _wait(lambda: gw._waiting.waiting() == 2)
        assert o.patrols(NIGHT + H) == []  # still full: nothing judged, nothing to write
        _free(gw)
        o.patrols(NIGHT + H + 30 * S)
        status = gw.conn.execute("SELECT status FROM patrol_rounds ORDER BY due_at").fetchall()
        assert status == [("done",)], status
    finally:
        gw.worker.stop()


def test_a_device_repaired_on_time_while_the_disk_was_full_is_not_judged_overdue(
    make_gw: Callable[..., Gateway],
) -> None:
    """A display failed at 09:00 (24 hours to repair it); the SD card filled up, and the display
    was repaired at 05:00 the next morning, 20 hours on: its 设备恢复 waits in memory. Space is freed
    at 10:00 and the repairs look comes a moment later: the fault was repaired on time, and the
    centre must not be told 设备超时未修复 (repair_overdue) for it."""
    gw = make_gw()
    gw.worker.start()
    try:
        display = next(h for h in gw.devices.health if h.device == "car-out-display")
        gw.on_worker(
            lambda c: raise_alarm(c, "device_offline", display.device, offline(display.device), T0)
        ).result(60)
        o = _ops(gw, T0)
        _fill(gw)
        gw._record_in_turn(DeviceChange.of(display, True, T0 + 20 * H))  # repaired: the record waits
        _wait(lambda: gw._waiting.waiting() == 1)
        time.sleep(1.1)
        gw.on_worker(lambda c: None).result(60)
        assert o.repairs(T0 + 25 * H) == []  # still full: nothing judged for it
        _free(gw)
        o.repairs(T0 + 25 * H + 5 * S)  # the look once space is freed
        kinds = [k for (k,) in gw.conn.execute("SELECT kind FROM alarms ORDER BY id")]
        assert kinds == ["device_offline"], kinds
        (cleared,) = gw.conn.execute("SELECT cleared_at FROM alarms").fetchone()
        assert cleared is not None
    finally:
        gw.worker.stop()
