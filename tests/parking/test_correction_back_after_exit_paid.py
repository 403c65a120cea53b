"""A booth payment taken under the plate typed in between, its entry corrected back after the car
has paid and left (docs/parking.md, *Misread plates*: the entry's own stay moves onto the plate
"with its booth payments, and ends where the stay given back ended")."""

from __future__ import annotations

import json
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, pay, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
REAL, MISREAD = "苏E12345", "苏E12346"


def test_a_booth_payment_moved_back_onto_a_stay_that_ended_is_not_left_as_paid_ahead(gw: Gateway) -> None:
    """苏E12345 comes in at 09:00 and, its exit missed, again at 12:00 (already inside). The guard
    takes the 12:00 reading for a misread and corrects it to 苏E12346; at 13:00 the driver pays
    ahead at the booth for the stay the gateway has under 苏E12346. At 13:05 the car is read as
    苏E12345 at the exit, held for its stay from 09:00, and pays that at the lane. At 13:10 the
    guard sees the camera was right and corrects the entry back: the entry's stay moves onto
    苏E12345 with its booth payment and ends with the stay paid at the exit.

    The booth payment was left linked to no charge: the day's report counted it for ever as paid
    ahead by a car not seen leaving (paid_ahead_not_left_fen), though every stay of the car was
    closed. Money kept from a stay that closed without an exit charge is kept against a settled
    charge of what was paid, as an admin's close keeps it (parking.md, *Admin correction*), so the
    report does not count it as paid ahead (the aim of 1990faf: "the first payment stayed in the
    report as paid ahead by a car not seen leaving")."""
    show(gw, "car-in", REAL, T0)
    back = show(gw, "car-in", REAL, T0 + 3 * H)
    assert back.admitted and "already_inside" in back.flags
    correct_plate(gw.conn, back.event_id, MISREAD, "guard1", T0 + 3 * H + 2 * M)
    due = gw.parking.quote(gw.conn, MISREAD, T0 + 4 * H)["due_fen"]
    assert due > 0
    with gw.conn:
        gw.parking.prepay(gw.conn, MISREAD, due, "qr", "WX4200003", "guard1", T0 + 4 * H)
    held = show(gw, "car-out", REAL, T0 + 4 * H + 5 * M)
    assert held.reason == "payment_due" and held.fee_fen
    out = pay(gw, REAL, held.fee_fen, T0 + 4 * H + 6 * M)
    assert out.admitted
    again = correct_plate(gw.conn, back.event_id, REAL, "guard1", T0 + 4 * H + 10 * M)
    assert again.taken_back is not None and again.taken_back.entry_closed is not None
    open_stays = gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
    assert open_stays == 0
    unlinked = gw.conn.execute("SELECT amount_fen FROM payments WHERE charge_id IS NULL").fetchall()
    report = report_of_t0_day(gw, T0 + 24 * H)
    assert (unlinked, report["parking"]["paid_ahead_not_left_fen"]) == ([], 0), (
        f"booth money left unlinked: {unlinked}; report {report['parking']}"
    )
    # Kept as an admin's close keeps it: a settled exit charge of what was paid, for the entry's
    # stay, named upstream as the report counts it.
    entry_stay = again.taken_back.entry_closed
    kept = gw.conn.execute(
        "SELECT id, kind, amount_fen, settled_at IS NOT NULL, stay_id FROM charges WHERE voided_at IS NULL "
        "AND stay_id = ?",
        (entry_stay,),
    ).fetchall()
    assert kept == [(again.taken_back.kept, "exit", due, 1, entry_stay)], kept
    sent = [
        json.loads(p)
        for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq")
    ]
    mine = [m for m in sent if m.get("charge_id") == again.taken_back.kept]
    assert [(m["kind"], m["amount_fen"], m["settled"], m["stay_id"]) for m in mine] == [
        ("exit", due, True, entry_stay)
    ]
    assert report["parking"]["charged_fen"] == held.fee_fen + due
