"""A neighbour's car recorded inside (docs/parking.md, *Cars already inside* and *Several slots*)
where R1 lends B001 to neighbour R2. From a review of the households-with-several-slots fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
A = "皖A11111"  # R1's car; B001 is R1's own slot
N = "皖B33333"  # R2's car, listed on its own B002 and on R1's B001 (lent)
N2 = "皖B44444"  # R2's second car, listed on B002 only


def test_recording_a_neighbours_car_does_not_make_the_owner_the_second_car_of_his_own_slot(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """R2's car N has been parked since 07:00 (entry camera down); R2's second car N2 came in at
    08:00 onto B002, R1's car A at 09:00 onto its own B001. At the lane N would have taken its own
    household's B002 at 07:00 and N2 been B002's second car; recorded at 10:00, N must make N2 the
    second car, and A, the owner, must keep B001 free and leave free, not pay as its second car."""
    gw = make_gw(capacity=8)
    files = [
        write_csv(tmp_path / "v.csv", f"plate,resident_ref\n{N2},R2\n"),
        write_csv(
            tmp_path / "s.csv",
            f"zone,number,resident_ref,plates\nmain,B001,R1,{A};{N}\nmain,B002,R2,{N};{N2}\n",
        ),
    ]
    import_csv(gw.site.config, files)
    assert show(gw, "car-in", N2, T0 - H).billing == "slot"  # 08:00 onto B002
    assert show(gw, "car-in", A, T0).billing == "slot"  # 09:00 onto B001, its own
    made = record_inside(gw.conn, gw.site, CarInside(N, T0 - 2 * H), "camera down at 07:00", "admin1", T0 + H)
    a_out = show(gw, "car-out", A, T0 + 3 * H)  # 12:00
    second = made["second_car"] or {}
    assert a_out.fee_fen == 0, (
        f"R1's car A, on its own slot B001 since 09:00, is asked {a_out.fee_fen / 100:g}元 at 12:00: "
        f"recording neighbour's {N} (in since 07:00) made {second.get('plate')} the second car and put "
        f"{N} on {made['slot']}; at the lane {N} took its own B002 and {N2} was B002's second car"
    )
    assert second.get("plate") == N2, made
