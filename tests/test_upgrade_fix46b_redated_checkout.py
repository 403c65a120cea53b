"""Migration 46 against a check-out that the release before the last session's (da79715) re-dated
when NTP set the stale clock the box booted on: the pass's check-out moved, where she was last seen
did not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.database import open_database
from tests.old_release import OldRelease
from tests.parking.conftest import T0, parking_config
from tests.test_store import database_at
from tests.test_upgrade_fix46_checked_out_visitor import DOOR_OUT, old  # noqa: F401  (fixture)

M = timedelta(minutes=1)

# Under da79715, on a box booted on fake-hwclock's stale clock (3 days behind, after a power cut):
# 王五 is registered and walks in through the door at 09:02, the guard checks her out at the booth at
# 09:58 (the clock says Friday); at 10:00 NTP sets the clock and the old release re-dates this boot's
# rows (its operations thread). The box is then upgraded; she walks out through the exit door at 10:05.
OLD_REDATED = """
from datetime import timedelta
from pathlib import Path
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, check_out, create_pass
from tests.parking.conftest import T0, parking_config, seed
from tests.parking.test_operations import Steady, a_new_boot, ops
M = timedelta(minutes=1)
STALE = T0 - timedelta(days=3)  # the box boots at the true Monday 09:00 saying Friday 09:00
cfg = parking_config(Path(site) / "data", extra=door_out)
seed(cfg, Path(site))
gw = Gateway(cfg)
a_new_boot(gw)
steady = Steady()
o = ops(gw, started=STALE, steady=steady)
o.tick(STALE)
visit = NewPass("visitor", "王五", STALE + M, STALE + 240 * M, host_building="3栋", host_unit="2单元")
pid = create_pass(gw.conn, gw.secrets, visit, STALE + M, "guard1")
qr = gw.conn.execute("SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,)).fetchone()[0]
steady.s = 2 * 60
came = gw.handle(Presented("door", "qr", qr, 1.0, STALE + 2 * M, "door-qr"))
steady.s = 58 * 60
check_out(gw.conn, pid, STALE + 58 * M, "guard1")  # at the booth, on the stale clock
steady.s = 60 * 60
o.tick(T0 + 60 * M)  # NTP sets the clock: the old release re-dates this boot's rows
steady.s = 61 * 60
o.tick(T0 + 61 * M)
out, = gw.conn.execute("SELECT checked_out_at FROM passes WHERE id = ?", (pid,)).fetchone()
who = f"visitor:{pid}"
seen = gw.conn.execute("SELECT inside, lane, at FROM presence WHERE subject = ?", (who,)).fetchone()
gw.conn.close()
result = {"qr": qr, "came_in": [came.admitted, came.reason], "checked_out_at": out, "presence": list(seen)}
"""


def test_a_visitor_checked_out_on_the_stale_clock_before_the_upgrade_walks_out_without_no_entry_record(
    old: OldRelease,  # noqa: F811
    tmp_path: Path,
) -> None:
    """王五 was checked out at the booth while inside, under the previous release, on the stale boot
    clock that NTP then set (the old release moved her pass's check-out 3 days on, not where she was
    last seen). After the upgrade she scans her QR at the exit door: her exit was flagged 无入场记录
    (no_entry_record), where migration 46 should have marked her checked out, a plain exit."""
    got = old.run(OLD_REDATED, site=str(tmp_path), door_out=DOOR_OUT)
    assert got["came_in"] == [True, "visitor"], got
    assert got["presence"][0] == 0, got  # the check-out took her out of the people inside
    assert got["presence"][2] != got["checked_out_at"], got  # re-dated: the pass's, not presence.at
    gw = Gateway(parking_config(tmp_path / "data", extra=DOOR_OUT))
    try:
        left = gw.handle(Presented("door-out", "qr", got["qr"], 1.0, T0 + 65 * M, "door-out-qr"))
        seen = (left.admitted, left.reason, left.flags)
    finally:
        gw.conn.close()
    assert seen == (True, "visitor", ()), (
        f"王五, checked out at the booth before the upgrade (re-dated by NTP), walks out after it: {seen}; "
        f"the old release left checked_out_at {got['checked_out_at']}, presence {got['presence']}"
    )


def test_a_check_out_is_found_by_its_audit_row_when_the_pass_was_re_dated(tmp_path: Path) -> None:
    """Where the pass's check-out was re-dated, its audit row (never re-dated) says when she was
    taken out; one who walked out through a door, one still inside, one whose audit row names
    another pass or another action keep where they were last seen."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 37)  # as the release before the last session's left it
    came, out = "2025-02-28T01:00:00.000000+00:00", "2025-02-28T01:58:00.000000+00:00"
    redated = "2025-03-03T01:58:00.000000+00:00"  # the pass's check-out, moved 3 days on by NTP
    walked = "2025-02-28T01:30:00.000000+00:00"
    for pass_id, kind in ((1, "visitor"), (2, "contractor"), (3, "visitor"), (4, "visitor"), (5, "visitor")):
        conn.execute(
            "INSERT INTO passes (id, kind, name, valid_from, valid_to, created_at, checked_out_at) "
            "VALUES (?, ?, '王五', ?, ?, ?, ?)",
            (pass_id, kind, came, redated, came, redated),
        )
    conn.executemany(
        "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, 'guard1', ?, ?, '王*')",
        [
            (out, "visitor.check_out", "pass:1"),
            (out, "contractor.check_out", "pass:2"),
            (out, "visitor.check_out", "pass:3"),
            (out, "visitor.check_out", "pass:4"),
            (out, "visitor.renew", "pass:5"),  # not a check-out
        ],
    )
    conn.executemany(
        "INSERT INTO presence (subject, inside, lane, at) VALUES (?, ?, ?, ?)",
        [
            ("visitor:1", 0, "door", out),  # checked out at the booth while inside
            ("contractor:2", 0, "door", out),  # the same, a contractor
            ("visitor:3", 0, "door-out", walked),  # walked out through the door, then checked out
            ("visitor:4", 1, "door", out),  # inside again (an older gateway let her in)
            ("visitor:5", 0, "door", out),
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
        "visitor:5": "door",
    }, got
