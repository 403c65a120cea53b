"""Retention and the disk guard of the operations thread (Operations, gateway/parking/operations.py):
the hourly pass that deletes what is past its days and gives the room back to the disk, and the
30-second look that prunes the oldest snapshots of a filling disk and raises or rewords disk_low
and retention_short.

Apart from operations.py so that what deletes reads in one sitting; what to delete is
gateway/parking/retention.py's, the records' deletes gateway/store/retention.py's.
"""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from gateway.alarm_texts import AlarmText
from gateway.fault_log import FaultLog
from gateway.parking import retention as plan
from gateway.parking.operations_patrols import PatrolRounds
from gateway.parking.operations_reports import DailyReports
from gateway.store import retention as prune
from gateway.store.alarms import clear_alarm, clear_open_alarms, open_alarm_text, raise_alarm, reword_alarm
from gateway.store.database import (
    VACUUM_STEP_PAGES,
    give_back_free_pages,
    give_to_service,
    storage_cause,
    storage_fix,
    upgrade_copies,
)
from gateway.store.gateway_down import prune_down
from gateway.sync.files import set_aside_before

log = logging.getLogger("gateway.parking.operations")  # its journal lines stay operations.py's


class RetentionAndDiskGuard(DailyReports, PatrolRounds):
    _old_copies_told: set[Path]
    _undeletable: dict[str, FaultLog]

    # ---- retention and the disk guard ----------------------------------------------------------

    def retention(self, now: datetime) -> dict[str, int]:
        ret = self.cfg.retention
        files = plan.snapshot_files(self.snapshots_dir)
        gone, stayed = plan.delete_each(plan.expired(files, now.timestamp(), ret.snapshots_days))
        removed, failed = len(gone), len(stayed)
        self._say_undeletable("retention", gone, stayed, "past retention.snapshots_days, they are kept")
        plan.remove_empty_day_folders(
            self.snapshots_dir, (now - timedelta(days=ret.snapshots_days + 1)).date()
        )
        if plan.week_kept(files, now.timestamp(), ret.snapshots_days):
            self._run(partial(clear_alarm, kind="retention_short", source=str(self.snapshots_dir), at=now))
        counts = {"snapshots": removed, "snapshots_failed": failed}
        keep_access = self.records_kept_from(now)
        upstream = self.cfg.mqtt.enabled  # without MQTT nothing is ever delivered: age alone decides
        counts["access_records"] = self._batches(
            lambda w: prune.prune_access_records(w, keep_access, upstream=upstream)
        )
        counts["stays"] = self._batches(lambda w: prune.prune_closed_stays(w, keep_access))
        counts["materials_out"] = self._batches(lambda w: prune.prune_materials(w, keep_access))
        counts["alarms"] = self._batches(lambda w: prune.prune_alarms(w, keep_access))
        counts["gateway_down"] = self._run(lambda w: prune_down(w, keep_access, now))
        keep_patrol = min(keep_access, self.patrols_kept_from(now))
        counts["patrol"] = self._batches(lambda w: prune.prune_patrol(w, keep_patrol))
        counts["audit"] = self._batches(lambda w: prune.prune_audit(w, now - timedelta(days=ret.audit_days)))
        visitors_from = now - timedelta(days=ret.visitors_days)
        counts["visitor_passes"] = self._batches(
            lambda w: prune.prune_visitors(w, visitors_from, upstream=upstream)
        )
        # A damaged sync file set aside may hold a pushed pass's clear phone and ID numbers.
        aside = set_aside_before(self.data_dir, visitors_from, self.site.tz)
        counts["damaged_sync_files"], counts["damaged_sync_files_failed"] = plan.remove(aside)
        oldest_report, _ = self.report_days(now)
        counts["reports"] = self._run(lambda w: prune.prune_reports(w, oldest_report.isoformat()))
        if any(counts.values()):
            log.info("retention %s", json.dumps(counts))
        self._old_copies(now, ret.visitors_days)
        self._give_back_room()
        return counts

    def _old_copies(self, now: datetime, visitors_days: int) -> None:
        """Say once (a WARNING a process) of each upgrade copy of the database (gateway.db.v45.bak)
        older than visitors_days: it holds the records of its day, visitors' masked numbers and
        their hashes among them, which retention deletes from the database but not from it. Not
        deleted here: the copy is the way back to the old version (README, Upgrading)."""
        for copy in upgrade_copies(self.data_dir):
            try:
                age_days = (now.timestamp() - copy.stat().st_mtime) / 86400
            except OSError:
                continue
            if age_days > visitors_days and copy not in self._old_copies_told:
                self._old_copies_told.add(copy)
                log.warning(
                    "upgrade copy %s is %d days old, older than retention.visitors_days (%d): it keeps "
                    "the records of then (visitors' masked numbers and their hashes among them) past "
                    "their retention; fix=delete it once this version runs well (README, Upgrading)",
                    copy,
                    age_days,
                    visitors_days,
                )

    def _give_back_room(self) -> None:
        """The room of the rows deleted given back to the disk (the database's free pages, in
        steps, each its own turn on the worker as the batches are), then the WAL emptied: a
        pass that deleted half the records leaves the card with that room free, not kept for good
        in gateway.db and its WAL."""
        started = time.monotonic()
        pages = self._batches(give_back_free_pages, VACUUM_STEP_PAGES)
        if pages:
            log.info(
                "retention gave %d free pages of the database back to the disk in %.1f s",
                pages,
                time.monotonic() - started,
            )
        if self._checkpoints is not None:
            self._checkpoints.turn(empty=True)

    def records_kept_from(self, now: datetime) -> datetime:
        """Access records, closed stays, materials records, closed alarms and patrol taps and rounds
        older than this are deleted (access records once delivered, and not an open stay's entry;
        patrol taps and rounds not before patrols_kept_from): a report of a day before it can no
        longer be built from them."""
        return now - timedelta(days=self.cfg.retention.access_records_days)

    def _batches(self, step: Callable[[sqlite3.Connection], int], size: int = prune.BATCH) -> int:
        """`step` run until it does less than a whole batch of `size`; how much it did in all."""
        total = 0
        while True:
            n = self._run(step)  # each batch its own turn on the worker: lanes go in between
            total += n
            if n and self._checkpoints is not None:
                self._checkpoints.turn()  # the next batch starts the WAL over, rather than growing it
            if n < size:
                return total

    def _settle_disk_alarms(self, now: datetime) -> None:
        """Clear (here and upstream) the disk alarms of a data directory the config no longer names.

        The installer did what disk_low asks: copied the data to a bigger disk and pointed data_dir
        at it. The guard only ever looks at the directory configured now, so nothing else would
        clear the old one's alarms, and a condition is not closed by acknowledging it. Those of
        the directory configured now stay open until the guard finds room again.
        """
        for kind, here in (("disk_low", self.data_dir), ("retention_short", self.snapshots_dir)):
            cleared = self._run(partial(clear_open_alarms, kinds=(kind,), at=now, keep=(str(here),)))
            for _, source in cleared:
                log.info("alarm %s cleared: the data directory has moved, %s is no longer used", kind, source)

    def disk_guard(self, now: datetime, usage: Callable[[Path], Any] | None = None) -> plan.DiskPlan:
        ret = self.cfg.retention
        room, self._start_room = self._start_room, None
        if room is None:
            room = plan.make_room(
                self.data_dir, self.snapshots_dir, ret.prune_free_percent, ret.alarm_free_percent, usage
            )
        result = room.plan  # what was deleted: a snapshot that could not be frees no room
        self._say_undeletable("disk", result.delete, room.undeleted, "they free no room on the full disk")
        if result.delete:
            log.warning(
                "disk low (%.1f%% free): deleted the %d oldest snapshots (%d failed)",
                100 * room.free_before / result.total,
                room.deleted,
                room.failed,
            )
            kept = plan.days_kept(room.files, result.delete, now.timestamp())
            if kept < ret.snapshots_days:  # REQUIREMENTS 7: footage is kept a week; the centre must know
                text = AlarmText("retention_short", {"kept_days": kept, "days": ret.snapshots_days})
                where = str(self.snapshots_dir)
                self._run(lambda w: _raise_retention_short(w, where, text, now))
        source = str(self.data_dir)
        if result.alarm:
            text = self._disk_low_text(result.free_percent_after)
            self._run(lambda w: _raise_disk_low(w, source, text, now))
        elif result.free_percent_after >= ret.prune_free_percent:
            self._run(lambda w: clear_alarm(w, "disk_low", source, now))
        else:  # between the thresholds an open disk_low stays open: what it asks is still kept true
            text = self._disk_low_text(result.free_percent_after)
            self._run(lambda w: _keep_disk_low_true(w, source, text, now))
        return result

    def _say_undeletable(
        self, pass_: str, gone: Sequence[Path], stayed: Sequence[tuple[Path, OSError]], so: str
    ) -> None:
        """Snapshots the gateway cannot delete, said once with the fix while the same folders
        refuse (the disk guard looks every 30 s), and once more when deleting works again."""
        fault = self._undeletable[pass_]
        if not stayed:
            if gone:
                fault.ended("snapshots can be deleted again (%s)", pass_)
            return
        folders = sorted({path.parent for path, _ in stayed})
        fault.failed(
            tuple(folders),
            "%d snapshots cannot be deleted (%s): %s; fix: %s",
            len(stayed),
            so,
            stayed[0][1],
            _undeletable_fix(stayed[0][1], folders, self.data_dir),
        )

    def _disk_low_text(self, free_percent: float) -> AlarmText:
        """disk_low with what to do, and the room the upgrades' copies of the database take where
        there are any: on a card with no snapshot left to prune, the first thing to free."""
        copies = sum(_size(copy) for copy in upgrade_copies(self.data_dir))
        if not copies:
            return AlarmText("disk_low", {"free_percent": free_percent})
        copies_mb = max(1, round(copies / (1 << 20)))
        return AlarmText("disk_low.copies", {"free_percent": free_percent, "copies_mb": copies_mb})


