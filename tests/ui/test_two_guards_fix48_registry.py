"""Two guards on two tablets (and an admin on the PC) act on the same lookup rows: a card or slot
deleted meanwhile leaves its id to nobody (schema migration 48), and a card blocked (or unblocked)
already is told 409 already_done, on record once (docs/guard-app.md, *Looking someone up*)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from httpx2 import Response

from gateway.store.database import open_database
from gateway.store.schema import _STRUCK_OFF_REMEMBERED_51
from tests.test_store import database_at
from tests.ui.conftest import ADMIN, GUARD, Site, bearer, log_in

AT = "2025-03-03T01:00:00.000000+00:00"


def _card_of_the_seeded_resident(client: TestClient, headers: dict[str, str]) -> int:
    found = client.get("/api/lookup", params={"q": "张三丰"}, headers=headers)
    assert found.status_code == 200, found.text
    cards = [c["id"] for c in found.json()[0]["credentials"] if c["kind"] == "card"]
    assert len(cards) == 1, found.json()
    return int(cards[0])


def _new_resident(client: TestClient, admin: dict[str, str]) -> int:
    r2 = client.post(
        "/api/residents",
        json={"ref": "R2", "building": "5栋", "unit": "1单元", "name": "李四娘"},
        headers=admin,
    )
    assert r2.status_code == 200, r2.text
    return int(r2.json()["id"])


def _stored(site: Site, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(site.gw.db_path) as conn:
        return conn.execute(sql).fetchall()


def test_block_on_a_stale_lookup_row_does_not_block_another_residents_card(
    site: Site, client: TestClient
) -> None:
    """The guard's lookup page lists 张三丰's card with its 禁用 button; meanwhile the admin deletes
    that card and issues one to another resident. Her card took the freed id, and the guard's 禁用
    blocked it (she was locked out at the door). The card is gone: 404, and nobody's is blocked."""
    admin = bearer(site.admin_token)
    guard = log_in(client, GUARD)
    stale_id = _card_of_the_seeded_resident(client, guard)

    gone = client.delete(f"/api/credentials/{stale_id}", headers=admin)
    assert gone.status_code == 204, gone.text
    card2 = client.post(
        "/api/cards", json={"card": "9F8E7D6C5B", "resident_id": _new_resident(client, admin)}, headers=admin
    )
    assert card2.status_code == 200, card2.text
    assert card2.json()["id"] != stale_id  # her card has an id of its own

    pressed = client.post(f"/api/credentials/{stale_id}/block", json={"reason": "业主报失"}, headers=guard)
    assert pressed.status_code == 404, pressed.text
    assert _stored(site, "SELECT value FROM credentials WHERE blocked = 1") == []


def test_a_slot_deleted_on_a_stale_lookup_row_is_not_another_households(
    site: Site, client: TestClient
) -> None:
    """The same for a slot (its 删除 on the admin's lookup page): deleted on the PC and a slot added
    for another household, the stale 删除 deleted hers."""
    admin = bearer(site.admin_token)
    found = client.get("/api/lookup", params={"q": "张三丰"}, headers=admin).json()
    stale_id = found[0]["slots"][0]["id"]
    assert client.delete(f"/api/slots/{stale_id}", headers=admin).status_code == 204
    hers = client.post(
        "/api/slots",
        json={"zone": "main", "number": "B002", "resident_id": _new_resident(client, admin), "plates": []},
        headers=admin,
    )
    assert hers.status_code == 200, hers.text
    assert hers.json()["id"] != stale_id

    pressed = client.delete(f"/api/slots/{stale_id}", headers=admin)
    assert pressed.status_code == 404, pressed.text
    assert _stored(site, "SELECT zone, number FROM slots") == [("main", "B002")]


def test_a_card_blocked_already_on_another_tablet_is_not_blocked_again_on_record(
    site: Site, client: TestClient
) -> None:
    """Guard A blocks the lost card; guard B, whose lookup page was drawn before, presses 禁用 on the
    same row. He was told 已禁用, and a second credential.block audit row and registry record went to
    the centre. He is told 409 already_done (已由他人处理), and it is on record once."""
    guard = bearer(site.guard_token)
    card_id = _card_of_the_seeded_resident(client, guard)
    first = client.post(f"/api/credentials/{card_id}/block", json={"reason": "业主报失"}, headers=guard)
    assert first.status_code == 200, first.text
    second = client.post(f"/api/credentials/{card_id}/block", json={"reason": "业主报失"}, headers=guard)
    assert (second.status_code, second.json()["error"]["code"]) == (409, "already_done"), second.text
    # Typed at the booth (the block form), the same.
    typed = client.post(
        "/api/credentials/block",
        json={"kind": "card", "value": "0a1b2c3d4e", "reason": "业主报失"},
        headers=guard,
    )
    assert (typed.status_code, typed.json()["error"]["code"]) == (409, "already_done"), typed.text
    assert _stored(site, "SELECT count(*) FROM audit WHERE action = 'credential.block'") == [(1,)]
    assert _blocks_sent(site) == ["block"]


