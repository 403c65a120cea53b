"""A car recorded inside (docs/parking.md, *Cars already inside*) of a family with two fixed slots
listing its cars on both (*Several slots*: "it is the slot's second car only when every one of its
slots there is taken"). From a review of households with several slots.

R1 owns B001 and B003 in zone main and lists its cars on both. The example tariff: 30 minutes free,
5元 the first hour, 2元 an hour after it."""

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
M = timedelta(minutes=1)
A, B, C = "皖A11111", "皖A22222", "皖A33333"


def _two_slots(gw: Gateway, tmp_path: Path, *plates: str) -> None:
    """R1's B001 and B003 both list `plates` (a third car registered to R1 as well)."""
    cars = ";".join(plates)
    files = [write_csv(tmp_path / "v3.csv", f"plate,resident_ref\n{C},R1\n")] if C in plates else []
    slots = f"zone,number,resident_ref,plates\nmain,B001,R1,{cars}\nmain,B003,R1,{cars}\n"
    files.append(write_csv(tmp_path / "s3.csv", slots))
    import_csv(gw.site.config, files)


def test_car_recorded_inside_with_the_familys_other_slot_free_is_not_billed_as_a_second_car(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """B is on B001 from 07:00 to 10:00; A has been parked since 08:00 (its entry camera was down)
    and is recorded inside at 12:00. B003 was free all the time, so A parked free on it: it leaves
    free, not asked 5元 as B001's second car handed the slot when B left."""
    gw = make_gw(capacity=8)
    _two_slots(gw, tmp_path, A, B)
    assert show(gw, "car-in", B, T0 - 2 * H).billing == "slot"  # 07:00, on B001
    assert show(gw, "car-out", B, T0 + H).admitted  # 10:00
    made = record_inside(gw.conn, gw.site, CarInside(A, T0 - H), "camera down at 08:00", "admin1", T0 + 3 * H)
    out = show(gw, "car-out", A, T0 + 5 * H)  # 14:00
    assert (made["billing"], out.fee_fen) == ("slot", 0), (
        f"A, with the family's slot B003 free since 08:00, is recorded as {made['billing']} "
        f"(handed {made['slot']} at {made['handed_over_at']}) and asked {out.fee_fen / 100:.0f}元 at its exit"
    )
    assert (made["slot"], made["handed_over_at"]) == ("B003", None), made


def test_car_recorded_inside_with_both_slots_taken_then_is_handed_the_one_left_first(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """B is on B001 from 07:00 to 11:00 and C on B003 from 07:00 to 10:00; A has been parked since
    08:00 and is recorded at 12:00. Through the lane A came in as the second car and was handed
    B003 when C left at 10:00 (the slot freed first): 7元 for 08:00-10:00, not 9元 to B's exit."""
    gw = make_gw(capacity=8)
    _two_slots(gw, tmp_path, A, B, C)
    assert show(gw, "car-in", B, T0 - 2 * H).billing == "slot"  # 07:00, on B001
    assert show(gw, "car-in", C, T0 - 2 * H).billing == "slot"  # 07:00, on B003
    assert show(gw, "car-out", C, T0 + H).admitted  # 10:00
    assert show(gw, "car-out", B, T0 + 2 * H).admitted  # 11:00
    made = record_inside(gw.conn, gw.site, CarInside(A, T0 - H), "camera down at 08:00", "admin1", T0 + 3 * H)
    out = show(gw, "car-out", A, T0 + 5 * H)  # 14:00
    assert (made["slot"], made["handed_over_at"]) == ("B003", (T0 + H).isoformat()), made
    assert out.fee_fen == 700, f"A, handed B003 at 10:00, is asked {out.fee_fen / 100:.0f}元 ({made})"


def test_car_recorded_inside_makes_the_last_car_in_the_second_car_not_the_first(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """A has been parked since 08:00 (camera down); B came in at 09:00 and C at 10:30. Had A been
    known, B would have taken the free B003 at 09:00 and C been the second car from 10:30.
    Recorded at 10:45, A makes C the second car (handed B003 when A leaves at 11:00: 30 minutes,
    free), not B from 09:00 (7元)."""
    gw = make_gw(capacity=8)
    _two_slots(gw, tmp_path, A, B, C)
    assert show(gw, "car-in", B, T0).billing == "slot"  # 09:00, on B001
    assert show(gw, "car-in", C, T0 + 1.5 * H).billing == "slot"  # 10:30, on B003
    made = record_inside(gw.conn, gw.site, CarInside(A, T0 - H), "camera down: 08:00", "admin1", T0 + 105 * M)
    assert show(gw, "car-out", A, T0 + 2 * H).fee_fen == 0  # 11:00
    b_out = show(gw, "car-out", B, T0 + 3 * H)
    c_out = show(gw, "car-out", C, T0 + 3 * H)
    paid = b_out.fee_fen + c_out.fee_fen
    assert paid == 0, (
        f"the household is asked {paid / 100:.0f}元 "
        f"(B {b_out.fee_fen / 100:.0f}元, C {c_out.fee_fen / 100:.0f}元): "
        f"the record made {made['second_car']['plate']} (in since 09:00, when B003 was free) the second car"
    )
    assert made["second_car"]["plate"] == C, made
