"""Ids the centre keys records by survive a new stream (docs/mqtt.md, *Streams*: each gateway id
comes with the stream it was made in). Review 64B faults 1 and 2.

README's going back (the older copy put back; also a power cut with storage.sync = "normal", or
outbox-stream.json lost) starts a `restored_database` stream. A payment taken before it and
corrected after it must still name the payment the centre has; and the copy hands out again the
charge and stay ids the lost database gave other cars, which must not name those cars' charges."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from centre_helpers import H, _broker_and_centre, _seeded_site
from fastapi.testclient import TestClient
from sync_helpers import Subscriber, wait_for

from gateway.api.app import create_app
from gateway.config import SiteConfig
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store import schema
from gateway.store.accounts import create_account, create_token, find_account
from gateway.store.shifts import hand_over
from gateway.sync.service import SyncService
from tests.parking.conftest import T0


class Run:
    """One start of the gateway on the site's data directory, until stop()."""

    n = 0

    def __init__(self, cfg: SiteConfig, sub: Subscriber, now: datetime) -> None:
        Run.n += 1
        self.gw = Gateway(cfg)
        self.svc = SyncService(self.gw)
        self.sub = sub
        self.now = now
        self.gw.now = lambda: self.now  # type: ignore[method-assign]
        self.gw.start()
        self.svc.start()
        self.client = TestClient(create_app(self.gw, self.svc))
        _, token = self.gw.on_worker(
            lambda c: create_token(c, self.now, "test", f"booth{Run.n}", "admin", None)
        ).result()
        if find_account(self.gw.conn, "guard1") is None:  # the kiosk takes the fees for him
            self.gw.on_worker(
                lambda c: create_account(c, self.now, "test", "guard1", "王师傅", "guard", "not-a-hash")
            ).result()
        self.auth = {"Authorization": f"Bearer {token}"}

    def look(self, lane: str, plate: str, at: datetime) -> None:
        self.now = at
        p = Presented(lane, "plate", plate, 0.97, at, f"{lane}-camera")
        self.gw.on_worker(lambda _: self.gw.handle(p)).result(10)

    def visit(self, plate: str, at: datetime, method: str) -> str:
        """The car in at `at`, out two hours later paying its fee at the lane: its receipt."""
        self.look("car-in", plate, at)
        return self.leave(plate, at + 2 * H, method)

    def leave(self, plate: str, at: datetime, method: str) -> str:
        """The car held at car-out at `at`, paying its fee there: its receipt."""
        self.look("car-out", plate, at)
        due = self.gw.on_worker(lambda c: self.gw.parking.quote(c, plate, at)["due_fen"]).result(10)
        r = self.client.post(
            "/api/parking/lanes/car-out/pay",
            headers=self.auth,
            json={"plate": plate, "amount_fen": due, "method": method, "actor": "guard1"},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["receipt"])

    def stop(self) -> None:
        with sqlite3.connect(self.gw.db_path) as conn:
            ids = {r[0] for r in conn.execute("SELECT event_id FROM outbox WHERE quarantined IS NULL")}
        got = self.sub.payloads
        wait_for("every record at the centre", lambda: ids <= {m.get("event_id") for m in got()}, 30)
        self.svc.stop()
        self.gw.stop()
        self.gw.conn.close()


def _records(sub: Subscriber) -> list[dict[str, Any]]:
    """What the centre files: each event_id once, in the order received."""
    seen: dict[str, dict[str, Any]] = {}
    for m in sub.payloads():
        if "event_id" in m and "seq" in m:
            seen.setdefault(m["event_id"], m)
    return list(seen.values())


def _going_back(db: Path, copy: Path) -> None:
    """README, going back: gateway.db* moved aside, the copy put back, outbox-stream.json left."""
    for f in db.parent.glob("gateway.db*"):
        f.unlink()
    for f in copy.iterdir():
        shutil.copy2(f, db.parent / f.name)


def _copy(db: Path, to: Path) -> Path:
    to.mkdir()
    for f in db.parent.glob("gateway.db*"):
        shutil.copy2(f, to / f.name)
    return to


def test_a_payment_corrected_after_going_back_is_the_payment_the_centre_has(tmp_path: Path) -> None:
    """苏E00001 pays 7元 at 11:00, the guard taps QR by mistake; a copy of the database is made;
    苏E00002 pays (in the database later replaced); the copy is put back, 苏E00003 pays, and at
    18:00 an admin corrects 苏E00001's payment to cash and the guard hands over. The centre keys
    payments by site, receipt_stream and receipt, the newest record holding: 苏E00001's receipt is
    cash, and each receipt the handover names is a payment the centre has."""
    broker, sub = _broker_and_centre(tmp_path)
    try:
        cfg = _seeded_site(tmp_path, broker, {})
        db = Path(cfg.site.data_dir) / "gateway.db"
        first = Run(cfg, sub, T0)
        r1 = first.visit("苏E00001", T0, "qr")
        first.stop()
        copy = _copy(db, tmp_path / "copy")
        second = Run(cfg, sub, T0 + 3 * H)
        second.visit("苏E00002", T0 + 3 * H, "cash")
        second.stop()
        _going_back(db, copy)
        third = Run(cfg, sub, T0 + 6 * H)
        r3 = third.visit("苏E00003", T0 + 6 * H, "cash")
        third.now = T0 + 9 * H
        r = third.client.post(
            f"/api/payments/{r1}/method", headers=third.auth, json={"method": "cash", "reason": "付的现金"}
        )
        assert r.status_code == 200, r.text
        third.gw.on_worker(lambda c: hand_over(c, "guard1", T0 + 9 * H, 1400, "", third.gw.site.tz)).result()
        third.stop()

        records = _records(sub)
        started = {m["reason"]: m["stream"] for m in records if m["type"] == "outbox_started"}
        assert set(started) == {"new_database", "restored_database"}, started
        payments: dict[tuple[str, str, str], dict[str, Any]] = {}
        for m in records:
            if m["type"] == "payment":
                payments[(m["site"], m["receipt_stream"], m["receipt"])] = m
        taken = next(m for m in records if m["type"] == "payment" and m["receipt"] == r1)
        assert taken["receipt_stream"] == taken["stream"] == started["new_database"]
        held = payments[(taken["site"], taken["receipt_stream"], r1)]
        assert (held["method"], held.get("change")) == ("cash", "method_corrected"), (
            f"keyed by site, receipt_stream and receipt, receipt {r1} is booked as {held['method']}: "
            f"its correction named stream {held['receipt_stream']}"
        )
        assert len([k for k in payments if k[2] == r1]) == 1, "the correction named a payment of its own"

        (handover,) = [m for m in records if m["type"] == "shift_handover"]
        named = list(zip(handover["receipt_streams"], handover["receipts"], strict=True))
        assert named == [(started["new_database"], r1), (started["restored_database"], r3)]
        assert all((taken["site"], s, receipt) in payments for s, receipt in named)
    finally:
        sub.close()
        broker.stop()


