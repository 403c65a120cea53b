"""A visitor checked out at the booth under the release before the last session's (da79715,
schema 37), who walks out through the exit door after the upgrade."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.database import open_database
from tests.old_release import PREVIOUS_RELEASE, OldRelease, old_release
from tests.parking.conftest import DOOR_OUT, T0, parking_config
from tests.test_store import database_at

M = timedelta(minutes=1)

# Under da79715: 王五 walks in through the door on her pass's QR at 09:00; the guard checks her out
# at the booth at 09:58 as she leaves. The box is upgraded at 09:59.
OLD_CHECKED_OUT = """
from datetime import timedelta
from pathlib import Path
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, check_out, create_pass
from tests.parking.conftest import T0, parking_config, seed
M = timedelta(minutes=1)
cfg = parking_config(Path(site) / "data", extra=door_out)
seed(cfg, Path(site))
gw = Gateway(cfg)
visit = NewPass("visitor", "王五", T0 - M, T0 + 240 * M, host_building="3栋", host_unit="2单元")
pid = create_pass(gw.conn, gw.secrets, visit, T0 - M, "guard1")
qr = gw.conn.execute("SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,)).fetchone()[0]
came = gw.handle(Presented("door", "qr", qr, 1.0, T0, "door-qr"))
check_out(gw.conn, pid, T0 + 58 * M, "guard1")
gw.conn.close()
result = {"qr": qr, "came_in": [came.admitted, came.reason]}
"""


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, PREVIOUS_RELEASE)


def test_a_visitor_checked_out_before_the_upgrade_walks_out_without_no_entry_record(
    old: OldRelease, tmp_path: Path
) -> None:
    """王五 came in through the door at 09:00 and was checked out at the booth at 09:58 under the
    previous release; the box is upgraded and at 10:01 she scans her QR at the exit door. Her exit
    was recorded 无入场记录 (no_entry_record: flagged on the panel, upstream and in the report),
    though her entry is on record: docs/parking.md says such an exit is a plain exit, as it is for
    a visitor checked out after the upgrade."""
    got = old.run(OLD_CHECKED_OUT, site=str(tmp_path), door_out=DOOR_OUT)
    assert got["came_in"] == [True, "visitor"], got
    gw = Gateway(parking_config(tmp_path / "data", extra=DOOR_OUT))
    try:
        left = gw.handle(Presented("door-out", "qr", got["qr"], 1.0, T0 + 61 * M, "door-out-qr"))
        seen = (left.admitted, left.reason, left.flags)
    finally:
        gw.conn.close()
    assert seen == (True, "visitor", ()), (
        f"王五, checked out at the booth before the upgrade, walks out after it: {seen} "
        "(her 09:00 entry is on record; this is no missed entry read)"
    )


def test_only_those_checked_out_while_inside_are_marked_checked_out(tmp_path: Path) -> None:
    """Out since the moment her pass was checked out is what the older check-out wrote; one who
    walked out through a door before her check-out, one still inside, a resident gone out and a
    visitor not checked out keep where they were last seen."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 37)  # as the release before the last session's left it
    came, out = "2025-03-03T01:00:00.000000+00:00", "2025-03-03T01:58:00.000000+00:00"
    walked = "2025-03-03T01:30:00.000000+00:00"
    for pass_id, kind, checked_out in (
        (1, "visitor", out),
        (2, "contractor", out),
        (3, "visitor", out),
        (4, "visitor", out),
        (5, "visitor", None),
    ):
        conn.execute(
            "INSERT INTO passes (id, kind, name, valid_from, valid_to, created_at, checked_out_at) "
            "VALUES (?, ?, '王五', ?, ?, ?, ?)",
            (pass_id, kind, came, out, came, checked_out),
        )
    conn.executemany(
        "INSERT INTO presence (subject, inside, lane, at) VALUES (?, ?, ?, ?)",
        [
            ("visitor:1", 0, "door", out),  # checked out at the booth while inside
            ("contractor:2", 0, "door", out),  # the same, a contractor
            ("visitor:3", 0, "door-out", walked),  # walked out through the door, then checked out
            ("visitor:4", 1, "door", came),  # came in again after her check-out (an older gateway)
            ("visitor:5", 0, "door-out", out),  # not checked out
            ("resident:1", 0, "door-out", out),
        ],
    )
    conn.close()
    db = open_database(path).conn
    try:
        got = dict(db.execute("SELECT subject, lane FROM presence").fetchall())
    finally:
        db.close()
    assert got == {
        "visitor:1": "(checked out)",
        "contractor:2": "(checked out)",
        "visitor:3": "door-out",
        "visitor:4": "door",
        "visitor:5": "door-out",
        "resident:1": "door-out",
    }, got
