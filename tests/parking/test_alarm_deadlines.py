"""Alarms that end: patrol rounds dealt with, a week of footage kept again, faults repaired in time."""

from __future__ import annotations

import json
import os
import sqlite3
from collections import namedtuple
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config
from gateway.parking.operations import Operations
from gateway.runtime.device_alarms import device_alarm
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm, clear_alarm, raise_alarm, recent_alarms
from gateway.store.redate import redate
from gateway.timefmt import from_db, to_db
from tests.conftest import site_toml
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, offline

H = timedelta(hours=1)
S = timedelta(seconds=1)
M = timedelta(minutes=1)
Usage = namedtuple("Usage", "total used free")

PATROL = """
[[devices]]
id = "cp-a"
lane = "door"
kind = "reader"
driver = "simulated"
per_minute = 0

[[patrol.routes]]
id = "night"
name = "夜间巡更"
checkpoints = ["cp-a"]
hours = "22:00-02:00"
every_minutes = 120
round_minutes = 45
"""


def ops(gw: Gateway, started: datetime = T0, steady: Steady | None = None) -> Operations:
    return Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), started, steady or Steady())


def open_kinds(gw: Gateway) -> list[str]:
    return [str(a["kind"]) for a in recent_alarms(gw.conn, include_cleared=False)]


