"""Records a gateway of the release of two sessions ago (e7a463d, schema 35) queued while its link
to the centre was down, sent by the upgraded gateway through a real Mosquitto."""

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
from tests.old_release import OldRelease, old_release
from tests.parking.conftest import T0, parking_config
from tests.test_store import database_at

H = timedelta(hours=1)

# Under e7a463d, its link to the centre down (the service's MQTT link never started): 苏E12345 in
# at 09:00, held at car-out at 11:00 for 7元; a resident's car in. Every record waits in the outbox.
OLD_OFFLINE = """
import json
from datetime import timedelta
from pathlib import Path
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config, seed, show
H = timedelta(hours=1)
cfg = parking_config(Path(site) / "data", extra=mqtt)
seed(cfg, Path(site))
gw = Gateway(cfg)
gw.now = lambda: T0
show(gw, "car-in", "苏E12345", T0)
show(gw, "car-in", "皖B33333", T0 + H)
held = show(gw, "car-out", "苏E12345", T0 + 2 * H)
unsent = gw.conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
gw.conn.close()
result = {"held": [held.reason, held.fee_fen], "unsent": unsent}
"""


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory)


def test_access_records_queued_before_the_upgrade_go_up_with_their_lanes_direction(
    old: OldRelease, broker: Mosquitto, tmp_path: Path
) -> None:
    """docs/mqtt.md: every `access` record carries `direction` and `lane_type`, the lane's as the
    access log keeps them, for the centre to count entries and exits. The three decisions the old
    release queued while the link was down reached the centre after the upgrade without either
    field (their stored payloads sent as the old code wrote them), so the centre could not count
    that day's entries and exits; the access log has both for each."""
    sub = Subscriber(broker, [f"estate/{SITE}/#"], client_id="centre", persistent=True)
    try:
        queued = old.run(OLD_OFFLINE, site=str(tmp_path), mqtt=mqtt_toml(broker.port))
        assert queued["held"] == ["payment_due", 700], queued
        gw = Gateway(parking_config(tmp_path / "data", extra=mqtt_toml(broker.port)))
        gw.now = lambda: T0 + 3 * H  # type: ignore[method-assign]
        gw.start()
        service = SyncService(gw)
        service.start()
        try:
            centre = Centre.__new__(Centre)
            centre.gw, centre.sub = gw, sub
            centre.drain()
            access = centre.records("access")
            sent_twice = len([m for m in sub.payloads() if m.get("type") == "access"]) - len(access)
            logged = gw.on_worker(
                lambda conn: conn.execute(
                    "SELECT lane, direction, lane_type FROM access_log ORDER BY id"
                ).fetchall()
            ).result(10)
        finally:
            service.stop()
            gw.stop()
    finally:
        sub.close()
    assert len(access) == 3 and sent_twice == 0, (len(access), sent_twice)
    got = [(r["lane"], r.get("direction"), r.get("lane_type")) for r in access]
    assert got == [tuple(row) for row in logged], (
        f"the centre got the access records queued before the upgrade as {got}; the access log has {logged}"
    )


def test_only_the_records_still_to_send_are_filled_in_and_as_the_access_log_has_them(tmp_path: Path) -> None:
    """A record the centre already has stays as it went; one waiting (quarantined too: it may be
    put back in line) gets its lane's direction and type from its own access record."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 35)  # as the release of two sessions ago left it
    at = "2025-03-03T01:00:00.000000+00:00"
    for n, (lane, direction, lane_type) in enumerate(
        (("car-in", "entrance", "vehicle"), ("door", "exit", "pedestrian"), ("car-out", "exit", "vehicle"))
    ):
        event = f"e-{n}"
        conn.execute(
            "INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason, "
            "direction, lane_type) "
            "VALUES (?, ?, ?, 'cam', 'plate', '苏E12345', 0.97, 1, 'temporary', ?, ?)",
            (event, at, lane, direction, lane_type),
        )
        record = {"v": 1, "type": "access", "event_id": event, "at": at, "lane": lane}
        payload = json.dumps(record, ensure_ascii=False)
        conn.execute(
            "INSERT INTO outbox (event_id, topic, payload, created_at, sent_at, quarantined) "
            "VALUES (?, 'access', ?, ?, ?, ?)",
            (event, payload, at, at if n == 0 else None, "refused" if n == 2 else None),
        )
    conn.close()
    db = open_database(path).conn
    try:
        rows = [json.loads(p) for (p,) in db.execute("SELECT payload FROM outbox ORDER BY seq")]
    finally:
        db.close()
    assert [(r["lane"], r.get("direction"), r.get("lane_type")) for r in rows] == [
        ("car-in", None, None),
        ("door", "exit", "pedestrian"),
        ("car-out", "exit", "vehicle"),
    ]
