"""A plate typed wrong in the register, corrected by the office (PATCH /api/vehicles/{id}) while
the car is parked inside or away."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import add_visitor
from tests.parking.test_api import serving

CARD = "0088776655"
TYPO, REAL = "皖B33333", "皖B38333"  # R2's car on B002 as typed at registration, and as it really is
SECOND_TYPO, SECOND_REAL = "皖A22222", "皖A28222"  # R1's second car on the shared slot B001

Served = tuple[Gateway, TestClient, dict[str, str]]


@pytest.fixture
def running(make_gw: Callable[..., Gateway]) -> Iterator[Served]:
    with serving(make_gw()) as served:
        yield served


def _on_worker(gw: Gateway, p: Presented) -> AccessEvent:
    return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)


def tap(gw: Gateway, lane: str, card: str, at: datetime) -> AccessEvent:
    return _on_worker(gw, Presented(lane, "card", card, 1.0, at, "reader"))


def read(gw: Gateway, lane: str, plate: str, at: datetime) -> AccessEvent:
    return _on_worker(gw, Presented(lane, "plate", plate, 0.97, at, "cam"))


def _one(gw: Gateway, sql: str, *args: object) -> Any:
    return gw.conn.execute(sql, args).fetchone()[0]


def _vehicle(gw: Gateway, plate: str) -> int:
    return int(_one(gw, "SELECT id FROM vehicles WHERE plate = ?", plate))


def _card_in(served: Served, ref: str, plate: str, at: datetime) -> AccessEvent:
    """The resident is given a card for the car as registered, and drives in on it at `at` (the
    camera cannot match the plate on the car to the one typed wrong)."""
    gw, client, auth = served
    resident = _one(gw, "SELECT id FROM residents WHERE ref = ?", ref)
    r = client.post("/api/cards", headers=auth, json={"card": CARD, "resident_id": resident, "plate": plate})
    assert r.status_code == 200, r.text
    return tap(gw, "car-in", CARD, at)


def _correct(served: Served, typo: str, real: str) -> None:
    gw, client, auth = served
    r = client.patch(f"/api/vehicles/{_vehicle(gw, typo)}", headers=auth, json={"plate": real})
    assert r.status_code == 204, r.text


def _inside(client: TestClient) -> int:
    return sum(row["inside"] for row in client.get("/api/parking/occupancy").json())


def test_camera_exit_after_the_plate_was_corrected_closes_the_stay(running: Served) -> None:
    """R2's car, typed 皖B33333 at registration, is really 皖B38333. It drives in on R2's card and
    parks on B002; the office corrects the plate. The guard's stays list shows the car by the right
    plate, and the camera reading 皖B38333 at the exit lets it out as the resident it came in as,
    closing its stay: it is no longer counted inside nor holding a space for ever, and the exit is
    not one of a car that never came in."""
    gw, client, auth = running
    now = gw.now()
    came_in = _card_in(running, "R2", TYPO, now - timedelta(hours=3))
    assert (came_in.reason, came_in.billing) == ("resident", "slot")
    _correct(running, TYPO, REAL)
    assert [s["plate"] for s in client.get("/api/parking/stays", headers=auth).json()] == [REAL]

    out = read(gw, "car-out", REAL, now)
    assert (out.admitted, out.reason) == (True, "resident")
    assert "no_entry_record" not in out.flags, out.flags
    stays = client.get("/api/parking/stays", headers=auth).json()
    assert (_inside(client), stays) == (0, []), f"after the car left: {_inside(client)} inside, stays {stays}"


def test_second_car_on_a_shared_slot_still_pays_after_its_plate_was_corrected(running: Served) -> None:
    """R1's first car is on the shared slot B001; its second car (typed 皖A22222, really 皖A28222)
    comes in on R1's card and pays by the hour. Its plate corrected, the camera reading 皖A28222 at
    the exit holds it to pay what it owes, as it would have on the old plate: it does not leave
    free as a registered car that never came in."""
    gw, client, auth = running
    now = gw.now()
    assert read(gw, "car-in", "皖A11111", now - timedelta(hours=4)).billing == "slot"
    came_in = _card_in(running, "R1", SECOND_TYPO, now - timedelta(hours=3))
    assert (came_in.admitted, came_in.billing) == (True, "temporary")
    _correct(running, SECOND_TYPO, SECOND_REAL)
    owed = client.get("/api/parking/quote", headers=auth, params={"plate": SECOND_REAL}).json()
    assert owed["due_fen"] > 0 and owed["billing"] == "temporary", owed

    out = read(gw, "car-out", SECOND_REAL, now)
    assert (out.admitted, out.reason) == (False, "payment_due")


def test_booth_payment_made_before_the_correction_lets_the_car_out(running: Served) -> None:
    """The second car's owner pays ahead at the booth under the plate the register had, then the
    office corrects it. The camera reading the right plate at the exit, within the grace period,
    lets the car out without asking again: the payment is the car's, and it and the exit's
    charge name the plate on the car."""
    gw, client, auth = running
    now = gw.now()
    read(gw, "car-in", "皖A11111", now - timedelta(hours=4))
    _card_in(running, "R1", SECOND_TYPO, now - timedelta(hours=3))
    due = client.get("/api/parking/quote", headers=auth, params={"plate": SECOND_TYPO}).json()["due_fen"]
    paid = client.post(
        "/api/parking/prepay", headers=auth, json={"plate": SECOND_TYPO, "amount_fen": due, "method": "cash"}
    )
    assert paid.status_code == 200, paid.text
    _correct(running, SECOND_TYPO, SECOND_REAL)

    out = read(gw, "car-out", SECOND_REAL, gw.now())
    assert (out.admitted, out.reason) == (True, "temporary"), (out.admitted, out.reason)
    payment = gw.conn.execute("SELECT p.plate, c.plate FROM payments p JOIN charges c ON c.id = p.charge_id")
    assert payment.fetchall() == [(SECOND_REAL, SECOND_REAL)]
    assert _inside(client) == 1  # the first car, on its slot


def test_correcting_the_plate_of_a_car_away_changes_only_its_plate(running: Served) -> None:
    """R2's car is out when the office corrects its plate: the car keeps its slot and card, the
    camera now knows it by the plate on it (and no longer by the one typed wrong), and the change
    is on the audit trail and sent to the central server with both plates."""
    gw, client, auth = running
    vid = _vehicle(gw, TYPO)
    _correct(running, TYPO, REAL)

    assert _vehicle(gw, REAL) == vid
    came_in = read(gw, "car-in", REAL, gw.now())
    assert (came_in.reason, came_in.billing, came_in.vehicle_id) == ("resident", "slot", vid)
    assert read(gw, "car-in", TYPO, gw.now()).holder_kind is None
    detail = _one(
        gw, "SELECT detail FROM audit WHERE action = 'vehicle.update' AND target = ?", f"vehicle:{vid}"
    )
    assert detail == f"{TYPO} corrected to {REAL}"
    sent = json.loads(_one(gw, "SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq DESC"))
    assert {k: sent.get(k) for k in ("op", "entity", "plate", "new_plate")} == {
        "op": "update",
        "entity": "vehicle",
        "plate": TYPO,
        "new_plate": REAL,
    }, sent


def test_a_blocked_plate_stays_blocked_on_the_corrected_car(running: Served) -> None:
    """R2's car was blocked ("Block now" on its plate) before the office corrected the plate: the
    block is the car's, so the camera reading the right plate still keeps the barrier shut."""
    gw, client, auth = running
    block = {"kind": "plate", "value": TYPO, "reason": "欠费"}
    assert client.post("/api/credentials/block", headers=auth, json=block).status_code == 200
    _correct(running, TYPO, REAL)

    came_in = read(gw, "car-in", REAL, gw.now())
    assert (came_in.admitted, came_in.reason) == (False, "blocked")


