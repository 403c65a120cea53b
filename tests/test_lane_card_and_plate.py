"""A vehicle lane with a plate camera and a card reader. In the rush the camera reads a resident's car
and opens; the driver, used to the old system, also taps the car's card as it rolls under the
barrier. One car, one passage: the card is one more look at it (flag "again"), whichever came first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.rush_helpers import parking_gw

CAR = "皖B33333"  # R2's car on its own slot B002
CARD = "0012345678"  # R2's card for that car


def _gateway(tmp_path: Path, anti_passback: str = "soft") -> Gateway:
    gw = parking_gw(tmp_path, anti_passback=anti_passback)
    import_csv(gw.site.config, [write_csv(tmp_path / "c.csv", f"card,resident_ref,plate\n{CARD},R2,{CAR}\n")])
    return gw


def _entries(gw: Gateway) -> int:
    report = build_report(
        gw.conn,
        site_id="park-site",
        lanes=gw.site.lanes,
        day=(gw.now() - timedelta(hours=6)).date(),
        hour=6,
        tz=gw.site.tz,
        built_at=gw.now(),
    )
    return int(report["vehicles"]["entries"]["total"])


@pytest.mark.parametrize("anti_passback", ["soft", "hard"])
@pytest.mark.parametrize("first", ["plate", "card"])
def test_a_car_read_by_the_camera_and_its_card_tapped_is_one_entry(
    tmp_path: Path, anti_passback: str, first: str
) -> None:
    gw = _gateway(tmp_path, anti_passback)
    at = gw.now() - timedelta(hours=1)
    shown = {"plate": ("plate", CAR, "car-in-camera"), "card": ("card", CARD, "car-in-reader")}
    second = "card" if first == "plate" else "plate"
    kind, value, device = shown[first]
    one = gw.handle(Presented("car-in", kind, value, 1.0, at, device))  # type: ignore[arg-type]
    kind, value, device = shown[second]
    two = gw.handle(Presented("car-in", kind, value, 1.0, at + timedelta(seconds=2), device))  # type: ignore[arg-type]
    assert one.admitted and two.admitted, (two.reason, two.flags)
    assert (two.reason, two.flags) == (one.reason, ("again",)), "the guard is told the car was inside"
    stays = gw.conn.execute("SELECT entry_event, closed_by FROM stays ORDER BY id").fetchall()
    assert stays == [(one.event_id, None)]
    assert _entries(gw) == 1, f"one car came in; the daily report counts {_entries(gw)} entries"


def test_the_same_card_shown_again_is_still_anti_passbacks_business(tmp_path: Path) -> None:
    """A card handed back to the car behind: the second tap is decided as before (hard: refused)."""
    gw = _gateway(tmp_path, "hard")
    at = gw.now() - timedelta(hours=1)
    assert gw.handle(Presented("car-in", "card", CARD, 1.0, at, "car-in-reader")).admitted
    again = gw.handle(Presented("car-in", "card", CARD, 1.0, at + timedelta(seconds=5), "car-in-reader"))
    assert again.reason == "anti_passback"


def test_a_card_tapped_long_after_the_car_was_read_is_a_new_presentation(tmp_path: Path) -> None:
    """Beyond a few seconds the card is not the same passage: anti-passback (soft) flags it."""
    gw = _gateway(tmp_path)
    at = gw.now() - timedelta(hours=1)
    assert gw.handle(Presented("car-in", "plate", CAR, 0.99, at, "car-in-camera")).admitted
    later = gw.handle(Presented("car-in", "card", CARD, 1.0, at + timedelta(seconds=40), "car-in-reader"))
    assert later.admitted and "already_inside" in later.flags


def test_the_car_let_out_in_between_is_not_the_same_passage(tmp_path: Path) -> None:
    """Read at the entrance, read at the exit, its card tapped at the entrance seconds later: the
    car came back, a passage of its own."""
    gw = _gateway(tmp_path, "hard")
    at = gw.now() - timedelta(hours=1)
    assert gw.handle(Presented("car-in", "plate", CAR, 0.99, at, "car-in-camera")).admitted
    assert gw.handle(Presented("car-out", "plate", CAR, 0.99, at + timedelta(seconds=3), "cam")).admitted
    back = gw.handle(Presented("car-in", "card", CARD, 1.0, at + timedelta(seconds=6), "car-in-reader"))
    assert (back.admitted, back.flags) == (True, ())
    assert gw.conn.execute("SELECT count(*) FROM stays").fetchone()[0] == 2
