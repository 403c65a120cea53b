"""Upgrading from a release before 57ed245 (schema 30 at 37a2a4a, up to 35 at e7a463d) to schema
migration 47: the `pass` and `materials` records it queued with the link down sent their times as
the store keeps them (UTC). docs/mqtt.md says a pass's times, as every record's, carry the site's
offset, and the materials record's inner `at` is the message's moment in the site's offset too:
those records go up so after the upgrade, dated by the gateway as it opens the database."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.config import SiteConfig, parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.database import open_database
from gateway.store.schema import DATED_IN_UTC_47
from tests.old_release import TWO_RELEASES_AGO, OldRelease, old_release
from tests.parking.conftest import parking_config, parking_toml

SCHEMA_30 = "37a2a4a"  # the last release with schema 30, the commit before migration 31 came in
SCHEMA_35 = TWO_RELEASES_AGO  # e7a463d, the last release before 57ed245
STOP_46 = "2c6cb08"  # stop 46's release (schema 46): its records carry the site's offset already


@pytest.fixture(scope="module")
def schema_30(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, SCHEMA_30)


@pytest.fixture(scope="module", params=[SCHEMA_30, SCHEMA_35])
def before_57ed245(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def schema_46(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, STOP_46)


def in_utc(toml: str) -> str:
    """The test site's config with its zone UTC (a site abroad, or one left at the image's zone)."""
    return toml.replace("[site]\n", '[site]\ntimezone = "UTC"\n', 1)


# Under the old release, the link down: 陈工 (a contractor) is registered at the booth at 07:20 on
# Monday 3 March, carries an old cabinet out at 07:40 and is checked out at 07:50. The records it
# queued come back as it left them (`quarantine`: the check-out record set aside, as one the broker
# refused is: it may be put back in line).
OLD_MORNING = """
from datetime import timedelta
from pathlib import Path
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.materials import record_materials_out
from gateway.store.passes import NewPass, check_out, create_pass
from tests.parking.conftest import T0, parking_toml, seed
M = timedelta(minutes=1)
toml = parking_toml(Path(site) / "data")
if utc:
    toml = toml.replace("[site]\\n", '[site]\\ntimezone = "UTC"\\n', 1)
cfg = parse_config(toml, "site.toml")
seed(cfg, Path(site))
gw = Gateway(cfg)
zone = gw.site.tz
crew = NewPass("contractor", "陈工", T0 - 100 * M, T0 + 540 * M, host_building="3栋", host_unit="2单元",
               company="好家装饰")
pid = create_pass(gw.conn, gw.secrets, crew, (T0 - 100 * M).astimezone(zone), "guard1")
record_materials_out(gw.conn, (T0 - 80 * M).astimezone(zone), "guard1", items="旧橱柜 1 套", pass_id=pid)
check_out(gw.conn, pid, (T0 - 70 * M).astimezone(zone), "guard1")
if quarantine:
    with gw.conn:
        gw.conn.execute(
            "UPDATE outbox SET quarantined = 'refused by the broker' WHERE topic = 'pass' "
            "AND json_extract(payload, '$.op') = 'checked_out'"
        )
queued = gw.conn.execute(
    "SELECT seq, payload FROM outbox WHERE topic IN ('pass', 'materials') ORDER BY seq"
).fetchall()
gw.conn.close()
result = [list(row) for row in queued]
"""


def _morning(old: OldRelease, site: Path, *, utc: bool = False, quarantine: bool = False) -> dict[int, str]:
    """The old release's morning on the site at `site`: its `pass` and `materials` records by seq."""
    queued = old.run(OLD_MORNING, site=str(site), utc=utc, quarantine=quarantine)
    return {seq: payload for seq, payload in queued}


def _waiting(gw: Gateway, topic: str) -> list[dict[str, Any]]:
    rows = gw.conn.execute(
        "SELECT payload FROM outbox WHERE topic = ? AND sent_at IS NULL ORDER BY seq", (topic,)
    )
    return [json.loads(p) for (p,) in rows]


def _queued(conn: Any) -> dict[int, str]:
    rows = conn.execute("SELECT seq, payload FROM outbox WHERE topic IN ('pass', 'materials') ORDER BY seq")
    return dict(rows.fetchall())


def _times(queued: dict[int, str]) -> dict[int, list[object]]:
    """Each record's times, as they go up (migration 45 gives a queued pass its `ref` besides)."""
    got: dict[int, list[object]] = {}
    for seq, payload in queued.items():
        record = json.loads(payload)
        held = record.get("pass", {})
        times = [held.get("valid_from"), held.get("valid_to"), held.get("checked_out_at")]
        got[seq] = [record["at"], *times, record.get("record", {}).get("at")]
    return got


def _pass_times(gw: Gateway) -> list[tuple[str | None, ...]]:
    held = [record["pass"] for record in _waiting(gw, "pass")]
    return [(p["valid_from"], p["valid_to"], p["checked_out_at"]) for p in held]


