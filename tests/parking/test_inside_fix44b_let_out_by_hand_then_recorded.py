"""A stranger with no entry record, refused at the exit (exit_without_entry = "guard", the default)
or held there for a day's fee ("charge"), let out by the guard's opening by hand (开闸), and then
recorded inside since a time before that (the old system's list: 登记场内车辆 or import-inside).

docs/parking.md, Cars already inside: refused with nothing written is "one recorded leaving after the
entered_at given (409 left_since: ... or a vehicle exit that let it out then with no entry record
...: it has gone)". The guard's opening let it out at the exit, on record (lane.open, the hold or
refusal ended on it: let_outs_by_hand)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_cars_inside_left_since import cars_inside, record, typed
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving

H = timedelta(hours=1)
STRANGER = "苏E12345"


@pytest.mark.parametrize("policy", ["guard", "charge"])
def test_a_stranger_the_guard_let_out_by_hand_is_not_recorded_inside_from_before(
    make_gw: Callable[..., Gateway], policy: str
) -> None:
    """Day one. 苏E12345, parked under the old system since 07:00, drives out at 11:00 with no entry
    record: refused (exit_without_entry = "guard", the default) or held for a day's fee ("charge"),
    and the guard presses 开闸 (the driver showed the old system's ticket). At 11:30 the admin types
    the old system's list of cars inside: 苏E12345, in since 07:00. What the admin sees: 200,
    recorded; occupancy counts a car that has left (a shared space taken: a temporary car refused
    车位已满 when the zone is full), and, back days later, its entry closes that stay as a missed
    exit (under reentry = "charge", billed for the days it was gone)."""
    gw = make_gw(extra=RELAY, exit_without_entry=policy)
    clock = Clock(T0 + 2 * H)
    with serving(gw, clock) as (client, auth):
        p = Presented("car-out", "plate", STRANGER, 0.97, clock.at, "cam")
        out = gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)
        assert not out.admitted and "no_entry_record" in out.flags, out
        opened = client.post("/api/lanes/car-out/open", headers=auth, json={"reason": "老系统停车票，已核对"})
        assert opened.status_code == 200, opened.text
        clock.at = T0 + 2 * H + H / 2
        made = record(client, auth, plate=STRANGER, entered_at=typed(gw, T0 - 2 * H))
        inside = cars_inside(client)
    assert (made.status_code, made.json().get("error", {}).get("code")) == (409, "left_since"), (
        f"a car let out by hand at 11:00 was recorded inside since 07:00 at 11:30: {made.status_code} "
        f"{made.text[:200]}"
    )
    assert inside == 0, f"occupancy counts {inside} car(s) inside: the car let out by hand"
