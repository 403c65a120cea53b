"""REQUIREMENTS 10: an access record names its holder as the centre knows them (found by reviewer
60b, after the materials record's pass_ref, commit 3bbf15f).

The property company's centre sends visitor and contractor passes (and residents) down with its own
`ref`. An `access` record named the holder only as {"kind", "id"}, the gateway's own row id, and a
pass's QR goes up with value null: the gateway's id of a pass the centre sent reaches the centre only
in the pass's `checked_out` record, which a pass that simply runs out never gets. So the centre could
not tell which of its passes a visitor's or a crew's entries and exits were. The holder carries its
`ref` now: null for a pass registered at the booth (the centre knows it by its `created` record)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from centre_helpers import Uplink

from gateway.core import Presented
from gateway.store.database import open_database
from gateway.store.outbox import streams
from gateway.store.passes import NewPass, create_pass
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta
from tests.test_store import database_at

H = timedelta(hours=1)
M = timedelta(minutes=1)
CREW_QR = "CQR-RENO-0042-abcdef"
CARD = "0012345678"
CENTRAL = [
    {"kind": "resident", "ref": "R-3-2-301", "building": "3栋", "unit": "2单元", "name": "孙八"},
    {"kind": "card", "card": CARD, "resident": "R-3-2-301"},
    {
        "kind": "pass",
        "ref": "RENO-2025-0042",
        "pass_kind": "contractor",
        "name": "赵师傅",
        "company": "好家装饰",
        "host_building": "3栋",
        "host_unit": "2单元",
        "valid_from": T0.isoformat(),
        "valid_to": (T0 + timedelta(days=30)).isoformat(),
        "credentials": [{"kind": "qr", "value": CREW_QR}],
    },
]


def test_access_records_name_the_holder_by_the_centres_ref(tmp_path: Path) -> None:
    """The centre's crew pass RENO-2025-0042 walks in on its QR, its resident R-3-2-301 on her card,
    a visitor the guard registered at the booth on hers, and R1's car (imported from the CSV, ref R1)
    drives in: each access record names its holder's `ref` beside the gateway's id, the booth pass
    `null`; a stranger's plate names no holder."""
    up = Uplink(tmp_path)
    gw = up.gw
    try:
        delta(gw, 1, 0, T0, upsert=CENTRAL)
        guest = NewPass("visitor", "钱七", T0, T0 + 8 * H, host_building="3栋", host_unit="2单元")
        booth = create_pass(gw.conn, gw.secrets, guest, T0, "guard1")
        (booth_qr,) = gw.conn.execute(
            "SELECT value FROM credentials WHERE pass_id = ? AND kind = 'qr'", (booth,)
        ).fetchone()
        shown = [
            ("door", "qr", CREW_QR),
            ("door", "card", CARD),
            ("door", "qr", booth_qr),
            ("car-in", "plate", "皖A11111"),
            ("car-in", "plate", "苏E99999"),
        ]
        for i, (lane, kind, value) in enumerate(shown, start=1):
            assert gw.handle(Presented(lane, kind, value, 1.0, T0 + i * M, f"{lane}-reader")).admitted
        ids = dict(gw.conn.execute("SELECT ref, id FROM passes WHERE ref IS NOT NULL"))
        ids |= dict(gw.conn.execute("SELECT ref, id FROM residents"))
        stream = streams(gw.conn)[-1][1]
        records = up.deliver(T0 + H)
    finally:
        up.close()
    got = [r["holder"] for r in records if r["type"] == "access"]
    assert got == [
        {"kind": "contractor", "id": ids["RENO-2025-0042"], "id_stream": stream, "ref": "RENO-2025-0042"},
        {"kind": "resident", "id": ids["R-3-2-301"], "id_stream": None, "ref": "R-3-2-301"},
        {"kind": "visitor", "id": booth, "id_stream": stream, "ref": None},
        {"kind": "resident", "id": ids["R1"], "id_stream": None, "ref": "R1"},
        None,
    ], f"the centre cannot tie these entries to its own passes and residents: {got}"


def _access_record(seq: int, holder: dict[str, Any] | None) -> dict[str, object]:
    at = "2025-03-03T09:10:00+08:00"
    return {"v": 1, "type": "access", "event_id": f"a-{seq}", "at": at, "lane": "door", "holder": holder}


def test_access_records_queued_before_the_upgrade_get_their_holders_ref(tmp_path: Path) -> None:
    """Records the previous release (schema 60) queued with the link down: one waiting or set aside
    gets its holder's `ref` (`null` for a booth pass); one the centre has already stays as it went,
    and so do one naming nobody and one whose holder is deleted since."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 60)
    at = "2025-03-03T01:00:00.000000+00:00"
    conn.execute(
        "INSERT INTO residents (id, ref, building, unit, name) VALUES (1, 'R1', '3栋', '2单元', '张三')"
    )
    for pass_id, ref in ((1, "P71"), (2, None)):
        conn.execute(
            "INSERT INTO passes (id, ref, kind, name, valid_from, valid_to, created_at, created_by) "
            "VALUES (?, ?, 'visitor', '李四', ?, ?, ?, 'central')",
            (pass_id, ref, at, at, at),
        )
    # (holder, sent, quarantined): sent; waiting; set aside; a booth pass; nobody; a pass gone.
    queued: tuple[tuple[dict[str, Any] | None, bool, bool], ...] = (
        ({"kind": "resident", "id": 1}, True, False),
        ({"kind": "resident", "id": 1}, False, False),
        ({"kind": "visitor", "id": 1}, False, True),
        ({"kind": "visitor", "id": 2}, False, False),
        (None, False, False),
        ({"kind": "contractor", "id": 3}, False, False),
    )
    for seq, (holder, sent, aside) in enumerate(queued, start=1):
        conn.execute(
            "INSERT INTO outbox (event_id, topic, payload, created_at, sent_at, quarantined) "
            "VALUES (?, 'access', ?, ?, ?, ?)",
            (
                f"a-{seq}",
                json.dumps(_access_record(seq, holder)),
                at,
                at if sent else None,
                "refused" if aside else None,
            ),
        )
    conn.close()
    db = open_database(path).conn
    try:
        rows = [json.loads(p)["holder"] for (p,) in db.execute("SELECT payload FROM outbox ORDER BY seq")]
    finally:
        db.close()
    got = [h if h is None else h.get("ref", "absent") for h in rows]
    assert got == ["absent", "R1", "P71", None, None, "absent"], rows
