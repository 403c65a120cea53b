"""A car held at an exit to pay stands at the barrier while the guard takes the fee, and the camera
decides it again every 15 s (Presented.again): one car, one hold, one fee, one exit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.core import Presented
from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from gateway.runtime.texts import display_lines
from tests.conftest import TARIFF_TOML, registered_plates_site
from tests.parking.conftest import T0, pay, show

H = timedelta(hours=1)
S = timedelta(seconds=1)
CAR = "苏E12345"


def test_the_lane_display_asks_the_fee_the_guard_takes_while_the_car_waits(
    make_gw: Callable[..., Gateway],
) -> None:
    """The car reaches the barrier 5 s before its stay crosses into the next hour. The camera decides
    it again 15 s later: the lane display (and the record sent upstream) ask what the guard's tablet
    quotes and what the guard takes (the fee to the start of the hold), not the next hour's."""
    gw = make_gw()
    assert show(gw, "car-in", CAR, T0).reason == "temporary"
    held_at = T0 + 2 * H - 5 * S
    first = show(gw, "car-out", CAR, held_at)
    assert first.reason == "payment_due"
    repeat = gw.handle(Presented("car-out", "plate", CAR, 0.97, held_at + 15 * S, "cam", again=True))
    quoted = gw.parking.lane_quote(gw.conn, "car-out", held_at + 20 * S)
    assert quoted is not None and quoted["due_fen"] == first.fee_fen
    assert repeat.reason == "payment_due"
    assert repeat.fee_fen == first.fee_fen, (
        f"the display shows {display_lines(repeat, 'zh', 'exit')[0]!r} while the guard is told "
        f"to take {quoted['due_fen']} fen"
    )
    assert pay(gw, CAR, first.fee_fen, held_at + 20 * S).admitted


def _lookalike_site(tmp_path: Path) -> Gateway:
    """plate_match = "confusable"; the resident's car 苏E1234S has no slot: it pays as temporary."""
    return registered_plates_site(
        tmp_path,
        "苏E1234S,R1\n",
        plate_match="confusable",
        lanes=("car-in", "car-out"),
        extra=TARIFF_TOML,
        no_slot="temporary",
    )


def test_a_lookalike_car_paid_at_the_lane_and_decided_again_is_not_a_second_exit(tmp_path: Path) -> None:
    """The camera reads the resident's car 苏E1234S as 苏E12345 and the gateway takes it for 苏E1234S
    (flag lookalike). It is held to pay; the guard takes the fee for 苏E1234S, the plate the tablet
    shows, and the barrier opens. The car is still under it when the camera's repeat decides it
    again: the barrier opens again, and the daily report counts one exit."""
    day = datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    gw = _lookalike_site(tmp_path)
    came = gw.handle(Presented("car-in", "plate", CAR, 0.97, day, "car-in-camera"))
    assert came.admitted and "lookalike" in came.flags
    held_at = day + 2 * H
    held = gw.handle(Presented("car-out", "plate", CAR, 0.97, held_at, "car-out-camera"))
    assert (held.reason, held.value) == ("payment_due", "苏E1234S")
    assert pay(gw, "苏E1234S", held.fee_fen, held_at + 10 * S).admitted
    repeat = gw.handle(
        Presented("car-out", "plate", CAR, 0.97, held_at + 15 * S, "car-out-camera", again=True)
    )
    assert repeat.admitted and "again" in repeat.flags, (repeat.reason, repeat.flags)
    report = build_report(
        gw.conn,
        site_id="test-site",
        lanes=gw.site.lanes,
        day=day.date(),
        hour=6,
        tz=gw.site.tz,
        built_at=day + timedelta(days=2),
    )
    assert report["vehicles"]["exits"]["total"] == 1