def upstream(gw: Gateway) -> list[dict[str, object]]:
    return [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm'")]


# ---- REQUIREMENTS 11 and 7: a missed round is noticed, then dealt with ---------------------------


def test_an_acknowledged_missed_round_leaves_the_open_alarms(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=PATROL)
    night = T0.replace(hour=22)
    assert [r.status for r in ops(gw).patrols(night + 2 * H)] == ["missed"]
    open_now = recent_alarms(gw.conn, include_cleared=False)
    assert [a["kind"] for a in open_now] == ["patrol_missed"]
    acknowledge_alarm(gw.conn, int(str(open_now[0]["id"])), night + 2 * H + 5 * H / 60, "guard1")
    assert open_kinds(gw) == []
    states = [(r["kind"], r["state"]) for r in upstream(gw)]
    assert states == [
        ("patrol_missed", "raised"),
        ("patrol_missed", "acknowledged"),
        ("patrol_missed", "cleared"),
    ]


# ---- REQUIREMENTS 7: camera footage is kept one week -------------------------------------------


def snapshots(gw: Gateway, ages_days: list[float]) -> list[Path]:
    folder = gw.data_dir / "snapshots" / "car-in"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, age in enumerate(ages_days):
        path = folder / f"snap{i}.jpg"
        path.write_bytes(b"\xff" * 1000)
        stamp = T0.timestamp() - age * 86400
        os.utime(path, (stamp, stamp))
        paths.append(path)
    return paths


def test_snapshots_deleted_before_their_week_raise_an_alarm_upstream(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    snapshots(gw, [3, 2, 1, 0.1])
    o = ops(gw)
    result = o.disk_guard(T0, lambda _: Usage(100_000, 86_500, 13_500))  # 13.5 % free, below 15 %
    assert len(result.delete) == 2  # the 3- and 2-day-old snapshots
    assert open_kinds(gw) == ["retention_short"]
    [raised] = upstream(gw)
    assert raised["kind"] == "retention_short" and raised["state"] == "raised"
    assert "只保留了 2.0 天（要求 7 天）" in str(raised["message"])
    assert "kept only 2.0 days of the 7 asked" in str(raised["message_en"])
    assert "bigger card" in str(raised["message_en"]) and "更大的存储卡" in str(raised["message"])
    assert raised["text"] == {"key": "retention_short", "params": {"kept_days": 2.0, "days": 7}}


def test_pruning_only_snapshots_past_their_week_raises_nothing(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    snapshots(gw, [7.5, 7.2, 1, 0.1])
    result = ops(gw).disk_guard(T0, lambda _: Usage(100_000, 86_500, 13_500))
    assert len(result.delete) == 2 and open_kinds(gw) == []


def test_the_short_retention_alarm_clears_once_a_week_is_kept_again(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    snapshots(gw, [3, 2, 1, 0.1])
    o = ops(gw)
    o.disk_guard(T0, lambda _: Usage(100_000, 86_500, 13_500))
    o.retention(T0 + H)  # the oldest snapshot left is a day old: still short
    assert open_kinds(gw) == ["retention_short"]
    o.retention(T0 + 6 * 24 * H + H)  # nothing pruned for six days: the oldest is a week old now
    assert open_kinds(gw) == []
    assert [r["state"] for r in upstream(gw)] == ["raised", "cleared"]


# ---- REQUIREMENTS 8: faults are recorded and repaired within a set time --------------------------


def test_a_device_offline_past_the_repair_deadline_raises_repair_overdue_until_it_is_back(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    health = gw.devices.health[0]
    health.set_offline("no answer")
    device_alarm(gw.conn, health, False, gw.now)
    raised_at = str(gw.conn.execute("SELECT raised_at FROM alarms").fetchone()[0])
    steady = Steady()
    o = ops(gw, steady=steady)

    def at(hours: float) -> datetime:
        steady.s = hours * 3600  # the gateway has run all along
        return gw.now() + hours * H

    assert o.repairs(at(7.9)) == []
    [late] = o.repairs(at(8.5))
    assert late.device == health.device and raised_at.startswith(late.since.isoformat()[:16])
    assert o.repairs(at(9)) == []  # raised once
    assert sorted(open_kinds(gw)) == ["device_offline", "repair_overdue"]
    overdue = [r for r in upstream(gw) if r["kind"] == "repair_overdue"]
    assert [r["state"] for r in overdue] == ["raised"]
    assert "超过 8 小时的维修时限" in str(overdue[0]["message"])
    assert "past the 8-hour repair limit" in str(overdue[0]["message_en"])
    health.set_online()
    device_alarm(gw.conn, health, True, gw.now)  # repaired: both close
    assert open_kinds(gw) == []


def test_repair_overdue_clears_when_its_fault_is_gone_another_way(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra="[alarms]\nrepair_hours = 1\n")
    health = gw.devices.health[0]
    device_alarm(gw.conn, health, False, gw.now)
    steady = Steady()
    o = ops(gw, steady=steady)
    steady.s = 2 * 3600
    assert len(o.repairs(gw.now() + 2 * H)) == 1
    gw.conn.execute("UPDATE alarms SET cleared_at = raised_at WHERE kind = 'device_offline'")
    steady.s = 3 * 3600
    o.repairs(gw.now() + 3 * H)
    assert open_kinds(gw) == []


def test_the_daily_report_lists_open_and_overdue_faults_with_their_age(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra="[alarms]\nrepair_hours = 24\n")
    day = T0.replace(hour=0)
    gw.conn.executemany(
        "INSERT INTO alarms (kind, source, message, raised_at, cleared_at) VALUES (?, ?, '', ?, ?)",
        [
            ("device_offline", "car-in-camera", to_db(day - 2 * 24 * H), None),  # 72 h old at the day's end
            ("device_offline", "door-reader", to_db(day + 20 * H), None),  # 4 h old
            ("device_offline", "car-out-display", to_db(day - 30 * H), to_db(day + 2 * H)),  # 32 h to repair
            # what the deadline watcher raised, 24 h into each fault
            ("repair_overdue", "car-in-camera", to_db(day - 24 * H), None),
            ("repair_overdue", "car-out-display", to_db(day - 6 * H), to_db(day + 2 * H)),
        ],
    )
    body = ops(gw).build_report(day.date(), day + 25 * H)
    devices = body["devices"]
    assert devices["repair_hours"] == 24
    since = [(day - 2 * 24 * H).isoformat(), (day + 20 * H).isoformat()]
    assert devices["open_faults"] == [
        {"device": "car-in-camera", "since": since[0], "age_hours": 72.0, "overdue": True},
        {"device": "door-reader", "since": since[1], "age_hours": 4.0, "overdue": False},
    ]
    assert devices["overdue_faults"] == 1 and devices["repaired_late"] == 1


@pytest.mark.parametrize("hours", ["0", "-3", "1000"])
def test_a_repair_deadline_out_of_range_is_a_config_error_that_says_what_to_write(
    tmp_path: Path, hours: str
) -> None:
    toml = site_toml(tmp_path / "data") + f"\n[alarms]\nrepair_hours = {hours}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(toml, "site.toml")
    text = str(info.value)
    assert "alarms.repair_hours" in text and "for example 24" in text


def test_the_repair_deadline_is_a_day_unless_set(tmp_path: Path) -> None:
    assert parse_config(site_toml(tmp_path / "data"), "site.toml").alarms.repair_hours == 24


def test_a_short_fault_at_boot_is_not_overdue_when_ntp_then_sets_the_clock(
    make_gw: Callable[..., Gateway],
) -> None:
    """A Pi without a real-time clock boots with fake-hwclock's time, three days back; the camera is
    still starting, so it is recorded offline then. NTP sets the clock 20 s later; the camera is up
    after 40 s. Neither the centre's alarms nor the daily report may call that a late repair."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    boot = T0 - 3 * 24 * H
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), boot)
    raise_alarm(gw.conn, "device_offline", "door", offline("door"), boot + 5 * S)
    steady.s = 30
    o.tick(T0 + 10 * S)  # the next look, 30 s on, sees the clock set: the faults are re-dated
    assert [a for a in open_kinds(gw) if a == "repair_overdue"] == []
    clear_alarm(gw.conn, "device_offline", "cam", T0 + 20 * S)
    assert [r["kind"] for r in upstream(gw)].count("repair_overdue") == 0
    devices = o.build_report(T0.date(), T0 + 24 * H)["devices"]
    assert devices["repaired_late"] == 0
    # A device that stays down from boot is overdue 8 hours after it went down, on the true clock.
    steady.s = 30 + 7.9 * 3600
    assert o.repairs(T0 + 7.9 * H) == []
    steady.s = 30 + 8.1 * 3600
    assert [late.device for late in o.repairs(T0 + 8.1 * H)] == ["door"]


def test_a_fault_from_before_a_power_cut_keeps_its_age_when_the_boot_clock_is_stale(
    make_gw: Callable[..., Gateway],
) -> None:
    """Camera offline from 10:00; power cut at 10:30; fake-hwclock last saved 09:05, so the Pi boots
    saying 09:05; NTP sets 20:00 a minute later. The fault is 10 hours old: past an 8-hour limit."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    ten = T0.replace(hour=10)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), ten)
    steady = Steady()
    after = ops(gw, started=ten - 55 * M, steady=steady)
    steady.s = 60
    after.tick(ten.replace(hour=20))
    assert "repair_overdue" in open_kinds(gw)


def test_a_stale_clock_fault_is_not_overdue_at_once_after_a_service_restart(
    make_gw: Callable[..., Gateway],
) -> None:
    """Boot three days back, the camera recorded offline at boot, NTP sets the clock; the installer
    fixes the camera's URL and restarts the service 5 minutes later: the fault is minutes old."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    boot = T0 - 3 * 24 * H
    steady = Steady()
    first = ops(gw, started=boot, steady=steady)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), boot + 10 * S)
    steady.s = 30
    first.tick(T0)  # NTP stepped the clock
    second = ops(gw, started=T0 + 5 * M, steady=Steady())  # the service restarted
    assert second.repairs(T0 + 6 * M) == []


def test_the_report_of_a_day_the_deadline_passed_while_the_gateway_was_off_calls_it_overdue(
    make_gw: Callable[..., Gateway],
) -> None:
    """A fault from 10:00 the day before, limit 24 h; the gateway was off all day and builds the
    day's report when it starts again: the fault was past its deadline when the day ended."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 24\n")
    day = T0.replace(hour=0)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), day - 14 * H)
    back = day + 36 * H
    o = ops(gw, started=back)
    faults = o.build_report(day.date(), back)["devices"]["open_faults"]
    assert faults[0]["age_hours"] >= 24 and faults[0]["overdue"], faults


def test_a_fault_at_boot_is_re_dated_even_when_the_service_restarted_before_ntp(
    make_gw: Callable[..., Gateway],
) -> None:
    """Boot three days back; a camera recorded offline at boot; the service restarts 20 s later,
    still on the stale clock; NTP then sets the clock: the fault is a minute old, not three days."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    boot = T0 - 72 * H
    ops(gw, started=boot)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), boot + 10 * S)
    steady = Steady()
    second = ops(gw, started=boot + 20 * S, steady=steady)  # the same boot: the kernel's boot id
    steady.s = 40
    second.tick(T0)
    assert "repair_overdue" not in open_kinds(gw)


def test_a_fault_from_before_a_power_cut_cleared_on_the_stale_clock_ends_after_it_began(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    ten = T0.replace(hour=10)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), ten)  # then a power cut
    steady = Steady()
    o = ops(gw, started=ten - 55 * M, steady=steady)  # the Pi boots saying 09:05
    clear_alarm(gw.conn, "device_offline", "cam", ten - 54 * M)  # the camera is back at once
    steady.s = 60
    o.tick(ten.replace(hour=20))  # NTP
    raised, cleared = gw.conn.execute("SELECT raised_at, cleared_at FROM alarms").fetchone()
    assert from_db(cleared) >= from_db(raised)  # type: ignore[operator]


def test_a_re_dating_that_fails_is_retried_and_stops_nothing(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    steady = Steady()
    locked = [True]

    def worker(run: Callable[[sqlite3.Connection], object]) -> object:
        if getattr(run, "func", None) is redate and locked[0]:
            raise sqlite3.OperationalError("database is locked")
        return run(gw.conn)

    o = Operations(gw.site, gw.db_path, gw.data_dir, worker, T0 - 72 * H, steady)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), T0 - 72 * H + 10 * S)
    built = []
    o.reports = lambda now: built.append(now) or []  # type: ignore[method-assign]
    steady.s = 30
    o.tick(T0)  # the clock is set; re-dating fails this time
    assert built == [T0]  # the other steps still ran
    locked[0] = False
    steady.s = 60
    o.tick(T0 + 30 * S)  # retried
    raised = from_db(gw.conn.execute("SELECT raised_at FROM alarms").fetchone()[0])
    assert raised is not None and T0 - M < raised < T0


def test_a_car_that_came_in_while_the_pi_booted_on_a_stale_clock_pays_for_its_real_stay(
    make_gw: Callable[..., Gateway],
) -> None:
    """The Pi boots on fake-hwclock's time, three days back, and a car drives in before NTP sets
    the clock. It leaves an hour later and pays for an hour (7元), not three days' caps."""
    gw = make_gw()
    boot = T0 - 72 * H
    show(gw, "car-in", "苏E00001", boot - H)  # parked before the power cut: its time is true
    a_new_boot(gw)  # the Pi restarts
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    show(gw, "car-in", "苏E12345", boot + 10 * S)  # in at the gate as the Pi boots
    steady.s = 30
    o.tick(T0 + 20 * S)  # NTP has set the clock: the operations thread sees the step
    held = show(gw, "car-out", "苏E12345", T0 + 20 * S + H)
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    entered = {p: from_db(at) for p, at in gw.conn.execute("SELECT plate, entered_at FROM stays")}
    assert entered["苏E00001"] == boot - H
    # The access log is append-only: the entry stays as the gate recorded it.
    logged = gw.conn.execute("SELECT at FROM access_log WHERE value = '苏E12345' ORDER BY id").fetchone()[0]
    assert from_db(logged) == boot + 10 * S


def test_a_fee_paid_ahead_on_the_stale_clock_still_counts_after_the_stay_is_re_dated(
    make_gw: Callable[..., Gateway],
) -> None:
    """The Pi boots on fake-hwclock's time, three days back, with no network for an hour. A car drives
    in, and an hour later its driver pays 5元 ahead at the booth. NTP then sets the clock; the car
    leaves 5 minutes after paying, within the grace period: it owes nothing, and is not asked again."""
    gw = make_gw()
    boot = T0 - 72 * H
    a_new_boot(gw)  # the Pi restarts
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    assert show(gw, "car-in", "苏E12345", boot + 10 * S).reason == "temporary"
    assert gw.parking.prepay(gw.conn, "苏E12345", 500, "cash", "", "booth", boot + H)["amount_fen"] == 500
    steady.s = 3600 + 60
    o.tick(T0 + H + M)  # NTP has set the clock (3 days on): the operations thread sees the step
    out = show(gw, "car-out", "苏E12345", T0 + H + 5 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), f"asked {out.fee_fen} fen again ({out.reason})"
    paid = from_db(gw.conn.execute("SELECT at FROM payments").fetchone()[0])
    assert paid == T0 + H  # on the true clock, for the report's day too
