"""A gateway that has run correctly for weeks sees its wall clock jump: an installer types 2035 for
2025, a bad NTP server or GPS sets it a day off, and someone sets it right later. Only a Pi's stale
boot clock being set (the first step of the boot, forward, within a day of the boot) is re-dated;
a running clock's step is not, raises `clock_stepped`, and for a day nothing is deleted, reported or
judged on the wall clock, so a clock set right within that day has lost and invented nothing."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm, open_alarms, raise_alarm
from gateway.store.audit import audit
from gateway.store.passes import NewPass, create_pass
from gateway.timefmt import from_db
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, offline, ops

H = timedelta(hours=1)
D = timedelta(days=1)
S = timedelta(seconds=1)
CAR = "苏E12345"  # a temporary car parked for three weeks
VISITOR = "浙A77777"  # a visitor registered yesterday morning, pass window left empty (4 hours)


def ahead(t: datetime) -> datetime:
    return t.replace(year=t.year + 10)


def running(gw: Gateway, booted: datetime, steady: Steady) -> Operations:
    """The box booted at `booted` and has run on NTP since; the gateway looks at T0."""
    a_new_boot(gw)
    o = ops(gw, started=booted, steady=steady)
    o.clock.resume(booted)
    return o


def look(o: Operations, steady: Steady, wall: datetime, later: timedelta) -> None:
    steady.s += later.total_seconds()
    o.tick(wall)


def off_for_an_hour(o: Operations, steady: Steady, wrong: Callable[[datetime], datetime]) -> datetime:
    """From T0 + 1 min the clock says `wrong(true time)`; the gateway looks every 30 s for an hour;
    then the clock is set right. Returns the true time after it."""
    for k in range(2, 125):
        look(o, steady, wrong(T0 + 30 * k * S), 30 * S)
    back = T0 + 125 * 30 * S
    look(o, steady, back, 30 * S)
    return back


# ---- a running clock's step is not re-dated ---------------------------------------------------


def estate(gw: Gateway, off: timedelta | None) -> datetime:
    """Booted a month ago; a car parked for 20 days; a visitor whose 4 hours ended 22 hours ago.
    With `off`, the clock is `off` wrong for an hour, then set right. Returns the time after."""
    steady = Steady()
    o = running(gw, T0 - 30 * D, steady)
    show(gw, "car-in", CAR, T0 - 20 * D)
    registered = T0 - 26 * H
    visit = NewPass(
        "visitor",
        "钱七",
        registered,
        registered + 4 * H,
        host_building="3栋",
        host_unit="2单元",
        plate=VISITOR,
    )
    create_pass(gw.conn, gw.secrets, visit, registered, "guard1")
    look(o, steady, T0, 30 * D)
    if off is None:
        look(o, steady, T0 + 125 * 30 * S, 124 * 30 * S)
        return T0 + 125 * 30 * S
    return off_for_an_hour(o, steady, lambda t: t + off)


@pytest.mark.parametrize("off", [-D, D], ids=["back a day", "ahead a day"])
def test_a_clock_a_day_off_for_an_hour_leaves_a_three_week_stay_its_fee_and_an_ended_pass(
    make_gw: Callable[..., Gateway], off: timedelta
) -> None:
    """The car parked 20 days pays what it would have without the glitch (not a day less), and the
    visitor whose pass ended yesterday is still refused as expired."""
    control = make_gw()
    now = estate(control, None)
    gw = make_gw()
    estate(gw, off)
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays WHERE plate = ?", (CAR,)).fetchone()[0])
    assert entered == T0 - 20 * D
    assert show(gw, "car-in", VISITOR, now + 10 * 60 * S).reason == "expired"
    assert show(control, "car-in", VISITOR, now + 10 * 60 * S).reason == "expired"
    assert show(gw, "car-out", CAR, now + H).fee_fen == show(control, "car-out", CAR, now + H).fee_fen
    assert gw.conn.execute("SELECT count(*) FROM audit WHERE action = 'clock.redate'").fetchone()[0] == 0


# ---- an hour ten years ahead -------------------------------------------------------------------

WEEKS = 30


def run_for_weeks(gw: Gateway, steady: Steady) -> Operations:
    """A car in and out, a guard's login and the gateway's look every day for a month."""
    start = T0 - WEEKS * D
    o = running(gw, start, steady)
    for day in range(WEEKS):
        at = start + day * D + 10 * H
        show(gw, "car-in", f"苏E{day:05d}", at)
        show(gw, "car-out", f"苏E{day:05d}", at + 10 * 60 * S)
        audit(gw.conn, at, "guard1", "login", "guard1")
        steady.s = (at + H - start).total_seconds()
        o.tick(at + H)
    steady.s = (T0 - start).total_seconds()
    o.tick(T0)
    return o


def counts(gw: Gateway) -> dict[str, int]:
    q = {
        "access_log": "SELECT count(*) FROM access_log",
        "closed_stays": "SELECT count(*) FROM stays WHERE exited_at IS NOT NULL",
        "audit_logins": "SELECT count(*) FROM audit WHERE action = 'login'",
        "reports": "SELECT count(*) FROM daily_reports",
    }
    return {k: gw.conn.execute(v).fetchone()[0] for k, v in q.items()}


def test_an_hour_of_a_clock_ten_years_ahead_deletes_and_reports_nothing(
    make_gw: Callable[..., Gateway],
) -> None:
    """Nothing is past its retention on the true clock (180 days of records, 365 of the audit
    trail, 400 report days): an hour of a wrong clock deletes none of it, and sends no report of
    2035 upstream."""
    gw = make_gw()  # no MQTT: the gateway holds the only copy of its records
    steady = Steady()
    o = run_for_weeks(gw, steady)
    before = counts(gw)
    assert before["access_log"] == 2 * WEEKS and before["audit_logins"] == WEEKS and before["reports"] >= 25
    off_for_an_hour(o, steady, ahead)
    assert counts(gw) == before
    assert gw.conn.execute("SELECT count(*) FROM daily_reports WHERE day > '2030'").fetchone()[0] == 0


def test_a_restart_of_the_service_on_a_clock_ten_years_ahead_deletes_nothing_either(
    make_gw: Callable[..., Gateway],
) -> None:
    """The watchdog restarts the service a minute after the clock jumped: the new run keeps the day's
    pause (boot-alarms.json), and two hours on has deleted and reported nothing."""
    gw = make_gw()
    steady = Steady()
    o = run_for_weeks(gw, steady)
    before = counts(gw)
    look(o, steady, ahead(T0) + 60 * S, 60 * S)
    steady.s += 60
    again = ops(gw, started=ahead(T0) + 2 * 60 * S, steady=steady)
    again.start(lambda: ahead(T0) + 2 * 60 * S)
    again.stop()
    look(again, steady, ahead(T0) + 2 * H, 2 * H)
    assert counts(gw) == before


def test_daily_reports_resume_a_day_after_the_clock_was_set_right(make_gw: Callable[..., Gateway]) -> None:
    """The day of the glitch is reported once the gateway has trusted the clock for a day."""
    gw = make_gw()
    steady = Steady()
    o = run_for_weeks(gw, steady)
    back = off_for_an_hour(o, steady, ahead)
    show(gw, "car-in", "苏E99999", T0 + 5 * H)
    look(o, steady, back + 20 * H, 20 * H)
    assert gw.conn.execute("SELECT max(day) FROM daily_reports").fetchone()[0] < T0.date().isoformat()
    look(o, steady, back + 2 * D, 28 * H)
    days = [d for (d,) in gw.conn.execute("SELECT day FROM daily_reports")]
    assert T0.date().isoformat() in days and max(days) < "2030"


def test_an_hour_of_a_clock_ten_years_ahead_keeps_the_weeks_footage(make_gw: Callable[..., Gateway]) -> None:
    """The box rebooted two days ago; the snapshots of the week (retention.snapshots_days = 7) are
    all kept through an hour of a clock ten years ahead."""
    gw = make_gw()
    folder = gw.data_dir / "snapshots" / "car-in"
    folder.mkdir(parents=True, exist_ok=True)
    for age in range(1, 7):
        path = folder / f"snap{age}.jpg"
        path.write_bytes(b"\xff" * 100)
        os.utime(path, ((T0 - age * D).timestamp(),) * 2)
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0, 2 * D)
    off_for_an_hour(o, steady, ahead)
    assert len(list(folder.iterdir())) == 6


def test_a_camera_fault_of_hours_is_not_a_missed_repair_deadline_on_a_clock_ten_years_ahead(
    make_gw: Callable[..., Gateway],
) -> None:
    """A camera offline for three hours (deadline 24 hours) is not reported overdue ("87,600
    hours") while the clock is ten years ahead, nor after it is set right."""
    gw = make_gw()
    raise_alarm(gw.conn, "device_offline", "cam-x", offline("cam-x"), T0 - 3 * H)
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0, 2 * D)
    back = off_for_an_hour(o, steady, ahead)
    look(o, steady, back + 2 * H, 2 * H)
    assert gw.conn.execute("SELECT count(*) FROM alarms WHERE kind = 'repair_overdue'").fetchone()[0] == 0


