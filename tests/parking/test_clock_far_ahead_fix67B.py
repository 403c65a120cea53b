"""A Pi's clock set years ahead as it boots (Review 67 B1, B2): a bad NTP server's first answer a
minute after the boot, or one that came before the service started. Taken as the boot clock being
set, retention ran at once on the 2035 clock and deleted the history (access log, closed stays,
audit, footage), seven empty 2035 reports went to the centre, and no report of a true day was ever
built after it was set right. Now the boot's rows are re-dated all the same, but clock_stepped is
raised and retention and reports wait a day, as after a running clock's step; reports dated after
the last day due no longer stop the backfill; a report built on a clock a day ahead (its day not
yet lived) is rebuilt once the day has ended."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.parking.boot_clock import BOOT_CLOCK_FAR, BOOT_MARKER, far_past
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import open_alarms
from gateway.timefmt import from_db
from tests.parking.conftest import T0, show
from tests.parking.test_clock_jumps import ahead, counts, run_for_weeks
from tests.parking.test_operations import Steady, a_new_boot, ops

S = timedelta(seconds=1)
H = timedelta(hours=1)
D = timedelta(days=1)


def _footage(gw: Gateway) -> list[str]:
    folder = gw.data_dir / "snapshots" / "car-in"
    folder.mkdir(parents=True, exist_ok=True)
    for age in range(1, 4):
        shot = folder / f"snap{age}.jpg"
        shot.write_bytes(b"\xff" * 10)
        os.utime(shot, ((T0 - age * D).timestamp(),) * 2)
    return sorted(p.name for p in folder.iterdir())


def _clock_alarms(gw: Gateway) -> list[str]:
    return [str(a["message"]) for a in open_alarms(gw.conn, "en") if a["kind"] == "clock_stepped"]


def _days(gw: Gateway) -> list[str]:
    return [d for (d,) in gw.conn.execute("SELECT day FROM daily_reports ORDER BY day")]


def test_ntp_years_ahead_after_the_boot_deletes_and_reports_nothing(make_gw):
    gw = make_gw()
    run_for_weeks(gw, Steady())
    shots = _footage(gw)
    before = counts(gw)
    a_new_boot(gw)  # a power cut: the Pi boots on fake-hwclock's last save, T0
    boot = Steady()
    boot.s = 20.0
    o = ops(gw, started=T0, steady=boot)
    o.start(lambda: T0)
    o.stop()
    show(gw, "car-in", "苏E70001", T0 + 10 * S)  # on the boot clock: re-dated with the step
    wall = ahead(T0) + 60 * S  # NTP's bad answer a minute after the boot
    for k in range(1, 4):
        boot.s += 30
        o.tick(wall + k * 30 * S)
    assert counts(gw) == {**before, "access_log": before["access_log"] + 1}
    assert sorted(p.name for p in (gw.data_dir / "snapshots" / "car-in").iterdir()) == shots
    assert not [d for d in _days(gw) if d > "2030"]
    (message,) = _clock_alarms(gw)
    assert "past its last run" in message and "2035-03-03" in message, message
    (entered,) = gw.conn.execute("SELECT entered_at FROM stays WHERE plate = '苏E70001'").fetchone()
    assert from_db(entered).year == 2035  # the boot's rows are re-dated as before

    # A restart of the service within the boot keeps the pause and alarms nothing again.
    boot.s += 30
    again = ops(gw, started=wall + 5 * 30 * S, steady=boot)
    again.start(lambda: wall + 5 * 30 * S)
    again.stop()
    assert not again.clock.trusted(boot.s)
    assert json.loads((gw.data_dir / BOOT_MARKER).read_text())["known_before"] is None
    boot.s += 30
    again.tick(wall + 6 * 30 * S)
    assert counts(gw)["access_log"] == before["access_log"] + 1


def test_service_started_on_a_clock_years_ahead_pauses(make_gw):
    gw = make_gw()
    run_for_weeks(gw, Steady())
    before = counts(gw)
    a_new_boot(gw)
    boot = Steady()
    boot.s = 40.0
    wall = ahead(T0)  # NTP set it before the service started: no step to see
    o = ops(gw, started=wall, steady=boot)
    o.start(lambda: wall)
    o.stop()
    assert len(_clock_alarms(gw)) == 1
    for k in range(1, 3):
        boot.s += 30
        o.tick(wall + k * 30 * S)
    assert counts(gw) == before


def test_a_boot_clock_set_from_1970_or_a_box_up_for_months_alarms_nothing(make_gw):
    gw = make_gw()
    run_for_weeks(gw, Steady())
    a_new_boot(gw)  # no fake-hwclock: the Pi boots on 1970; NTP sets the true time
    epoch = datetime(1970, 1, 1, 8, 0, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    boot = Steady()
    boot.s = 5.0
    o = ops(gw, started=epoch, steady=boot)
    o.start(lambda: epoch)
    o.stop()
    for wall in (epoch + 30 * S, T0 + 10 * 60 * S):
        boot.s += 30
        o.tick(wall)
    assert _clock_alarms(gw) == []
    # the boot's time is judged, not now's: a box up for months since raises nothing
    booted = (T0 + 10 * 60 * S).timestamp() - boot.s
    assert not far_past(T0.timestamp(), booted)
    assert far_past(T0.timestamp(), booted + BOOT_CLOCK_FAR.total_seconds())


def test_reports_come_back_after_a_clock_years_ahead_past_its_pause(make_gw):
    gw = make_gw()
    steady = Steady()
    o = run_for_weeks(gw, steady)
    for hour, hours_on in ((1, 1), (25, 24), (26, 1)):  # a running clock typed 2035, past its pause
        steady.s += hours_on * 3600
        o.tick(ahead(T0) + hour * H)
    assert [d for d in _days(gw) if d > "2030"]
    true = T0 + 26 * H + 60 * S
    steady.s += 60
    o.tick(true)  # set right: a second pause
    show(gw, "car-in", "苏F00001", true + H)
    steady.s += 25 * 3600
    o.tick(true + 25 * H)
    assert "2025-03-04" in _days(gw), _days(gw)


def test_report_built_on_a_boot_clock_a_day_ahead_is_rebuilt(make_gw):
    gw = make_gw()
    run_for_weeks(gw, Steady())
    a_new_boot(gw)
    boot = Steady()
    boot.s = 20.0
    o = ops(gw, started=T0, steady=boot)
    o.start(lambda: T0)
    o.stop()
    boot.s += 60
    o.tick(T0 + D + 60 * S)  # a bad NTP answer a day ahead: taken as the boot clock set
    (built,) = gw.conn.execute("SELECT built_at FROM daily_reports WHERE day = '2025-03-03'").fetchone()
    true = T0 + 2 * 60 * S
    boot.s += 60
    o.tick(true)  # set right: clock_stepped, a day's pause
    for hour in range(1, 5):
        show(gw, "car-in", f"苏F{hour:05d}", true + hour * H)
    boot.s += 25 * 3600
    o.tick(true + 25 * H)
    (rebuilt, body) = gw.conn.execute(
        "SELECT built_at, body FROM daily_reports WHERE day = '2025-03-03'"
    ).fetchone()
    assert rebuilt != built
    assert json.loads(body)["vehicles"]["entries"]["total"] == 4
    sent = [
        json.loads(p)["report"]
        for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'report' ORDER BY seq")
    ]
    newest = [r for r in sent if r["day"] == "2025-03-03"][-1]  # the newest of a day holds upstream
    assert newest["vehicles"]["entries"]["total"] == 4
