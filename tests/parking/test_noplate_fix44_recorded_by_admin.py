"""An admin records a car with no plate found parked (POST /api/parking/stays, the 车位 page's
登记场内车辆; `gateway import-inside`): a ticket typed is refused, as it may be one given before and
still owed on, and 无牌车 gives the car a ticket of its own, as the entrance would have."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving
from tests.parking.test_cars_inside_import import rows
from tests.parking.test_cars_inside_import import site as import_site  # noqa: F401  (fixture)
from tests.parking.test_no_plate_car import T0, TICKET_1, TICKET_2, H, Site
from tests.parking.test_no_plate_review import _let_out_owing
from tests.parking.test_opened_by_hand import RELAY

REASON = "平板故障时人工放行"


def test_a_car_recorded_inside_on_a_ticket_owed_on_is_not_asked_that_debt(
    make_gw: Callable[..., Gateway],
) -> None:
    """docs/parking.md, *A ticket is given once*: "a ticket is never given again while a record names
    it or a charge is owed on it ... it is never asked of another car". policy.reentry = "charge":
    the car on 无牌-0303-01 was let out by hand owing 7元. At 12:30 another car with no plate gets
    in while the tablet is down (the guard opens by hand); the admin recorded it inside on 车位 as
    "无牌-0303-01" (the number the guard wrote on its paper): the record was taken (200), and at
    14:00 the quote on that ticket asked 14元, its own 7元 and the 7元 the other car owes. The
    record refuses a ticket typed, naming it and how to record a car with no plate."""
    with serving(make_gw(reentry="charge", extra=RELAY)) as served:
        s = Site(*served)
        _let_out_owing(s)  # 无牌-0303-01 left at 11:00 owing 7元
        s.now = T0 + 4 * H
        body = {"plate": TICKET_1, "entered_at": "2025-03-03 12:30", "reason": REASON}
        recorded = s.client.post("/api/parking/stays", headers=s.auth, json=body)
        error = recorded.json()["error"]
        assert (recorded.status_code, error["code"]) == (422, "ticket_typed"), recorded.text
        assert TICKET_1 in error["message"] and "无牌车" in error["fix"], error
        assert s.read("SELECT count(*) FROM stays WHERE exited_at IS NULL") == [(0,)]
        # The debt stays the first car's.
        assert s.read("SELECT plate, amount_fen FROM charges WHERE settled_at IS NULL") == [(TICKET_1, 700)]


@pytest.mark.parametrize("typed", ["无牌-0303-09", "0303-09", "无牌—0303"])
def test_a_ticket_never_given_is_refused_too(make_gw: Callable[..., Gateway], typed: str) -> None:
    """An invented ticket (the guard's guess at the next number, its number alone, one typed short)
    was taken as the car's plate: a ticket the entrance would give another car later that day,
    two cars inside on one ticket."""
    with serving(make_gw()) as served:
        s = Site(*served)
        body = {"plate": typed, "entered_at": "2025-03-03 08:30", "reason": REASON}
        recorded = s.client.post("/api/parking/stays", headers=s.auth, json=body)
        error = recorded.json()["error"]
        assert (recorded.status_code, error["code"]) == (422, "ticket_typed"), recorded.text
        assert s.read("SELECT count(*) FROM stays") == [(0,)]


@pytest.mark.parametrize("body", [{"no_plate": True}, {"plate": "无牌车"}, {"plate": "无车牌"}])
def test_a_car_with_no_plate_recorded_inside_gets_a_ticket_of_its_own(
    make_gw: Callable[..., Gateway], body: dict[str, object]
) -> None:
    """The same car recorded as 无牌车: it is given the next ticket of the day it came in (the
    first car's 无牌-0303-01 is owed on), shown in the answer for the admin to write on its paper;
    at 14:00 the quote on it asks its own fee and nothing carried, and it leaves on it at the exit
    held for that fee alone. The entrance's next car with no plate gets the number after."""
    with serving(make_gw(reentry="charge", extra=RELAY)) as served:
        s = Site(*served)
        _let_out_owing(s)
        s.now = T0 + 4 * H
        sent = {**body, "entered_at": "2025-03-03 12:30", "reason": REASON}
        recorded = s.client.post("/api/parking/stays", headers=s.auth, json=sent)
        assert recorded.status_code == 200, recorded.text
        answer = recorded.json()
        assert (answer["plate"], answer["no_plate"], answer["billing"]) == (TICKET_2, True, "temporary")
        stays = s.client.get("/api/parking/stays", headers=s.auth).json()
        assert [(x["plate"], x["no_plate"]) for x in stays] == [(TICKET_2, True)]
        assert s.read("SELECT detail FROM audit WHERE action = 'stay.record'") == [
            (f"无牌车, ticket {TICKET_2}: inside since 2025-03-03 12:30, main: {REASON}",)
        ]

        s.now = T0 + 5 * H
        quote = s.client.get("/api/parking/quote", params={"plate": TICKET_2}, headers=s.auth).json()
        assert (quote["carried_fen"], quote["due_fen"]) == (0, quote["fee_fen"]), quote
        held = s.typed("car-out", {"plate": TICKET_2}).json()
        assert (held["plate"], held["reason"]) == (TICKET_2, "payment_due"), held
        at_lane = s.client.get("/api/parking/lanes/car-out/quote", headers=s.auth).json()
        assert (at_lane["plate"], at_lane["due_fen"]) == (TICKET_2, quote["fee_fen"]), at_lane
        assert s.typed("car-in", {"no_plate": True}).json()["plate"] == "无牌-0303-03"
        assert s.read("SELECT plate, amount_fen FROM charges WHERE settled_at IS NULL") == [(TICKET_1, 700)]


def test_a_ticket_of_a_car_recorded_inside_is_not_given_again_a_year_on(
    make_gw: Callable[..., Gateway],
) -> None:
    """A car with no plate in on 2 March at 20:00, recorded the next morning, is given 无牌-0302-01
    (the ticket of the day it came in), and leaves that day. No access record of 2 March names
    that ticket; a year on, the entrance's first car with no plate of 2 March was given it again:
    two cars on one ticket in the records (the stays, the charges, the receipts)."""
    with serving(make_gw()) as served:
        s = Site(*served)
        body = {"no_plate": True, "entered_at": "2025-03-02 20:00", "reason": REASON}
        first = s.client.post("/api/parking/stays", headers=s.auth, json=body).json()
        assert first["plate"] == "无牌-0302-01", first
        s.now = T0 + 2 * H
        assert s.typed("car-out", {"plate": "无牌-0302-01"}).json()["reason"] == "payment_due"
        quote = s.client.get("/api/parking/lanes/car-out/quote", headers=s.auth).json()
        paid = {"plate": quote["plate"], "amount_fen": quote["due_fen"], "method": "cash"}
        left = s.client.post("/api/parking/lanes/car-out/pay", headers=s.auth, json=paid)
        assert left.status_code == 200 and left.json()["admitted"], left.text
        assert s.read("SELECT count(*) FROM stays WHERE exited_at IS NULL") == [(0,)]
        s.now = datetime(2026, 3, 2, 10, 0, tzinfo=T0.tzinfo)
        assert s.typed("car-in", {"no_plate": True}).json()["plate"] == "无牌-0302-02"


def test_import_inside_gives_each_car_with_no_plate_a_ticket_and_refuses_a_ticket(
    import_site: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Day one's list from the old system: two cars with no plate, written 无牌车. They were
    refused as no Chinese licence plate, with no way to record them; each is given a ticket of its
    own, and the summary names each one's ticket, for its paper ticket. A ticket in the list is
    refused, saying how to record a car with no plate, and nothing is recorded."""
    listed = tmp_path / "inside.csv"
    listed.write_text(
        "plate,entered_at\n苏E12345,2025-03-03 07:00\n无牌车,2025-03-03 07:10\n无牌,2025-03-03 07:20\n",
        encoding="utf-8",
    )
    assert main(["import-inside", "-c", str(import_site), str(listed)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "recorded 3 car(s) inside" in out
    assert "line 3: 无牌车, ticket 无牌-0303-01" in out and "line 4: 无牌车, ticket 无牌-0303-02" in out, out
    stays = rows(import_site, "SELECT plate FROM stays ORDER BY id")
    assert stays == [("苏E12345",), ("无牌-0303-01",), ("无牌-0303-02",)]

    again = tmp_path / "again.csv"
    again.write_text("plate,entered_at\n无牌-0303-03,2025-03-03 07:30\n皖A99999,\n", encoding="utf-8")
    assert main(["import-inside", "-c", str(import_site), str(again)]) == 65
    err = capsys.readouterr().err
    assert f"{again}:2: plate: '无牌-0303-03' is a ticket" in err and "无牌车" in err, err
    assert rows(import_site, "SELECT count(*) FROM stays") == [(3,)]
