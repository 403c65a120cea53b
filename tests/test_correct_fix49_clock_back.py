"""纠正并重新判断 after NTP set the clock back between the record and what let its car go
(docs/guard-app.md: the car has left the lane once the lane was opened by hand since its record,
held open while it stood there, or its stay closed or opened since; docs/parking.md *When the clock
jumps*: "since the record" is by record, not by time)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving
from tests.ui.test_hand_open_failed_record import _look
from tests.ui.test_rush_fix46d_correct_gone import ENTRANCE_RELAYS, _correct_and_decide_again

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
ONE_RELAY = ENTRANCE_RELAYS.split("\n\n")[0]
STRANGERS_REFUSED = 'guard"\nunknown_vehicle = "refuse'


def test_correct_and_decide_again_after_an_opening_by_hand_dated_before_the_record_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Strangers refused at the entrance. The resident's 皖B33333 is misread 皖B3333B at 09:40 and
    refused; NTP sets a fast clock back 40 minutes; the guard presses 开闸 (09:00:20 on the clock
    set right) and the resident drives in. He then corrects the record and taps 纠正并重新判断: the
    resident is 'let in' again and the barrier rises for the stranger now at it. The page should
    say 该车已离开通道 (409 car_left_lane): the lane was opened by hand since that record."""
    gw = make_gw(extra=ONE_RELAY, exit_without_entry=STRANGERS_REFUSED)
    clock = Clock(T0 + 40 * M)
    with serving(gw, clock) as (client, auth):
        misread = _look(gw, clock, "car-in", "皖B3333B", T0 + 40 * M)
        assert misread.admitted is False, misread
        clock.at = T0 + 20 * S  # NTP set the clock back 40 minutes
        r = client.post("/api/lanes/car-in/open", headers=auth, json={"reason": "业主"})
        assert r.status_code == 200, r.text
        clock.at = T0 + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-in", misread.event_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", (
        f"opened by hand after the record, the resident drove in; decided again, the barrier rose "
        f"{raised}x more for the car behind: {again.status_code} {again.text}"
    )


def _rose_again(again: object, raised: int) -> str:
    return f"decided again, the barrier rose {raised}x for the car behind: {again}"


def test_correct_and_decide_again_after_a_hold_released_dated_before_the_record_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Exit car-out held open (常开) at 10:59 for a convoy; the resident's 皖B33333 is misread at
    11:00, refused, and drives out under the raised barrier; NTP sets the clock back 40 minutes; the
    guard releases the lane (恢复, 10:20:20). 纠正并重新判断: the lane was held open while the car
    stood there (409 car_left_lane), though the release is dated before the record."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "皖B33333", T0)
        clock.at = T0 + 2 * H - M
        held = client.post("/api/lanes/car-out/hold", headers=auth, json={"reason": "车队"})
        assert held.status_code == 200, held.text
        misread = _look(gw, clock, "car-out", "皖B3333B", T0 + 2 * H)
        assert misread.admitted is False, misread
        clock.at = T0 + 2 * H - 40 * M + 20 * S  # NTP set the clock back 40 minutes
        released = client.post("/api/lanes/car-out/release", headers=auth, json={"reason": "车队已过"})
        assert released.status_code == 200, released.text
        clock.at = T0 + 2 * H - 40 * M + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-out", misread.event_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", _rose_again(
        (again.status_code, again.text), raised
    )


def test_correct_and_decide_again_under_a_hold_dated_after_the_record_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Exit car-out held open at 11:00; NTP sets the clock back 40 minutes; the resident's 皖B33333
    is misread at 10:20:10 and drives out under the hold. The hold, dated after the record, stood
    before it: held open while the car stood there (409 car_left_lane), not an opening since."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "皖B33333", T0)
        clock.at = T0 + 2 * H
        held = client.post("/api/lanes/car-out/hold", headers=auth, json={"reason": "车队"})
        assert held.status_code == 200, held.text
        misread = _look(gw, clock, "car-out", "皖B3333B", T0 + 2 * H - 40 * M + 10 * S)
        assert misread.admitted is False, misread
        clock.at = T0 + 2 * H - 40 * M + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-out", misread.event_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", _rose_again(
        (again.status_code, again.text), raised
    )
    assert "held open" in again.json()["error"]["message"], again.text


def test_correct_and_decide_again_after_its_stay_was_closed_dated_before_the_record_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The resident's 皖B33333 (in since 09:00) is misread at exit car-out at 11:00 and refused; NTP
    sets the clock back 40 minutes; the admin marks it gone (已离场, 10:20:20): it left by the other
    way. 纠正并重新判断 at car-out: its stay was closed since the record (409 car_left_lane)."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "皖B33333", T0)
        misread = _look(gw, clock, "car-out", "皖B3333B", T0 + 2 * H)
        assert misread.admitted is False, misread
        clock.at = T0 + 2 * H - 40 * M + 20 * S  # NTP set the clock back 40 minutes
        (stay,) = client.get("/api/parking/stays", params={"plate": "皖B33333"}, headers=auth).json()
        gone = f"/api/parking/stays/{stay['stay_id']}/close"
        closed = client.post(gone, headers=auth, json={"reason": "车辆未识别离场"})
        assert closed.status_code == 200, closed.text
        clock.at = T0 + 2 * H - 40 * M + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-out", misread.event_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", _rose_again(
        (again.status_code, again.text), raised
    )


def test_correct_and_decide_again_after_it_was_recorded_inside_dated_before_the_record_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Strangers refused at the entrance. The resident's 皖B33333 is misread at 09:40 and refused;
    NTP sets the clock back 40 minutes; let in another way, the admin records it inside (已在场登记,
    in since now, 09:00:20). 纠正并重新判断: its stay was opened since the record (409)."""
    gw = make_gw(extra=ONE_RELAY, exit_without_entry=STRANGERS_REFUSED)
    clock = Clock(T0 + 40 * M)
    with serving(gw, clock) as (client, auth):
        misread = _look(gw, clock, "car-in", "皖B3333B", T0 + 40 * M)
        assert misread.admitted is False, misread
        clock.at = T0 + 20 * S  # NTP set the clock back 40 minutes
        inside = {"plate": "皖B33333", "reason": "开闸放入"}
        recorded = client.post("/api/parking/stays", headers=auth, json=inside)
        assert recorded.status_code == 200, recorded.text
        clock.at = T0 + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-in", misread.event_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", _rose_again(
        (again.status_code, again.text), raised
    )
