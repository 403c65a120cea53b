"""Rounds judged while the box was up, then a restart of the service, then a clock step that sets
the boot clock: which rounds the re-dating takes off the record."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import PATROL, Steady, a_new_boot, alarms, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_a_round_missed_while_the_box_was_up_is_not_undone_by_a_restart_and_a_small_ntp_step(
    make_gw: Callable[..., Gateway],
) -> None:
    """The box boots at 21:00 on a clock 3 minutes slow (its RTC drifted; the same for a Pi whose
    fake-hwclock was a few minutes behind), with no network. Nobody walks the 22:00 round: it is
    late at 22:45 and missed at 00:00 (巡更漏巡, sent upstream). The service is restarted at 00:30
    (an update, the watchdog), and at 01:00 NTP puts the clock 3 minutes on. The 22:00 round was due
    and missed while the box was up: judged again on the true clock, it is missed, its alarm open
    for the guard. It was taken off the record as a round of a power cut, its alarm cleared here
    and at the centre, because its deadline was before the restarted service's start, not the
    box's boot."""
    gw = make_gw(extra=PATROL)
    boot = T0.replace(hour=21)  # as the box's clock reads it
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    for minutes in range(10, 211, 10):  # up to 00:30
        steady.s = minutes * 60
        o.tick(boot + minutes * M)
    judged = gw.conn.execute("SELECT due_at, status FROM patrol_rounds ORDER BY due_at").fetchall()
    assert [s for _, s in judged] == ["missed"], judged  # the 22:00 round, judged while the box was up
    steady.s = 211 * 60
    again = ops(gw, started=boot + 211 * M, steady=steady)  # the service restarted at 00:31
    again.start(lambda: boot + 211 * M)
    again.stop()
    for minutes in range(220, 300, 10):  # NTP at 01:40 sets the clock 3 minutes on
        steady.s = minutes * 60
        again.tick(boot + minutes * M + (3 * M if minutes >= 240 else 0 * M))
    rounds = gw.conn.execute("SELECT due_at, status FROM patrol_rounds ORDER BY due_at").fetchall()
    still_open = gw.conn.execute(
        "SELECT kind, source FROM alarms WHERE cleared_at IS NULL ORDER BY id"
    ).fetchall()
    (mark,) = gw.conn.execute("SELECT detail FROM audit WHERE action = 'clock.redate'").fetchone()
    assert ("2025-03-03T14:00:00.000000+00:00", "missed") in rounds and (
        "patrol_missed",
        "night@2025-03-03 22:00",
    ) in still_open, (
        f"the 22:00 round, missed while the box was up, after a restart and a 3-minute NTP step: "
        f"rounds on record {rounds}, open alarms {still_open} (raised {alarms(gw)}); re-dating mark {mark}"
    )
    judged_again = [due for _, due, _, _ in json.loads(mark)["rounds_judged_again"]]
    assert "2025-03-03T14:00:00.000000+00:00" in judged_again, mark
