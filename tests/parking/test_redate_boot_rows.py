"""What a Pi writes while it runs on fake-hwclock's stale time (it has no real-time clock) and NTP
then sets right: a snapshot is kept for its true age and a patrol tap counts for the round it was
walked in, as the boot's alarms and stays are re-dated, once each, however the clock steps and
whenever the service is killed."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

from gateway.ids import uuid7
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import raise_alarm
from gateway.store.patrol import record_tap
from gateway.timefmt import from_db
from tests.parking.conftest import T0, show
from tests.parking.test_operations import PATROL, Steady, a_new_boot, alarms, offline, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def test_a_snapshot_taken_before_ntp_is_not_deleted_as_a_week_old(make_gw: Callable[..., Gateway]) -> None:
    """The box was off for ten days (Spring Festival, the power off); it boots on fake-hwclock's
    time and a car comes in at once: its snapshot is written with that time. NTP sets the clock a
    minute later. Retention deletes snapshots older than `retention.snapshots_days` (7): the one
    taken an hour ago is not, and the car's picture is kept for its week."""
    gw = make_gw()
    boot = T0 - 10 * 24 * H
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)  # the first pass, on the stale clock: retention runs (nothing to delete)
    folder = gw.data_dir / "snapshots" / "car-in"
    folder.mkdir(parents=True, exist_ok=True)
    snap = folder / "fresh.jpg"
    snap.write_bytes(b"\xff" * 100)
    os.utime(snap, (boot.timestamp() + 5, boot.timestamp() + 5))  # the file system's stale clock
    old = folder / "before-the-cut.jpg"  # eight days old on the true clock: past its week
    old.write_bytes(b"\xff" * 100)
    os.utime(old, (boot.timestamp() - 8 * 86400, boot.timestamp() - 8 * 86400))
    steady.s = 3600 + 60  # an hour later (retention is hourly, on the monotonic clock)
    o.tick(T0 + H)  # NTP has set the clock
    assert snap.exists(), "a snapshot taken an hour ago was deleted as older than 7 days"
    assert abs(snap.stat().st_mtime - (T0 + H - 3655 * S).timestamp()) < 1  # the true time it was taken
    assert not old.exists()


def test_a_round_walked_before_ntp_set_the_clock_is_not_reported_missed(
    make_gw: Callable[..., Gateway],
) -> None:
    """Power comes back at 21:55; fake-hwclock last saved 21:00, so the Pi boots saying 21:00 and has
    no network yet. The night round is due at 22:00 (route hours 22:00-02:00, 45 minutes for a
    round). The guard walks it: cp-a at 22:10 and cp-b at 22:20 (the gateway's clock says 21:15 and
    21:25). The network is up at 22:30 and NTP sets the clock; the operations thread sees the step
    (docs/parking.md: the start is taken on the monotonic clock; stays and alarms of this boot are
    re-dated). The round was walked in time: it must not be reported missed, nor an alarm raised.
    The taps stay as the reader recorded them (append-only)."""
    gw = make_gw(extra=PATROL)
    night = T0.replace(hour=22)
    real_boot = night - 5 * M
    stale = night - H  # 21:00: the Pi's clock is 55 minutes behind
    behind = real_boot - stale
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    for minutes, checkpoint in ((15, "cp-a"), (25, "cp-b")):  # the real 22:10 and 22:20
        at = real_boot + minutes * M
        record_tap(gw.conn, uuid7(), at - behind, checkpoint, "door", "G0001")  # dated by the gateway's clock
        steady.s = (at - real_boot).total_seconds()
        o.tick(at - behind)
    steady.s = (night + 30 * M - real_boot).total_seconds()
    o.tick(night + 30 * M)  # NTP: the clock jumps 55 minutes
    for minutes in range(60, 130, 10):  # the thread keeps looking, until the 00:00 round is due
        steady.s = (night + minutes * M - real_boot).total_seconds()
        o.tick(night + minutes * M)
    rounds = gw.conn.execute("SELECT due_at, status, missing FROM patrol_rounds ORDER BY due_at").fetchall()
    assert [r[1] for r in rounds][:1] == ["done"], (rounds, alarms(gw))
    assert [kind for kind, _ in alarms(gw)] == []
    tapped = [from_db(at) for (at,) in gw.conn.execute("SELECT at FROM patrol_taps ORDER BY id")]
    assert tapped == [real_boot + 15 * M - behind, real_boot + 25 * M - behind]


