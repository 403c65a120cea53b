"""A car recorded inside at a wrong, earlier time made the slot's first car its second car; the
admin closes that record (已离场) and records the car again at the true, later time (review
fix44). docs/parking.md, *Cars already inside*: recorded by mistake, a car "is closed as any
other ... and may then be recorded again at the true time". The close alone hands the slot on,
as at an exit (it cannot tell a car that left unseen: test_inside_fix44b_close_left_unseen.py);
the record made again at the later time gives the first car back what it was (review fix44b).

R1 has one fixed slot, B001, listing its two cars 皖A11111 (A) and 皖A22222 (B)
(tests/parking/conftest.py). The example tariff: 30 minutes free, 5元 the first hour, 2元 an hour
after it, at most 30元 a day.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import Site

H = timedelta(hours=1)
M = timedelta(minutes=1)
A, B = "皖A11111", "皖A22222"


def typed(s: Site, at: datetime) -> str:
    """A time as an admin types it: the site's time, to the minute."""
    return at.astimezone(s.gw.site.tz).strftime("%Y-%m-%d %H:%M")


def record(s: Site, plate: str, entered_at: datetime, reason: str) -> dict[str, Any]:
    made = s.client.post(
        "/api/parking/stays",
        headers=s.auth,
        json={"plate": plate, "entered_at": typed(s, entered_at), "reason": reason},
    )
    assert made.status_code == 200, made.text
    return dict(made.json())


def close(s: Site, stay_id: int, reason: str) -> dict[str, Any]:
    closed = s.client.post(f"/api/parking/stays/{stay_id}/close", headers=s.auth, json={"reason": reason})
    assert closed.status_code == 200, closed.text
    return dict(closed.json())


def listed(s: Site, plate: str) -> dict[str, Any]:
    """The car's row in 场内车辆 (the 车位 page's list, GET /api/parking/stays)."""
    rows = s.client.get("/api/parking/stays", headers=s.auth, params={"plate": plate}).json()
    assert len(rows) == 1, rows
    return dict(rows[0])


def _report_of_t0_day(gw: Gateway, conn: sqlite3.Connection) -> dict[str, Any]:
    """The daily report of T0's day (periods from 06:00), built the next morning on the worker."""
    site_id, lanes, tz = gw.site.config.site.id, gw.site.lanes, gw.site.tz
    return build_report(
        conn, site_id=site_id, lanes=lanes, day=T0.date(), hour=6, tz=tz, built_at=T0 + 24 * H
    )


def _b_in_then_a_recorded_too_early(s: Site) -> int:
    """B drives in at 09:00 onto B001, free. A came in at 10:00 past a camera that was down; at
    11:00 the admin records it, typing 07:00 by mistake: B is made the slot's second car. Returns
    the mistaken record's stay."""
    assert s.show("car-in", B).billing == "slot"
    s.now = T0 + 2 * H
    wrong = record(s, A, T0 - 2 * H, "camera down: parked before")
    assert wrong["second_car"]["plate"] == B  # as the mistake had it
    assert listed(s, B)["billing"] == "temporary"
    return int(wrong["stay_id"])


def test_first_car_is_back_on_its_slot_free_once_the_mistaken_record_is_redone(
    make_gw: Callable[..., Gateway],
) -> None:
    """At 11:05 the admin sees the mistake, presses 已离场 on A's record and records A again since
    10:00, its true time. B came in first and was on B001 all along: it leaves at 13:00 free, as
    a resident, and A, in after it, is the slot's second car, paying 10:00-13:00 (9元) until B's
    exit hands it the slot. What B's driver was asked: 9元 for 09:00-11:05, the time it stood
    alone on its own slot, as the slot's second car; the 车位 page listed it paying by time."""
    with serving(make_gw()) as served:
        s = Site(*served)
        wrong = _b_in_then_a_recorded_too_early(s)
        s.now = T0 + 2 * H + 5 * M
        closed = close(s, wrong, "entered_at typed wrong")
        # Handed on as at an exit: the close cannot tell a time typed wrong from a car that left.
        assert closed["handover_to"] == listed(s, B)["stay_id"], closed
        again = record(s, A, T0 + H, "camera down: came in at 10:00")
        assert (again["billing"], again["slot"]) == ("temporary", None), again  # A: the second car

        # Recorded again at a later time, the first time was typed wrong: B was on the slot all along.
        b_row = listed(s, B)
        assert (b_row["billing"], b_row["slot"], b_row["billed_until"]) == ("slot", "B001", None), b_row

        s.now = T0 + 4 * H
        b_out = s.show("car-out", B)
        assert (b_out.reason, b_out.fee_fen) == ("resident", 0), (b_out.reason, b_out.fee_fen)
        s.now = T0 + 5 * H
        a_out = s.show("car-out", A)
        assert (a_out.reason, a_out.fee_fen) == ("payment_due", 900), (a_out.reason, a_out.fee_fen)


