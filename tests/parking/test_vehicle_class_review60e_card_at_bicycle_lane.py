"""REQUIREMENTS 5 (review 60e): a resident's card that names his car (cards.csv `plate`: the car the
card opens the barrier for), tapped at a bicycle lane (a vehicle lane with vehicle_class =
"bicycle", the estate's 非机动车 gate with a card reader), was decided as his car.

R1's car 皖A11111 parks on the household's shared slot B001 (一位多车, with 皖A22222). 张三 rides his
e-bike in and out through the bicycle lanes, tapping his card (which names 皖A11111). Both taps were
counted as the car's passages (the entry flagged already_inside, the bicycles inside stayed 0); the
bicycle's exit closed the parked car's stay, so B001 read free with the car still on it, the
household's second car parked free on it instead of paying as the slot's second car, and the first
car, driving out by its plate, was flagged 无入场记录 (no_entry_record)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.occupancy import occupancy
from gateway.store.passes import NewPass, create_pass
from tests.conftest import write_csv
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
CARD = "0012345678"
BIKE_LANES = """
[[lanes]]
id = "bike-in"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"
vehicle_class = "bicycle"

[[lanes]]
id = "bike-out"
gate = "north"
direction = "exit"
type = "vehicle"
zone = "main"
vehicle_class = "bicycle"
"""


@pytest.fixture
def gw(make_gw: Callable[..., Gateway], tmp_path: Path) -> Gateway:
    """The parking site with bicycle lanes, and 张三's card that names his car 皖A11111."""
    site = make_gw(extra=BIKE_LANES)
    import_csv(
        site.site.config, [write_csv(tmp_path / "c.csv", f"card,resident_ref,plate\n{CARD},R1,皖A11111\n")]
    )
    return site


def tap(lane: str, value: str, hours: float, kind: str = "card") -> Presented:
    return Presented(lane, kind, value, 1.0, T0 + hours * H, "reader")  # type: ignore[arg-type]


def inside(gw: Gateway) -> dict[str, int]:
    return {r["class"]: r["inside"] for r in occupancy(gw.conn, gw.site.capacity) if r["zone"] == "main"}


def test_a_card_naming_a_car_tapped_at_the_bicycle_lane_is_its_holder_on_a_bicycle(gw: Gateway) -> None:
    assert show(gw, "car-in", "皖A11111", T0).billing == "slot"  # on B001
    bike_in = gw.handle(tap("bike-in", CARD, 1))
    assert (bike_in.reason, bike_in.vehicle_class, bike_in.flags) == ("resident", "bicycle", ())
    assert inside(gw) == {"car": 1, "motorcycle": 0, "bicycle": 1}
    bike_out = gw.handle(tap("bike-out", CARD, 2))
    assert (bike_out.admitted, bike_out.vehicle_class, bike_out.flags) == (True, "bicycle", ())
    assert inside(gw) == {"car": 1, "motorcycle": 0, "bicycle": 0}
    second = show(gw, "car-in", "皖A22222", T0 + 2.5 * H)
    assert (second.billing, second.flags) == ("temporary", ("shared_slot",))  # B001 is still taken
    car_out = show(gw, "car-out", "皖A11111", T0 + 3 * H)
    assert car_out.admitted and "no_entry_record" not in car_out.flags


def test_the_car_leaving_on_the_card_does_not_take_the_bicycle_out(gw: Gateway) -> None:
    # The car's entry was never recorded (its plate unread, the barrier lifted by hand): at the
    # exit the card was taken for the car it "let in", the e-bike still inside, and closed its stay.
    gw.handle(tap("bike-in", CARD, 0))
    car_out = gw.handle(tap("car-out", CARD, 1))
    assert (car_out.vehicle_class, car_out.plate) == ("car", "皖A11111")
    assert "no_entry_record" in car_out.flags
    assert inside(gw)["bicycle"] == 1
    assert gw.handle(tap("bike-out", CARD, 2)).flags == ()


def test_a_pass_registered_with_a_car_rides_in_by_its_qr_as_a_bicycle(gw: Gateway) -> None:
    new = NewPass(kind="contractor", name="钱七", valid_from=T0 - H, valid_to=T0 + 24 * H, plate="苏E88888")
    pid = create_pass(gw.conn, gw.secrets, new, T0 - H, "guard1")
    qr = gw.conn.execute("SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,))
    entered = gw.handle(tap("bike-in", str(qr.fetchone()[0]), 1, kind="qr"))
    assert entered.admitted and entered.vehicle_class == "bicycle"
    assert inside(gw) == {"car": 0, "motorcycle": 0, "bicycle": 1}
