"""A running clock's step seen at a start whose clock_stepped alarm cannot be stored (a full disk)
(review 56h). The new clock and the 24-hour pause were kept in boot-alarms.json, the alarm only in
memory: restarted before a tick raised it (the installer frees the disk and restarts the service),
the next start saw no step, and the ten-year step was never alarmed. The alarm is now kept in the
same write as the clock and the pause, and leaves the file once raised."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

import gateway.parking.operations as operations
from gateway.parking.boot_clock import BOOT_MARKER
from gateway.timefmt import to_db
from tests.parking.test_clock_jumps import ahead, look, run_for_weeks
from tests.parking.test_operations import Steady, ops
from tests.rush_helpers import parking_gw

S = timedelta(seconds=1)


def _kept_alarms(gw) -> list[object]:  # type: ignore[no-untyped-def]
    return list(json.loads((gw.data_dir / BOOT_MARKER).read_text()).get("clock_alarms", []))


def test_a_clock_stepped_alarm_that_failed_at_start_is_raised_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.parking.conftest import T0

    gw = parking_gw(tmp_path)
    steady = Steady()
    run_for_weeks(gw, steady)
    steady.s += 60  # down a minute; the installer types 2035 for 2025 meanwhile
    real = operations.raise_alarm

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(operations, "raise_alarm", full)
    first = ops(gw, started=ahead(T0) + 60 * S, steady=steady)
    first.start(lambda: ahead(T0) + 60 * S)  # the alarm cannot be stored
    first.stop()
    assert len(_kept_alarms(gw)) == 1, "kept with the new clock and the pause"
    monkeypatch.setattr(operations, "raise_alarm", real)  # room made; the service is restarted
    steady.s += 10
    second = ops(gw, started=ahead(T0) + 70 * S, steady=steady)
    second.start(lambda: ahead(T0) + 70 * S)
    second.stop()
    alarms = gw.conn.execute("SELECT kind, raised_at FROM alarms WHERE kind = 'clock_stepped'").fetchall()
    assert [kind for kind, _ in alarms] == ["clock_stepped"], "the ten-year clock step was never alarmed"
    # As of when the first start saw the step: the pause is read back from the alarm's time.
    assert alarms[0][1] == to_db(ahead(T0) + 60 * S)
    assert _kept_alarms(gw) == [], "raised: no later start raises it again"
    look(second, steady, ahead(T0) + 2 * 60 * S, 50 * S)
    assert gw.conn.execute("SELECT count(*) FROM alarms WHERE kind = 'clock_stepped'").fetchone() == (1,)
