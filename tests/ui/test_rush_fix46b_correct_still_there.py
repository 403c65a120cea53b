"""纠正并重新判断 for a car still at the barrier: after a 开闸 whose relay did not take it, and on
the guard's own typed record while the lane's camera keeps reading the waiting car."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving
from tests.ui.test_hand_open_failed_record import _look, _unpowered

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def _key() -> str:
    """A fresh Idempotency-Key: the typed plates' answers are kept per user across gateways."""
    return uuid4().hex


def test_correct_and_decide_again_after_a_failed_opening_decides_the_car_still_there(
    make_gw: Callable[..., Gateway],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stranger's 苏E12345 is misread 苏E12346 at car-out; the guard presses 开闸 but the relay does
    not take it (relay_failed: the barrier never rose, the car still stands there). The guard then
    corrects the plate and taps 纠正并重新判断: the page said 该车已离开通道 and decided nothing,
    where the car still waiting is decided (held for its 7元)."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "苏E12345", T0)
        misread = _look(gw, clock, "car-out", "苏E12346", T0 + 2 * H)
        assert misread.admitted is False
        powered_again = _unpowered(gw, monkeypatch)
        clock.at = T0 + 2 * H + M
        r = client.post("/api/lanes/car-out/open", headers=auth, json={"reason": "业主"})
        assert r.status_code >= 400 and r.json()["error"]["code"] == "relay_failed", r.text
        powered_again()
        clock.at = T0 + 2 * H + 2 * M
        fixed = client.post(f"/api/events/{misread.event_id}/plate", headers=auth, json={"plate": "苏E12345"})
        assert fixed.status_code == 200, fixed.text
        again = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": _key()},
            json={"plate": "苏E12345", "corrected_event": misread.event_id},
        )
    assert again.status_code == 200, (
        f"the car still at a barrier that never rose was not decided again: {again.status_code} {again.text}"
    )
    assert again.json()["reason"] == "payment_due", again.text


def test_correct_and_decide_again_after_an_opening_that_took_is_still_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The same, the relay taking the opening: the barrier rose and the car drove out, so the
    re-decision is refused (car_left_lane) and the barrier stays down for whoever is there now."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "苏E12345", T0)
        misread = _look(gw, clock, "car-out", "苏E12346", T0 + 2 * H)
        clock.at = T0 + 2 * H + M
        r = client.post("/api/lanes/car-out/open", headers=auth, json={"reason": "业主"})
        assert r.status_code == 200, r.text
        clock.at = T0 + 2 * H + 2 * M
        fixed = client.post(f"/api/events/{misread.event_id}/plate", headers=auth, json={"plate": "苏E12345"})
        assert fixed.status_code == 200, fixed.text
        again = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": _key()},
            json={"plate": "苏E12345", "corrected_event": misread.event_id},
        )
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", again.text


def _typed_then_reread(
    gw: Gateway, clock: Clock, client: TestClient, auth: dict[str, str], reread: str
) -> str:
    """At car-out the camera reads 苏E1234S; the guard types 苏E12354 (a slip), the camera then
    decides `reread` at the lane, and the guard corrects the typed record to 苏E12345. Its id."""
    _look(gw, clock, "car-in", "苏E12345", T0)
    _look(gw, clock, "car-out", "苏E1234S", T0 + 2 * H)
    clock.at = T0 + 2 * H + 10 * S
    typed = client.post(
        "/api/lanes/car-out/plate", headers={**auth, "Idempotency-Key": _key()}, json={"plate": "苏E12354"}
    )
    assert typed.status_code == 200 and typed.json()["admitted"] is False, typed.text
    typed_id: str = typed.json()["event_id"]
    clock.at = T0 + 2 * H + 25 * S
    p = Presented("car-out", "plate", reread, 0.97, clock.at, "cam", again=True)
    gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)
    clock.at = T0 + 2 * H + 40 * S
    fixed = client.post(f"/api/events/{typed_id}/plate", headers=auth, json={"plate": "苏E12345"})
    assert fixed.status_code == 200, fixed.text
    return typed_id


def test_correcting_a_typed_plate_while_the_camera_rereads_the_waiting_car_decides_it(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """At car-out the camera misreads a stranger's 苏E12345 as 苏E1234S; the guard types the plate
    (输入车牌) with a slip, 苏E12354, then opens 纠正车牌 on that typed record. While the dialog is
    open the camera reads the car, still at the barrier, as 苏E1234S again (its 15 s repeat). The
    guard confirms 苏E12345 with 纠正并重新判断: the page said 该车已离开通道 and the car was not
    decided, where the same car still waiting is held for its 7元."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        typed_id = _typed_then_reread(gw, clock, client, auth, "苏E1234S")
        again = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": _key()},
            json={"plate": "苏E12345", "corrected_event": typed_id},
        )
    assert again.status_code == 200, (
        f"the car still waiting at the barrier was not decided again: {again.status_code} {again.text}"
    )
    assert again.json()["reason"] == "payment_due", again.text


def test_correcting_a_typed_plate_after_the_next_car_was_read_is_refused(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The same, but what the camera decides while the dialog is open is another car (鲁B22222,
    never read at the lane before): the typed record's car has gone, and the re-decision is refused."""
    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        typed_id = _typed_then_reread(gw, clock, client, auth, "鲁B22222")
        again = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": _key()},
            json={"plate": "苏E12345", "corrected_event": typed_id},
        )
    assert again.status_code == 409 and again.json()["error"]["code"] == "car_left_lane", again.text
