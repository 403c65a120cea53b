"""A payment keeps the grace it was given (its receipt's leave_by, schema migration 52), and a grace
lowered in the config since asks no more of the car within it (docs/parking.md, *Paying ahead*).
The driver who turned back under the raised arm was judged by the config's grace alone: back at
the exit within his receipt's time, he was held for a day's fee as a car with no entry record, 30元
on top of the 9元 he had paid."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed, show

M = timedelta(minutes=1)
PLATE = "苏E12345"


@pytest.fixture
def paid_then_grace_lowered(tmp_path: Path) -> Gateway:
    """In at 09:00, 9元 paid at the booth at 12:00 (leave by 12:15), then the grace lowered to
    5 minutes and the gateway restarted; let out free at 12:03."""
    text = parking_toml(tmp_path / "data", exit_without_entry="charge")
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    show(gw, "car-in", PLATE, T0)
    paid = gw.parking.prepay(gw.conn, PLATE, 900, "cash", "", "booth", T0 + 180 * M)
    assert paid["leave_by"] == "2025-03-03T12:15:00+08:00"
    gw.conn.close()
    gw = Gateway(parse_config(text.replace("grace_minutes = 15", "grace_minutes = 5"), "site.toml"))
    out = show(gw, "car-out", PLATE, T0 + 183 * M)
    assert (out.admitted, out.fee_fen) == (True, 0)
    return gw


def _back(gw: Gateway, minutes: int) -> AccessEvent:
    back = show(gw, "car-out", PLATE, T0 + minutes * M)
    gw.conn.close()
    return back


def test_a_driver_back_at_the_exit_within_his_receipts_time_leaves_free(
    paid_then_grace_lowered: Gateway,
) -> None:
    back = _back(paid_then_grace_lowered, 190)  # 12:10, within the 15 minutes his receipt gave
    assert (back.admitted, back.fee_fen, back.flags) == (True, 0, ("again",))


def test_a_driver_back_past_his_receipts_time_is_a_car_with_no_entry_record(
    paid_then_grace_lowered: Gateway,
) -> None:
    back = _back(paid_then_grace_lowered, 200)  # 12:20: 17 minutes after he was let out
    assert (back.reason, back.fee_fen, back.flags) == ("payment_due", 3000, ("no_entry_record",))


def test_a_payment_with_no_grace_kept_is_judged_by_the_configs(tmp_path: Path) -> None:
    """A payment from before schema migration 52 kept no grace of its own: judged by the config's
    (15 minutes), never by the 240 minutes a paid exit is looked for over."""
    cfg = parse_config(parking_toml(tmp_path / "data", exit_without_entry="charge"), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    show(gw, "car-in", PLATE, T0)
    gw.parking.prepay(gw.conn, PLATE, 900, "cash", "", "booth", T0 + 180 * M)
    gw.conn.execute("DELETE FROM payment_graces")
    assert show(gw, "car-out", PLATE, T0 + 183 * M).admitted
    back = _back(gw, 200)  # 12:20: 17 minutes after it was let out
    assert (back.reason, back.fee_fen, back.flags) == ("payment_due", 3000, ("no_entry_record",))
