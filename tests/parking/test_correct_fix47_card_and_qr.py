"""纠正并重新判断 when the car showed a card or a pass's QR since its record: a card or QR row names
its car (access_log.car, store/holds.py car_held_sql), so the car let in on its card at another
entrance has left the lane (409 car_left_lane), and a visitor's car that scanned its pass's QR as
it waited is still the car at the barrier, decided again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal
from uuid import uuid4

from fastapi.testclient import TestClient
from httpx2 import Response

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, add_visitor, make_gw  # noqa: F401  (fixture)
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving
from tests.rush_helpers import pulses
from tests.ui.test_hand_open_failed_record import _look

H = timedelta(hours=1)
S = timedelta(seconds=1)
CARD = "0012345678"
QR = "QR-VISIT-0001"

SECOND_ENTRANCE = """
[[lanes]]
id = "car-in2"
name = "入口2"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"

[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"

[[devices]]
id = "car-in2-barrier"
lane = "car-in2"
kind = "relay"
driver = "simulated"
"""


def _shown(
    gw: Gateway, clock: Clock, lane: str, kind: Literal["card", "qr"], value: str, at: datetime
) -> AccessEvent:
    """A card tapped, or a pass's QR scanned, at `lane`'s reader at `at`."""
    clock.at = at
    p = Presented(lane, kind, value, 1.0, at, "reader")
    return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)


def _correct_and_decide_again(
    gw: Gateway, client: TestClient, auth: dict[str, str], lane: str, event_id: str, plate: str
) -> tuple[Response, int]:
    """纠正车牌 to `plate`, then 纠正并重新判断 at `lane`: the answer, and how often its barrier rose."""
    fixed = client.post(f"/api/events/{event_id}/plate", headers=auth, json={"plate": plate})
    assert fixed.status_code == 200, fixed.text
    before = pulses(gw, lane)
    again = client.post(
        f"/api/lanes/{lane}/plate",
        headers={**auth, "Idempotency-Key": uuid4().hex},
        json={"plate": plate, "corrected_event": event_id},
    )
    return again, pulses(gw, lane) - before


def test_the_car_let_in_on_its_card_at_the_other_entrance_is_not_decided_again(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The resident's 皖B33333, misread 皖B3333B at car-in and refused (strangers refused), reverses
    to car-in2 and taps his card there: let in. The guard then corrects car-in's record and taps
    纠正并重新判断: 409 car_left_lane, car-in's barrier stays down for whoever is behind."""
    gw = make_gw(extra=SECOND_ENTRANCE, exit_without_entry='guard"\nunknown_vehicle = "refuse')
    rid, vid = gw.conn.execute("SELECT resident_id, id FROM vehicles WHERE plate = '皖B33333'").fetchone()
    gw.conn.execute(
        "INSERT INTO credentials (kind, value, resident_id, vehicle_id) VALUES ('card', ?, ?, ?)",
        (CARD, rid, vid),
    )
    gw.conn.commit()
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        misread = _look(gw, clock, "car-in", "皖B3333B", T0)
        assert misread.admitted is False, misread
        by_card = _shown(gw, clock, "car-in2", "card", CARD, T0 + 20 * S)
        assert by_card.admitted is True, by_card
        clock.at = T0 + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-in", misread.event_id, "皖B33333")
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "car_left_lane", again.text
    assert "let through elsewhere" in again.json()["error"]["message"], again.text
    assert raised == 0


def test_the_visitor_car_that_scanned_its_pass_qr_as_it_waited_is_decided_again(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """A visitor's 鲁C12345, in 3 hours (past the free 2), is misread 鲁C1234S at car-out and refused;
    waiting, the driver scans his pass's QR at the exit: held to pay. The guard corrects the record
    to 鲁C12345 and taps 纠正并重新判断: the car still at the barrier is decided (held for its fee),
    not told gone because its own QR was decided meanwhile."""
    gw = make_gw(extra=RELAY)
    pid = add_visitor(gw, "鲁C12345")
    gw.conn.execute("INSERT INTO credentials (kind, value, pass_id) VALUES ('qr', ?, ?)", (QR, pid))
    gw.conn.commit()
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        assert _look(gw, clock, "car-in", "鲁C12345", T0).admitted is True
        misread = _look(gw, clock, "car-out", "鲁C1234S", T0 + 3 * H)
        assert misread.admitted is False, misread
        scanned = _shown(gw, clock, "car-out", "qr", QR, T0 + 3 * H + 10 * S)
        assert (scanned.admitted, scanned.reason) == (False, "payment_due"), scanned
        clock.at = T0 + 3 * H + 20 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-out", misread.event_id, "鲁C12345")
    assert again.status_code == 200, again.text
    assert again.json()["reason"] == "payment_due", again.text
    assert raised == 0


def test_the_car_recorded_inside_since_its_refusal_is_not_decided_again(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The resident's 皖B33333, misread and refused at car-in, is let in at car-in2 by a guard's
    开闸 there (no record of the car) and the admin records it inside (已在场登记). 纠正并重新判断
    at car-in afterwards: 409 car_left_lane, the car is in, its stay opened since the record."""
    gw = make_gw(extra=SECOND_ENTRANCE, exit_without_entry='guard"\nunknown_vehicle = "refuse')
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        misread = _look(gw, clock, "car-in", "皖B3333B", T0)
        assert misread.admitted is False, misread
        clock.at = T0 + 30 * S
        recorded = client.post(
            "/api/parking/stays", headers=auth, json={"plate": "皖B33333", "reason": "入口2开闸放入"}
        )
        assert recorded.status_code == 200, recorded.text
        clock.at = T0 + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-in", misread.event_id, "皖B33333")
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "car_left_lane", again.text
    assert raised == 0
