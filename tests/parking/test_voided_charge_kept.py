"""A missed-exit charge that a guard's plate correction undoes (docs/parking.md, *Misread plates*)
is kept, marked void: its id names it for good, and a report of the day it was owed, rebuilt after
the correction, says what the one sent said. The centre keeps charges by `charge_id` from the
`charge` records (docs/mqtt.md)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from tests.parking.charge_record_helpers import DAY, LET_OUT, H, Look, M, reports_sent, running, sent
from tests.parking.test_report_figures import Clock

REAL, LOOKALIKE = "苏E12345", "苏E1234S"
FIGURES = ("charges", "charged_fen", "unpaid_fen", "paid_ahead_not_left_fen")


def _misread(look: Look, at: datetime) -> str:
    """The south car came in at 11:00; the north car, really 苏E12345, misread as it at `at`: that
    entry closed the south car's stay as a missed exit, its fee carried. The entry's event id."""
    look("car-in-b", LOOKALIKE, DAY + 11 * H)
    north = look("car-in", LOOKALIKE, at)
    assert "already_inside" in north.flags
    return north.event_id


def _correct(client: TestClient, auth: dict[str, str], clock: Clock, event_id: str, at: datetime) -> None:
    clock.at = at
    r = client.post(f"/api/events/{event_id}/plate", headers=auth, json={"plate": REAL})
    assert r.status_code == 200 and r.json()["stay_moved"], r.text


def _rebuild(gw: Gateway, client: TestClient, auth: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Monday's report rebuilt now: (as first sent, as rebuilt), their parking figures."""
    r = client.post(f"/api/parking/reports/{DAY.date()}/build", headers=auth)
    assert r.status_code == 200, r.text
    first, *_, rebuilt = (rep["parking"] for rep in reports_sent(gw))
    return first, rebuilt


def test_a_charge_id_names_one_charge_after_a_voided_one(tmp_path: Path) -> None:
    """The misread's missed-exit charge is voided by the guard's correction; the next charge the box
    makes (a stranger let out by hand, its fee carried) went up under the same charge_id, for
    another car and stay: the centre, keeping charges by charge_id, had one charge where there were
    two, and the `stay` record's charge_id named a charge it was told is void."""
    with running(tmp_path) as (gw, clock, client, auth, look):
        misread = _misread(look, DAY + 12 * H)
        _correct(client, auth, clock, misread, DAY + 12 * H + 2 * M)
        look("car-in", "苏E10005", DAY + 13 * H)
        assert look("car-out", "苏E10005", DAY + 15 * H).reason == "payment_due"
        clock.at = DAY + 15 * H + M
        r = client.post("/api/lanes/car-out/open", headers=auth, json=LET_OUT)
        assert r.status_code == 200, r.text
        cars: dict[int, set[tuple[object, object]]] = {}
        for c in sent(gw, "charge"):
            cars.setdefault(c["charge_id"], set()).add((c["plate"], c["stay_id"]))
        assert not {cid: two for cid, two in cars.items() if len(two) > 1}, cars
        (hand,) = sent(gw, "stay")
        assert cars[hand["charge_id"]] == {("苏E10005", hand["stay_id"])}


def test_a_day_rebuilt_after_a_void_says_what_was_unpaid_at_its_end(tmp_path: Path) -> None:
    """docs/parking.md, *Daily report*: what is unpaid is as things stood at the period's end. The
    misread's missed-exit charge (5元) was unpaid at Monday's end, as the report sent on Tuesday
    said; the guard corrects the plate on Tuesday morning, and Monday's report rebuilt then said
    nothing was charged or unpaid."""
    with running(tmp_path) as (gw, clock, client, auth, look):
        misread = _misread(look, DAY + 12 * H)
        clock.at = DAY + 24 * H + 5 * M
        gw.operations.build_report(DAY.date(), clock.at)
        _correct(client, auth, clock, misread, DAY + 33 * H)
        first, rebuilt = _rebuild(gw, client, auth)
        assert [first[k] for k in FIGURES] == [1, 500, 500, 0]
        assert [rebuilt[k] for k in FIGURES] == [first[k] for k in FIGURES]


def test_money_paid_ahead_against_a_charge_voided_later_stays_paid_in_its_days_report(tmp_path: Path) -> None:
    """The south car paid 7元 ahead at the booth, then the misread made a missed exit of its stay:
    9元 charged, 2元 unpaid, nothing paid ahead left at Monday's end. The correction on Tuesday
    gives the 7元 back to the stay, and the car pays the rest as it leaves: Monday's report, rebuilt
    after either, still says 2元 unpaid and nothing paid ahead (not 9元 unpaid, 7元 paid ahead)."""
    with running(tmp_path) as (gw, clock, client, auth, look):
        look("car-in-b", LOOKALIKE, DAY + 11 * H)
        clock.at = DAY + 12 * H + 30 * M
        r = client.post(
            "/api/parking/prepay",
            headers=auth,
            json={"plate": LOOKALIKE, "amount_fen": 700, "method": "cash"},
        )
        assert r.status_code == 200, r.text
        north = look("car-in", LOOKALIKE, DAY + 14 * H)
        clock.at = DAY + 24 * H + 5 * M
        gw.operations.build_report(DAY.date(), clock.at)
        _correct(client, auth, clock, north.event_id, DAY + 33 * H)
        _, after_the_void = _rebuild(gw, client, auth)
        assert look("car-out-b", LOOKALIKE, DAY + 34 * H).reason == "payment_due"
        q = client.get("/api/parking/lanes/car-out-b/quote", headers=auth).json()
        r = client.post(
            "/api/parking/lanes/car-out-b/pay",
            headers=auth,
            json={"plate": LOOKALIKE, "amount_fen": q["due_fen"], "method": "cash"},
        )
        assert r.status_code == 200, r.text
        first, after_the_exit = _rebuild(gw, client, auth)
        assert [first[k] for k in FIGURES] == [1, 900, 200, 0]
        for rebuilt in (after_the_void, after_the_exit):
            assert [rebuilt[k] for k in FIGURES] == [first[k] for k in FIGURES], json.dumps(rebuilt)