def test_a_running_clock_stepped_raises_one_alarm_that_says_what_to_check_and_closes_when_acknowledged(
    make_gw: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    """The guard sees 时钟跳变 (clock stepped) on the alarms page and the centre gets it upstream;
    the log says to check the NTP server or the time the installer set. Acknowledged, it closes."""
    gw = make_gw()
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0, 2 * D)
    with caplog.at_level(logging.WARNING, logger="gateway.parking.operations"):
        back = off_for_an_hour(o, steady, ahead)
    warned = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "gateway.parking.operations"
    ]
    assert len(warned) == 2 and all("NTP" in w for w in warned), warned
    (alarm,) = open_alarms(gw.conn, "en")
    assert (alarm["kind"], alarm["source"]) == ("clock_stepped", "clock")
    assert "NTP" in str(alarm["message"]) and "24" in str(alarm["message"])
    assert "NTP" in str(open_alarms(gw.conn, "zh")[0]["message"])
    upstream = [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm'")]
    assert [(u["kind"], u["state"]) for u in upstream] == [("clock_stepped", "raised")]
    closed = acknowledge_alarm(gw.conn, int(str(alarm["id"])), back, "guard1")
    assert closed["closed"] and open_alarms(gw.conn) == []


def test_the_boot_clock_set_by_ntp_raises_no_alarm_and_pauses_nothing(
    make_gw: Callable[..., Gateway],
) -> None:
    """A Pi booting on fake-hwclock's time ten days back: NTP's step a minute after the boot is the
    boot clock being set (re-dated), not a clock alarm, and retention runs at once."""
    gw = make_gw()
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=T0 - 10 * D, steady=steady)
    o.tick(T0 - 10 * D)
    show(gw, "car-in", CAR, T0 - 10 * D + 10 * S)
    look(o, steady, T0 + 60 * S, 60 * S)
    assert open_alarms(gw.conn) == []
    entered = from_db(gw.conn.execute("SELECT entered_at FROM stays").fetchone()[0])
    assert entered == T0 + 10 * S
