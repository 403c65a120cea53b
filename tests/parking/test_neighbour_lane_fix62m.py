"""Review 62j on 90e59a6: the car of the lane beside, read by this lane's camera (recorded refused
wrong_lane, flag neighbour_lane: "nothing done at this lane"), was still taken for a car that stood at
this lane's barrier by the reads that ask for one; and two lanes of one direction shared a passage
whatever their gates.

- The guard's opening of the exit by hand (for a tricycle) let out, on record, the car just let in at
  the entrance beside it; opening for a car held there to pay, it let out that car instead, the held
  car gone through the barrier and still held and inside (store/holds.py refused_at_lane).
- 纠正并重新判断 of the car refused at the exit was refused car_left_lane, "another car was decided
  there since" (api/corrections.py _OTHER_CAR).
- 无牌车 tapped on the second tablet for the car the first had just given a ticket was a second
  ticket and stay once a car leaving beside was read by the entrance camera (store/tickets.py).
- Under anti_passback = "hard" a plate let in at the north gate and read at the south gate's
  entrance 5 s later was let in (flag again), not refused as a clone; a plate let out at the north
  gate and read at the south gate's exit 5 s later left free and uncounted (again.py _next_lane).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed, show
from tests.parking.test_api import serving
from tests.parking.test_misread_exit_guard_fix61h import REAL, _refused_while_waiting, _show
from tests.parking.test_no_plate_review60j_two_tablets import inside, tap
from tests.parking.test_opened_by_hand import RELAY, _exit_with_relay, _rows
from tests.parking.test_typed_twice_on_two_tablets import Booth, booth  # noqa: F401

S = timedelta(seconds=1)
H = timedelta(hours=1)
RESIDENT = "皖B33333"  # R2's car, on its own slot
SOUTH_GATE = """
[[gates]]
id = "south"
name = "南门"

[[lanes]]
id = "south-in"
gate = "south"
direction = "entrance"
type = "vehicle"
zone = "main"

[[lanes]]
id = "south-out"
gate = "south"
direction = "exit"
type = "vehicle"
zone = "main"
"""

SECOND_ENTRANCE = """
[[lanes]]
id = "car-in-2"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"
"""


def test_opening_the_exit_by_hand_does_not_let_out_the_car_just_let_in_beside_it(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        assert look("car-in", "苏E12345", T0).admitted
        assert look("car-out", "苏E12345", T0 + S / 2).flags == ("neighbour_lane",)
        open_by_hand()  # for the tricycle at the exit barrier
        closed = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NOT NULL")
    assert closed == [], closed


def test_opening_by_hand_for_the_car_held_to_pay_lets_out_that_car(make_gw: Callable[..., Gateway]) -> None:
    """皖C77777 held at car-out for its fee; 苏E12345 let in beside it, its rear plate read by the
    exit camera. The guard opens car-out for the held car: that car is let out, the one let in stays."""
    gw = make_gw(extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "皖C77777", T0)
        assert look("car-out", "皖C77777", T0 + 2 * H).reason == "payment_due"
        assert look("car-in", "苏E12345", T0 + 2 * H + 5 * S).admitted
        assert look("car-out", "苏E12345", T0 + 2 * H + 5.5 * S).flags == ("neighbour_lane",)
        open_by_hand()
        stays = _rows(gw, "SELECT plate, closed_by FROM stays ORDER BY plate")
    assert stays == [("皖C77777", "hand"), ("苏E12345", None)], stays


def test_correct_and_decide_again_after_a_car_came_in_beside_the_exit(make_gw: Callable[..., Any]) -> None:
    gw = make_gw()
    with serving(gw) as (_, client, auth):
        now = gw.now()
        last = _refused_while_waiting(gw, now)[-1]
        assert _show(gw, "car-in", "苏F55555", now - 5 * S).admitted
        assert _show(gw, "car-out", "苏F55555", now - 4.5 * S).flags == ("neighbour_lane",)
        r = client.post(f"/api/events/{last.event_id}/plate", headers=auth, json={"plate": REAL})
        assert r.status_code == 200, r.text
        decided = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": "fix62m"},
            json={"plate": REAL, "corrected_event": last.event_id},
        )
        assert decided.status_code == 200 and decided.json()["admitted"], decided.text


def test_no_plate_on_both_tablets_with_a_car_leaving_beside_is_one_ticket(booth: Booth) -> None:  # noqa: F811
    """Guard A taps 无牌车 at car-in; a resident leaving at car-out beside it is read by the entrance
    camera; guard B, his page not showing A's ticket yet, taps 无牌车 for the same car."""
    shown = booth.camera("car-in", RESIDENT).event_id
    booth.now += H
    assert booth.camera("car-out", RESIDENT).admitted
    booth.now += S / 5
    first = tap(booth, 0, shown)
    booth.now += S / 5
    assert booth.camera("car-in", RESIDENT).flags == ("neighbour_lane",)
    booth.now += 2 * S
    second = tap(booth, 1, shown)
    assert second["plate"] == first["plate"] and "again" in second["flags"], (first, second)
    assert inside(booth) == [first["plate"]]


def _two_gates(tmp_path: Path, anti_passback: str) -> Gateway:
    toml = parking_toml(tmp_path / "data", extra=SOUTH_GATE)
    toml = toml.replace('anti_passback = "soft"', f'anti_passback = "{anti_passback}"')
    assert f'anti_passback = "{anti_passback}"' in toml
    cfg = parse_config(toml, "site.toml")
    seed(cfg, tmp_path)
    return Gateway(cfg)


def test_hard_anti_passback_refuses_a_clone_at_another_gates_entrance_within_seconds(tmp_path: Path) -> None:
    gw = _two_gates(tmp_path, "hard")
    try:
        assert show(gw, "car-in", RESIDENT, T0).admitted
        clone = show(gw, "south-in", RESIDENT, T0 + 5 * S)
        assert not clone.admitted and clone.reason == "anti_passback", (clone.reason, clone.flags)
    finally:
        gw.conn.close()


def test_a_plate_at_another_gates_exit_seconds_after_it_left_is_no_repeat(tmp_path: Path) -> None:
    """The resident let out at the north gate; a car read as its plate at the south gate's exit 5 s
    later is another car (no camera at the north gate sees it): a car with no entry record for the
    guard, not let out free and uncounted on the resident's exit."""
    gw = _two_gates(tmp_path, "soft")
    try:
        assert show(gw, "car-in", RESIDENT, T0).admitted
        assert show(gw, "car-out", RESIDENT, T0 + H).admitted
        other = show(gw, "south-out", RESIDENT, T0 + H + 5 * S)
        assert "again" not in other.flags and "no_entry_record" in other.flags, (other.admitted, other.flags)
    finally:
        gw.conn.close()


def test_a_plate_at_the_other_entrance_of_the_same_gate_is_still_one_passage(tmp_path: Path) -> None:
    """Control: two entrances at one gate (the north gate's second lane) reading one car within a
    second are one passage still (90e59a6)."""
    cfg = parse_config(parking_toml(tmp_path / "data", extra=SECOND_ENTRANCE), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        assert show(gw, "car-in", RESIDENT, T0).admitted
        second = show(gw, "car-in-2", RESIDENT, T0 + S / 2)
        assert second.admitted and second.flags == ("again",), (second.reason, second.flags)
    finally:
        gw.conn.close()
