"""An exit door whose lock did not open (its relay board unplugged: 门禁故障 请联系保安) still counts
the resident out: the guard lets her out by hand, with his key or through the car gate, and under
hard anti-passback she is let in at her own door when she comes back. Review 64Rb fault 1: her exit
taken back (c94fb6b9), she was still inside on record and refused 禁止入内 重复入场 an hour later."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.core.model import NO_ENTRY_RECORD
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv
from tests.drivers.conftest import query
from tests.parking.conftest import DOOR_OUT_WITH_LOCK

CARD = "0102030405"
S = timedelta(seconds=1)


def _site(tmp_path: Path) -> Gateway:
    text = site_toml(tmp_path / "data", anti_passback="hard") + DOOR_OUT_WITH_LOCK
    cfg = parse_config(text, "site.toml")
    import_csv(
        cfg,
        [
            write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
            write_csv(tmp_path / "c.csv", f"card,resident_ref\n{CARD},R1\n"),
        ],
    )
    return Gateway(cfg)


def _tap(gw: Gateway, lane: str, at: Any) -> AccessEvent:
    p = Presented(lane, "card", CARD, 1.0, at, f"{lane}-reader")
    return gw.on_worker(lambda _conn: gw.handle(p)).result(timeout=10)


def _inside(gw: Gateway) -> list[tuple[Any, ...]]:
    return query(gw, "SELECT inside, people FROM presence WHERE subject = 'resident:1'")


def _unplugged(gw: Gateway, lane: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lane's lock board unplugged: its pulse raises, at the hardware edge."""

    def gone(seconds: float, ref: str = "") -> None:
        raise OSError("[Errno 5] Input/output error")

    monkeypatch.setattr(gw.devices.lanes[lane].relays[0], "pulse", gone)


@pytest.mark.parametrize("let_out", ["guard opens door-out from the tablet", "guard's key or the car gate"])
def test_let_out_another_way_after_her_exit_lock_failed_she_is_let_in_when_she_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, let_out: str
) -> None:
    gw = _site(tmp_path)
    gw.start()
    try:
        t0 = gw.now()
        assert _tap(gw, "door", t0).admitted
        _unplugged(gw, "door-out", monkeypatch)
        out = _tap(gw, "door-out", t0 + 60 * S)  # 门禁故障 请联系保安
        monkeypatch.undo()  # the guard plugs the board back in
        gw.devices.lanes["door-out"].relays[0].health.set_online()
        if let_out.startswith("guard opens"):
            gw.by_hand.open_lane("door-out", "guard1", "门禁故障，放业主出门")
        after_exit = _inside(gw)
        back = _tap(gw, "door", t0 + 3600 * S)  # an hour later she comes home
    finally:
        gw.stop()
    assert out.admitted
    assert (back.admitted, back.reason) == (True, "resident"), (
        f"refused at her own door an hour later: {back.reason} (presence after her exit: {after_exit})"
    )
    assert after_exit == [(0, 1)], f"out through a door that lets anyone out, inside on record: {after_exit}"


def test_tapping_out_again_at_the_mended_exit_door_still_lets_her_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted out at the dead lock, her tap at the mended exit door still opens it: flagged
    no_entry_record for the guard, never refused (an exit door keeps nobody in)."""
    gw = _site(tmp_path)
    gw.start()
    try:
        t0 = gw.now()
        assert _tap(gw, "door", t0).admitted
        _unplugged(gw, "door-out", monkeypatch)
        assert _tap(gw, "door-out", t0 + 60 * S).admitted
        monkeypatch.undo()
        gw.devices.lanes["door-out"].relays[0].health.set_online()
        mended = _tap(gw, "door-out", t0 + 120 * S)
        back = _tap(gw, "door", t0 + 3600 * S)
    finally:
        gw.stop()
    assert (mended.admitted, mended.flags) == (True, (NO_ENTRY_RECORD,)), mended
    assert (back.admitted, back.reason) == (True, "resident"), back.reason
