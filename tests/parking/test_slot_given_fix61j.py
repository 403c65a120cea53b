"""A slot left with no owner when its resident is deleted, given at the booth to the flat's next
owner (review 61j).

R1 has B001, listing its two cars 皖A11111 and 皖A22222; R2 has B002 for 皖B33333
(tests/parking/conftest.py). A household that moves out is deleted; its slot stays in the store
with no owner (slots.resident_id ON DELETE SET NULL), on no page. POST /api/slots refused it
"exists, delete it first", which nobody could do: the new owner could not be given it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving, show

H = timedelta(hours=1)
NEW_OWNER = {"ref": "R9", "building": "3栋", "unit": "2单元", "room": "301", "name": "钱九"}
HIS_CAR = "皖E99999"


def _r1(gw: Gateway) -> tuple[int, int]:
    """R1's id and the id of its slot B001."""
    rid = gw.conn.execute("SELECT id FROM residents WHERE ref = 'R1'").fetchone()[0]
    sid = gw.conn.execute("SELECT id FROM slots WHERE number = 'B001'").fetchone()[0]
    return rid, sid


def test_the_slot_of_a_resident_deleted_is_given_to_the_new_owner(make_gw: Callable[..., Gateway]) -> None:
    with serving(make_gw()) as (gw, client, auth):
        rid, sid = _r1(gw)
        assert client.delete(f"/api/residents/{rid}", headers=auth).status_code == 204
        new = client.post("/api/residents", json=NEW_OWNER, headers=auth).json()["id"]
        car = {"plate": HIS_CAR, "resident_id": new}
        assert client.post("/api/vehicles", json=car, headers=auth).status_code == 200

        body = {"zone": "main", "number": "B001", "resident_id": new, "plates": [HIS_CAR]}
        given = client.post("/api/slots", json=body, headers=auth)
        assert given.status_code == 200, given.text
        assert given.json()["id"] == sid  # the same slot, its history kept

        # His page lists it with his car, and his car comes in on it free.
        slots = client.get(f"/api/residents/{new}", headers=auth).json()["slots"]
        assert [(s["id"], s["zone"], s["number"], s["plates"]) for s in slots] == [
            (sid, "main", "B001", HIS_CAR)
        ]
        assert show(gw, "car-in", HIS_CAR, gw.now()).billing == "slot"

        # The central server is told whose it is now, and the audit page says so.
        sent = [
            json.loads(p)
            for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq")
        ]
        upsert = [r for r in sent if r.get("entity") == "slot" and r.get("op") == "upsert"]
        assert [(r["zone"], r["number"], r["resident"], r["plates"]) for r in upsert] == [
            ("main", "B001", "R9", [HIS_CAR])
        ]
        audited = gw.conn.execute("SELECT detail FROM audit WHERE action = 'slot.upsert'").fetchall()
        assert audited == [("main/B001 given to R9",)]


def test_a_slot_another_resident_holds_is_refused_naming_that_resident(
    make_gw: Callable[..., Gateway],
) -> None:
    """R2 is given B001, still R1's: refused, and the answer says whose it is and what to do."""
    with serving(make_gw()) as (gw, client, auth):
        _, sid = _r1(gw)
        r2 = gw.conn.execute("SELECT id FROM residents WHERE ref = 'R2'").fetchone()[0]
        body = {"zone": "main", "number": "B001", "resident_id": r2, "plates": ["皖B33333"]}
        refused = client.post("/api/slots", json=body, headers=auth)
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert "R1" in error["message"] and "张*" in error["message"] and "3栋" in error["message"]
        assert "R1" in error["fix"] and f"/api/slots/{sid}" in error["fix"]
        assert gw.conn.execute("SELECT resident_id FROM slots WHERE id = ?", (sid,)).fetchone()[0] != r2


def test_a_car_parked_on_the_slot_it_no_longer_lists_moves_off_and_the_new_owners_car_onto_it(
    make_gw: Callable[..., Gateway],
) -> None:
    """B001 shared by R1's car and R2's 皖B33333 (R2's own B002 given up), which is parked on it; R1
    moves out and is deleted (B001 keeps R2's car, parked on it). The new owner's car came in before
    he was given the slot, paying in the shared spaces. Given B001 for his car alone: R2's car,
    still inside, takes a shared space (or the zone would count one car too many), and his car is
    on B001, its billing stopped then."""
    with serving(make_gw()) as (gw, client, auth):
        rid, sid = _r1(gw)
        b002 = gw.conn.execute("SELECT id FROM slots WHERE number = 'B002'").fetchone()[0]
        for slot in (sid, b002):
            assert client.delete(f"/api/slots/{slot}", headers=auth).status_code == 204
        shared = {"zone": "main", "number": "B001", "resident_id": rid, "plates": ["皖A11111", "皖B33333"]}
        sid = client.post("/api/slots", json=shared, headers=auth).json()["id"]
        now = gw.now()
        assert show(gw, "car-in", "皖B33333", now - 3 * H).slot_id == sid
        assert client.delete(f"/api/residents/{rid}", headers=auth).status_code == 204
        left = gw.conn.execute("SELECT resident_id FROM slots WHERE id = ?", (sid,)).fetchone()
        assert left == (None,)  # the slot of a resident deleted: no owner
        new = client.post("/api/residents", json=NEW_OWNER, headers=auth).json()["id"]
        car = {"plate": HIS_CAR, "resident_id": new}
        assert client.post("/api/vehicles", json=car, headers=auth).status_code == 200
        assert show(gw, "car-in", HIS_CAR, now - 2 * H).billing == "temporary"

        body = {"zone": "main", "number": "B001", "resident_id": new, "plates": [HIS_CAR]}
        assert client.post("/api/slots", json=body, headers=auth).status_code == 200
        on = dict(gw.conn.execute("SELECT plate, slot_id FROM stays WHERE exited_at IS NULL").fetchall())
        assert (on["皖B33333"], on[HIS_CAR]) == (None, sid)
        assert show(gw, "car-out", "皖B33333", gw.now()).admitted
