"""A car let in on a card or QR that the register no longer knows by the time it leaves: its
resident moved out, its pass was withdrawn, or the car was struck off and added again with its
plate corrected while it was parked. Nobody is kept in: it leaves on that card or QR."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, pay, show
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_api import serving

H = timedelta(hours=1)
CARD = "0088776655"
TYPO, REAL = "皖B33333", "皖B38333"  # R2's car as typed at registration, and as it really is
QR = "VQR-P9-7f3a9c2e51b04d6a"

Served = tuple[Gateway, TestClient, dict[str, str]]


@pytest.fixture
def running(make_gw: Callable[..., Gateway]) -> Iterator[Served]:
    with serving(make_gw()) as served:
        yield served


def card_at(lane: str, card: str, at: datetime) -> Presented:
    return Presented(lane, "card", card, 1.0, at, "reader")


def tap(gw: Gateway, lane: str, card: str, at: datetime) -> AccessEvent:
    """A card tapped at a running gateway (serving the API): decided on its worker."""
    return gw.on_worker(lambda _: gw.handle(card_at(lane, card, at))).result(timeout=10)


def _id(gw: Gateway, sql: str, *args: object) -> int:
    return int(gw.conn.execute(sql, args).fetchone()[0])


def _r2(gw: Gateway) -> int:
    return _id(gw, "SELECT id FROM residents WHERE ref = 'R2'")


def _card_for(client: TestClient, auth: dict[str, str], resident: int, plate: str) -> None:
    r = client.post("/api/cards", headers=auth, json={"card": CARD, "resident_id": resident, "plate": plate})
    assert r.status_code == 200, r.text


def _open_stays(gw: Gateway) -> list[tuple[str]]:
    return gw.conn.execute("SELECT subject FROM stays WHERE exited_at IS NULL").fetchall()


def _correct_the_plate(gw: Gateway, client: TestClient, auth: dict[str, str]) -> None:
    """The office's weekly fix: R2's car was typed 皖B33333, it is 皖B38333. The API refuses a PATCH
    of the plate, so: delete the car, add it with the right plate, put it back on R2's slot B002
    (delete the slot and add it again) and point R2's card at it again (delete and add)."""
    r2 = _r2(gw)
    vid = _id(gw, "SELECT id FROM vehicles WHERE plate = ?", TYPO)
    assert client.delete(f"/api/vehicles/{vid}", headers=auth).status_code == 204
    r = client.post("/api/vehicles", headers=auth, json={"plate": REAL, "resident_id": r2})
    assert r.status_code == 200, r.text
    sid = _id(gw, "SELECT id FROM slots WHERE number = 'B002'")
    assert client.delete(f"/api/slots/{sid}", headers=auth).status_code == 204
    r = client.post(
        "/api/slots",
        headers=auth,
        json={"zone": "main", "number": "B002", "resident_id": r2, "plates": [REAL]},
    )
    assert r.status_code == 200, r.text
    cid = _id(gw, "SELECT id FROM credentials WHERE kind = 'card' AND value = ?", CARD)
    assert client.delete(f"/api/credentials/{cid}", headers=auth).status_code == 204
    _card_for(client, auth, r2, REAL)


def test_moved_out_resident_leaves_by_card_at_a_card_only_exit(running: Served) -> None:
    """R2 moves out while its car is parked on B002: the office deletes the resident (cards and
    cars go with it). R2 drives out through a lane with only a card reader, tapping the card that
    let the car in. It was refused as unknown and held at the barrier; it leaves as it came in (on
    its own slot: free), and its stay is closed. The card still opens no entrance."""
    gw, client, auth = running
    now = gw.now()
    _card_for(client, auth, _r2(gw), TYPO)
    assert tap(gw, "car-in", CARD, now - 3 * H).reason == "resident"
    assert client.delete(f"/api/residents/{_r2(gw)}", headers=auth).status_code == 204

    out = tap(gw, "car-out", CARD, now)
    assert (out.admitted, out.reason, out.plate, out.flags) == (True, "resident", TYPO, ())
    assert _open_stays(gw) == []
    assert tap(gw, "car-in", CARD, now + H).reason == "unknown"


def test_card_only_exit_lets_the_car_out_after_its_plate_was_corrected(running: Served) -> None:
    """R2 drives in on its card (the camera cannot match the mistyped plate) and parks on B002.
    The office corrects the plate and points the card at the corrected car. R2 leaves by a lane
    with only a card reader, tapping the same card: the car it let in leaves and its stay closes.
    It stayed open for good (the guard's stays list and the counts showed the car inside), and
    the exit was recorded as a car that never came in."""
    gw, client, auth = running
    now = gw.now()
    _card_for(client, auth, _r2(gw), TYPO)
    came_in = tap(gw, "car-in", CARD, now - 3 * H)
    assert (came_in.reason, came_in.billing) == ("resident", "slot")
    _correct_the_plate(gw, client, auth)

    out = tap(gw, "car-out", CARD, now)
    assert (out.admitted, out.reason, out.flags) == (True, "resident", ())
    stays = client.get("/api/parking/stays", headers=auth).json()
    assert stays == [], f"the car has left, yet the guard's stays list still shows {stays}"


