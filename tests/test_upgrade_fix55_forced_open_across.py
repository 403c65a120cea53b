"""A barrier forced up (强行开门) just before an upgrade to the version that keeps an event alarm
that ended unseen on the guard's list until acknowledged (6b48149, schema migration 56), and found
down at the start after it (runtime/lanes.py LEFT_FROM_BEFORE clears the alarm the run before left):
the forcing had not ended under the old rule, it ends under the new one, and stays on the list and
badge until a guard acknowledges it. Migration 56 marked every alarm up to the highest id at the
upgrade as ended unseen, those still open among them too: it left the list unacknowledged, the 03:00
forcing 6b48149 is about. Those that had ended before the upgrade stay off. The real older release
(783dda0, schema 54) writes the database; this code upgrades it by opening it (migrations 55, 56)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import clear_alarm, recent_alarms, to_acknowledge
from tests.old_release import old_release
from tests.parking.conftest import T0, parking_config

BEFORE = "783dda0"  # schema 54: the release before the acknowledgement note (55) and 56

UNDER_OLD = """
from datetime import timedelta
from pathlib import Path
from gateway.alarm_texts import AlarmText
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import clear_alarm, raise_alarm
from tests.parking.conftest import T0, parking_config, seed
cfg = parking_config(Path(site) / "data")
seed(cfg, Path(site))
gw = Gateway(cfg)
week_ago = T0 - timedelta(days=7)
# forced a week ago and let down then: ended unseen under the old rule
out = AlarmText("forced_open", {"lane": "car-out", "device": "car-out-io"})
raise_alarm(gw.conn, "forced_open", "car-out", out, week_ago)
clear_alarm(gw.conn, "forced_open", "car-out", week_ago + timedelta(seconds=30))
# forced at 03:00 today, still up (or not read again) as the service stops for the upgrade
text = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-io"})
raise_alarm(gw.conn, "forced_open", "car-in", text, T0 - timedelta(minutes=5))
result = [list(r) for r in gw.conn.execute("SELECT id, source, cleared_at FROM alarms ORDER BY id")]
gw.conn.close()
"""


def test_a_forced_open_open_across_the_upgrade_stays_until_acknowledged(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows = old_release(tmp_path_factory, BEFORE).run(UNDER_OLD, site=str(tmp_path))
    assert [(r[1], r[2] is None) for r in rows] == [("car-out", False), ("car-in", True)]
    gw = Gateway(parking_config(tmp_path / "data"))  # the upgrade: migrations 55 and 56
    try:
        assert gw.conn.execute("PRAGMA user_version").fetchone()[0] >= 56
        assert to_acknowledge(gw.conn) == 1  # open: on the badge
        clear_alarm(gw.conn, "forced_open", "car-in", T0)  # the start after it finds the barrier down
        listed = [(a["source"], a["to_acknowledge"]) for a in recent_alarms(gw.conn, False)]
        assert listed == [("car-in", True)], (
            f"a forcing still open at the upgrade, ended at the start after it, left the guard's list "
            f"unacknowledged (or one ended before it came back): {listed}"
        )
        assert to_acknowledge(gw.conn) == 1
    finally:
        gw.conn.close()