def test_the_restoration_is_on_the_audit_trail_upstream_and_in_the_days_report(
    make_gw: Callable[..., Gateway],
) -> None:
    """The displacement is on the audit trail (stay.record names B as made the second car) and in
    the `stay` record upstream (`second_car`); undoing it is too: the record made again names B as
    back on its slot, and its `recorded_by_admin` record and answer say so (`restored`). The
    accountant's report counts B's entry as what it is again, a resident's car on its own slot (no
    temporary entry, no shared_slot flag)."""
    with serving(make_gw()) as served:
        s = Site(*served)
        wrong = _b_in_then_a_recorded_too_early(s)
        s.now = T0 + 2 * H + 5 * M
        close(s, wrong, "entered_at typed wrong")
        b_stay = listed(s, B)["stay_id"]
        again = record(s, A, T0 + H, "camera down: came in at 10:00")

        detail = s.read("SELECT detail FROM audit WHERE action = 'stay.record' ORDER BY id")[-1][0]
        assert f"{B} (stay {b_stay})" in detail and "back on its slot" in detail, detail
        sent = [json.loads(p) for (p,) in s.read("SELECT payload FROM outbox WHERE topic = 'stay'")]
        records = [p for p in sent if p["change"] == "recorded_by_admin"]
        assert [bool(p.get("restored")) for p in records] == [False, True], records
        restored = records[-1]["restored"]
        assert (restored["stay_id"], restored["plate"], restored["billing"]) == (b_stay, B, "slot"), restored
        # The record names the stay's stream beside its id too (docs/mqtt.md, Streams); the answer not.
        assert again["restored"] == {k: v for k, v in restored.items() if k != "stay_stream"}, again

        s.now = T0 + 4 * H
        assert s.show("car-out", B).reason == "resident"
        report = s.gw.on_worker(lambda c: _report_of_t0_day(s.gw, c)).result(10)
        entries = report["vehicles"]["entries"]["by_kind"]
        assert (entries["resident"], entries["temporary"]) == (1, 0), entries
        assert report["flags"]["shared_slot"] == 0, report["flags"]


def test_a_time_typed_wrong_twice_gives_the_first_car_back_its_slot_each_time(
    make_gw: Callable[..., Gateway],
) -> None:
    """The admin types 07:00 for A, closes it, types 06:00 (wrong again), closes that, and types
    10:00. The first mistaken record, closed, is no car B came in behind: B leaves at 13:00 free,
    as a resident, not as the second car handed the slot when the first mistake was closed."""
    with serving(make_gw()) as served:
        s = Site(*served)
        first = _b_in_then_a_recorded_too_early(s)
        s.now = T0 + 2 * H + 5 * M
        close(s, first, "entered_at typed wrong")
        s.now = T0 + 2 * H + 6 * M
        second = record(s, A, T0 - 3 * H, "camera down: parked before")
        assert second["second_car"]["plate"] == B
        s.now = T0 + 2 * H + 8 * M
        close(s, int(second["stay_id"]), "entered_at typed wrong again")
        record(s, A, T0 + H, "camera down: came in at 10:00")

        b_row = listed(s, B)
        assert (b_row["billing"], b_row["slot"], b_row["billed_until"]) == ("slot", "B001", None), b_row
        s.now = T0 + 4 * H
        b_out = s.show("car-out", B)
        assert (b_out.reason, b_out.fee_fen) == ("resident", 0), (b_out.reason, b_out.fee_fen)


