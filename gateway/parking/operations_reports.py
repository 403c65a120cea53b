"""The daily reports of the operations thread (Operations, gateway/parking/operations.py): which
days are due and which wait for their patrol rounds and repairs, the rebuilds of those the stale
boot clock counted, and the build itself (also asked for by hand through the API).

Apart from operations.py so that the reports' rules read in one sitting; the figures themselves are
gateway/parking/report.py's.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from datetime import date, datetime, timedelta
from typing import Any

from gateway.parking.operations_base import BACKFILL_DAYS, OperationsBase, Worker
from gateway.parking.patrol import FINAL, round_closes, still_open
from gateway.parking.report import (
    CORRECTED_WITHIN,
    LET_IN_SETTLES,
    LET_IN_WITHIN,
    build_report,
    last_complete_day,
    period_of,
    repair_hours_sent,
    store_report,
)
from gateway.store.config_seen import closed_history
from gateway.store.device_returns import waiting_returns
from gateway.store.parking import ParkingError
from gateway.store.report_rebuilds import redatings, reports_to_rebuild
from gateway.timefmt import from_db, to_db

log = logging.getLogger("gateway.parking.operations")  # its journal lines stay operations.py's


class DailyReports(OperationsBase):
    # ---- daily reports -------------------------------------------------------------------------

    def report_days(self, now: datetime) -> tuple[date, date]:
        """The oldest report day retention keeps and the latest whose period has ended.

        Retention and the backfill both count from here, so a day retention has deleted is never
        built (and sent upstream) again.
        """
        last = last_complete_day(now.astimezone(self.site.tz), self.cfg.reports.hour)
        return last - timedelta(days=self.cfg.reports.keep_days - 1), last

    def reports(self, now: datetime) -> list[str]:
        """Build the reports whose period has ended and that are not built yet, after rebuilding
        those that counted this boot's rows on its stale clock (_redate)."""
        hour = self.cfg.reports.hour
        tz = self.site.tz
        oldest, last = self.report_days(now)
        with closing(self._read()) as conn:
            done = self._rebuild_stale(conn, last, now)
            first = conn.execute("SELECT min(at) FROM access_log").fetchone()[0]
            if first is None:
                return done
            first_local = from_db(first).astimezone(tz)  # type: ignore[union-attr]
            first_day = (first_local - timedelta(hours=hour)).date()
            day = max(last - timedelta(days=BACKFILL_DAYS - 1), oldest, first_day)
            # Never older than the oldest report kept: a day retention deleted stays deleted, even
            # when the clock goes back (a Pi booting with fake-hwclock's time before NTP sets it).
            # Of those up to the last day due: one of a later day was built on a clock ahead (2035,
            # set right since), and from it no report of a true day was ever built again.
            kept_from = conn.execute(
                "SELECT min(day) FROM daily_reports WHERE day <= ?", (last.isoformat(),)
            ).fetchone()[0]
            if kept_from is not None:
                day = max(day, date.fromisoformat(kept_from))
            built = {
                r[0] for r in conn.execute("SELECT day FROM daily_reports WHERE day >= ?", (day.isoformat(),))
            }
            while day <= last:
                if (
                    self.let_ins_open(conn, day, now)
                    or self.rounds_open(conn, day, now)
                    or self.returns_open(conn, day, now)
                ):
                    break  # this day's report, and the later ones, wait for its cars, rounds and repairs
                if day.isoformat() not in built:
                    self.build_report(day, now, conn)
                    done.append(day.isoformat())
                day += timedelta(days=1)
        return done

    def _rebuild_stale(self, conn: sqlite3.Connection, last: date, now: datetime) -> list[str]:
        """Rebuild the reports kept whose period the stale boot clock ran in: NTP's step moved
        their rows (a booth payment counted on the stale Saturday is Monday's now, in Monday's
        report and in its `payment` record sent again, "redated"). Rebuilt, each keeps its period
        and is sent upstream again, so that the money is in one report, on the day the centre
        books it. The days are marked in the store (gateway/store/report_rebuilds.py), each until a
        report whose rows were read after the last re-dating is stored: a kill between the re-dating
        and here leaves them to the next run, and a report built by hand meanwhile to this step.
        A day retention deleted since stays deleted (its mark goes with it). A report built on a
        clock ahead (report_rebuilds.py rebuild_built_ahead) waits until its day, `last` at the
        latest, has ended on the clock as it is: rebuilt before, it would count half a day again."""
        done = []
        for day in reports_to_rebuild(conn):
            if day > last:
                continue
            self.build_report(day, now, conn)
            done.append(day.isoformat())
        return done

    def let_ins_open(self, conn: sqlite3.Connection, day: date, now: datetime) -> datetime | None:
        """Until when a car refused in the last minutes of the day's report period may still be let
        in, and so was not turned away nor one of the refusals (None: none may): LET_IN_WITHIN
        after the period's last refusal at a vehicle entrance, or CORRECTED_WITHIN after the last
        plate correction made in it of a refused record (gateway/parking/report.py _LET_IN), at
        most LET_IN_SETTLES past its end. A car held to pay at an exit is no such refusal: the
        report of a day a car was held at 23:59 is not held back for it. Built at the period's end,
        the report sent said a car refused at 07:55 and let in at 08:02 was turned away, and every
        rebuild said it was not (Review 66 H). One built by hand is refused until then (409
        let_ins_open)."""
        end = self.report_period(conn, day)[1]
        if now >= end + LET_IN_SETTLES:
            return None  # the days kept, and the backfill's: no query
        refused, corrected = conn.execute(
            "SELECT (SELECT max(at) FROM access_log INDEXED BY access_log_at "
            "WHERE at >= ? AND at < ? AND admitted = 0 "
            "AND direction = 'entrance' AND lane_type = 'vehicle'), "
            "(SELECT max(c.at) FROM plate_corrections c JOIN access_log r ON r.event_id = c.event_id "
            "WHERE c.at >= ? AND c.at < ? AND r.admitted = 0)",
            (to_db(end - LET_IN_WITHIN), to_db(end), to_db(end - CORRECTED_WITHIN), to_db(end)),
        ).fetchone()
        last = [
            moment + within
            for at, within in ((refused, LET_IN_WITHIN), (corrected, CORRECTED_WITHIN))
            if (moment := from_db(at)) is not None
        ]
        until = max(last, default=None)
        return until if until is not None and now < until else None

    def rounds_open(self, conn: sqlite3.Connection, day: date, now: datetime) -> datetime | None:
        """Until when a patrol round due in the day's report period may still change (None: none
        may). Such a round is not judged done, late or missed yet, and its next round is not due:
        the report waits for it, so that each round is counted in the period it was due in, as it
        was judged (up to `every_minutes`). The time is when the last of them is missed at the
        latest (its next round due); one built by hand is refused until then (409 rounds_open)."""
        start, end = self.report_period(conn, day)
        judged = {
            (route, due)
            for route, due in conn.execute(
                "SELECT route, due_at FROM patrol_rounds WHERE due_at >= ? AND due_at < ? AND status IN "
                f"({', '.join('?' * len(FINAL))})",
                (to_db(start), to_db(end), *FINAL),
            )
        }
        return max(
            (
                round_closes(route, due, self.site.tz)
                for route in self.routes
                for due in still_open(route, start, end, now, self.site.tz)
                if (route.id, to_db(due)) not in judged
            ),
            default=None,
        )

    def returns_open(self, conn: sqlite3.Connection, day: date, now: datetime) -> datetime | None:
        """Until when a device back online before the day's report period ended may still be
        repaired in it (None: none may). Its fault clears once it has stayed back `[alarms]
        clear_after_s`, as of its return (the `returns` step, before this one): built before, the
        report would list a fault open at the period's end that was over, and the next report
        starts after the repair, so that a late one is counted in neither. Gone again meanwhile,
        it waits no more and the fault is open. One built by hand is refused until then (409
        returns_open)."""
        end = self.report_period(conn, day)[1]
        after = timedelta(seconds=self.cfg.alarms.clear_after_s)
        return max(
            (at + after for at in waiting_returns(conn).values() if at < end and now - at < after),
            default=None,
        )

    def report_period(self, conn: sqlite3.Connection, day: date) -> tuple[datetime, datetime]:
        """The hours the report of `day` covers, lined up with the reports kept (period_of)."""
        return period_of(conn, day, self.cfg.reports.hour, self.site.tz)

    def check_rebuild(self, conn: sqlite3.Connection, day: date, now: datetime) -> None:
        """A report kept for a day whose records retention has deleted since (its access records,
        or its visitors' passes, kept a shorter time) is not built again: rebuilt from what is left,
        its figures would become zeros (ParkingError, records_deleted)."""
        start = self.report_period(conn, day)[0]
        stored = conn.execute("SELECT 1 FROM daily_reports WHERE day = ?", (day.isoformat(),)).fetchone()
        if not stored:
            return
        ret = self.cfg.retention
        kept = (
            ("access records", "access_records_days", ret.access_records_days),
            ("visitors' passes", "visitors_days", ret.visitors_days),
        )
        # A pass goes visitors_days after it ended: one made that day is gone by then at the earliest.
        gone = [f"{what} (retention.{key}, {d})" for what, key, d in kept if start < now - timedelta(days=d)]
        if gone:
            days = min(d for _, _, d in kept)
            raise ParkingError(
                f"the {' and '.join(gone)} of {day} are past retention and deleted: rebuilt, "
                "the kept report would lose their figures",
                fix=f"use the report kept (GET /api/parking/reports/{day}); only days of the last {days} "
                "can be rebuilt",
                code="records_deleted",
            )

    def build_report(
        self,
        day: date,
        now: datetime,
        conn: sqlite3.Connection | None = None,
        actor: str = "",
        run: Worker[Any] | None = None,
    ) -> dict[str, Any]:
        """Build and store the day's report; `actor`, for one built by hand, is audited with it.

        `run` is how its turns on the decision worker are waited for: the API's own writes (a
        request answers busy within the API's bound), or by default this thread's worker_of."""
        run = run or self._run
        # A fee the guard took at 23:59:59 is stamped then but written in its turn on the decision
        # worker: the period is read once what was queued there before now is written (a turn of
        # the worker's own), or, read before it, the fee fell in no report (the next one starts
        # after it). A stuck worker fails the build after the wait's bound (worker_of's for a
        # tick, logged, and a later tick builds it; the API's for one built by hand).
        try:
            run(lambda _: None)
        except TimeoutError as exc:
            raise TimeoutError(
                f"the report of {day} waits for the decision worker to write what was queued before it"
            ) from exc
        own = conn is None
        conn = conn or self._read()
        try:
            # Before the rows: a re-dating committed after this read (NTP setting the clock while a
            # report built by hand waits for the worker to store it) leaves the day to rebuild.
            read_after = redatings(conn)
            body = build_report(
                conn,
                site_id=self.cfg.site.id,
                lanes=self.site.lanes,
                day=day,
                hour=self.cfg.reports.hour,
                tz=self.site.tz,
                built_at=now,
                # Those in force that day, a rebuild weeks later too: not today's config's.
                closed=closed_history(conn, self.site.tz),
                reminder_days=self.cfg.parking.monthly_reminder_days,
                repair_hours=repair_hours_sent(conn, day) or self.cfg.alarms.repair_hours,
            )
        finally:
            if own:
                conn.close()
        run(
            lambda w: store_report(
                w, body, now, self.cfg.mqtt.max_message_bytes, actor, read_after=read_after
            )
        )
        log.info(
            "daily report %s built: vehicles in=%d out=%d refusals=%d revenue_fen=%d",
            body["day"],
            body["vehicles"]["entries"]["total"],
            body["vehicles"]["exits"]["total"],
            body["refusals"]["total"],
            body["parking"]["revenue_fen"],
        )
        return body
