"""Closed management at the pedestrian door: a visitor who came by car, parked it outside the
estate and walks in. The people in a car are asked of a car, not of a person at a door."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass, get_pass, state_of
from tests.parking.conftest import T0, show
from tests.parking.test_operations import CLOSED

H = timedelta(hours=1)


def test_a_fully_registered_visitor_walking_in_is_not_asked_for_the_people_in_a_car(
    make_gw: Callable[..., Gateway],
) -> None:
    """Closed management 07:00-21:00 from Monday 3 March (the default visitor fields). 王六 was
    registered on Sunday evening, before the period, with her ID number, phone, host building and
    unit, destination, reason and her car's plate (no driver list: not asked then). On Monday at
    08:00 she leaves the car outside and scans her pass at the pedestrian door: she walks in, as
    she would had she been registered without the plate, and the booth's pass check says so too.
    Her car, its driver not listed, is still kept out at the car entrance."""
    gw = make_gw(extra=CLOSED)
    day = T0.replace(hour=0)
    visit = NewPass(
        "visitor",
        "王六",
        day - 2 * H,
        day + 12 * H,
        phone="13800138000",
        id_number="110101199003071234",
        host_building="3栋",
        host_unit="2单元",
        destination="3栋301",
        reason="探亲",
        passengers=1,
        plate="苏E12345",
    )
    pid = create_pass(gw.conn, gw.secrets, visit, day - 2 * H, "guard1")
    token = gw.conn.execute("SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,))
    at_door = gw.handle(Presented("door", "qr", token.fetchone()[0], 1.0, day + 8 * H, "door-qr"))
    assert (at_door.admitted, at_door.reason) == (True, "visitor"), (
        f"the visitor on foot at the door was refused {at_door.reason}: her pass lists nobody in a car"
    )
    at_booth = state_of(get_pass(gw.conn, pid), day + 8 * H, gw.site.policy.closed_period(day + 8 * H))
    assert at_booth == "active", f"the booth's pass check says {at_booth} where the door lets her in"
    assert show(gw, "car-in", "苏E12345", day + 8 * H).reason == "closed_management"


def test_the_booth_check_still_shows_a_pass_missing_a_field_asked_of_a_person_kept_out(
    make_gw: Callable[..., Gateway],
) -> None:
    """The same visit registered without her ID number: kept out at the door, and shown so."""
    gw = make_gw(extra=CLOSED)
    day = T0.replace(hour=0)
    visit = NewPass(
        "visitor",
        "王六",
        day - 2 * H,
        day + 12 * H,
        phone="13800138000",
        host_building="3栋",
        host_unit="2单元",
        destination="3栋301",
        reason="探亲",
        plate="苏E12345",
    )
    pid = create_pass(gw.conn, gw.secrets, visit, day - 2 * H, "guard1")
    token = gw.conn.execute("SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,))
    at_door = gw.handle(Presented("door", "qr", token.fetchone()[0], 1.0, day + 8 * H, "door-qr"))
    at_booth = state_of(get_pass(gw.conn, pid), day + 8 * H, gw.site.policy.closed_period(day + 8 * H))
    assert (at_door.reason, at_booth) == ("closed_management", "closed_management")
