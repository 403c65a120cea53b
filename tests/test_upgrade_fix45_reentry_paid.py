"""A car re-entered under the release of two sessions ago (schema 35) after a booth payment that
covered a carried charge, its data directory then upgraded (schema migration 40 repairs it)."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.database import date_in_site_zone, open_database
from tests.old_release import OldRelease, old_release
from tests.parking.conftest import T0, parking_config, show
from tests.test_store import database_at

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"

# Under e7a463d: 苏E12345 in at 09:00, its exit missed, in again at 12:00 (9元 carried); at 13:00
# the booth takes the 14元 its quote asks (the 12:00 stay's 5元 and the 9元 carried); it leaves
# unseen and comes in again at 15:00 (the 12:00 stay's 9元 carried, 5元 of it paid).
OLD_DAY = """
from datetime import timedelta
from pathlib import Path
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config, seed, show
H = timedelta(hours=1)
data = Path(site) / "data"
cfg = parking_config(data, reentry="charge")
seed(cfg, Path(site))
gw = Gateway(cfg)
show(gw, "car-in", "苏E12345", T0)
show(gw, "car-in", "苏E12345", T0 + 3 * H)
q = gw.parking.quote(gw.conn, "苏E12345", T0 + 4 * H)
with gw.conn:
    gw.parking.prepay(gw.conn, "苏E12345", q["due_fen"], "cash", "", "booth", T0 + 4 * H)
back = show(gw, "car-in", "苏E12345", T0 + 6 * H)
after = gw.parking.quote(gw.conn, "苏E12345", T0 + 6 * H + 5 * 60 * timedelta(seconds=1))
gw.conn.close()
result = {"asked_at_13": q["due_fen"], "admitted": back.admitted, "due_after": after["due_fen"]}
"""


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory)


def test_what_the_booth_asked_after_an_old_reentry_once_paid_is_not_asked_again(
    old: OldRelease, tmp_path: Path
) -> None:
    """Before the upgrade a car paid 14元 at the booth (9元 carried + 5元), left unseen and came in
    again; after the upgrade the booth asks the 4元 still owed, the driver pays it, the stay is
    closed by hand and next day the car leaves within its free 30 minutes. Held at the barrier for
    4元 again, where the old payment's 9元 for the carried charge was not known to this code: the
    barrier opens, nothing owed."""
    assert old.run(OLD_DAY, site=str(tmp_path)) == {"asked_at_13": 1400, "admitted": True, "due_after": 400}
    gw = Gateway(parking_config(tmp_path / "data", reentry="charge"))
    try:
        quote = gw.parking.quote(gw.conn, CAR, T0 + 6 * H + 5 * M)
        assert quote["due_fen"] == 400, quote
        with gw.conn:
            gw.parking.prepay(gw.conn, CAR, 400, "qr", "WX-2", "booth", T0 + 6 * H + 5 * M)
        stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
        with gw.conn:
            gw.parking.close_stay(gw.conn, stay, "exit camera down", "admin1", T0 + 6 * H + 10 * M)
        next_day = T0 + 24 * H
        show(gw, "car-in", CAR, next_day)
        out = show(gw, "car-out", CAR, next_day + 10 * M)
        assert (out.admitted, out.fee_fen) == (True, 0), (
            f"asked {out.fee_fen} fen again ({out.reason}) for charges paid at the booth before "
            "and after the upgrade"
        )
    finally:
        gw.conn.close()


def _charge_records(conn: sqlite3.Connection) -> list[dict[str, object]]:
    """The `charge` records queued since the old release's, as the centre gets them."""
    rows = conn.execute(
        "SELECT payload FROM outbox WHERE topic = 'charge' AND json_type(payload, '$.change') IS NOT NULL "
        "ORDER BY seq"
    )
    return [json.loads(payload) for (payload,) in rows]


def test_the_centre_hears_the_carried_charge_settled_and_the_reentry_charge_mended(
    old: OldRelease, tmp_path: Path
) -> None:
    """The old release sent the 09:00-12:00 charge owing 9元 and the 12:00-15:00 one owing -5元
    (14元 paid against 9元). After the upgrade the centre hears the first settled at the 15:00
    entry, in the site's offset, and the second owing the 4元 the booth asks: what it totals as
    owed is what the booth asks, not 9元 for a charge paid long ago once the second is paid."""
    old.run(OLD_DAY, site=str(tmp_path))
    gw = Gateway(parking_config(tmp_path / "data", reentry="charge"))
    try:
        reentry = gw.conn.execute("SELECT event_id FROM charges WHERE id = 2").fetchone()[0]
        got = [
            (r["change"], r["charge_id"], r["amount_fen"], r["paid_fen"], r["owed_fen"], r["settled"])
            for r in _charge_records(gw.conn)
        ]
        assert got == [("settled", 1, 900, 0, 900, True), ("repaired", 2, 900, 500, 400, False)]
        assert {(r["at"], r["access_event_id"]) for r in _charge_records(gw.conn)} == {
            ("2025-03-03T15:00:00+08:00", reentry)
        }
        audited = gw.conn.execute("SELECT actor, target, detail FROM audit WHERE action = 'charge.repair'")
        assert [(actor, target, json.loads(detail)["settled"]) for actor, target, detail in audited] == [
            ("gateway", "charge:2", [1])
        ]
        assert gw.parking.quote(gw.conn, CAR, T0 + 6 * H + 5 * M)["due_fen"] == 400
    finally:
        gw.conn.close()


