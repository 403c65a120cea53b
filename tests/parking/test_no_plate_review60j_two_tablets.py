"""A car with no plate (new, paper temporary plates) at the entrance, and both guards in the booth tap
无牌车 on their tablets in the same moment, neither page showing the other's ticket yet. The
gateway gave out 无牌-0303-01 and 无牌-0303-02 and opened two stays: one guard wrote 01 on the
paper ticket while the display showed the driver 02, and the other stay never closed (occupancy one
too high, a phantom 无牌车 in 场内车辆 until an admin marked it left). Found by reviewer 60j.

The page sends `shown`, the lane's newest record it has shown: a car with no plate let in there
since, within 10 s, no other car decided there since, is the car the guard tapped for: its decision
answered again on its ticket (flag `again`, 同车再次抬杆), no second ticket nor stay
(docs/parking.md, *One car, one passage*). A page that has shown that ticket taps for a new car."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.store.tickets import ticket_let_in_since
from tests.parking.test_shift_review60j_two_tablets import at_once
from tests.parking.test_typed_twice_on_two_tablets import Booth, booth, hard_booth  # noqa: F401

S = timedelta(seconds=1)
INSIDE = "SELECT plate FROM stays WHERE exited_at IS NULL ORDER BY id"


def tap(b: Booth, tablet: int, shown: str | None) -> dict[str, Any]:
    """无牌车 tapped at the entrance on a tablet whose newest record shown there is `shown`."""
    body: dict[str, Any] = {"no_plate": True} if shown is None else {"no_plate": True, "shown": shown}
    answer = b.client.post("/api/lanes/car-in/plate", headers=b.tablets[tablet], json=body)
    assert answer.status_code == 200, answer.text
    out: dict[str, Any] = answer.json()
    return out


def inside(b: Booth) -> list[str]:
    return [row[0] for row in b.read(INSIDE)]


def test_no_plate_tapped_on_both_tablets_at_once_is_one_ticket_and_one_stay(booth: Booth) -> None:  # noqa: F811
    """The reviewer's proof: both taps on threads released together, each page having shown the
    car before (a resident let in by the camera). Both tablets show the guard the one ticket."""
    before = booth.camera("car-in", "皖B33333").event_id
    answers = at_once(lambda: tap(booth, 0, before), lambda: tap(booth, 1, before))
    tickets = {a["plate"] for a in answers}
    assert len(tickets) == 1 and inside(booth) == ["皖B33333", *tickets], (answers, inside(booth))
    assert all(a["admitted"] for a in answers)
    assert sorted("again" in a["flags"] for a in answers) == [False, True], answers


def test_the_other_tablet_a_moment_later_is_told_the_same_ticket(booth: Booth) -> None:  # noqa: F811
    """Nothing shown at the lane yet (a new site's first car: `shown` ""), A taps, B taps 3 s
    later before his page showed A's ticket: the same car, its ticket, 同车再次抬杆; one stay."""
    first = tap(booth, 0, "")
    booth.now += 3 * S
    second = tap(booth, 1, "")
    assert second["plate"] == first["plate"] and "again" in second["flags"], (first, second)
    assert inside(booth) == [first["plate"]]
    assert booth.read("SELECT count(*) FROM charges") == [(0,)]


def test_a_convoy_of_cars_with_no_plate_each_gets_its_own_ticket(booth: Booth) -> None:  # noqa: F811
    """A dealer's two new cars, one behind the other, through one lane within seconds: the tablet
    had shown the first ticket (its toast) when the guard tapped for the second."""
    first = tap(booth, 0, "")
    booth.now += 2 * S
    second = tap(booth, 0, first["event_id"])
    assert second["plate"] != first["plate"] and "again" not in second["flags"]
    assert inside(booth) == [first["plate"], second["plate"]]


def test_later_than_a_moment_or_after_another_car_it_is_a_new_car(booth: Booth) -> None:  # noqa: F811
    """A stale page (its stream slow) taps 无牌车 11 s after a ticket was given: a car of its own,
    as one tapped after the camera decided another car there."""
    first = tap(booth, 0, "")
    booth.now += 11 * S
    second = tap(booth, 1, "")
    assert second["plate"] != first["plate"]
    booth.now += S
    booth.camera("car-in", "苏E12345")
    booth.now += S
    third = tap(booth, 1, second["event_id"])
    assert third["plate"] not in (first["plate"], second["plate"])
    assert len(inside(booth)) == 4


def test_a_page_that_sends_no_shown_gets_a_ticket_each_tap(booth: Booth) -> None:  # noqa: F811
    """An older page or another client that says nothing of what it showed: every tap a new car,
    as before (a time window alone would take the next car with no plate, tapped for within
    seconds at one tablet, for the last: let in with no ticket of its own and no stay)."""
    first = tap(booth, 0, None)
    booth.now += S
    second = tap(booth, 0, None)
    assert first["plate"] != second["plate"]


def test_hard_anti_passback_answers_the_second_tablet_the_same_car(hard_booth: Booth) -> None:  # noqa: F811
    """Under anti_passback = "hard" a typed plate again is a clone, refused as inside; a ticket is
    carried only by the car it was given to: the second tablet is that car again, not refused
    (the display telling the driver passing under the raised arm 已在场内)."""
    first = tap(hard_booth, 0, "")
    hard_booth.now += S
    second = tap(hard_booth, 1, "")
    assert (second["plate"], second["admitted"], "again" in second["flags"]) == (first["plate"], True, True)
    assert inside(hard_booth) == [first["plate"]]


def test_only_a_car_let_in_is_that_car(booth: Booth) -> None:  # noqa: F811
    """The store's answer: nothing since the record shown, a plate since, or a refusal: None."""

    def since(shown: str) -> str | None:
        return booth.gw.on_worker(lambda c: ticket_let_in_since(c, "car-in", shown, booth.now)).result(10)

    assert since("") is None
    given = tap(booth, 0, "")
    assert since("") == given["plate"] and since(given["event_id"]) is None