def _undeletable_fix(exc: OSError, folders: list[Path], data_dir: Path) -> str:
    """A snapshot is deleted by writing its folder: one left to root (a `sudo gateway run` made
    it) is given to the gateway's user, as docs/hardware.md says for the snapshots it cannot write."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return give_to_service(folders)
    return storage_fix(storage_cause(exc, data_dir), data_dir)


def _raise_disk_low(conn: sqlite3.Connection, source: str, text: AlarmText, at: datetime) -> None:
    """Raise disk_low, or give the open one new words where what it tells the installer to do
    changed: the gateway.db.v*.bak copies it names deleted (as it asked) or others left by an
    upgrade since. Raising it again keeps an open alarm's words; the free room alone moves at every
    look (30 s), and is not worth a record to the centre each time."""
    said = open_alarm_text(conn, "disk_low", source)
    if said is None or not _tells_other_things(said, text):
        raise_alarm(conn, "disk_low", source, text, at)
    else:
        _reword_disk_low(conn, source, text, at)


def _keep_disk_low_true(conn: sqlite3.Connection, source: str, text: AlarmText, at: datetime) -> None:
    """Between alarm_free_percent and prune_free_percent an open disk_low stays open and none is
    raised; the open one is reworded as _raise_disk_low would: deleting the gateway.db.v*.bak
    copies it names is what brings a card into that band, and it should no longer ask for them."""
    said = open_alarm_text(conn, "disk_low", source)
    if said is not None and _tells_other_things(said, text):
        _reword_disk_low(conn, source, text, at)


def _reword_disk_low(conn: sqlite3.Connection, source: str, text: AlarmText, at: datetime) -> None:
    if reword_alarm(conn, "disk_low", source, text, at):
        log.info("alarm disk_low of %s reworded: %s", source, text.render("en"))


def _raise_retention_short(conn: sqlite3.Connection, source: str, text: AlarmText, at: datetime) -> None:
    """Raise retention_short, or give the open one the days kept now where they moved far enough
    to tell (_days_moved): as the card fills further the same alarm says 6.0 days, then 0.5, at the
    guard's page and (a `raised` record again) at the centre, which must know the week of footage
    is not there. Not at every pruning (each 30 s look may delete a few more minutes' worth)."""
    said = open_alarm_text(conn, "retention_short", source)
    if said is None or not _days_moved(said, text):
        raise_alarm(conn, "retention_short", source, text, at)
    elif reword_alarm(conn, "retention_short", source, text, at):
        log.info("alarm retention_short of %s reworded: %s", source, text.render("en"))


def _days_moved(said: AlarmText, text: AlarmText) -> bool:
    """A whole day more or less kept than the open alarm says, or under half of it (1 day, then
    half a day: the last day is where a day more or less matters), or another number of days asked."""
    before, now = said.params.get("kept_days"), text.params.get("kept_days")
    if said.params.get("days") != text.params.get("days"):
        return True
    if not isinstance(before, int | float) or not isinstance(now, int | float):
        return before != now
    return abs(now - before) >= 1 or (now <= before / 2 and before - now >= 0.1)


def _tells_other_things(said: AlarmText, text: AlarmText) -> bool:
    return said.key != text.key or said.params.get("copies_mb") != text.params.get("copies_mb")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # deleted since it was listed
        return 0
