"""Of a car's free slots, the one fewest other cars list (docs/parking.md, *Several slots*); a
slot's plates may name the household's motorcycle, which never parks on it (*Fixed slots are car
slots*). From a review of the households-with-several-slots fix (SLOT_PREFERENCE)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
A, B, MOTO = "皖A11111", "皖A22222", "皖E12345"


def test_a_motorcycle_listed_on_a_slot_does_not_push_the_first_car_home_onto_its_slot_mates_slot(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """R1's B005 lists its cars A and B; B006 lists A and R1's motorcycle. A comes home first: of
    its two free slots B006 is the one no other car lists, so A takes it and B, home after it,
    parks free on B005. A put on B005 (the motorcycle counted as a car on B006) leaves B refused
    slot_occupied while B006 stands empty."""
    gw = make_gw(shared="refuse")
    files = [
        write_csv(tmp_path / "v.csv", f"plate,resident_ref,class\n{MOTO},R1,motorcycle\n"),
        write_csv(
            tmp_path / "s.csv",
            f"zone,number,resident_ref,plates\nmain,B001,R1,\nmain,B005,R1,{A};{B}\nmain,B006,R1,{A};{MOTO}\n",
        ),
    ]
    import_csv(gw.site.config, files)
    first = show(gw, "car-in", A, T0)
    second = show(gw, "car-in", B, T0 + H)
    row = gw.conn.execute("SELECT number FROM slots WHERE id = ?", (first.slot_id,)).fetchone()
    slot_of_a = row[0] if row else None
    assert (second.reason, second.billing) == ("resident", "slot"), (
        f"B is {second.reason} at its only slot B005: A, home first, was put on {slot_of_a} "
        f"although B006 lists no other car (only R1's motorcycle, which never parks on a car slot)"
    )
