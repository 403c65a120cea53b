"""A clock_stepped alarm kept pending in boot-alarms.json (dcfe2ae) by a run that could not raise
it (full disk, then a power cut), raised by the NEXT boot's start "as of when the step was seen".
That boot runs on fake-hwclock's stale time; when NTP sets it, the re-dating moves every alarm of
this boot (id >= first) by the step -- including the pending alarm, whose raised_at was a true
time of the previous boot. The step alarm (and the 24 h pause untrusted_spans reads from it) ends
up dated ~2 days after the step was seen (review 56m). Its id is now kept with the older alarms
open as the box booted (BootClock.alarm_raised, Boot.older_open): the re-dating leaves its raise."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

import gateway.parking.operations as operations
from gateway.parking.boot_clock import BOOT_MARKER
from gateway.timefmt import to_db
from tests.parking.conftest import T0
from tests.parking.test_clock_jumps import run_for_weeks
from tests.parking.test_operations import Steady, ops
from tests.rush_helpers import parking_gw

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


def test_pending_step_alarm_raised_on_next_boot_keeps_its_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = parking_gw(tmp_path)
    steady = Steady()
    o = run_for_weeks(gw, steady)  # booted a month ago, running on NTP; looks at T0
    real = operations.raise_alarm

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database or disk is full")

    # A bad NTP source steps the running clock 5 h ahead; the alarm cannot be stored (full disk).
    seen = T0 + 5 * H + 30 * S
    monkeypatch.setattr(operations, "raise_alarm", full)
    steady.s += 30
    o.tick(seen)
    kept = json.loads((gw.data_dir / BOOT_MARKER).read_text())
    assert len(kept.get("clock_alarms", [])) == 1, "pending alarm kept for a later start"
    monkeypatch.setattr(operations, "raise_alarm", real)

    # Power cut. The Pi is off two days; it boots on fake-hwclock's (stale) time, no network.
    kept["boot"] = "the boot before"
    (gw.data_dir / BOOT_MARKER).write_text(json.dumps(kept))
    stale = seen + 10 * M
    steady2 = Steady()
    steady2.s = 20
    o2 = ops(gw, started=stale, steady=steady2)
    o2.start(lambda: stale)  # raises the pending alarm, as of `seen`
    o2.stop()
    steady2.s += 30
    o2.tick(stale + 30 * S)
    # Three hours on, NTP answers: true time is two days after the step was seen.
    steady2.s += 3 * 3600
    o2.tick(stale + 3 * H + 30 * S)
    true_now = T0 + 2 * D + 3 * H
    steady2.s += 30
    o2.tick(true_now)
    steady2.s += 30
    o2.tick(true_now + 30 * S)

    rows = gw.conn.execute("SELECT raised_at FROM alarms WHERE kind = 'clock_stepped'").fetchall()
    assert rows, "the pending clock_stepped alarm was never raised"
    assert [r[0] for r in rows] == [to_db(seen)], (
        f"step seen at {to_db(seen)} (previous boot, true clock) but the alarm reads {rows}: "
        "the stale boot's re-dating moved it"
    )
