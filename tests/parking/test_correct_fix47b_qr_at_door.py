"""A pass's QR scanned at a pedestrian door is a person walking, not the pass's car: it names no
car (access_log.car, store/holds.py _car_in_register_sql), so it neither makes the car waiting at a
vehicle lane gone for 纠正并重新判断 (_LET_THROUGH) nor ends its hold at an exit (_let_out_sql).
Rows written before, with a car on a door's row, do not count either."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import DOOR_OUT, T0, add_visitor, make_gw  # noqa: F401  (fixture)
from tests.parking.test_correct_fix47_card_and_qr import _correct_and_decide_again, _shown
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving
from tests.ui.test_hand_open_failed_record import _look

H = timedelta(hours=1)
S = timedelta(seconds=1)
QR = "QR-VISIT-0047"
CAR_IN_RELAY = """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"
"""


def _visitor_with_qr(gw: Gateway, plate: str) -> int:
    pid = add_visitor(gw, plate)
    gw.conn.execute("INSERT INTO credentials (kind, value, pass_id) VALUES ('qr', ?, ?)", (QR, pid))
    gw.conn.commit()
    return pid


_KEPT_AS_BEFORE = """
DROP TRIGGER access_log_no_update;
UPDATE access_log SET car = '{plate}' WHERE lane_type = 'pedestrian' AND kind = 'qr';
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log BEGIN
    SELECT RAISE(ABORT, 'access_log is append-only');
END;
"""


def _door_rows_name_the_car(gw: Gateway, plate: str) -> None:
    """A door's rows as an earlier release wrote them: the pass's car on a person's row (the log is
    append-only: its guard is lifted for this alone)."""
    gw.on_worker(lambda c: c.executescript(_KEPT_AS_BEFORE.format(plate=plate))).result(timeout=10)
    assert _door_cars(gw) == [(plate,)]


def _door_cars(gw: Gateway) -> list[tuple[str | None]]:
    return gw.on_worker(
        lambda c: c.execute("SELECT car FROM access_log WHERE lane_type = 'pedestrian'").fetchall()
    ).result(timeout=10)


def _decided_again_after_the_door(make: Callable[..., Gateway], old_rows: bool) -> None:
    """A visitor's 鲁C12345 (pass with its plate and a QR) is misread 鲁C1234S at car-in and refused
    (strangers refused). While the car waits, the visitor's companion walks in through the door on
    the pass's QR. The guard corrects the record to 鲁C12345 and taps 纠正并重新判断: the car, still
    at the barrier, is let in; it was refused 409 car_left_lane, the door's QR row naming the car."""
    gw = make(extra=CAR_IN_RELAY, exit_without_entry='guard"\nunknown_vehicle = "refuse')
    _visitor_with_qr(gw, "鲁C12345")
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        misread = _look(gw, clock, "car-in", "鲁C1234S", T0)
        assert misread.admitted is False, misread
        walked = _shown(gw, clock, "door", "qr", QR, T0 + 10 * S)
        assert walked.admitted is True, walked  # a person through the door, not the car
        assert _door_cars(gw) == [(None,)]
        if old_rows:
            _door_rows_name_the_car(gw, "鲁C12345")
        clock.at = T0 + 20 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-in", misread.event_id, "鲁C12345")
    assert again.status_code == 200, f"the car still at car-in was told gone: {again.text}"
    assert (again.json()["admitted"], raised) == (True, 1), again.text


def test_a_pass_qr_scanned_at_the_door_does_not_make_the_waiting_car_gone(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    _decided_again_after_the_door(make_gw, old_rows=False)


def test_a_door_row_written_before_with_the_car_on_it_does_not_make_it_gone(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    _decided_again_after_the_door(make_gw, old_rows=True)


def _quote(client: TestClient, auth: dict[str, str]) -> tuple[str | None, int]:
    quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    return quote["plate"], quote["due_fen"]


def _held_after_the_door(make: Callable[..., Gateway], old_rows: bool) -> None:
    """A visitor's 鲁C12345, in 3 hours, is held at car-out to pay 9元. The companion walks out
    through the exit door on the pass's QR. The guard's 收费放行 quote for car-out still names
    鲁C12345, 9元: it said no car was held, the door's row counted as the car let out."""
    gw = make(extra=RELAY + DOOR_OUT)
    _visitor_with_qr(gw, "鲁C12345")
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        assert _look(gw, clock, "car-in", "鲁C12345", T0).admitted is True
        held = _look(gw, clock, "car-out", "鲁C12345", T0 + 3 * H)
        assert (held.reason, held.fee_fen) == ("payment_due", 900), held
        walked = _shown(gw, clock, "door-out", "qr", QR, T0 + 3 * H + 5 * S)
        assert walked.admitted is True, walked
        if old_rows:
            _door_rows_name_the_car(gw, "鲁C12345")
        clock.at = T0 + 3 * H + 8 * S
        assert _quote(client, auth) == ("鲁C12345", 900), "the car held is gone from the quote"
        # Let out at the barrier, its hold ends as before.
        paid = _look(gw, clock, "car-out", "鲁C12345", T0 + 3 * H + 9 * S)
        assert paid.reason == "payment_due", paid


def test_a_pass_qr_at_the_exit_door_does_not_end_the_cars_hold_at_the_car_exit(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    _held_after_the_door(make_gw, old_rows=False)


def test_a_door_row_written_before_with_the_car_on_it_does_not_end_the_hold(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    _held_after_the_door(make_gw, old_rows=True)


def test_the_cars_own_card_at_the_door_does_not_make_it_gone(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The resident's 皖B33333, misread 皖B3333B at car-in and refused; its passenger walks in
    through the door on the car's card (taken for that car). 纠正并重新判断 then lets the car, still
    at the barrier, in: a card, like a QR, names its car only at a vehicle lane (its door row
    names none, AccessEvent.of)."""
    gw = make_gw(extra=CAR_IN_RELAY, exit_without_entry='guard"\nunknown_vehicle = "refuse')
    rid, vid = gw.conn.execute("SELECT resident_id, id FROM vehicles WHERE plate = '皖B33333'").fetchone()
    gw.conn.execute(
        "INSERT INTO credentials (kind, value, resident_id, vehicle_id) VALUES ('card', '0012345678', ?, ?)",
        (rid, vid),
    )
    gw.conn.commit()
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        misread = _look(gw, clock, "car-in", "皖B3333B", T0)
        assert misread.admitted is False, misread
        walked = _shown(gw, clock, "door", "card", "0012345678", T0 + 10 * S)
        assert walked.admitted is True, walked
        assert _door_cars(gw) == [(None,)]
        clock.at = T0 + 20 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-in", misread.event_id, "皖B33333")
    assert again.status_code == 200, f"the car still at car-in was told gone: {again.text}"
    assert (again.json()["admitted"], raised) == (True, 1), again.text
