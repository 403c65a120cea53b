"""Migration 48's slot sequence and the records queued for the centre naming a slot."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.registry import add_slot
from tests.old_release import OldRelease, old_release
from tests.parking.conftest import T0, parking_config

STOP_47 = "337ab97"

OLD = """
from pathlib import Path
from datetime import timedelta
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config, show
from tests.snapshot_helpers import apply_snapshot
M = timedelta(minutes=1)
R = [{"kind": "resident", "ref": "R1", "building": "3栋", "unit": "2单元", "name": "张三"},
     {"kind": "resident", "ref": "R3", "building": "6栋", "unit": "1单元", "name": "王五"},
     {"kind": "vehicle", "plate": "皖A11111", "resident": "R1"},
     {"kind": "vehicle", "plate": "皖C44444", "resident": "R3", "monthly_until": "2026-12-31T23:59:59+08:00"},
     {"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": ["皖A11111"]}]
B009 = {"kind": "slot", "zone": "main", "number": "B009", "resident": "R3", "plates": ["皖C44444"]}
cfg = parking_config(Path(site) / "data")
gw = Gateway(cfg)
gw.start()
try:
    apply_snapshot(gw, 1, R)
    gw.on_worker(lambda c: None).result()
    show(gw, "car-in", "皖C44444", T0)
    apply_snapshot(gw, 2, R + [B009])   # the centre gives 王五 a slot: his car parked inside is handed it
    s = gw.conn.execute("SELECT id FROM slots WHERE number = 'B009'").fetchone()[0]
    on = gw.conn.execute("SELECT slot_id FROM stays WHERE plate = '皖C44444'").fetchone()[0]
    apply_snapshot(gw, 3, R)            # and takes it back the next day
finally:
    gw.stop()
import sqlite3, json
c = sqlite3.connect(str(Path(site) / "data" / "gateway.db"))
queued = "SELECT payload FROM outbox WHERE topic = 'stay' AND sent_at IS NULL"
stay_records = [json.loads(p) for (p,) in c.execute(queued)]
result = {"slot": s, "on": on, "stay_records": stay_records,
          "max_slot": c.execute("SELECT max(id) FROM slots").fetchone()[0]}
c.close()
"""


@pytest.fixture(scope="module")
def stop_47(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, STOP_47)


def test_a_slot_named_by_a_queued_stay_record_is_not_given_to_another_after_the_upgrade(
    stop_47: OldRelease, tmp_path: Path
) -> None:
    """The centre gave 王五 slot B009 while his car was inside (a queued `handover` record names its
    slot_id) and took it back; after the upgrade the next slot added must not get that id, or the
    centre reads the queued handover as onto another household's slot (docs: ids never given again)."""
    site = tmp_path / "site"
    site.mkdir()
    got = stop_47.run(OLD, site=str(site))
    assert got["on"] == got["slot"], got
    named = {r.get("slot_id") for r in got["stay_records"]}
    assert got["slot"] in named, got
    gw = Gateway(parking_config(site / "data"))
    try:
        new = add_slot(gw.conn, T0, "admin", "main", "B010", None, [])
        assert new > got["slot"], (
            f"the new slot B010 got id {new}, the id the queued handover record names (B009's): "
            f"{got['stay_records']}"
        )
    finally:
        gw.conn.close()