def test_a_card_unblocked_already_is_not_unblocked_again_on_record(site: Site, client: TestClient) -> None:
    """The same for 解除禁用 (admin): a card not blocked (lifted on the PC meanwhile) is already_done."""
    admin = log_in(client, ADMIN)
    card_id = _card_of_the_seeded_resident(client, admin)

    def press(action: str) -> Response:
        return client.post(f"/api/credentials/{card_id}/{action}", json={"reason": "找到了"}, headers=admin)

    never = press("unblock")
    assert (never.status_code, never.json()["error"]["code"]) == (409, "already_done"), never.text
    assert press("block").status_code == 200
    assert press("unblock").status_code == 200
    again = press("unblock")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_done"), again.text
    assert _stored(site, "SELECT count(*) FROM audit WHERE action = 'credential.unblock'") == [(1,)]
    assert _blocks_sent(site) == ["block", "unblock"]


def _blocks_sent(site: Site) -> list[str]:
    sent = _stored(site, "SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq")
    payloads = [json.loads(p) for (p,) in sent]
    return [p["op"] for p in payloads if p["op"] in ("block", "unblock")]


def test_the_upgrade_gives_no_card_or_slot_the_id_of_one_deleted_before_it(tmp_path: Path) -> None:
    """A box upgraded from schema 47: ids below the highest any row, the audit trail or a record for
    the centre names are never given again, the newest deleted ones' included."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 47)
    conn.execute(
        "INSERT INTO residents (id, ref, building, unit, name) VALUES (1, 'R1', '3栋', '2单元', '张')"
    )
    conn.execute("INSERT INTO credentials (id, kind, value, resident_id) VALUES (3, 'card', 'C3', 1)")
    conn.execute("INSERT INTO slots (id, zone, number, resident_id) VALUES (2, 'main', 'B002', 1)")
    # Card 7 deleted (its audit row names it), card 9 added and deleted with the link down (its
    # records wait for the centre); slot 5 deleted, the stays and the log name slot 6. A block's
    # audit row names the card's value (a short card's last four: digits), not its id.
    audited = (("card.delete", "card:7"), ("slot.delete", "slot:5"), ("credential.block", "card:1234"))
    for action, target in audited:
        conn.execute(
            "INSERT INTO audit (at, actor, action, target) VALUES (?, 'a', ?, ?)", (AT, action, target)
        )
    record = json.dumps({"op": "delete", "entity": "card", "id": 9, "value": "****C9"})
    conn.execute(
        "INSERT INTO outbox (event_id, topic, payload, created_at) VALUES ('e9', 'registry', ?, ?)",
        (record, AT),
    )
    conn.execute(
        "INSERT INTO stays (subject, plate, slot_id, entered_at) VALUES ('plate:苏E1', '苏E1', 6, ?)", (AT,)
    )
    shape_before = _shape(conn)
    conn.close()

    db = open_database(path).conn
    # every column, index and trigger as it was; migration 51 makes the struck-off card's trigger
    # anew (it asks for the card's spelling before it too)
    remade = _as_written(_STRUCK_OFF_REMEMBERED_51.rstrip(";"))  # as sqlite_master keeps it
    expected = [(k, n, remade if n == "struck_off_on_foot_remembered" else s) for k, n, s in shape_before]
    assert _shape(db) == expected
    assert db.execute("SELECT fixed FROM zone_slots WHERE zone = 'main'").fetchone() == (1,)
    new_card = "INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, 1)"
    card = db.execute(new_card, ("C10",)).lastrowid
    slot = db.execute("INSERT INTO slots (zone, number) VALUES ('main', 'B007')").lastrowid
    assert (card, slot) == (10, 7)
    db.execute("DELETE FROM credentials WHERE id = 10")  # the newest, deleted: its id is not reused
    assert db.execute(new_card, ("C11",)).lastrowid == 11
    db.execute("DELETE FROM residents WHERE id = 1")  # the foreign keys still cascade
    assert db.execute("SELECT count(*) FROM credentials").fetchone() == (0,)
    assert db.execute("SELECT resident_id FROM slots WHERE id = 2").fetchone() == (None,)


def _shape(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """The credentials' and slots' columns, indexes and triggers, as written (spaces aside), but
    for the id's AUTOINCREMENT and the quotes a rename puts round a table's name."""
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('credentials', 'slots') ORDER BY name"
    ).fetchall()
    return [(kind, name, _as_written(sql or "")) for kind, name, sql in rows]


def _as_written(sql: str) -> str:
    return " ".join(sql.replace(" AUTOINCREMENT", "").replace('"', "").split())
