"""A car the exit let out under a misread plate, the guard correcting the plate (纠正车牌), and then
the car recorded inside since before that exit (the old system's list, 登记场内车辆).

docs/parking.md, Cars already inside: refused, nothing written, is "one recorded leaving after the
entered_at given (409 left_since: ... or a vehicle exit that let it out then with no entry record,
a registered car or a stranger under exit_without_entry = "open": it has gone)". The corrected exit
is the car's exit: docs/parking.md has a correction make the record the car's (its stay follows)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_cars_inside_left_since import cars_inside, record, typed
from tests.parking.test_report_figures import Clock, serving

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("real", "read", "policy"),
    [("皖B33333", "皖B33338", "guard"), ("苏E12345", "苏E12346", "open")],
    ids=["registered", "stranger"],
)
def test_a_car_let_out_on_a_misread_plate_since_corrected_is_not_recorded_inside_from_before(
    make_gw: Callable[..., Gateway], real: str, read: str, policy: str
) -> None:
    """Day one. The car, parked under the old system since 07:00, drives out at 11:00; the exit's
    camera misreads its plate, and the exit lets it out (a stranger with no entry record, under
    exit_without_entry = "open"; the registered car's misread is such a stranger too). The guard
    corrects the plate on the live page at 11:01. At 11:30 the admin records the old system's list:
    the car, in since 07:00. What the admin sees: 200, recorded; occupancy counts a car that has
    gone (a registered car's fixed slot reads taken), until someone closes it by hand."""
    gw = make_gw(exit_without_entry=policy if real.startswith("苏") else "open")
    clock = Clock(T0 + 2 * H)
    with serving(gw, clock) as (client, auth):
        p = Presented("car-out", "plate", read, 0.97, clock.at, "cam")
        out = gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)
        assert out.admitted and "no_entry_record" in out.flags, out
        clock.at = T0 + 2 * H + timedelta(minutes=1)
        fixed = client.post(f"/api/events/{out.event_id}/plate", headers=auth, json={"plate": real})
        assert fixed.status_code == 200, fixed.text
        clock.at = T0 + 2 * H + H / 2
        made = record(client, auth, plate=real, entered_at=typed(gw, T0 - 2 * H))
        inside = cars_inside(client)
    assert (made.status_code, made.json().get("error", {}).get("code")) == (409, "left_since"), (
        f"{real}, let out at 11:00 (read {read}, corrected at 11:01), was recorded inside since 07:00: "
        f"{made.status_code} {made.text[:160]}"
    )
    assert inside == 0, f"occupancy counts {inside} car(s) inside"
