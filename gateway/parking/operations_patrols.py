"""The patrol rounds the operations thread judges (Operations, gateway/parking/operations.py): the
rounds open now, just closed or on record as overdue, judged from the taps, and what the stale boot
clock and a running clock's pause change about which of them are looked at.

Apart from operations.py so that the judging reads in one sitting; the rules of a round are
gateway/parking/patrol.py's, its records gateway/store/patrol.py's.
"""

from __future__ import annotations

import logging
from contextlib import closing
from datetime import UTC, datetime, timedelta
from functools import partial

from gateway.parking.operations_base import RESTART_GRACE, OperationsBase
from gateway.parking.patrol import FINAL, RoundResult, RouteSpec, due_times, evaluate, round_closes
from gateway.store.patrol import record_round, round_source, taps_between
from gateway.store.redate import StaleRound
from gateway.timefmt import from_db, later, to_db

log = logging.getLogger("gateway.parking.operations")  # its journal lines stay operations.py's


class PatrolRounds(OperationsBase):
    # ---- patrols -------------------------------------------------------------------------------

    def patrols(self, now: datetime) -> list[RoundResult]:
        """Judge the rounds that may have changed: those open now or just closed, and those on record
        as overdue (across a restart, however long the gateway was off).

        A round whose deadline (`round_minutes` after it is due) passed more than RESTART_GRACE
        before this start of the gateway, and that is not on record, is not judged: taps are
        recorded by the gateway, so nobody could tap while it was off (or before the route
        existed), and after a night's outage the centre would get every round of it as missed at
        once. The outage is what the centre sees (the gateway's status). A round whose deadline
        is later (a restart of a few minutes: an update, the watchdog) is judged in full.

        On the stale clock a Pi boots on (fake-hwclock's last save, before the power cut) the
        rounds of the outage look due now, and a round walked then is judged against taps read at
        that clock's times: those judged for the first time while the clock may be that one are
        kept (BootClock.judging), and when NTP sets it they are unjudged, their alarms cleared, here
        and upstream (gateway/store/redate.py, _undo_rounds). Those whose deadline passed before
        the box's true boot (less RESTART_GRACE) stay unjudged; the others were open while the box
        was up, in this run or an earlier one of the boot, and are judged again here on the true
        clock (Boot.judge_again), with their taps at their true times. Not judging at all until
        then would leave a box whose clock was right all along (a real-time clock, NTP on time)
        without late-round alarms for the day after each boot (BOOT_CLOCK_WINDOW).

        No round is judged in the pause after a running clock's step (the clock may be wrong); the
        first pass after it looks back to when the pause began: the round open at the step, and
        those due in the pause (over a day when the clock's correction, a step too, began it again),
        also when the service restarted in the pause (they were open on an earlier run of this boot).
        """
        # A tap is stamped when the card is read but written in its turn on the decision worker: the
        # taps are read once what was queued there before now is written (a turn of the worker's
        # own, as build_report and repairs wait), or a last checkpoint tapped while the worker was
        # busy is not seen and its round judged missed (or overdue, patrol_late), for good. A stuck
        # worker fails this look after worker_of's bound (logged), and a later look judges it. The
        # turn writes the taps a full disk kept in memory first; while one still waits, no round is
        # judged (nor the pause after a clock step ended): a later look judges them with it.
        if self.routes:
            held = self._run(self._unwritten)
            if held.patrol_taps:
                log.debug(
                    "patrol rounds not judged: %d patrol tap(s) wait in memory for storage (the data "
                    "disk is full); judged once written",
                    held.patrol_taps,
                )
                return []
        back = self._patrols_back(now)
        changed = self._changed_rounds(now, back) if self.routes else []
        routes = {route.id: route for route in self.routes}
        self.clock.judging(
            [self._stale_round(routes[r.route], r) for r, before in changed if before is None],
            self._monotonic(),
        )
        for result, before in changed:
            route = routes[result.route]
            self._run(partial(record_round, route=route, r=result, before=before, now=now, tz=self.site.tz))
        self.clock.judged_again()
        if self.clock.trusted(self._monotonic()):
            self.clock.caught_up()
        return [r for r, _ in changed]

    def _stale_round(self, route: RouteSpec, r: RoundResult) -> StaleRound:
        """A round judged for the first time, as the boot clock keeps it while it may be stale."""
        deadline = to_db(r.due + route.allowed)
        return StaleRound(route.id, to_db(r.due), deadline, round_source(route.id, r.due, self.site.tz))

    def _round_on_record(self, route_id: str, due_at: str) -> StaleRound | None:
        """A round on record so (an older version's, judged on the stale boot clock: BootClock)."""
        route = next((route for route in self.routes if route.id == route_id), None)
        due = from_db(due_at)
        if route is None or due is None:
            return None
        source = round_source(route.id, due, self.site.tz)
        return StaleRound(route.id, due_at, to_db(due + route.allowed), source)

    def _patrols_back(self, now: datetime) -> datetime:
        """How far back a look at the rounds goes: a day back for a slow tick (and a round's `every`
        in _changed_rounds: it closes that late), or to the start of a running clock's pause."""
        return min(later(now, -timedelta(days=1)), self.clock.paused_at(now) or now)

    def patrols_kept_from(self, now: datetime) -> datetime:
        """Patrol rounds and taps are kept at least this far back: a round the patrol check still
        looks at, deleted, would be judged anew without its taps (missed, for a round walked)."""
        every = max((route.every for route in self.routes), default=timedelta(0))
        return later(self._patrols_back(now), -every)

    def _changed_rounds(self, now: datetime, back: datetime) -> list[tuple[RoundResult, str | None]]:
        """The rounds due since `back` (less a round's `every`) or on record as overdue whose state
        changed, with the state on record."""
        tz = self.site.tz
        changed: list[tuple[RoundResult, str | None]] = []
        # A pause kept from an earlier run of this boot: its rounds were open while that run was up,
        # never judged, so this run's start does not cut them off.
        started = min(self.clock.running_since, self.clock.paused_at(now) or self.clock.running_since)
        up_since = later(started, -RESTART_GRACE)
        with closing(self._read()) as conn:
            for route in self.routes:
                # Judged on the stale boot clock, unjudged when it was set, open while the box was up
                # (an earlier run of the boot's too): judged again, on the true clock.
                again = {
                    datetime.fromisoformat(r.due_at).astimezone(UTC)
                    for r in self.clock.boot.judge_again
                    if r.route == route.id
                }
                since = min([max(later(back, -route.every), later(up_since, -route.allowed)), *again])
                known = dict(
                    conn.execute(
                        "SELECT due_at, status FROM patrol_rounds WHERE route = ? "
                        "AND (due_at >= ? OR status = 'overdue')",
                        (route.id, to_db(since)),
                    ).fetchall()
                )
                # in UTC: on the night the clocks go back, 02:00 is due twice and must stay two rounds
                open_ = {
                    datetime.fromisoformat(d).astimezone(UTC) for d, st in known.items() if st not in FINAL
                }
                ran = {d for d in due_times(route, since, now, tz) if d + route.allowed > up_since}
                dues = sorted(d for d in ran | open_ | again if known.get(to_db(d)) not in FINAL)
                if not dues:
                    continue
                taps = taps_between(conn, self.clock.boot, dues[0], now)
                for due in dues:
                    before = known.get(to_db(due))
                    closes = round_closes(route, due, tz)
                    result = evaluate(route, due, taps, now, before == "overdue", closes)
                    if result.status != "pending" and result.status != before:
                        changed.append((result, before))
        return changed