def test_a_car_that_came_in_as_the_second_car_is_given_back_its_handover_not_a_free_stay(
    make_gw: Callable[..., Gateway],
) -> None:
    """A is on B001 from 08:00; B drives in at 09:00 as the slot's second car. At 10:30 the admin
    closes A's stay (it left unseen, camera down): B is handed the slot, billed 09:00-10:30. A came
    back unseen; at 11:00 the admin records it, typing 07:00 by mistake, which makes B the second
    car from its entry; at 11:05 the record is closed and made again at 10:45. B was what it was:
    the second car until 10:30, on the slot after. It leaves at 13:00 paying 7元 (09:00-10:30),
    not 9元 for 09:00-11:05, and not nothing."""
    with serving(make_gw()) as served:
        s = Site(*served)
        s.now = T0 - H
        assert s.show("car-in", A).billing == "slot"
        s.now = T0
        assert s.show("car-in", B).billing == "temporary"
        s.now = T0 + H + 30 * M
        first = listed(s, A)["stay_id"]
        assert close(s, first, "left unseen, camera down")["handover_to"] == listed(s, B)["stay_id"]
        s.now = T0 + 2 * H
        wrong = record(s, A, T0 - 2 * H, "came back unseen")
        assert wrong["second_car"]["plate"] == B
        s.now = T0 + 2 * H + 5 * M
        close(s, int(wrong["stay_id"]), "entered_at typed wrong")
        again = record(s, A, T0 + H + 45 * M, "came back unseen at 10:45")
        assert (again["billing"], again["slot"]) == ("temporary", None), again

        b_row = listed(s, B)
        assert (b_row["billing"], b_row["slot"]) == ("temporary", "B001"), b_row
        assert b_row["billed_until"].startswith("2025-03-03T10:30"), b_row
        s.now = T0 + 4 * H
        b_out = s.show("car-out", B)
        assert (b_out.reason, b_out.fee_fen) == ("payment_due", 700), (b_out.reason, b_out.fee_fen)


def test_a_car_of_the_slot_inside_from_before_keeps_the_displaced_car_the_second_car(
    make_gw: Callable[..., Gateway],
) -> None:
    """R1 has a third car, 皖A33333 (C), on B001 with A and B. B drives in at 09:00 onto the slot.
    At 11:00 the admin records A since 07:00 by mistake (B made the second car), then C since 08:30
    from the old system's list (the second car too: A is on the slot). At 11:05 A's record is
    closed. With A gone, C was inside before B: B is the second car still, and C is handed the
    slot as at any close; B is not put back on it, nor does the close say so."""
    with serving(make_gw()) as served:
        s = Site(*served)
        _third_car_on_b001(s, "皖A33333")
        wrong = _b_in_then_a_recorded_too_early(s)
        s.now = T0 + 2 * H + 2 * M
        c = record(s, "皖A33333", T0 - 30 * M, "old system's list")
        assert (c["billing"], c["second_car"]) == ("temporary", None), c
        s.now = T0 + 2 * H + 5 * M
        closed = close(s, wrong, "entered_at typed wrong")

        assert closed["handover_to"] == c["stay_id"], closed
        b_row = listed(s, B)
        assert (b_row["billing"], b_row["slot"]) == ("temporary", None), b_row
        detail = s.read("SELECT detail FROM audit WHERE action = 'stay.close'")[0][0]
        assert detail == f"{A}: entered_at typed wrong", detail


def _third_car_on_b001(s: Site, plate: str) -> None:
    """R1's third car, and slot B001 given again listing all three (an admin deletes a slot and
    adds it again to change its cars: store/registry_vehicles.py add_slot)."""
    (resident,), (slot,) = (
        s.read("SELECT id FROM residents WHERE ref = 'R1'"),
        s.read("SELECT id FROM slots WHERE number = 'B001'"),
    )
    car = {"plate": plate, "resident_id": resident[0], "vehicle_class": "car"}
    assert s.client.post("/api/vehicles", headers=s.auth, json=car).status_code == 200
    assert s.client.delete(f"/api/slots/{slot[0]}", headers=s.auth).status_code == 204
    given = {"zone": "main", "number": "B001", "resident_id": resident[0], "plates": [A, B, plate]}
    made = s.client.post("/api/slots", headers=s.auth, json=given)
    assert made.status_code == 200, made.text
