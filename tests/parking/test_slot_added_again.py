"""A fixed slot deleted and added again with the same cars while its car is parked (review s43shared).

R1 has one fixed slot, B001, listing its two cars 皖A11111 (A) and 皖A22222 (B)
(tests/parking/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving, show

H = timedelta(hours=1)
A, B = "皖A11111", "皖A22222"


def test_slot_added_again_with_the_same_cars_does_not_let_the_second_car_in_free(
    make_gw: Callable[..., Gateway],
) -> None:
    """The admin changes B001 the only way the API offers ("delete it first to reassign it"):
    DELETE /api/slots/{id}, then POST /api/slots with the same owner and cars, while A is parked
    on it. A is moved into the shared spaces (free, as it came in) and the new B001 reads free; then
    B drives in and parks on B001 free too: one slot, two cars inside, neither paying, and the
    occupancy page shows the slot empty while A is inside. A car that came in free on its slot and
    that a slot lists again is put back on it (docs/parking.md, *A slot handed on*), so B is the
    slot's second car: temporary, flagged shared_slot, paying by the hour."""
    with serving(make_gw()) as (gw, client, auth):
        now = gw.now()
        assert show(gw, "car-in", A, now - 3 * H).billing == "slot"
        sid, rid = gw.conn.execute("SELECT id, resident_id FROM slots WHERE number = 'B001'").fetchone()
        assert client.delete(f"/api/slots/{sid}", headers=auth).status_code == 204
        body = {"zone": "main", "number": "B001", "resident_id": rid, "plates": [A, B]}
        assert client.post("/api/slots", headers=auth, json=body).status_code == 200
        second = show(gw, "car-in", B, gw.now())
        assert (second.reason, second.billing, "shared_slot" in second.flags) == (
            "temporary",
            "temporary",
            True,
        ), f"B came in as {second.reason}/{second.billing} on slot {second.slot_id} while A is inside"


def test_slot_added_again_puts_its_free_car_back_and_leaves_its_paying_car_paying(
    make_gw: Callable[..., Gateway],
) -> None:
    """A on B001, B in as its second car (paying by the hour) behind it; the admin deletes B001 and
    adds it again with the same cars. A, which came in free on it, is back on it (the occupancy page
    counts it on its slot); B, which came in paying, still pays for its stay: the slot is new to it."""
    with serving(make_gw()) as (gw, client, auth):
        now = gw.now()
        assert show(gw, "car-in", A, now - 3 * H).billing == "slot"
        assert "shared_slot" in show(gw, "car-in", B, now - 2 * H).flags
        sid, rid = gw.conn.execute("SELECT id, resident_id FROM slots WHERE number = 'B001'").fetchone()
        assert client.delete(f"/api/slots/{sid}", headers=auth).status_code == 204
        body = {"zone": "main", "number": "B001", "resident_id": rid, "plates": [A, B]}
        added = client.post("/api/slots", headers=auth, json=body)
        assert added.status_code == 200
        new = gw.conn.execute("SELECT id FROM slots WHERE number = 'B001'").fetchone()[0]
        on = dict(gw.conn.execute("SELECT plate, slot_id FROM stays WHERE exited_at IS NULL").fetchall())
        assert (on[A], on[B]) == (new, None)
        assert show(gw, "car-out", A, gw.now()).fee_fen == 0
        assert show(gw, "car-out", B, gw.now()).fee_fen > 0
