"""纠正并重新判断 in a queue at car-out: the car behind's misread record corrected while the car in
front, read just before it, still waits at the barrier."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving
from tests.ui.test_hand_open_failed_record import _look

H = timedelta(hours=1)
S = timedelta(seconds=1)


def test_correcting_the_car_behinds_record_while_the_car_in_front_is_read_again_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """At car-out a stranger's 苏E12345 (owes 7元) is refused at the barrier; the resident's 皖B33333
    queued behind it is read in the queue as 皖B3333B and refused; the camera then reads 苏E12345,
    still at the barrier, again. The guard corrects the resident's record and taps 纠正并重新判断:
    the resident is admitted and the barrier rises for the stranger, who drives out unpaid, where the
    page should say 该车已离开通道 (409 car_left_lane: another car was decided since)."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "苏E12345", T0)
        _look(gw, clock, "car-in", "皖B33333", T0 + 60 * S)
        front = _look(gw, clock, "car-out", "苏E12345", T0 + 2 * H)
        assert front.admitted is False
        behind = _look(gw, clock, "car-out", "皖B3333B", T0 + 2 * H + 5 * S)
        assert behind.admitted is False
        clock.at = T0 + 2 * H + 15 * S
        p = Presented("car-out", "plate", "苏E12345", 0.97, clock.at, "cam", again=True)
        repeat = gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)
        assert repeat.admitted is False
        clock.at = T0 + 2 * H + 20 * S
        fixed = client.post(f"/api/events/{behind.event_id}/plate", headers=auth, json={"plate": "皖B33333"})
        assert fixed.status_code == 200, fixed.text
        again = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": uuid4().hex},
            json={"plate": "皖B33333", "corrected_event": behind.event_id},
        )
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", (
        f"the car in front (苏E12345, read again after the corrected record) was taken for the corrected "
        f"car: {again.status_code} {again.text}"
    )


@pytest.mark.parametrize(
    "before_typed",
    [("皖B3333B",), ("皖B3333B", "苏E12345")],
    ids=["car-behind-read-last", "car-in-front-read-again-last"],
)
def test_correcting_a_plate_typed_in_a_queue_while_the_car_in_front_is_read_again_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
    before_typed: tuple[str, ...],
) -> None:
    """The same queue, the guard typing the resident's plate (输入车牌) with a slip, 皖B33334, after
    the camera read the car behind (or the car in front again after it): his typed record's car is
    not the stranger in front, whose next reading after it is another car (409 car_left_lane)."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "苏E12345", T0)
        _look(gw, clock, "car-in", "皖B33333", T0 + 60 * S)
        _look(gw, clock, "car-out", "苏E12345", T0 + 2 * H)
        at = T0 + 2 * H
        for plate in before_typed:
            at += 5 * S
            clock.at = at
            p = Presented("car-out", "plate", plate, 0.97, at, "cam", again=True)
            assert gw.on_worker(lambda _, p=p: gw.handle(p)).result(timeout=10).admitted is False
        clock.at = at + 3 * S
        typed = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": uuid4().hex},
            json={"plate": "皖B33334"},
        )
        assert typed.status_code == 200 and typed.json()["admitted"] is False, typed.text
        clock.at = at + 15 * S
        p = Presented("car-out", "plate", "苏E12345", 0.97, clock.at, "cam", again=True)
        assert gw.on_worker(lambda _: gw.handle(p)).result(timeout=10).admitted is False
        clock.at = at + 20 * S
        event = typed.json()["event_id"]
        fixed = client.post(f"/api/events/{event}/plate", headers=auth, json={"plate": "皖B33333"})
        assert fixed.status_code == 200, fixed.text
        again = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": uuid4().hex},
            json={"plate": "皖B33333", "corrected_event": event},
        )
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", (
        f"the car in front (苏E12345) was taken for the typed record's car: {again.status_code} {again.text}"
    )
