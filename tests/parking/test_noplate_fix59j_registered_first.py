"""A resident's new car on paper temporary plates (临牌) came in on a ticket (无牌车). Its real plate
arrives; the office registers it for the household first (the usual order), then the guard corrects
the ticket entry to that plate. docs/parking.md *Cars with no plate*: "its stay moves onto the plate
... and the exit camera finds it". Before Review 59j the correction answered 200 and moved nothing
(the plate has a holder): the car left on its plate free, flagged no_entry_record, its ticket stay
open for good (counted inside, listed among the tickets at the exit) and its hours never charged."""

from __future__ import annotations

import sqlite3

from gateway.store import registry
from tests.parking.test_no_plate_car import T0, TICKET_1, H, Site, site  # noqa: F401  (fixture)

PLATE = "皖B99999"  # the plate the car's owner, R2, comes back with


def _register(conn: sqlite3.Connection) -> int:
    rid = conn.execute("SELECT id FROM residents WHERE ref = 'R2'").fetchone()[0]
    return registry.add_vehicle(conn, T0 + H, "admin", PLATE, rid, "car", None)


def _tickets(s: Site) -> list[str]:
    return [t["ticket"] for t in s.client.get("/api/lanes/car-out/tickets", headers=s.auth).json()]


def test_ticket_entry_corrected_to_the_households_new_registered_plate(site: Site) -> None:  # noqa: F811
    s = site
    entry = s.typed("car-in", {"no_plate": True}).json()
    assert entry["plate"] == TICKET_1
    s.gw.on_worker(_register).result(10)
    s.now = T0 + H
    fixed = s.client.post(f"/api/events/{entry['event_id']}/plate", headers=s.auth, json={"plate": PLATE})
    assert fixed.status_code == 200, fixed.text
    # The guard's toast: 已纠正: 皖B99999 · 李* 5栋1单元 · 在场记录已改为该车牌
    assert fixed.json()["stay_moved"] and fixed.json()["holder"] is not None, fixed.text
    assert _tickets(s) == [] and s.inside() == 1
    # Five hours after it came in, the camera reads its new plate: it pays its stay as the
    # temporary car it came in as, then leaves, and nobody is left inside.
    s.now = T0 + 5 * H
    held = s.show("car-out", PLATE)
    assert held.reason == "payment_due" and "no_entry_record" not in held.flags, held
    quote = s.client.get("/api/parking/lanes/car-out/quote", headers=s.auth).json()
    assert quote["plate"] == PLATE and quote["due_fen"] == held.fee_fen > 0, quote
    body = {"plate": PLATE, "amount_fen": quote["due_fen"], "method": "cash"}
    paid = s.client.post("/api/parking/lanes/car-out/pay", headers=s.auth, json=body)
    assert paid.status_code == 200 and paid.json()["admitted"], paid.text
    assert _tickets(s) == [] and s.inside() == 0
    stays = s.read("SELECT plate, billing, entered_at, exited_at IS NOT NULL FROM stays")
    assert [(p, b, e) for p, b, _, e in stays] == [(PLATE, "temporary", True)], stays


def test_ticket_entry_corrected_to_a_registered_plate_by_mistake_goes_back(site: Site) -> None:  # noqa: F811
    """The guard typed the household's plate on the wrong row: corrected back to its ticket, the
    stay is the ticket's again, found among the tickets at the exit."""
    s = site
    entry = s.typed("car-in", {"no_plate": True}).json()
    s.gw.on_worker(_register).result(10)
    row = f"/api/events/{entry['event_id']}/plate"
    assert s.client.post(row, headers=s.auth, json={"plate": PLATE}).json()["stay_moved"]
    back = s.client.post(row, headers=s.auth, json={"plate": TICKET_1})
    assert back.status_code == 200 and back.json()["stay_moved"], back.text
    assert _tickets(s) == [TICKET_1]
    stays = s.read("SELECT subject, vehicle_id FROM stays WHERE exited_at IS NULL")
    assert stays == [(f"plate:{TICKET_1}", None)], stays