def _listed(cfg: SiteConfig) -> list[Any]:
    db = open_database(cfg.site.data_dir / "gateway.db").conn
    try:
        return db.execute("SELECT value FROM config_seen WHERE key = ?", (DATED_IN_UTC_47,)).fetchall()
    finally:
        db.close()


def test_a_check_out_queued_before_the_upgrade_goes_up_dated_in_the_sites_offset(
    before_57ed245: OldRelease, tmp_path: Path
) -> None:
    """陈工 was checked out at 07:50 on the 3rd under schema 30, the link down, and the box is
    upgraded. The centre got the pass with checked_out_at 2025-03-02T23:50+00:00 and a centre
    filing by date counted the visit on the 2nd; docs/mqtt.md says a pass's times carry the site's
    offset (+08:00, 07:50 on the 3rd), as the same check-out made after the upgrade does."""
    _morning(before_57ed245, tmp_path)
    gw = Gateway(parking_config(tmp_path / "data"))
    try:
        times = _pass_times(gw)
    finally:
        gw.conn.close()
    assert times[-1] == (
        "2025-03-03T07:20:00+08:00",
        "2025-03-03T18:00:00+08:00",
        "2025-03-03T07:50:00+08:00",
    ), f"pass records an older release queued go up after the upgrade in UTC, not the site's offset: {times}"
    assert times[0] == (*times[-1][:2], None)


def test_materials_queued_before_the_upgrade_go_up_dated_in_the_sites_offset(
    before_57ed245: OldRelease, tmp_path: Path
) -> None:
    """The old cabinet carried out at 07:40 on the 3rd, queued under schema 30: its record's own
    `at` went up as 2025-03-02T23:40 UTC beside the message's 07:40+08:00; docs/mqtt.md says the
    inner `at` is the same moment in the site's offset too (the owner is told of the 3rd)."""
    _morning(before_57ed245, tmp_path)
    gw = Gateway(parking_config(tmp_path / "data"))
    try:
        sent = _waiting(gw, "materials")
    finally:
        gw.conn.close()
    got = [(r["at"], r["record"]["at"]) for r in sent]
    same = [
        datetime.fromisoformat(inner) == datetime.fromisoformat(outer) and inner.endswith("+08:00")
        for outer, inner in got
    ]
    assert got and all(same), (
        f"materials queued under an older release go up after the upgrade with the record's own time in "
        f"UTC: (message at, record at) = {got}"
    )


def test_a_record_set_aside_is_dated_too_and_a_command_upgrading_first_leaves_it_to_the_gateway(
    schema_30: OldRelease, tmp_path: Path
) -> None:
    """The check-out record the broker refused (quarantined: it may be put back in line) is dated as
    those waiting are. `gateway import` (any command) may run the upgrade, knowing no zone: the
    records stay listed until the gateway opens the database with the site's config, which dates
    them once (a second start leaves them, and the list is gone)."""
    before = _morning(schema_30, tmp_path, quarantine=True)
    cfg = parking_config(tmp_path / "data")
    assert _listed(cfg) != []
    for _ in range(2):
        gw = Gateway(cfg)
        try:
            times = _pass_times(gw)
            left = gw.conn.execute("SELECT 1 FROM config_seen WHERE key = ?", (DATED_IN_UTC_47,)).fetchall()
            after = _queued(gw.conn)
        finally:
            gw.conn.close()
        assert times[-1][2] == "2025-03-03T07:50:00+08:00"
        assert left == []
        assert after.keys() == before.keys()


def test_a_site_in_utc_has_its_records_left_as_they_were_queued(
    schema_30: OldRelease, tmp_path: Path
) -> None:
    """A site whose zone is UTC: the old release's times are in the site's offset already."""
    before = _morning(schema_30, tmp_path, utc=True)
    gw = Gateway(parse_config(in_utc(parking_toml(tmp_path / "data")), "site.toml"))
    try:
        assert _times(_queued(gw.conn)) == _times(before)
    finally:
        gw.conn.close()


def test_a_box_at_schema_46_has_its_records_left_as_they_were_queued(
    schema_46: OldRelease, tmp_path: Path
) -> None:
    """Stop 46's release queued the same morning's records in the site's offset: nothing is listed,
    nothing rewritten (but for the `pass_ref` migration 60 gives a queued materials record, null
    for this pass registered at the booth)."""
    before = _morning(schema_46, tmp_path)
    cfg = parking_config(tmp_path / "data")
    assert _listed(cfg) == []
    gw = Gateway(cfg)
    try:
        after = {seq: json.loads(payload) for seq, payload in _queued(gw.conn).items()}
    finally:
        gw.conn.close()
    refs = [r["record"].pop("pass_ref", "absent") for r in after.values() if r["type"] == "materials"]
    assert refs == [None]
    assert after == {seq: json.loads(payload) for seq, payload in before.items()}
