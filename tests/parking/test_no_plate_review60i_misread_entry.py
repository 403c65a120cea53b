"""A car with no plate that the entrance camera read as a plate (a paper temporary plate or a covered
one read wrong: 苏E1234X) and let in as a temporary car. Review 60i: the guard's correction to 无牌车
was refused, the page telling him to tap 输入车牌 then 无牌车 at the entrance; doing so gave the car a
second stay, and the misread plate's stayed open for good (one car counted inside twice, a shared
space held by a car not there, two entries in the day's report). The correction of the entry now
gives the car its ticket, its stay moving onto it (docs/parking.md, *Cars with no plate*)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.parking.conftest import T0, make_gw, report_of_t0_day  # noqa: F401
from tests.parking.test_no_plate_car import TICKET_1, TICKET_2, Site, site  # noqa: F401

S = timedelta(seconds=1)
M = timedelta(minutes=1)
MISREAD = "苏E1234X"


def _correct(s: Site, event_id: str, plate: str) -> dict:  # type: ignore[type-arg]
    answer = s.client.post(f"/api/events/{event_id}/plate", headers=s.auth, json={"plate": plate})
    return {"status": answer.status_code, **answer.json()}


def _open_stays(s: Site) -> list[str]:
    return [p for (p,) in s.read("SELECT plate FROM stays WHERE exited_at IS NULL ORDER BY id")]


def test_an_entry_corrected_to_no_plate_gives_the_car_its_ticket_and_it_is_counted_once(
    site: Site,  # noqa: F811
) -> None:
    s = site
    before = s.inside()
    read = s.show("car-in", MISREAD)
    assert read.admitted and read.reason == "temporary", read
    s.now = T0 + 20 * S
    fixed = _correct(s, read.event_id, "无牌车")
    assert fixed["status"] == 200, fixed
    # The ticket to hand the driver, said as one: the live panel shows it under 无牌车 票号.
    assert (fixed["plate"], fixed["no_plate"], fixed["stay_moved"]) == (TICKET_1, True, True), fixed
    assert _open_stays(s) == [TICKET_1]
    assert s.inside() - before == 1
    inside = s.client.get("/api/lanes/car-out/tickets", headers=s.auth).json()
    assert [t["ticket"] for t in inside] == [TICKET_1]
    sent = [json.loads(p) for (p,) in s.read("SELECT payload FROM outbox WHERE topic = 'plate_correction'")]
    assert [(c["read"], c["plate"], c["stay_moved"]) for c in sent] == [(MISREAD, TICKET_1, True)]
    audited = s.read("SELECT detail FROM audit WHERE action = 'plates.correct'")
    assert audited == [(f"car-in: read {MISREAD}, is {TICKET_1}, stay moved",)]

    # The next car with no plate gets the next ticket: one ticket is given once.
    s.now = T0 + 2 * M
    other = s.typed("car-in", {"no_plate": True}).json()
    assert other["plate"] == TICKET_2, other

    # The car leaves on its ticket, paying for its stay from the camera's entry.
    s.now = T0 + 3 * 60 * M
    held = s.typed("car-out", {"plate": TICKET_1}).json()
    assert (held["admitted"], held["reason"]) == (False, "payment_due"), held
    quote = s.client.get("/api/parking/lanes/car-out/quote", headers=s.auth).json()
    assert quote["plate"] == TICKET_1 and quote["due_fen"] > 0, quote
    body = {"plate": TICKET_1, "amount_fen": quote["due_fen"], "method": "cash"}
    out = s.client.post("/api/parking/lanes/car-out/pay", headers=s.auth, json=body)
    assert out.status_code == 200 and out.json()["admitted"], out.text
    assert _open_stays(s) == [TICKET_2]

    report = s.gw.on_worker(lambda _: report_of_t0_day(s.gw, T0 + 4 * 60 * M)).result(10)
    assert report["vehicles"]["entries"]["total"] == 2, report["vehicles"]["entries"]  # the two cars
    assert report["vehicles"]["exits"]["total"] == 1, report["vehicles"]["exits"]


def test_a_car_keeps_the_ticket_a_correction_gave_it(site: Site) -> None:  # noqa: F811
    """Corrected to 无牌车 again: the same ticket (nothing changed); to the plate the driver came back
    with and then to 无牌车 (or its ticket) again: back on its own ticket, never a second one."""
    s = site
    read = s.show("car-in", MISREAD)
    assert _correct(s, read.event_id, "无牌")["plate"] == TICKET_1
    again = _correct(s, read.event_id, "无牌车")
    assert (again["status"], again["error"]["code"]) == (422, "same_plate"), again
    assert _correct(s, read.event_id, "苏E12345")["plate"] == "苏E12345"
    assert _open_stays(s) == ["苏E12345"]
    back = _correct(s, read.event_id, "无车牌")
    assert (back["status"], back["plate"], back["stay_moved"]) == (200, TICKET_1, True), back
    assert _open_stays(s) == [TICKET_1]
    # Its own ticket typed is its own too; another car's is not.
    assert _correct(s, read.event_id, "苏E12345")["status"] == 200
    assert _correct(s, read.event_id, TICKET_1)["plate"] == TICKET_1
    stranger = _correct(s, read.event_id, TICKET_2)
    assert (stranger["status"], stranger["error"]["code"]) == (422, "ticket_not_a_plate"), stranger
    # A resident's new car on paper plates, registered since: its stay moves under its plate, and
    # back onto its ticket (corrected by mistake), as a car decided on its ticket's does.
    assert _correct(s, read.event_id, "皖C44444")["stay_moved"]
    assert _open_stays(s) == ["皖C44444"]
    assert _correct(s, read.event_id, "无牌车")["stay_moved"]
    assert _open_stays(s) == [TICKET_1]
    # Its stay moved off the ticket, the ticket is still the car's: never given to the next car.
    _correct(s, read.event_id, "苏E12345")
    assert s.typed("car-in", {"no_plate": True}).json()["plate"] == TICKET_2


@pytest.mark.parametrize("again", [{"plate": TICKET_1}, {"no_plate": True}], ids=["ticket", "no_plate"])
def test_a_refused_entry_corrected_to_no_plate_is_decided_again_on_its_ticket(
    site: Site,  # noqa: F811
    again: dict[str, object],
) -> None:
    """Misread as a blocked car's plate, the car is refused; 纠正并重新判断 to 无牌车 gives it its
    ticket and lets it in on it, once: the page sends the ticket the correction answered, or,
    that answer lost on the Wi-Fi (same_plate when tapped again), 无牌车 as typed."""
    s = site
    block = {"kind": "plate", "value": "皖B33333", "reason": "欠费"}
    assert s.client.post("/api/credentials/block", headers=s.auth, json=block).status_code == 200
    read = s.show("car-in", "皖B33333")
    assert (read.admitted, read.reason) == (False, "blocked"), read
    assert _correct(s, read.event_id, "无牌车")["plate"] == TICKET_1
    # Another ticket typed at the entrance is still refused: the entrance gives them.
    other = s.typed("car-in", {"plate": TICKET_2, "corrected_event": read.event_id})
    assert other.json()["error"]["code"] == "ticket_at_entrance", other.text
    s.now = T0 + 20 * S
    came = s.typed("car-in", {**again, "corrected_event": read.event_id}).json()
    assert (came["admitted"], came["plate"], came["flags"]) == (True, TICKET_1, ["no_plate"]), came
    assert _open_stays(s) == [TICKET_1]
    report = s.gw.on_worker(lambda _: report_of_t0_day(s.gw, T0 + 60 * M)).result(10)
    assert report["vehicles"]["entries"]["total"] == 1, report["vehicles"]["entries"]


def test_an_exit_record_is_not_corrected_to_no_plate(site: Site) -> None:  # noqa: F811
    """At an exit a car with no plate leaves on the ticket it was given: the fix says to type or
    pick it there, naming the tickets inside; nothing is corrected."""
    s = site
    s.typed("car-in", {"no_plate": True})
    s.now = T0 + 60 * M
    read = s.show("car-out", MISREAD)
    refused = _correct(s, read.event_id, "无牌车")
    assert (refused["status"], refused["error"]["code"]) == (422, "no_plate_not_a_plate"), refused
    assert TICKET_1 in refused["error"]["fix"] and "无牌车" in refused["error"]["fix"], refused
    assert s.read("SELECT count(*) FROM plate_corrections") == [(0,)]