def test_blocked_card_still_keeps_the_car_of_a_corrected_plate_in(running: Served) -> None:
    """The same, but the office has blocked R2's card (lost): the barrier stays shut on it."""
    gw, client, auth = running
    now = gw.now()
    _card_for(client, auth, _r2(gw), TYPO)
    assert tap(gw, "car-in", CARD, now - 3 * H).admitted
    _correct_the_plate(gw, client, auth)
    gw.conn.execute("UPDATE credentials SET blocked = 1 WHERE kind = 'card' AND value = ?", (CARD,))

    assert tap(gw, "car-out", CARD, now).reason == "blocked"
    assert _open_stays(gw) == [(f"plate:{TYPO}",)]


def _visit_withdrawn_while_parked(gw: Gateway) -> None:
    """The centre registers 孙八's visit to 3栋2单元 without a plate; the car comes in on the QR at
    T0. The centre withdraws the pass (the host cancels) ten minutes later, the car still parked."""
    entry = {
        "kind": "pass",
        "ref": "P9",
        "pass_kind": "visitor",
        "name": "孙八",
        "host_building": "3栋",
        "host_unit": "2单元",
        "valid_from": "2025-03-03T08:00+08:00",
        "valid_to": "2025-03-03T20:00+08:00",
        "credentials": [{"kind": "qr", "value": QR}],
    }
    delta(gw, 1, 0, T0 - H, upsert=[entry])
    came_in = gw.handle(Presented("car-in", "qr", QR, 1.0, T0, "scanner"))
    assert (came_in.admitted, came_in.reason) == (True, "visitor"), came_in
    delta(gw, 2, 1, T0 + timedelta(minutes=10), delete=[{"kind": "pass", "ref": "P9"}])


def test_car_let_in_on_a_withdrawn_pass_qr_is_let_out_and_its_stay_closed(gw: Gateway) -> None:
    """The visitor scans the same QR at the exit within the free half hour: it was refused as
    unknown, and the stay (visitor:N) stayed open for good, holding a shared space. It leaves as
    the visitor it came in as, and its stay is closed."""
    _visit_withdrawn_while_parked(gw)
    out = gw.handle(Presented("car-out", "qr", QR, 1.0, T0 + timedelta(minutes=25), "scanner"))
    assert (out.admitted, out.reason, out.flags) == (True, "visitor", ())
    assert _open_stays(gw) == []


def test_car_let_in_on_a_withdrawn_pass_qr_pays_its_stay_as_a_visitor(gw: Gateway) -> None:
    """The same visitor leaving three hours later is asked its stay's fee at the visitor rate (as a
    visitor whose pass ran out is), not refused as an unknown QR."""
    _visit_withdrawn_while_parked(gw)
    out = gw.handle(Presented("car-out", "qr", QR, 1.0, T0 + 3 * H, "scanner"))
    assert (out.reason, out.billing, out.fee_fen) == ("payment_due", "visitor", 900)


def test_second_car_let_in_on_its_card_pays_after_its_plate_was_corrected(gw: Gateway) -> None:
    """R1's second car 皖A22222 comes in on R1's card while the first is on their shared slot B001:
    a paying temporary car. The centre corrects its plate (皖A22282: the car deleted and sent again,
    the card and the slot pointed at it). Tapping out on the card, it is held for its stay's fee,
    not let out free as a car that never came in; paid, it leaves and its stay is closed."""
    assert show(gw, "car-in", "皖A11111", T0).reason == "resident"
    card = {"kind": "card", "card": CARD, "resident": "R1", "plate": "皖A22222"}
    delta(gw, 1, 0, T0 - H, upsert=[card])
    came_in = gw.handle(card_at("car-in", CARD, T0))
    assert (came_in.reason, came_in.flags) == ("temporary", ("shared_slot",))
    corrected = [
        {"kind": "vehicle", "plate": "皖A22282", "resident": "R1"},
        {"kind": "card", "card": CARD, "resident": "R1", "plate": "皖A22282"},
        {
            "kind": "slot",
            "zone": "main",
            "number": "B001",
            "resident": "R1",
            "plates": ["皖A11111", "皖A22282"],
        },
    ]
    delta(gw, 2, 1, T0 + H, upsert=corrected, delete=[{"kind": "vehicle", "plate": "皖A22222"}])

    out = gw.handle(card_at("car-out", CARD, T0 + 2 * H))
    assert (out.reason, out.plate, out.flags, out.fee_fen) == ("payment_due", "皖A22222", (), 700)
    assert pay(gw, "皖A22222", 700, T0 + 2 * H).admitted
    assert _open_stays(gw) == [("vehicle:1",)], "only R1's first car is still inside"
