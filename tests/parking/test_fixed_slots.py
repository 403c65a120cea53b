"""Fixed slots (REQUIREMENTS 2) are car slots (REQUIREMENTS 5: cars, motorcycles and bicycles parked
and counted separately): which of a resident's vehicles park on them, through a CSV import."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.occupancy import occupancy
from tests.conftest import TARIFF_TOML, registered_plates_site, write_csv
from tests.parking.conftest import T0, show
from tests.parking.test_vehicle_class import MOTORCYCLE_LANES

H = timedelta(hours=1)


def _site(tmp_path: Path, vehicles: str, slots: str, **policy: object) -> Gateway:
    """The example estate's policy: a registered car with no slot is refused (no_slot = "refuse")."""
    extra = TARIFF_TOML + MOTORCYCLE_LANES
    lanes = ("car-in", "car-out")
    return registered_plates_site(
        tmp_path, vehicles, slots=slots, lanes=lanes, extra=extra, no_slot="refuse", **policy
    )


def _as_motorcycle(gw: Gateway, tmp_path: Path) -> None:
    """R1's 皖E12345 is a motorcycle: the weekly vehicles.csv says so (class column)."""
    moto = write_csv(tmp_path / "moto.csv", "plate,resident_ref,class\n皖E12345,R1,motorcycle\n")
    import_csv(gw.site.config, [moto])


def test_a_residents_registered_motorcycle_is_not_refused_as_a_car_without_a_slot(tmp_path: Path) -> None:
    """A resident's motorcycle can never have a (car) slot, so `no_slot = "refuse"` does not keep it
    out: it comes in as the resident's, into the motorcycle spaces, as a stranger's motorcycle does."""
    gw = _site(tmp_path, "皖A11111,R1\n皖E12345,R1\n", "main,B001,R1,皖A11111\n")
    _as_motorcycle(gw, tmp_path)
    stranger = show(gw, "moto-in", "苏E54321", T0)
    assert stranger.admitted and stranger.vehicle_class == "motorcycle"
    own = show(gw, "moto-in", "皖E12345", T0)
    assert (own.reason, own.vehicle_class, own.slot_id) == ("resident", "motorcycle", None), own
    left = show(gw, "moto-out", "皖E12345", T0 + 3 * H)
    assert (left.reason, left.fee_fen) == ("resident", 0)  # a resident's own vehicle parks free
    gw.conn.close()


def test_a_motorcycle_listed_on_a_fixed_slot_does_not_take_the_cars_slot(tmp_path: Path) -> None:
    """A slot's plates may name the resident's motorcycle (the CSV import takes it). The motorcycle
    parks in the motorcycle spaces, and the resident's car still finds its slot free."""
    gw = _site(tmp_path, "皖A11111,R1\n皖E12345,R1\n", "main,B001,R1,皖A11111;皖E12345\n", shared="refuse")
    _as_motorcycle(gw, tmp_path)
    assert show(gw, "moto-in", "皖E12345", T0).admitted
    car = show(gw, "car-in", "皖A11111", T0 + H)
    assert car.admitted and car.slot_id is not None, f"the car was kept off its own slot: {car.reason}"
    rows = {(r["zone"], r["class"]): r for r in occupancy(gw.conn, gw.site.capacity)}
    assert rows[("main", "motorcycle")]["on_slots"] == 0
    gw.conn.close()


def test_a_family_with_two_slots_for_its_two_cars_parks_both_free(tmp_path: Path) -> None:
    """R1 owns B001 and B002 and lists both cars on both (either car may take either slot). With one
    car on B001, the second car takes B002, free, and is not billed as a slot's second car."""
    both = "皖A11111;皖A22222"
    gw = registered_plates_site(
        tmp_path,
        "皖A11111,R1\n皖A22222,R1\n",
        slots=f"main,B001,R1,{both}\nmain,B002,R1,{both}\n",
        lanes=("car-in", "car-out"),
        extra=TARIFF_TOML,
    )
    first = show(gw, "car-in", "皖A11111", T0)
    second = show(gw, "car-in", "皖A22222", T0 + H)
    assert first.billing == "slot"
    assert (second.reason, second.billing, second.flags) == ("resident", "slot", ()), second
    assert second.slot_id not in (None, first.slot_id)
    gw.conn.close()


def test_a_motorcycle_listed_on_a_slot_is_not_handed_the_slot_when_the_car_leaves(tmp_path: Path) -> None:
    """When a slot's car leaves, a second car of the slot parked in the shared spaces moves onto it
    (handover). A motorcycle listed on the slot is not a second car: it stays in the motorcycle
    spaces, and the slot is free for the car when it comes back."""
    gw = _site(tmp_path, "皖A11111,R1\n皖E12345,R1\n", "main,B001,R1,皖A11111;皖E12345\n")
    _as_motorcycle(gw, tmp_path)
    assert show(gw, "car-in", "皖A11111", T0).slot_id is not None
    assert show(gw, "moto-in", "皖E12345", T0 + H).admitted
    assert show(gw, "car-out", "皖A11111", T0 + 2 * H).admitted
    rows = {(r["zone"], r["class"]): r for r in occupancy(gw.conn, gw.site.capacity)}
    assert rows[("main", "motorcycle")]["on_slots"] == 0, "the motorcycle was moved onto the car's slot"
    back = show(gw, "car-in", "皖A11111", T0 + 3 * H)
    assert (back.reason, back.billing) == ("resident", "slot"), back
    gw.conn.close()