def _charge(
    conn: sqlite3.Connection, charge_id: int, plate: str, amount_fen: int, at: str, event: str
) -> None:
    conn.execute(
        "INSERT INTO charges (id, subject, plate, class, billing, kind, tariff_version, ended_at, "
        "amount_fen, event_id, at) VALUES (?, ?, ?, 'car', 'temporary', 'reentry', 't1', ?, ?, ?, ?)",
        (charge_id, f"plate:{plate}", plate, at, amount_fen, event, at),
    )


def _paid(conn: sqlite3.Connection, payment_id: int, amount_fen: int, at: str, charge_id: int) -> None:
    conn.execute(
        "INSERT INTO payments (id, subject, plate, at, fee_until, amount_fen, method, receipt, actor, "
        "charge_id, linked_at) VALUES (?, 'plate:苏E12345', '苏E12345', ?, ?, ?, 'cash', ?, 'booth', ?, ?)",
        (payment_id, at, at, amount_fen, f"R{payment_id}", charge_id, at),
    )


def test_reentries_mended_one_after_the_other_pay_what_the_earlier_one_left_owed(tmp_path: Path) -> None:
    """Three missed exits under the old release: 9元 carried from 12:00; 14元 paid at 13:00 and
    the 15:00 entry's 9元 charge owing -5元; 13元 paid at 16:00 (the 9元, the -5元 and 9元 of the
    car's own) and the 17:00 entry's 5元 charge owing -8元. Mended oldest first: the 15:00 charge
    settles the 9元 and then owes 4元, which the 17:00 one's payment settles; that one keeps the 9元
    left of its payment (no refund), owing nothing. Another car's charge owed is left alone. The
    records are dated at each re-entry charge's time, given the site's offset as the gateway opens
    the database with its config (the migration queues them in UTC: SQL knows no site zone)."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 35)  # as the release of two sessions ago left it
    _charge(conn, 1, "苏E12345", 900, "2025-03-03T04:00:00.000000+00:00", "e-12")
    _charge(conn, 2, "苏E12345", 900, "2025-03-03T07:00:00.000000+00:00", "e-15")
    _charge(conn, 3, "苏E12345", 500, "2025-03-03T09:00:00.000000+00:00", "e-17")
    _charge(conn, 4, "苏E99999", 700, "2025-03-03T03:00:00.000000+00:00", "e-11")
    _paid(conn, 1, 1400, "2025-03-03T05:00:00.000000+00:00", 2)
    _paid(conn, 2, 1300, "2025-03-03T08:00:00.000000+00:00", 3)
    conn.execute(  # the 15:00 entry's record, still queued: its time in the site's offset
        "INSERT INTO outbox (event_id, topic, payload, created_at) VALUES ('e-15', 'access', ?, ?)",
        (json.dumps({"at": "2025-03-03T15:00:00+08:00"}), "2025-03-03T07:00:00.000000+00:00"),
    )
    conn.close()
    db = open_database(path).conn
    date_in_site_zone(db, ZoneInfo("Asia/Shanghai"))  # as the gateway does, opening it
    try:
        charges = db.execute("SELECT id, amount_fen, settled_at FROM charges ORDER BY id").fetchall()
        assert charges == [
            (1, 900, "2025-03-03T07:00:00.000000+00:00"),
            (2, 900, "2025-03-03T09:00:00.000000+00:00"),
            (3, 900, None),
            (4, 700, None),
        ]
        carried = db.execute("SELECT id, carried_fen FROM payments ORDER BY id").fetchall()
        assert carried == [(1, 900), (2, 400)]
        got = [
            (r["change"], r["charge_id"], r["amount_fen"], r["paid_fen"], r["owed_fen"])
            + (r["at"], r["access_event_id"])
            for r in _charge_records(db)
        ]
        assert got == [
            ("settled", 1, 900, 0, 900, "2025-03-03T15:00:00+08:00", "e-15"),
            ("repaired", 2, 900, 500, 400, "2025-03-03T15:00:00+08:00", "e-15"),
            ("settled", 2, 900, 500, 400, "2025-03-03T17:00:00+08:00", "e-17"),
            ("repaired", 3, 900, 900, 0, "2025-03-03T17:00:00+08:00", "e-17"),
        ]
        ids = db.execute("SELECT event_id FROM outbox WHERE topic = 'charge'").fetchall()
        assert all(len(event_id) == 36 and event_id[14] == "7" for (event_id,) in ids), ids
    finally:
        db.close()
