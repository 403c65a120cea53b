"""A car with no plate on a ticket; the guard corrects its entry by mistake to 皖A22222, R1's second
car on the shared slot B001. R1's first car leaves B001 meanwhile, and the slot is handed to the
stay now under 皖A22222 (一位多车: billing stopped). The guard sees the mistake and corrects the row
back to its ticket (docs/parking.md *Cars with no plate*: "its stay moves back onto it"), or to the
plate the driver shows. Found by reviewer 59l: the stay kept slot B001 and its stopped billing, so
the stranger left paying nothing, R1's own car coming home found its slot taken and paid as the
slot's second car, and the report and the centre counted a handover to a car never R1's."""

from __future__ import annotations

import json
from typing import Any

from tests.parking.conftest import report_of_t0_day
from tests.parking.test_no_plate_car import T0, TICKET_1, H, M, Site, site  # noqa: F401  (fixture)


def _stay_records(s: Site) -> list[dict[str, Any]]:
    rows = s.read("SELECT payload FROM outbox WHERE topic = 'stay' ORDER BY seq")
    return [json.loads(r[0]) for r in rows]


def _handed_to_the_wrong_plate(s: Site) -> str:
    """The ticket car's entry, corrected to 皖A22222 and handed B001 as R1's first car left: its row."""
    assert s.show("car-in", "皖A11111").billing == "slot"  # R1's first car on B001
    s.now = T0 + M
    entry = s.typed("car-in", {"no_plate": True}).json()
    assert entry["plate"] == TICKET_1
    row = f"/api/events/{entry['event_id']}/plate"
    s.now = T0 + 10 * M
    assert s.client.post(row, headers=s.auth, json={"plate": "皖A22222"}).json()["stay_moved"]
    s.now = T0 + 20 * M
    assert s.show("car-out", "皖A11111").admitted
    assert [r["change"] for r in _stay_records(s)] == ["handover"]
    return row


def _pays_its_whole_stay(s: Site, plate: str) -> None:
    """Five hours after its entry the car pays as a temporary car, for all of them."""
    s.now = T0 + 5 * H
    held = s.show("car-out", plate)
    assert held.reason == "payment_due", held
    quote = s.client.get("/api/parking/lanes/car-out/quote", headers=s.auth).json()
    assert quote["plate"] == plate and quote["due_fen"] == held.fee_fen, quote
    # The same car's fee, had nobody corrected anything: a ticket car in at T0 + M.
    s.now = T0 + M
    other = s.typed("car-in", {"no_plate": True}).json()["plate"]
    s.now = T0 + 5 * H
    alike = s.client.get("/api/parking/quote", params={"plate": other}, headers=s.auth).json()
    assert held.fee_fen == alike["due_fen"] > 0, alike


def test_ticket_stay_moved_back_gives_up_the_slot_it_was_handed(site: Site) -> None:  # noqa: F811
    s = site
    row = _handed_to_the_wrong_plate(s)
    s.now = T0 + 30 * M
    back = s.client.post(row, headers=s.auth, json={"plate": TICKET_1})
    assert back.status_code == 200 and back.json()["stay_moved"], back.text
    # The centre: the handover to that stay undone, B001 free (no car of it waiting to be handed it).
    undone = _stay_records(s)[-1]
    assert (undone["change"], undone["plate"], undone["slot_id"], undone["handed_over_at"]) == (
        "handover_undone",
        TICKET_1,
        s.read("SELECT id FROM slots WHERE number = 'B001'")[0][0],
        None,
    ), undone
    assert report_of_t0_day(s.gw, T0 + 40 * M)["parking"]["handovers"] == 0
    # R1's car comes home onto B001, free.
    s.now = T0 + H
    home = s.show("car-in", "皖A11111")
    assert (home.admitted, home.billing, home.reason) == (True, "slot", "resident"), home
    _pays_its_whole_stay(s, TICKET_1)


def test_stay_corrected_from_the_slots_car_to_the_real_plate_gives_up_the_slot(site: Site) -> None:  # noqa: F811
    """The driver comes back with his plate, and the guard corrects the mistaken row to it."""
    s = site
    row = _handed_to_the_wrong_plate(s)
    s.now = T0 + 30 * M
    fixed = s.client.post(row, headers=s.auth, json={"plate": "苏E55555"})
    assert fixed.status_code == 200 and fixed.json()["stay_moved"], fixed.text
    assert s.read("SELECT plate, slot_id, handed_over_at FROM stays WHERE exited_at IS NULL") == [
        ("苏E55555", None, None)
    ]
    _pays_its_whole_stay(s, "苏E55555")


def test_slot_given_up_goes_to_the_slots_car_waiting_in_the_shared_spaces(site: Site) -> None:  # noqa: F811
    """R1's real second car came in meanwhile, a paying second car while the stay held B001: the
    slot the stay gives up is handed to it, as at an exit."""
    s = site
    row = _handed_to_the_wrong_plate(s)
    s.now = T0 + 25 * M
    second = s.show("car-in", "皖A11111")
    assert (second.admitted, second.billing) == (True, "temporary"), second
    s.now = T0 + 30 * M
    assert s.client.post(row, headers=s.auth, json={"plate": TICKET_1}).json()["stay_moved"]
    handed = _stay_records(s)[-1]
    assert (handed["change"], handed["plate"], handed["cause"]) == ("handover", "皖A11111", "correction")
    on_b001 = s.read(
        "SELECT s.plate FROM stays s JOIN slots sl ON sl.id = s.slot_id "
        "WHERE sl.number = 'B001' AND s.exited_at IS NULL"
    )
    assert on_b001 == [("皖A11111",)]
