"""A slot lent to another household (docs/parking.md, *Several slots*: of its slots free alike, a
car takes its own household's first). From a review of households with several slots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
A, B2 = "皖A11111", "皖B33333"


def test_neighbour_with_its_own_slot_free_does_not_take_the_slot_lent_to_it(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """R1 lends B001 to neighbour R2 (B001 lists R1's 皖A11111 and R2's 皖B33333; R2's own B002 lists
    皖B33333). R2's car comes home first, with its own B002 free, and R1's car after it: R1's car
    parks free on its own slot (R2's car on B002), not refused slot_occupied at its own slot while
    B002 stands empty."""
    gw = make_gw(shared="refuse")
    lend = f"zone,number,resident_ref,plates\nmain,B001,R1,{A};{B2}\nmain,B002,R2,{B2}\n"
    import_csv(gw.site.config, [write_csv(tmp_path / "lend.csv", lend)])
    neighbour = show(gw, "car-in", B2, T0)
    own = show(gw, "car-in", A, T0 + H)
    assert (own.reason, own.billing) == ("resident", "slot"), (
        f"R1's car is {own.reason} at its own slot B001: R2's car, with its own B002 free, "
        f"was put on B001 (slot {neighbour.slot_id})"
    )


def test_of_two_free_slots_of_its_own_a_car_takes_the_one_fewest_other_cars_list(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """R1's B001 lists its two cars, its B003 only 皖A11111. 皖A11111 comes home first and takes
    B003, leaving B001 to 皖A22222, which parks free after it (not as B001's second car)."""
    gw = make_gw(shared="refuse")
    slots = f"zone,number,resident_ref,plates\nmain,B001,R1,{A};皖A22222\nmain,B003,R1,{A}\n"
    import_csv(gw.site.config, [write_csv(tmp_path / "own.csv", slots)])
    first = show(gw, "car-in", A, T0)
    second = show(gw, "car-in", "皖A22222", T0 + H)
    assert (second.reason, second.billing) == ("resident", "slot"), (
        f"皖A22222 is {second.reason} at B001: 皖A11111, with B003 of its own free, took slot {first.slot_id}"
    )
