"""The car a guard typed at an exit (a ticket of a car with no plate) that backed away from the barrier,
and the next car the exit's camera reads there (docs/parking.md *Take the fee*, *Cars with no plate*).
Since Review 60l the car typed last was the car at the barrier for as long as its hold lasted (30
min): a stranger read at the barrier two minutes after the ticket car backed away was quoted the
ticket's 7元, and 开闸 for it closed the ticket car's stay while the stranger drove out unpaid and
stayed inside for good. Noticed and proved by reviewer 60o. The camera's memory runs on the
camera's clock (ExitCamera with monkeypatch: the lane judged at the time of the last frame fed), so
the driver backing away is the camera's clock moved on, not a wait on the real one (on a loaded CI
box the real clock also ran past the car read at the barrier)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.test_let_out_and_receipts import ExitCamera, _guard_at
from tests.parking.test_opened_by_hand import RELAY, _rows

H = timedelta(hours=1)
S = timedelta(seconds=1)
PLATE = "苏E12345"
TICKET = "无牌-0303-01"
INSIDE = "SELECT plate FROM stays WHERE exited_at IS NULL ORDER BY plate"


def _site(tmp_path: Path) -> Gateway:
    cfg = parse_config(parking_toml(tmp_path / "data", extra=RELAY), "site.toml")
    seed(cfg, tmp_path)
    return Gateway(cfg)


def test_next_car_read_at_the_barrier_after_the_typed_car_backed_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard types ticket 无牌-0303-01 at car-out; its driver has no money and backs out of the
    lane. Two minutes later a stranger's car drives up and the camera reads it at the barrier (held
    to pay): 收费放行 names that car and its fee, and 开闸 lets it out; the ticket car stays inside."""
    gw = _site(tmp_path)
    cam = ExitCamera(gw, monkeypatch)
    try:
        with _guard_at(gw) as (look, open_by_hand, client, auth):
            came = client.post("/api/lanes/car-in/plate", headers=auth, json={"no_plate": True})
            assert came.json()["plate"] == TICKET, came.text
            assert look("car-in", PLATE, T0).admitted
            at = T0 + 2 * H
            cam.frames(1.0, [])  # the car with no plate at the barrier
            gw.now.at = at  # type: ignore[attr-defined]
            held = client.post("/api/lanes/car-out/plate", headers=auth, json={"plate": "0303-01"}).json()
            assert (held["plate"], held["reason"]) == (TICKET, "payment_due"), held
            cam.t += 3.5  # the driver has no money and backs away, out of the lane
            cam.frames(1.0, [PLATE])  # two minutes later a stranger's car reaches the barrier
            assert look("car-out", PLATE, at + 120 * S).reason == "payment_due"
            cam.frames(1.0, [PLATE])
            gw.now.at = at + 130 * S  # type: ignore[attr-defined]
            quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
            cam.frames(1.0, [PLATE])
            open_by_hand(at + 135 * S)  # 开闸 for the car standing at the barrier, which drives out
            inside = [p for (p,) in _rows(gw, INSIDE)]
            tickets = client.get("/api/lanes/car-out/tickets", headers=auth).json()
    finally:
        gw.conn.close()
    assert quote["plate"] == PLATE, (
        f"收费放行 for {PLATE} at the barrier names {quote['plate']} ({quote['due_fen']} fen)"
    )
    assert inside == [TICKET], f"开闸 for {PLATE} at the barrier; the gateway has inside: {inside}"
    assert [t["ticket"] for t in tickets] == [TICKET], f"the ticket car, still inside, is listed as {tickets}"


def test_a_car_queued_behind_after_a_minute_is_named_until_the_guard_types_the_ticket_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The camera cannot tell a car queued behind the ticket car from one at the barrier: read first
    a minute and a half after the guard typed the ticket (its driver slow to pay), it is taken for
    the car that came up. The guard, seeing 收费放行 name a plate while the car with no plate stands
    there, types its ticket again: the dialog names the ticket, and 开闸 lets the ticket car out."""
    gw = _site(tmp_path)
    cam = ExitCamera(gw, monkeypatch)
    try:
        with _guard_at(gw) as (look, open_by_hand, client, auth):
            came = client.post("/api/lanes/car-in/plate", headers=auth, json={"no_plate": True})
            assert came.json()["plate"] == TICKET, came.text
            assert look("car-in", PLATE, T0).admitted
            at = T0 + 2 * H
            cam.frames(1.0, [])
            gw.now.at = at  # type: ignore[attr-defined]
            held = client.post("/api/lanes/car-out/plate", headers=auth, json={"plate": "0303-01"}).json()
            assert (held["plate"], held["reason"]) == (TICKET, "payment_due"), held
            cam.t += 3.5  # the ticket car's driver slow to pay: the camera reads nothing new
            cam.frames(1.0, [], behind=[PLATE])
            assert look("car-out", PLATE, at + 90 * S).reason == "payment_due"
            cam.frames(1.0, [], behind=[PLATE])
            gw.now.at = at + 95 * S  # type: ignore[attr-defined]
            named = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()["plate"]
            gw.now.at = at + 100 * S  # type: ignore[attr-defined]
            again = client.post("/api/lanes/car-out/plate", headers=auth, json={"plate": "0303-01"}).json()
            assert (again["plate"], again["reason"]) == (TICKET, "payment_due"), again
            cam.frames(1.0, [], behind=[PLATE])
            gw.now.at = at + 105 * S  # type: ignore[attr-defined]
            quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
            cam.frames(1.0, [], behind=[PLATE])
            open_by_hand(at + 110 * S)
            inside = [p for (p,) in _rows(gw, INSIDE)]
    finally:
        gw.conn.close()
    assert named == PLATE, named  # the camera's reading of the lane, before the guard said otherwise
    assert (quote["plate"], quote["due_fen"]) == (TICKET, 700), f"收费放行 names {quote['plate']}"
    assert inside == [PLATE], f"the ticket car drove out; the gateway has inside: {inside}"
