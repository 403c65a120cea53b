"""A visitor's own car back after a missed exit is a re-entry "whichever is read first"
(docs/parking.md, One car, one passage), under policy.anti_passback = "off" too (Review 59p: its
QR is admitted there with no `already_inside` flag, Gateway._own_car_back asked for that flag, and
the car's plate read 2 s after the QR was taken for the QR's passage: billed from 09:00, 17元,
where plate first it is a re-entry under policy.reentry = "void": 5元)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.passes import NewPass, create_pass, get_pass
from tests.parking.conftest import T0, parking_toml, seed

S = timedelta(seconds=1)
H = timedelta(hours=1)
CAR = "苏E99999"
BACK = T0 + 5 * H + 30 * 60 * S
OUT = BACK + H


def _gw(tmp: Path) -> Gateway:
    text = parking_toml(tmp / "data").replace('anti_passback = "soft"', 'anti_passback = "off"')
    assert 'anti_passback = "off"' in text
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp)
    return Gateway(cfg)


def _show(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 0.97, at, f"{lane}-{kind}"))  # type: ignore[arg-type]


@pytest.mark.parametrize("qr_first", [False, True], ids=["plate_first", "qr_first"])
@pytest.mark.parametrize("pass_plate", ["", CAR], ids=["on_foot", "with_its_plate"])
def test_own_car_back_is_a_reentry_whichever_first_with_anti_passback_off(
    tmp_path: Path, pass_plate: str, qr_first: bool
) -> None:
    gw = _gw(tmp_path)
    try:
        visit = NewPass(
            "visitor", "钱七", T0 - H, T0 + 48 * H, host_building="3栋", host_unit="2单元", plate=pass_plate
        )
        qr = str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1"))["qr"])
        if not pass_plate:
            assert _show(gw, "car-in", "qr", qr, T0).admitted
        assert _show(gw, "car-in", "plate", CAR, T0 + 2 * S).admitted
        first, second = ("qr", qr), ("plate", CAR)
        if not qr_first:
            first, second = second, first
        assert _show(gw, "car-in", *first, BACK).admitted
        assert _show(gw, "car-in", *second, BACK + 2 * S).admitted
        assert len(open_stays(gw.conn)) == 1
        out = _show(gw, "car-out", "plate", CAR, OUT)
        assert (out.reason, out.fee_fen) == ("payment_due", 500), "billed from 09:00, not as a re-entry"
    finally:
        gw.conn.close()
