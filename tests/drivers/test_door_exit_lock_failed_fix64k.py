"""An exit door whose lock did not open (its relay board unplugged: 门禁故障 请联系保安) still counts
the resident out: the guard lets her out by hand, with his key or through the car gate, and under
hard anti-passback she is let in at her own door when she comes back. Review 64Rb fault 1: her exit
taken back (c94fb6b9), she was still inside on record and refused 禁止入内 重复入场 an hour later."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.core.model import NO_ENTRY_RECORD
from tests.drivers.test_door_lock_failed_fix64c import S, _inside, _site, _tap, _unplugged


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
