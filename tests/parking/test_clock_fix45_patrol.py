"""Patrol rounds while a Pi runs on fake-hwclock's stale boot clock before NTP sets it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import PATROL, Steady, a_new_boot, alarms, ops, upstream_alarms

H = timedelta(hours=1)
M = timedelta(minutes=1)
STALE = datetime(2025, 2, 28, 21, 50, tzinfo=T0.tzinfo)  # fake-hwclock's last save before the cut


def test_a_round_due_in_the_power_cut_is_not_judged_missed_on_the_stale_boot_clock(
    make_gw: Callable[..., Gateway],
) -> None:
    """The power went off at 21:55 on 28 February (fake-hwclock last saved 21:50) and came back at
    09:00 on 3 March: the Pi boots saying 21:50 on the 28th, and its network is down for 70 minutes.
    On that clock the night route's 22:00 round runs out at 22:45 and is judged missed: a 巡更漏巡
    alarm at 09:55 in the morning, sent upstream, for a round of the night the box was off, which
    docs/parking.md says is not judged ("after a night without power the centre does not get every
    round of that night as missed"). Once NTP sets the clock, that round and its alarm remain."""
    gw = make_gw(extra=PATROL)
    stale = datetime(2025, 2, 28, 21, 50, tzinfo=T0.tzinfo)
    behind = T0 - stale
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    for minutes in range(10, 71, 10):  # the thread's looks on the stale clock, no network yet
        steady.s = minutes * 60
        o.tick(stale + minutes * M)
    for minutes in range(71, 100, 10):  # NTP has set the clock at 10:10
        steady.s = minutes * 60
        o.tick(stale + behind + minutes * M)
    rounds = gw.conn.execute("SELECT route, due_at, status FROM patrol_rounds ORDER BY due_at").fetchall()
    raised = [kind for kind, _ in alarms(gw)]
    assert "patrol_missed" not in raised and not [r for r in rounds if r[2] == "missed"], (
        f"after a power cut over the night's 22:00 round, the box booted at {T0:%m-%d %H:%M} on its "
        f"stale clock judged rounds {rounds} and raised {raised}"
    )


def _on_the_stale_clock(gw: Gateway, minutes: int, steady: Steady) -> Operations:
    """The Pi boots saying 21:50 on 28 February (three days and more behind), its network down:
    the operations thread looks every ten minutes for `minutes`."""
    a_new_boot(gw)
    o = ops(gw, started=STALE, steady=steady)
    o.tick(STALE)
    for m in range(10, minutes + 1, 10):
        steady.s = m * 60
        o.tick(STALE + m * M)
    return o


def test_the_centre_hears_the_alarm_of_a_round_judged_on_the_stale_clock_cleared(
    make_gw: Callable[..., Gateway],
) -> None:
    """The 22:00 round judged late on the stale clock (patrol_late, sent upstream) is taken off the
    record when NTP sets the clock, and its alarm cleared, here and at the centre."""
    gw = make_gw(extra=PATROL)
    steady = Steady()
    o = _on_the_stale_clock(gw, 70, steady)
    assert [kind for kind, _ in alarms(gw)] == ["patrol_late"]  # the guard saw 巡更超时
    steady.s = 71 * 60
    o.tick(T0 + 71 * M)  # NTP
    assert gw.conn.execute("SELECT count(*) FROM patrol_rounds").fetchone()[0] == 0
    assert gw.conn.execute("SELECT count(*) FROM alarms WHERE cleared_at IS NULL").fetchone()[0] == 0
    told = [(a["state"], a.get("change")) for a in upstream_alarms(gw)]
    assert told == [("raised", None), ("raised", "redated"), ("cleared", None)]
    (mark,) = gw.conn.execute("SELECT detail FROM audit WHERE action = 'clock.redate'").fetchone()
    assert json.loads(mark)["rounds_undone"] == [["night", "2025-02-28T14:00:00.000000+00:00"]]


def test_a_round_judged_on_the_stale_clock_is_undone_after_a_restart_of_the_service(
    make_gw: Callable[..., Gateway],
) -> None:
    """The service is restarted (an update) while the Pi still runs on the stale clock, after its
    first run judged the 22:00 round late: the next run keeps it (boot-alarms.json), and undoes it
    when NTP sets the clock."""
    gw = make_gw(extra=PATROL)
    steady = Steady()
    _on_the_stale_clock(gw, 70, steady)
    steady.s = 75 * 60
    again = ops(gw, started=STALE + 75 * M, steady=steady)
    again.start(lambda: STALE + 75 * M)
    again.stop()
    steady.s = 80 * 60
    again.tick(T0 + 80 * M)  # NTP
    steady.s = 90 * 60
    again.tick(T0 + 90 * M)
    assert gw.conn.execute("SELECT route, due_at, status FROM patrol_rounds").fetchall() == []
    assert [kind for kind, _ in alarms(gw)] == ["patrol_late"]
    assert gw.conn.execute("SELECT count(*) FROM alarms WHERE cleared_at IS NULL").fetchone()[0] == 0


def test_a_round_walked_after_ntp_set_the_clock_is_still_judged(make_gw: Callable[..., Gateway]) -> None:
    """Only the rounds of the outage are undone: the box on the true clock judges its own rounds
    as ever (the 22:00 round of 3 March, its checkpoints untapped, is late at 22:45)."""
    gw = make_gw(extra=PATROL)
    steady = Steady()
    o = _on_the_stale_clock(gw, 70, steady)
    steady.s = 71 * 60
    o.tick(T0 + 71 * M)  # NTP
    evening = T0.replace(hour=22, minute=50)
    steady.s = (evening - T0).total_seconds()
    o.tick(evening)
    assert gw.conn.execute("SELECT due_at, status FROM patrol_rounds").fetchall() == [
        ("2025-03-03T14:00:00.000000+00:00", "overdue")
    ]
    assert [(kind, source) for kind, source in alarms(gw)][-1] == ("patrol_late", "night@2025-03-03 22:00")
