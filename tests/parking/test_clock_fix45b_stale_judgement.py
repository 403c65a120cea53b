"""Rounds due while the box was on, first judged on the stale boot clock before NTP set it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.ids import uuid7
from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from gateway.store.patrol import record_tap
from gateway.store.redate import redate
from tests.parking.conftest import T0
from tests.parking.test_operations import PATROL, Steady, a_new_boot, alarms, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_a_round_walked_on_time_before_ntp_is_not_left_late_when_ntp_comes_after_its_deadline(
    make_gw: Callable[..., Gateway],
) -> None:
    """Power blip: the Pi boots at 21:55 saying 21:30 (fake-hwclock's last save) with no network.
    The guard walks the 22:00 round at 22:10 and 22:20 (the stale clock says 21:45, 21:55). The
    network comes back at 23:15: by then the stale clock passed the round's 22:45 deadline and
    judged it late (巡更超时). Once NTP sets the clock the round is judged again with the taps at
    their true times: walked within its 45 minutes, it is done (docs/parking.md: "a round walked
    before NTP set the clock is judged done"), not left late (its stale verdict, kept as overdue,
    capped at late), and its late alarm is cleared."""
    gw = make_gw(extra=PATROL)
    night = T0.replace(hour=22)
    real_boot = night - 5 * M
    stale = night - 30 * M  # 21:30: 25 minutes behind
    behind = real_boot - stale
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    for minutes, checkpoint in ((15, "cp-a"), (25, "cp-b")):  # the real 22:10 and 22:20
        at = real_boot + minutes * M
        record_tap(gw.conn, uuid7(), at - behind, checkpoint, "door", "G0001")
        steady.s = (at - real_boot).total_seconds()
        o.tick(at - behind)
    for minutes in range(30, 76, 5):  # no network: the stale clock runs past 22:45
        at = real_boot + minutes * M
        steady.s = (at - real_boot).total_seconds()
        o.tick(at - behind)
    for minutes in range(80, 130, 5):  # NTP at the real 23:15, and the thread goes on looking
        at = real_boot + minutes * M
        steady.s = (at - real_boot).total_seconds()
        o.tick(at)
    rounds = gw.conn.execute("SELECT due_at, status FROM patrol_rounds ORDER BY due_at").fetchall()
    open_alarms = gw.conn.execute("SELECT kind, source FROM alarms WHERE cleared_at IS NULL").fetchall()
    assert [r[1] for r in rounds][:1] == ["done"], (
        f"the 22:00 round, walked at 22:10 and 22:20, is on record as {rounds} after NTP set the "
        f"clock (alarms raised: {alarms(gw)}, open: {open_alarms})"
    )
    assert open_alarms == []


class Killed(BaseException):
    """The service killed (a power blip, the watchdog) right after a turn of the decision worker."""


def test_a_round_left_to_judge_again_is_judged_by_the_next_run_after_a_kill(
    make_gw: Callable[..., Gateway],
) -> None:
    """As above, but the service is killed just after the re-dating's transaction, before
    boot-alarms.json was written: the next run finds the rounds to judge again in the re-dating's
    mark, and judges the 22:00 round done, though its deadline passed before that run started."""
    gw = make_gw(extra=PATROL)
    night = T0.replace(hour=22)
    real_boot = night - 5 * M
    behind = 25 * M  # the Pi boots saying 21:30
    a_new_boot(gw)
    steady = Steady()

    def dies_after_redating(fn: Callable[[sqlite3.Connection], object]) -> object:
        done = fn(gw.conn)
        if getattr(fn, "func", None) is redate:
            raise Killed
        return done

    o = Operations(gw.site, gw.db_path, gw.data_dir, dies_after_redating, real_boot - behind, steady)
    o.tick(real_boot - behind)
    for minutes in range(5, 76, 5):  # the guard walks it at 22:10 and 22:20; the stale clock runs past 22:45
        at = real_boot + minutes * M
        if minutes in (15, 25):
            record_tap(gw.conn, uuid7(), at - behind, "cp-a" if minutes == 15 else "cp-b", "door", "G0001")
        steady.s = (at - real_boot).total_seconds()
        o.tick(at - behind)
    assert gw.conn.execute("SELECT status FROM patrol_rounds").fetchall() == [("overdue",)]
    steady.s = 80 * 60
    with pytest.raises(Killed):
        o.tick(real_boot + 80 * M)  # NTP
    assert gw.conn.execute("SELECT count(*) FROM patrol_rounds").fetchone()[0] == 0
    steady.s = 82 * 60
    again = ops(gw, started=real_boot + 82 * M, steady=steady)
    again.start(lambda: real_boot + 82 * M)
    again.stop()
    steady.s = 85 * 60
    again.tick(real_boot + 85 * M)
    rounds = gw.conn.execute("SELECT due_at, status FROM patrol_rounds").fetchall()
    assert rounds == [("2025-03-03T14:00:00.000000+00:00", "done")], rounds
    assert gw.conn.execute("SELECT count(*) FROM alarms WHERE cleared_at IS NULL").fetchone()[0] == 0
