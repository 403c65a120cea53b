"""REQUIREMENTS 10: materials leaving on a renovation crew's pass that the centre issued (found and
proved by reviewer 60b).

The property office issues the crew's pass (装修出入证) through the centre, which sends it down as a
`pass` entry with its own `ref`. A pass the centre sent never goes up as `created`; the gateway's
row id of it reaches the centre only in a `checked_out` record, and a crew's pass usually just runs
out, never checked out. A `materials` record that named the pass by the gateway's `pass_id` alone
named a pass the centre had never heard of: the office could not tell on which of its renovation
permits the old cabinets left. It carries `pass_ref` now, as the block record does (docs/mqtt.md)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from centre_helpers import Uplink

from gateway.store.database import open_database
from gateway.store.materials import record_materials_out
from gateway.store.passes import NewPass, create_pass
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta
from tests.test_store import database_at

H = timedelta(hours=1)
REF = "RENO-2025-0042"
CREW = {
    "kind": "pass",
    "ref": REF,
    "pass_kind": "contractor",
    "name": "赵师傅",
    "company": "好家装饰",
    "host_building": "3栋",
    "host_unit": "2单元",
    "valid_from": T0.isoformat(),
    "valid_to": (T0 + timedelta(days=30)).isoformat(),
    "credentials": [{"kind": "qr", "value": "CQR-RENO-0042-abcdef"}],
}


def test_materials_on_a_central_crew_pass_name_the_pass_as_the_centre_knows_it(tmp_path: Path) -> None:
    """赵师傅's crew carries an old cabinet out on the centre's RENO-2025-0042, and a mover carries a
    sofa out on a pass the guard registered at the booth: the first names the centre's ref, the
    second `null` (the centre knows it by the `id` of its `created` record)."""
    up = Uplink(tmp_path)
    gw = up.gw
    try:
        delta(gw, 1, 0, T0, upsert=[CREW])
        (central,) = gw.conn.execute("SELECT id FROM passes WHERE ref = ?", (REF,)).fetchone()
        mover = NewPass("contractor", "钱师傅", T0, T0 + 8 * H, host_building="3栋", host_unit="2单元")
        booth = create_pass(gw.conn, gw.secrets, mover, T0, "guard1")
        record_materials_out(gw.conn, T0 + H, "guard1", items="旧橱柜 1 套", pass_id=central)
        record_materials_out(gw.conn, T0 + H, "guard1", items="旧沙发 1 张", pass_id=booth)
        records = up.deliver(T0 + 2 * H)
    finally:
        up.close()
    sent = [r["record"] for r in records if r["type"] == "materials"]
    created = [r["pass"]["id"] for r in records if r["type"] == "pass" and r["op"] == "created"]
    got = [(m["items"], m["pass_id"], m.get("pass_ref", "absent")) for m in sent]
    assert got == [("旧橱柜 1 套", central, REF), ("旧沙发 1 张", booth, None)], (
        f"the centre issued pass {REF}; the materials records (items, pass_id, pass_ref) are {got}, "
        f"and only the booth's pass went up as created ({created}): nothing tied pass {central} to {REF}"
    )
    assert created == [booth]


def _materials_record(seq: int, pass_id: int | None) -> dict[str, object]:
    at = "2025-03-03T10:36:33+08:00"
    record = {"id": seq, "pass_id": pass_id, "items": "旧橱柜 1 套", "at": at, "actor": "guard1"}
    return {"v": 1, "type": "materials", "event_id": f"m-{seq}", "op": "out", "at": at, "record": record}


def test_materials_queued_before_the_upgrade_get_the_pass_ref_their_pass_has(tmp_path: Path) -> None:
    """Records the previous release (schema 59) queued with the link down: one waiting or set aside
    (it may be put back in line) gets its pass's `ref` (`null` for a booth pass or no pass); one
    the centre has already stays as it went; one whose pass retention deleted is left as queued."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 59)
    at = "2025-03-03T01:00:00.000000+00:00"
    for pass_id, ref in ((1, "P71"), (2, "P72"), (3, "P73"), (4, None)):
        conn.execute(
            "INSERT INTO passes (id, ref, kind, name, valid_from, valid_to, created_at, created_by) "
            "VALUES (?, ?, 'contractor', '赵师傅', ?, ?, ?, 'central')",
            (pass_id, ref, at, at, at),
        )
    # (pass_id, sent, quarantined): sent; waiting; set aside; a booth pass; no pass; a pass gone.
    queued: tuple[tuple[int | None, bool, bool], ...] = (
        (1, True, False),
        (2, False, False),
        (3, False, True),
        (4, False, False),
        (None, False, False),
        (5, False, False),
    )
    for seq, (named, sent, aside) in enumerate(queued, start=1):
        conn.execute(
            "INSERT INTO outbox (event_id, topic, payload, created_at, sent_at, quarantined) "
            "VALUES (?, 'materials', ?, ?, ?, ?)",
            (
                f"m-{seq}",
                json.dumps(_materials_record(seq, named)),
                at,
                at if sent else None,
                "refused" if aside else None,
            ),
        )
    conn.close()
    db = open_database(path).conn
    try:
        rows = [json.loads(p)["record"] for (p,) in db.execute("SELECT payload FROM outbox ORDER BY seq")]
    finally:
        db.close()
    got = [(r["pass_id"], r.get("pass_ref", "absent")) for r in rows]
    assert got == [(1, "absent"), (2, "P72"), (3, "P73"), (4, None), (None, None), (5, "absent")], got