def test_a_charge_id_names_one_charge_after_going_back(tmp_path: Path) -> None:
    """苏E00001 pays and leaves, 苏E00004 comes in; a copy is made; 苏E00002 pays and leaves in
    the database later replaced (charge 2); the copy put back, 苏E00003 pays and leaves (charge 2
    of the copy) and 苏E00004 leaves. Keyed by (charge_stream, charge_id) each charge is one car's,
    keyed by (stay_stream, stay_id) each stay too; 苏E00004's stay is the one made before the copy."""
    broker, sub = _broker_and_centre(tmp_path)
    try:
        cfg = _seeded_site(tmp_path, broker, {})
        db = Path(cfg.site.data_dir) / "gateway.db"
        first = Run(cfg, sub, T0)
        first.visit("苏E00001", T0, "cash")
        first.look("car-in", "苏E00004", T0 + 2 * H)
        first.stop()
        copy = _copy(db, tmp_path / "copy")
        second = Run(cfg, sub, T0 + 3 * H)
        second.visit("苏E00002", T0 + 3 * H, "cash")
        second.stop()
        _going_back(db, copy)
        third = Run(cfg, sub, T0 + 6 * H)
        third.visit("苏E00003", T0 + 6 * H, "cash")
        third.leave("苏E00004", T0 + 9 * H, "cash")
        third.stop()

        records = _records(sub)
        started = {m["reason"]: m["stream"] for m in records if m["type"] == "outbox_started"}
        charges: dict[tuple[str, int], set[str]] = {}
        stays: dict[tuple[str, int], set[str]] = {}
        for m in records:
            if m["type"] == "charge":
                charges.setdefault((m["charge_stream"], m["charge_id"]), set()).add(m["plate"])
                stays.setdefault((m["stay_stream"], m["stay_id"]), set()).add(m["plate"])
        assert len(charges) == 4 and all(len(v) == 1 for v in charges.values()), charges
        assert len(stays) == 4 and all(len(v) == 1 for v in stays.values()), stays
        (left,) = [m for m in records if m["type"] == "charge" and m["plate"] == "苏E00004"]
        assert (left["stream"], left["charge_stream"]) == (started["restored_database"],) * 2
        assert left["stay_stream"] == started["new_database"], "苏E00004 came in before the copy was made"
    finally:
        sub.close()
        broker.stop()


def test_rows_made_before_the_upgrade_name_the_stream_they_were_made_in(tmp_path: Path) -> None:
    """A payment taken under the release before this one (no id_stream), the box upgraded, a copy
    made, then put back: corrected after, the payment names the stream it was taken in, as the
    record that took it did (the record's own `stream`), not the copy's new one."""
    broker, sub = _broker_and_centre(tmp_path)
    try:
        cfg = _seeded_site(tmp_path, broker, {})
        db = Path(cfg.site.data_dir) / "gateway.db"
        first = Run(cfg, sub, T0)
        r1 = first.visit("苏E00001", T0, "qr")
        first.stop()
        with sqlite3.connect(db) as conn:  # the release before: no id_stream; then the step runs
            for sql in _BEFORE_ID_STREAMS:
                conn.execute(sql)
            conn.executescript(schema.MIGRATIONS[_ID_STREAM_STEP])
        copy = _copy(db, tmp_path / "copy")
        second = Run(cfg, sub, T0 + 3 * H)
        second.visit("苏E00002", T0 + 3 * H, "cash")
        second.stop()
        _going_back(db, copy)
        third = Run(cfg, sub, T0 + 6 * H)
        r = third.client.post(
            f"/api/payments/{r1}/method", headers=third.auth, json={"method": "cash", "reason": "付的现金"}
        )
        assert r.status_code == 200, r.text
        third.stop()
        taken, again = [m for m in _records(sub) if m["type"] == "payment" and m["receipt"] == r1]
        assert again["change"] == "method_corrected" and again["stream"] != taken["stream"]
        assert again["receipt_stream"] == taken["stream"]
    finally:
        sub.close()
        broker.stop()


_ID_STREAM_STEP = 65  # schema migration 66, at its index
_TABLES = ("payments", "charges", "stays", "passes", "materials_out")
# What that step adds: the release before it had none of it.
_BEFORE_ID_STREAMS = (
    *(f"DROP TRIGGER {t}_id_stream" for t in _TABLES),
    *(f"ALTER TABLE {t} DROP COLUMN id_stream" for t in _TABLES),
)