@pytest.mark.parametrize(
    ("plate", "status", "fix_says"),
    [
        ("皖A11111", 409, "DELETE /api/vehicles/"),  # R1's car
        ("苏E88888", 409, "check the pass out"),  # a visitor's pass still in use (one over lets it go)
        ("B3833", 422, "type"),  # not a plate
        (TYPO, 422, "plate as it is on the car"),  # the plate it has
    ],
)
def test_a_plate_correction_that_cannot_be_right_is_refused_and_changes_nothing(
    running: Served, plate: str, status: int, fix_says: str
) -> None:
    """The office types, as the right plate, one that is another car's or a visitor's, one that is
    no plate, or the plate the car has already: it is told why and what to do, and the register,
    the audit trail and the central server hear of no change."""
    gw, client, auth = running
    visit = add_visitor(gw, "苏E88888")
    gw.conn.execute(
        "UPDATE passes SET valid_to = '2099-12-31T16:00:00.000000+00:00' WHERE id = ?", (visit,)
    )  # the API's now
    vid = _vehicle(gw, TYPO)
    r = client.patch(f"/api/vehicles/{vid}", headers=auth, json={"plate": plate})
    assert r.status_code == status and fix_says in r.json()["error"]["fix"], r.text
    assert _vehicle(gw, TYPO) == vid
    assert _one(gw, "SELECT count(*) FROM audit WHERE action = 'vehicle.update'") == 0
    assert _one(gw, "SELECT count(*) FROM credentials WHERE kind = 'plate' AND value = ?", TYPO) == 1
