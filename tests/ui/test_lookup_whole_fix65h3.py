"""Review 65H: every lookup (查询, GET /api/lookup) read the whole register three times (refs,
buildings and units, names and flats) and its plates once more, even for a whole plate, a card or
a phone that the indexes find in one step: 2.2 million SQLite steps and 134-171 ms on an estate of
60,000 residents, growing with the register, for the commonest lookup at the booth.

Counted in SQLite's steps over the request's reads (as tests/ui/test_audit_trail_fix64n.py counts
them), not in time. The seed's resident R1 张三丰 lives at 3栋 / 2单元 / 301, drives 皖A12345,
holds card 0A1B2C3D4E and phone 13912345678 (tests/ui/conftest.py)."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from gateway.store import registry
from tests.ui.conftest import CARD, PHONE, PLATE, Site, bearer
from tests.ui.test_audit_trail_fix64n import counted

SMALL, BIG = 2_000, 20_000
WHOLE = [PLATE, "皖AI2345", CARD, "0a1b 2c3d 4e", PHONE, "+86 139 1234 5678"]


def _estate(site: Site, residents: int) -> None:
    """`residents` more residents, two to a flat of twelve buildings of four units."""

    def run(conn: sqlite3.Connection) -> None:
        rows = [
            (f"X{i}", f"{i % 12 + 1}栋", f"{i // 12 % 4 + 1}单元", f"{i // 96 % 30 + 101}", f"王{i}")
            for i in range(residents)
        ]
        conn.execute("BEGIN")
        conn.execute("DELETE FROM residents WHERE ref LIKE 'X%'")
        conn.executemany(
            "INSERT INTO residents (ref, building, unit, room, name) VALUES (?, ?, ?, ?, ?)", rows
        )
        conn.execute("COMMIT")

    site.gw.on_worker(run).result(timeout=60)


def _lookup(client: TestClient, site: Site, q: str) -> tuple[list[str], str]:
    r = client.get("/api/lookup", params={"q": q}, headers=bearer(site.guard_token))
    assert r.status_code == 200, r.text
    return [x["ref"] for x in r.json()], r.headers["X-Total-Count"]


def test_a_whole_plate_card_or_phone_costs_the_same_however_large_the_register(
    client: TestClient, site: Site
) -> None:
    steps: dict[str, list[int]] = {q: [] for q in WHOLE}
    for residents in (SMALL, BIG):
        _estate(site, residents)
        for q in WHOLE:
            with counted(client, site.gw) as each:
                assert _lookup(client, site, q) == (["R1"], "1"), q
            steps[q].append(sum(each))
    grown = {q: tuple(n) for q, n in steps.items() if n[1] >= 2 * n[0]}
    assert not grown, (
        f"SQLite steps of a lookup on a register of {SMALL} and of {BIG} residents: {grown}: "
        "the lookup reads the whole register for what an index finds"
    )


def _add(site: Site, ref: str, room: str, name: str, card: str) -> None:
    def run(conn: sqlite3.Connection) -> None:
        now = site.gw.now()
        person = {"ref": ref, "building": "5栋", "unit": "1单元", "room": room, "name": name}
        rid = registry.upsert_resident(conn, site.gw.secrets, now, "test", person)
        registry.add_card(conn, now, "test", card, rid, None, None, None, "")

    site.gw.on_worker(run).result(timeout=30)


@pytest.mark.parametrize("q", ["1201", "AD12345"])
def test_a_short_card_number_is_still_a_piece_of_names_flats_and_plates(
    client: TestClient, site: Site, q: str
) -> None:
    """A line reader's card numbered 1201 (or AD12345): typed, it lists its holder, then the flats
    1201 (or the green car 皖AD12345) as before, a room or a piece of a plate being what a guard
    types more often than such a card."""
    _add(site, "C1", "501", "赵一", q)
    _add(site, "F1", "1201", "钱二", "0000000001")

    def run(conn: sqlite3.Connection) -> None:
        rid = registry.upsert_resident(
            conn,
            site.gw.secrets,
            site.gw.now(),
            "test",
            {"ref": "G1", "building": "6栋", "unit": "1单元", "room": "1", "name": "孙三"},
        )
        registry.add_vehicle(conn, site.gw.now(), "test", "皖AD12345", rid, "car", None)

    site.gw.on_worker(run).result(timeout=30)
    assert _lookup(client, site, q) == (["C1", "F1" if q == "1201" else "G1"], "2")
