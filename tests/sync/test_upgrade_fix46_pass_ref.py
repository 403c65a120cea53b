"""A central pass checked out at the booth under the release before the last session's (da79715,
schema 37) while the link was down: the queued `pass` record goes up after the upgrade naming the
centre's `ref` (docs/mqtt.md, `pass`)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from centre_helpers import SITE, Centre, mqtt_toml
from sync_helpers import Mosquitto, Subscriber

from gateway.runtime.gateway import Gateway
from gateway.store.database import open_database
from gateway.sync.service import SyncService
from tests.old_release import PREVIOUS_RELEASE, OldRelease, old_release
from tests.parking.conftest import T0, parking_config
from tests.test_store import database_at

H = timedelta(hours=1)

# Under da79715, its link to the centre down: the centre's visitor P77 walks in through the door at
# 09:10 and is checked out at the booth at 10:00. The `checked_out` record waits in the outbox.
OLD_CENTRAL_PASS = """
from datetime import timedelta
from pathlib import Path
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import check_out
from tests.parking.conftest import T0, parking_config, seed
from tests.parking.directory_exit_helpers import delta
H = timedelta(hours=1)
M = timedelta(minutes=1)
QR = "VQR-P77-2b9e41c07d3a"
cfg = parking_config(Path(site) / "data", extra=mqtt)
seed(cfg, Path(site))
gw = Gateway(cfg)
pushed = {"kind": "pass", "ref": "P77", "pass_kind": "visitor", "name": "李四",
          "host_building": "3栋", "host_unit": "2单元", "valid_from": T0.isoformat(),
          "valid_to": (T0 + 12 * H).isoformat(), "credentials": [{"kind": "qr", "value": QR}]}
delta(gw, 1, 0, T0, upsert=[pushed])
(pass_id,) = gw.conn.execute("SELECT id FROM passes WHERE ref = 'P77'").fetchone()
came = gw.handle(Presented("door", "qr", QR, 1.0, T0 + 10 * M, "door-reader"))
check_out(gw.conn, pass_id, T0 + H, "guard1")
unsent = gw.conn.execute("SELECT count(*) FROM outbox WHERE topic = 'pass' AND sent_at IS NULL").fetchone()[0]
gw.conn.close()
result = {"admitted": came.admitted, "unsent_pass_records": unsent, "pass_id": pass_id}
"""


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, PREVIOUS_RELEASE)


def test_a_central_pass_checked_out_before_the_upgrade_reaches_the_centre_with_its_ref(
    old: OldRelease, broker: Mosquitto, tmp_path: Path
) -> None:
    """The centre's visitor P77 walks in and is checked out at the booth under the previous release
    while the link is down; after the upgrade the queued `pass` `checked_out` record went up with no
    `ref`, so the centre could not tell its P77 left (docs/mqtt.md: the record names the pass by
    `ref`, as migration 41 fills in what an older gateway's queued `access` records lacked)."""
    sub = Subscriber(broker, [f"estate/{SITE}/#"], client_id="centre", persistent=True)
    try:
        got = old.run(OLD_CENTRAL_PASS, site=str(tmp_path), mqtt=mqtt_toml(broker.port))
        assert got["admitted"] and got["unsent_pass_records"] == 1, got
        gw = Gateway(parking_config(tmp_path / "data", extra=mqtt_toml(broker.port)))
        gw.now = lambda: T0 + 2 * H  # type: ignore[method-assign]
        gw.start()
        service = SyncService(gw)
        service.start()
        try:
            centre = Centre.__new__(Centre)
            centre.gw, centre.sub = gw, sub
            centre.drain()
            passes = centre.records("pass")
        finally:
            service.stop()
            gw.stop()
            gw.conn.close()
    finally:
        sub.close()
    told = [(r["op"], r["pass"]["id"], r["pass"].get("ref")) for r in passes]
    assert told == [("checked_out", got["pass_id"], "P77")], (
        f"the centre got the check-out queued before the upgrade as {told} (op, gateway id, ref): "
        "nothing names its P77, so it still shows her inside"
    )


def _pass_record(pass_id: int, sent: bool = False, quarantined: bool = False) -> tuple[object, ...]:
    at = "2025-03-03T02:00:00.000000+00:00"
    record = {
        "v": 1,
        "type": "pass",
        "event_id": f"e-{pass_id}",
        "op": "checked_out",
        "at": at,
        "pass": {"id": pass_id, "kind": "visitor", "name": "李*"},
    }
    payload = json.dumps(record, ensure_ascii=False)
    return (f"e-{pass_id}", payload, at, at if sent else None, "refused" if quarantined else None)


def test_only_the_pass_records_still_to_send_get_the_ref_their_pass_has(tmp_path: Path) -> None:
    """A record the centre already has stays as it went; one waiting (quarantined too: it may be
    put back in line) gets its pass's `ref`, `null` for a pass registered at the booth; one whose
    pass is gone (retention) is left as it was, its `ref` unknown."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 37)  # as the release before the last session's left it
    at = "2025-03-03T01:00:00.000000+00:00"
    for pass_id, ref in ((1, "P71"), (2, "P72"), (3, "P73"), (4, None)):
        conn.execute(
            "INSERT INTO passes (id, ref, kind, name, valid_from, valid_to, created_at, created_by) "
            "VALUES (?, ?, 'visitor', '李四', ?, ?, ?, 'central')",
            (pass_id, ref, at, at, at),
        )
    records = (
        _pass_record(1, sent=True),
        _pass_record(2),
        _pass_record(3, quarantined=True),
        _pass_record(4),
        _pass_record(5),
    )
    conn.executemany(
        "INSERT INTO outbox (event_id, topic, payload, created_at, sent_at, quarantined) "
        "VALUES (?, 'pass', ?, ?, ?, ?)",
        records,
    )
    conn.close()
    db = open_database(path).conn
    try:
        rows = [json.loads(p)["pass"] for (p,) in db.execute("SELECT payload FROM outbox ORDER BY seq")]
    finally:
        db.close()
    got = [(r["id"], r.get("ref", "absent")) for r in rows]
    assert got == [(1, "absent"), (2, "P72"), (3, "P73"), (4, None), (5, "absent")], got