def test_a_round_begun_before_ntp_and_finished_after_a_restart_is_done(
    make_gw: Callable[..., Gateway],
) -> None:
    """As above, but the guard taps cp-a at 22:10 on the stale clock, NTP sets the clock at 22:30,
    the service is restarted at 22:31 (an update), and the guard taps cp-b at 22:35: the round was
    walked within its 45 minutes, and the restarted gateway knows cp-a's true time."""
    gw = make_gw(extra=PATROL)
    night = T0.replace(hour=22)
    real_boot = night - 5 * M
    stale = night - H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    record_tap(gw.conn, uuid7(), stale + 15 * M, "cp-a", "door", "G0001")  # the real 22:10
    steady.s = (night + 30 * M - real_boot).total_seconds()
    o.tick(night + 30 * M)  # NTP: the clock jumps 55 minutes
    steady.s += 60
    again = ops(gw, started=night + 31 * M, steady=steady)
    again.start(lambda: night + 31 * M)
    again.stop()
    record_tap(gw.conn, uuid7(), night + 35 * M, "cp-b", "door", "G0001")
    for minutes in range(40, 130, 10):
        steady.s = (night + minutes * M - real_boot).total_seconds()
        again.tick(night + minutes * M)
    rounds = gw.conn.execute("SELECT status, missing FROM patrol_rounds ORDER BY due_at").fetchall()
    assert rounds[:1] == [("done", "")], (rounds, alarms(gw))


def test_a_second_small_step_after_a_large_one_moves_a_stay_by_both_once(
    make_gw: Callable[..., Gateway],
) -> None:
    """The Pi boots three days behind; a car comes in; a first time source sets the clock 5 minutes
    short, and NTP corrects it a minute later. The car's entry moves by both steps, each once: it is
    the true time it came in, and a car that came in after the first step moves by the second only."""
    gw = make_gw()
    boot = T0 - 72 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    show(gw, "car-in", "苏E12345", boot + 10 * S)  # true: T0 + 10 s
    steady.s = 30
    o.tick(T0 + 30 * S - 5 * M)  # the first step: 5 minutes short of the true time
    show(gw, "car-in", "苏E54321", T0 + 40 * S - 5 * M)  # true: T0 + 40 s
    steady.s = 90
    o.tick(T0 + 90 * S)  # NTP: the second step
    steady.s = 120
    o.tick(T0 + 120 * S)
    entered = {p: from_db(at) for p, at in gw.conn.execute("SELECT plate, entered_at FROM stays")}
    assert entered == {"苏E12345": T0 + 10 * S, "苏E54321": T0 + 40 * S}


def test_a_kill_after_the_re_dating_before_its_mark_is_kept_moves_nothing_twice(
    make_gw: Callable[..., Gateway],
) -> None:
    """The Pi boots saying 21:00 (fake-hwclock), 55 minutes behind, and runs two hours without a
    network: a car comes in, a camera is offline. NTP then sets the clock; the gateway re-dates this
    boot's rows and is killed before it keeps the clock they are now dated on (boot-alarms.json).
    The next run of the boot finds the step already re-dated (its audit row, written in the same
    transaction) and moves nothing a second time."""
    gw = make_gw()
    stale = T0 - 3 * H  # what the clock says at boot; the box really boots at T0 - 2:05
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    show(gw, "car-in", "苏E12345", stale + 10 * S)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), stale + 30 * S)
    kept = (gw.data_dir / "boot-alarms.json").read_text()
    steady.s = (2 * H + 5 * M).total_seconds()
    o.tick(T0)  # NTP has set the clock 55 minutes on
    (gw.data_dir / "boot-alarms.json").write_text(kept)  # killed before the file was written
    steady.s += 60
    again = ops(gw, started=T0 + M, steady=steady)
    again.start(lambda: T0 + M)
    again.stop()
    again.tick(T0 + M)  # what its thread would do next
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays").fetchone()[0])
    raised = from_db(gw.conn.execute("SELECT raised_at FROM alarms").fetchone()[0])
    booted = T0 - 2 * H - 5 * M  # on the true clock
    assert (entered, raised) == (booted + 10 * S, booted + 30 * S)
    marks = gw.conn.execute("SELECT actor, action FROM audit WHERE action = 'clock.redate'").fetchall()
    assert marks == [("gateway", "clock.redate")]
