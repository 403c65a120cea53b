"""Cars, motorcycles and bicycles parked, counted and billed separately (REQUIREMENTS 3 and 5): a
visitor's motorcycle, and an unregistered one on a motorcycle lane, are not cars."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.config.problems import ConfigError
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import occupancy
from gateway.store.passes import NewPass, create_pass
from tests.conftest import site_toml
from tests.parking.conftest import T0, pay, show

H = timedelta(hours=1)


def registered_at_the_booth(gw: Gateway, **vehicle: str) -> int:
    """A visitor to 3栋 2单元 for the day, with the vehicle (plate, vehicle_class) given, if any."""
    new = NewPass(
        kind="visitor",
        name="钱七",
        valid_from=T0 - H,
        valid_to=T0 + 24 * H,
        host_building="3栋",
        host_unit="2单元",
        **vehicle,  # type: ignore[arg-type]
    )
    return create_pass(gw.conn, gw.secrets, new, T0 - H, "guard1")


# A motorcycle lane at the north gate (in and out) into the same zone, and a motorcycle tariff: the
# first half hour free, then 1元 a day begun.
MOTORCYCLE_LANES = """
[[lanes]]
id = "moto-in"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"
vehicle_class = "motorcycle"

[[lanes]]
id = "moto-out"
gate = "north"
direction = "exit"
type = "vehicle"
zone = "main"
vehicle_class = "motorcycle"

[parking.tariffs.motorcycle]
free_minutes = 30
first_period_minutes = 0
period_minutes = 1440
period_fen = 100
"""


@pytest.fixture
def moto_gw(make_gw: Callable[..., Gateway]) -> Gateway:
    return make_gw(extra=MOTORCYCLE_LANES)


def inside(gw: Gateway) -> dict[str, int]:
    return {r["class"]: r["inside"] for r in occupancy(gw.conn, gw.site.capacity) if r["zone"] == "main"}


def stay_class(gw: Gateway, plate: str) -> str:
    return str(gw.conn.execute("SELECT class FROM stays WHERE plate = ?", (plate,)).fetchone()[0])


def test_an_unregistered_vehicle_on_a_motorcycle_lane_is_a_motorcycle(moto_gw: Gateway) -> None:
    entered = show(moto_gw, "moto-in", "苏E12345", T0)
    assert entered.reason == "temporary" and entered.vehicle_class == "motorcycle"
    assert inside(moto_gw) == {"car": 0, "motorcycle": 1, "bicycle": 0}
    assert stay_class(moto_gw, "苏E12345") == "motorcycle"
    # Two hours: the car tariff asks 7元, the motorcycle tariff 1元 a day begun.
    held = show(moto_gw, "moto-out", "苏E12345", T0 + 2 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 100)
    assert pay(moto_gw, "苏E12345", 100, T0 + 2 * H, lane="moto-out").admitted
    assert inside(moto_gw)["motorcycle"] == 0


def test_a_motorcycle_leaving_by_the_car_lane_pays_as_the_motorcycle_it_came_in_as(moto_gw: Gateway) -> None:
    show(moto_gw, "moto-in", "苏E12345", T0)
    held = show(moto_gw, "car-out", "苏E12345", T0 + 2 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 100)


def test_a_registered_car_on_the_motorcycle_lane_stays_a_car(moto_gw: Gateway) -> None:
    ev = show(moto_gw, "moto-in", "皖C44444", T0)  # R3's monthly car
    assert ev.reason == "monthly" and ev.vehicle_class == "car"
    assert inside(moto_gw)["car"] == 1 and inside(moto_gw)["motorcycle"] == 0


def test_a_visitors_motorcycle_keeps_its_class_on_any_lane(moto_gw: Gateway) -> None:
    registered_at_the_booth(moto_gw, plate="浙A11111", vehicle_class="motorcycle")
    ev = show(moto_gw, "car-in", "浙A11111", T0)
    assert ev.reason == "visitor" and ev.vehicle_class == "motorcycle"
    assert inside(moto_gw) == {"car": 0, "motorcycle": 1, "bicycle": 0}
    assert stay_class(moto_gw, "浙A11111") == "motorcycle"


def test_a_full_motorcycle_space_does_not_refuse_a_car(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=MOTORCYCLE_LANES)
    for i in range(5):  # the zone holds five motorcycles
        assert show(gw, "moto-in", f"苏E1000{i}", T0).reason == "temporary"
    assert show(gw, "moto-in", "苏E10009", T0).reason == "zone_full"
    assert show(gw, "car-in", "苏E10009", T0).reason == "temporary"


def test_a_pedestrian_lane_cannot_have_a_vehicle_class(tmp_path: Path) -> None:
    toml = site_toml(tmp_path / "data").replace(
        'type = "pedestrian"', 'type = "pedestrian"\nvehicle_class = "bicycle"'
    )
    with pytest.raises(ConfigError, match="pedestrian lane has no vehicles"):
        parse_config(toml, "site.toml")
