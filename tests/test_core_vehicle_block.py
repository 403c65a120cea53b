"""A car's own validity and block are on its plate credential (vehicles.csv `valid_to`, `blocked`;
"Block now" on a plate). A resident's card whose `plate` is that car opens the barrier for that car:
the car the plate camera refuses must not come in on the card either, for the same reason. At the
pedestrian door there is no car: the card is its resident's own, and the car's standing is not asked."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)


@pytest.fixture
def gw(tmp_path: Path) -> Gateway:
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
        # 皖A11111: its registration ended on 2026-10-31; 皖A22222: blocked; 皖A33333: in good standing
        write_csv(
            tmp_path / "v.csv",
            "plate,resident_ref,valid_to,blocked\n皖A11111,R1,2026-10-31,0\n皖A22222,R1,,1\n皖A33333,R1,,0\n",
        ),
        write_csv(
            tmp_path / "c.csv",
            "card,resident_ref,plate\nCARD0001,R1,皖A11111\nCARD0002,R1,皖A22222\nCARD0003,R1,皖A33333\n",
        ),
        write_csv(
            tmp_path / "s.csv", "zone,number,resident_ref,plates\nmain,B001,R1,皖A11111;皖A22222;皖A33333\n"
        ),
    ]
    import_csv(cfg, files)
    return Gateway(cfg)


def _show(gw: Gateway, kind: str, value: str, lane: str = "car-in") -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 1.0, AT, "test"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("plate", "card", "reason", "by_plate"),
    [("皖A11111", "CARD0001", "expired", "temporary"), ("皖A22222", "CARD0002", "blocked", "blocked")],
)
def test_a_card_does_not_bring_in_a_car_its_plate_may_not(
    gw: Gateway, plate: str, card: str, reason: str, by_plate: str
) -> None:
    ev = _show(gw, "card", card)
    assert (ev.admitted, ev.reason) == (False, reason), f"came in on the card: {ev.reason} slot {ev.slot_id}"
    # The camera refuses the blocked car too, and takes the car past its registration for an
    # unregistered car, paying (Review 60a): neither comes in as the resident's.
    assert _show(gw, "plate", plate).reason == by_plate


def test_a_card_still_brings_in_a_car_in_good_standing(gw: Gateway) -> None:
    ev = _show(gw, "card", "CARD0003")
    assert (ev.admitted, ev.reason, ev.subject) == (True, "resident", ev.subject)
    assert ev.subject.startswith("vehicle:") and ev.slot_id is not None


def test_a_blocked_car_is_refused_on_its_card_at_the_exit_too(gw: Gateway) -> None:
    """As its plate is: blocked is blocked both ways (a guard who blocked it wants to know it is here)."""
    assert _show(gw, "plate", "皖A22222", "car-out").reason == "blocked"
    assert _show(gw, "card", "CARD0002", "car-out").reason == "blocked"


def test_an_expired_car_still_leaves_on_its_card(gw: Gateway) -> None:
    """Exits do not ask about validity: a registration that ran out while the car was inside lets it out."""
    ev = gw.handle(Presented("car-out", "card", "CARD0001", 1.0, AT + timedelta(minutes=1), "test"))
    assert ev.admitted, ev.reason


@pytest.mark.parametrize("card", ["CARD0001", "CARD0002"])
def test_a_resident_whose_car_is_blocked_or_expired_still_walks_in_through_the_door(
    gw: Gateway, card: str
) -> None:
    """A stolen car blocked, or a car whose registration ended, keeps the car out; its owner, whose own
    card and registration are in good standing, still opens the pedestrian door with that card."""
    ev = _show(gw, "card", card, "door")
    assert (ev.admitted, ev.reason) == (True, "resident")


def test_a_card_that_names_a_car_at_the_door_is_a_person_walking_not_the_car(gw: Gateway) -> None:
    """The resident walks through the door on the card that also opens the barrier for her car: the
    record (here and upstream) is of her on foot, with no vehicle, so no car is counted in or out."""
    ev = _show(gw, "card", "CARD0003", "door")
    assert (ev.admitted, ev.vehicle_id, ev.plate) == (True, None, None), ev
    assert ev.upstream()["vehicle"] is None
