"""纠正并重新判断 once the corrected car has gone another way than the lane's own decisions since
its record: let out at another exit, driven out under a hold, let in by an opening one relay of two
took, or let through by the record itself. The barrier stays down for whoever is next (409
car_left_lane); the correction stands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving
from tests.ui.rush_site_helpers import SECOND_EXIT, pulses
from tests.ui.test_hand_open_failed_record import _look

H = timedelta(hours=1)
S = timedelta(seconds=1)

ENTRANCE_RELAYS = """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"

[[devices]]
id = "car-in-barrier-b"
lane = "car-in"
kind = "relay"
driver = "simulated"
"""


class _Site:  # pulses() takes a Site: it only reads .gw
    def __init__(self, gw: Gateway) -> None:
        self.gw = gw


def _correct_and_decide_again(
    gw: Gateway, client: TestClient, auth: dict[str, str], lane: str, event_id: str
) -> tuple[Response, int]:
    """The guard corrects the record to 皖B33333 (纠正车牌) and taps 纠正并重新判断 at `lane`: the
    lane's answer, and how many times its barrier rose for it."""
    fixed = client.post(f"/api/events/{event_id}/plate", headers=auth, json={"plate": "皖B33333"})
    assert fixed.status_code == 200, fixed.text
    before = pulses(_Site(gw), lane)
    again = client.post(
        f"/api/lanes/{lane}/plate",
        headers={**auth, "Idempotency-Key": uuid4().hex},
        json={"plate": "皖B33333", "corrected_event": event_id},
    )
    return again, pulses(_Site(gw), lane) - before


def test_correct_and_decide_again_after_the_car_left_by_the_other_exit_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Evening rush, two exits. The resident's 皖B33333 is misread 皖B3333B at exit 1 (car-out) and
    refused; the guard opens 纠正车牌 on it. The driver reverses and takes exit 2 (car-out2), whose
    camera reads him right and lets him out. The guard then confirms 纠正并重新判断 at exit 1: the
    resident is 'let out' again there and exit 1's barrier rises for whoever pulled up behind (not
    read yet), while the page should say 该车已离开通道 (409 car_left_lane): the corrected car was
    let through at another lane since its record."""
    gw = make_gw(extra=SECOND_EXIT)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "皖B33333", T0)
        misread = _look(gw, clock, "car-out", "皖B3333B", T0 + 2 * H)
        assert misread.admitted is False
        gone = _look(gw, clock, "car-out2", "皖B33333", T0 + 2 * H + 20 * S)
        assert gone.admitted is True
        clock.at = T0 + 2 * H + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-out", misread.event_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", (
        f"皖B33333, let out at car-out2 since, was decided again at car-out (barrier raised {raised} "
        f"time(s) for the car behind): {again.status_code} {again.text}"
    )


def test_correct_and_decide_again_for_a_car_that_drove_out_under_a_hold_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Exit car-out is held open (常开) for a convoy. The resident's 皖B33333 is misread 皖B3333B and
    refused, and drives out under the raised barrier; the guard releases the lane (恢复). He then
    corrects the record and taps 纠正并重新判断: the resident is 'let out' again and the barrier
    rises for the car now at it (not read yet), where the page should say 该车已离开通道 (409
    car_left_lane): the lane was held open while the car stood there."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "皖B33333", T0)
        clock.at = T0 + 2 * H - 60 * S
        held = client.post("/api/lanes/car-out/hold", headers=auth, json={"reason": "车队"})
        assert held.status_code == 200, held.text
        misread = _look(gw, clock, "car-out", "皖B3333B", T0 + 2 * H)
        assert misread.admitted is False, misread
        clock.at = T0 + 2 * H + 20 * S
        released = client.post("/api/lanes/car-out/release", headers=auth, json={"reason": "车队已过"})
        assert released.status_code == 200, released.text
        clock.at = T0 + 2 * H + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-out", misread.event_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", (
        f"the car that drove out under the hold was decided again (barrier raised {raised}x for the "
        f"car now there): {again.status_code} {again.text}"
    )


def test_correct_and_decide_again_at_an_entrance_after_an_opening_one_relay_of_two_took_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An entrance (car-in) with two barrier relays, strangers refused (unknown_vehicle = refuse).
    The resident's 皖B33333 is misread 皖B3333B and refused; the guard presses 开闸: one relay takes
    it (the barrier rises, the resident drives in), the other's board does not answer (开闸失败).
    He then corrects the record and taps 纠正并重新判断: the resident is 'let in' again and the
    barrier rises for the stranger now at it (not read yet), who is let in; the page should say
    该车已离开通道 (409 car_left_lane): a relay took that opening, it let the car in."""
    gw = make_gw(extra=ENTRANCE_RELAYS, exit_without_entry='guard"\nunknown_vehicle = "refuse')
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        misread = _look(gw, clock, "car-in", "皖B3333B", T0)
        assert misread.admitted is False, misread
        relays = gw.devices.lanes["car-in"].relays
        assert len(relays) == 2

        def unpowered(seconds: float, ref: str = "") -> None:
            raise OSError("relay board not answering")

        monkeypatch.setattr(relays[1], "pulse", unpowered)
        clock.at = T0 + 20 * S
        before_open = pulses(_Site(gw), "car-in")
        r = client.post("/api/lanes/car-in/open", headers=auth, json={"reason": "业主"})
        assert pulses(_Site(gw), "car-in") == before_open + 1, r.text  # the first relay took it
        clock.at = T0 + 40 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-in", misread.event_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", (
        f"opened by hand ({r.status_code} {r.json().get('error', {}).get('code')}), the resident drove "
        f"in; decided again, the barrier rose {raised}x more for the car behind: "
        f"{again.status_code} {again.text}"
    )


def test_correct_and_decide_again_on_a_record_that_let_the_car_in_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The resident's 皖B33333 is misread 皖B3333B at the entrance (car-in) and let in as a temporary
    car: the barrier rose on that record and the car drove in. The guard corrects the record (the
    stay moves onto 皖B33333) and taps 纠正并重新判断: the car is 'let in' again and the barrier
    rises for whoever is next at it (not read yet), where the page should say 该车已离开通道 (409
    car_left_lane): the record itself let the car through."""
    gw = make_gw(extra=ENTRANCE_RELAYS.split("\n\n")[0])
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        misread = _look(gw, clock, "car-in", "皖B3333B", T0)
        assert misread.admitted is True, misread
        clock.at = T0 + 20 * S
        again, raised = _correct_and_decide_again(gw, client, auth, "car-in", misread.event_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", (
        f"the record let the car in, yet it was decided again (barrier raised {raised}x for the car "
        f"next at it): {again.status_code} {again.text}"
    )
    assert raised == 0
