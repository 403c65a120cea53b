"""A patrol round judged missed and its alarm are one write: a kill or a failed write between them
must not leave the round on record as missed with no alarm (it is never judged again)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

import gateway.store.alarms
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import open_alarms
from tests.parking.conftest import T0
from tests.parking.test_operations import PATROL, alarms, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
NIGHT = T0.replace(hour=22)  # nobody walks the 22:00 round: it is missed once 00:00 comes
MISSED = ("patrol_missed", "night@2025-03-03 22:00")

ROOT = Path(__file__).resolve().parents[2]  # the checkout: the killed child imports from it

# The gateway judges the round at 00:01 and dies (power cut, OOM, watchdog) as the alarm is written.
KILLED_WHILE_ALARMING = """
import os, signal, sys
from datetime import timedelta
from pathlib import Path
sys.path.insert(0, {root!r})
import gateway.store.alarms
from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config
from tests.parking.test_operations import PATROL
gateway.store.alarms._upstream = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
gw = Gateway(parking_config(Path({data_dir!r}), extra=PATROL))
Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), T0).patrols(
    T0.replace(hour=22) + timedelta(hours=2, minutes=1)
)
"""


def test_a_round_missed_as_the_gateway_is_killed_still_raises_its_alarm_after_restart(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=PATROL)
    assert [r.status for r in ops(gw).patrols(NIGHT + 50 * M)] == ["overdue"]  # ticks through the night
    gw.conn.close()
    script = KILLED_WHILE_ALARMING.format(root=str(ROOT), data_dir=str(gw.data_dir))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    again = Gateway(gw.site.config)  # systemd starts it again; the operations thread ticks on
    try:
        o = ops(again, started=NIGHT + 2 * H + 2 * M)
        o.patrols(NIGHT + 2 * H + 3 * M)
        assert again.conn.execute("SELECT status FROM patrol_rounds").fetchall() == [("missed",)]
        assert MISSED in alarms(again), "the round is on record as missed, but no alarm was raised"
        assert [a["kind"] for a in open_alarms(again.conn)] == ["patrol_missed"]
    finally:
        again.conn.close()


def test_a_missed_round_whose_alarm_failed_to_write_raises_it_at_the_next_tick(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = make_gw(extra=PATROL)
    o = ops(gw)
    real = gateway.store.alarms._upstream
    failures = [sqlite3.OperationalError("disk I/O error")]

    def fails_once(*args: object, **kwargs: object) -> None:
        if failures:
            raise failures.pop()
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gateway.store.alarms, "_upstream", fails_once)
    with pytest.raises(sqlite3.OperationalError):  # tick() logs "step patrols failed (will retry)"
        o.patrols(NIGHT + 2 * H + M)
    o.patrols(NIGHT + 2 * H + 2 * M)  # the next tick
    assert gw.conn.execute("SELECT status FROM patrol_rounds").fetchall() == [("missed",)]
    assert MISSED in alarms(gw)
