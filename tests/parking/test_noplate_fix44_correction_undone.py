"""A guard corrects the entry of the wrong car with no plate to the plate its driver brought back
(two no-plate cars came in a minute apart): the correction cannot be undone."""

from __future__ import annotations

from collections.abc import Callable

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import T0, TICKET_1, TICKET_2, H, M, Site

PLATE = "苏E12345"  # the new plate car 2's driver comes back with


def test_a_no_plate_entry_corrected_by_mistake_is_corrected_back_to_its_ticket(
    make_gw: Callable[..., Gateway],
) -> None:
    """docs/parking.md, *Cars with no plate*: when a car's plate is known later the guard corrects
    its entry to that plate and its stay moves onto it; docs/guard-app.md: "A second correction of
    the same record (a mistyped one) replaces the first", and a correction back to what the lane
    decided on takes the stay back (*Misread plates*: "Corrected back to the plate the lane read").
    Two cars with no plate came in on 无牌-0303-01 and 无牌-0303-02. The driver of the second comes
    back with his new plate; the guard taps 纠正车牌 on the first row by mistake: the first car's
    stay moves onto 苏E12345. Putting it back is refused (422 ticket_not_a_plate, "type the plate
    on the car"), so the first car, which still has no plate, is no longer among the tickets at
    the exit: its driver hands over 无牌-0303-01 and is refused unknown_ticket, while its stay
    stands under another car's plate (the second car's entry corrected to 苏E12345 moves nothing:
    that plate is "inside already")."""
    with serving(make_gw()) as served:
        s = Site(*served)
        first = s.typed("car-in", {"no_plate": True}).json()
        s.now = T0 + M
        assert s.typed("car-in", {"no_plate": True}).json()["plate"] == TICKET_2
        s.now = T0 + H
        wrong = s.client.post(f"/api/events/{first['event_id']}/plate", headers=s.auth, json={"plate": PLATE})
        assert wrong.status_code == 200 and wrong.json()["stay_moved"], wrong.text

        first_row = f"/api/events/{first['event_id']}/plate"
        # Only its own ticket: another car's is refused, as any ticket was.
        other = s.client.post(first_row, headers=s.auth, json={"plate": TICKET_2})
        assert (other.status_code, other.json()["error"]["code"]) == (422, "ticket_not_a_plate"), other.text
        back = s.client.post(first_row, headers=s.auth, json={"plate": TICKET_1})
        assert back.status_code == 200, f"the mistaken correction cannot be undone: {back.text}"
        tickets = s.client.get("/api/lanes/car-out/tickets", headers=s.auth).json()
        assert [t["ticket"] for t in tickets] == [TICKET_2, TICKET_1], tickets
        assert back.json()["stay_moved"], back.text
        # The second car's entry is now corrected to its plate, its stay moving onto it.
        second = s.read("SELECT event_id FROM access_log WHERE value = ?", TICKET_2)[0][0]
        right = s.client.post(f"/api/events/{second}/plate", headers=s.auth, json={"plate": PLATE})
        assert right.status_code == 200 and right.json()["stay_moved"], right.text
        s.now = T0 + 2 * H
        out = s.typed("car-out", {"plate": TICKET_1})
        assert out.status_code == 200 and out.json()["reason"] == "payment_due", out.text
        stays = s.read("SELECT plate, entered_at FROM stays WHERE exited_at IS NULL ORDER BY id")
        assert [plate for plate, _ in stays] == [TICKET_1, PLATE], stays
