"""Review 60a: a lapsed monthly car renewed while parked whose renewal is then taken back (an
import's empty monthly_until cell, an admin's or the centre's clearing) is held at the exit to pay:
the guard's panel and pay dialog said 月租已于 … 到期, but the lane display asked 请缴费 10元 as
an owner's car, never 月租到期 (docs/hardware.md: told so whether its period ended before it came
in or while it was parked). Gateway._monthly_ended read only vehicles.monthly_until for a temporary
stay, NULL once cleared, where the panel and the quote read the end kept on the stay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from drivers.simulated import SimulatedDisplay
from gateway.api.views import from_event
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import TZ, show

H = timedelta(hours=1)
D = timedelta(days=1)
CAR = "皖D55555"  # R4's car, its month ran out on 2025-01-31


def _by_import(gw: Gateway, tmp_path: Path, vid: int, at: datetime) -> None:
    cleared = write_csv(tmp_path / "v.csv", f"plate,resident_ref,monthly_until\n{CAR},R4,\n")
    import_csv(gw.site.config, [cleared])


def _by_admin(gw: Gateway, tmp_path: Path, vid: int, at: datetime) -> None:
    registry.update_vehicle(gw.conn, at, "admin", vid, {"monthly_until": None})


@pytest.mark.parametrize("take_back", [_by_import, _by_admin], ids=["import", "admin"])
def test_lane_display_and_guard_agree_on_a_month_taken_back(
    gw: Gateway, tmp_path: Path, take_back: Callable[[Gateway, Path, int, datetime], None]
) -> None:
    now = datetime.now(TZ)  # the import writes at the box's clock
    came = show(gw, "car-in", CAR, now - 3 * H)
    assert came.reason == "temporary" and "monthly_expired" in came.flags
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (CAR,)).fetchone()[0]
    registry.update_vehicle(gw.conn, now - 2 * H, "admin", vid, {"monthly_until": now + 30 * D})
    take_back(gw, tmp_path, vid, now)

    held = show(gw, "car-out", CAR, now + H)
    assert held.reason == "payment_due" and held.fee_fen == 1000  # 1 h before the renewal, 1 h after
    guard_panel = from_event(gw, held)["monthly_ended"]
    quote = gw.parking.lane_quote(gw.conn, "car-out", now + H)
    assert quote is not None
    dialog = quote["monthly_ended"]
    assert guard_panel is not None and guard_panel == dialog  # 月租已于 … 到期 on the guard's tablet
    display = gw.devices.lanes["car-out"].displays[0]
    assert isinstance(display, SimulatedDisplay)
    # The driver is told the same: 月租到期 请缴费 10元, not 请缴费 10元.
    assert display.shown[-1] == ["月租到期 请缴费 10元", CAR], display.shown[-1]
