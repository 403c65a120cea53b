"""A door whose lock did not open (its relay board unplugged: 门禁故障 请联系保安) let nobody in:
the resident tapped in is still outside on record, and her next tap is decided afresh. Review 64D:
kept inside, hard anti-passback refused her 重复入场 at the door that never let her in, also after
the guard plugged the board back in. One tapped out at a dead exit lock is counted out all the same
(Review 64Rb: tests/drivers/test_door_exit_lock_failed_fix64k.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers.relays.lcus import lcus_frame
from gateway.config import parse_config
from gateway.core import Presented
from gateway.core.model import NO_ENTRY_RECORD
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv
from tests.drivers.conftest import PtyDevice, query, wait_for
from tests.parking.conftest import DOOR_OUT_WITH_LOCK
from tests.parking.test_exit_fix49_barrier_not_opened import RelayWrittenLater

CARD = "0102030405"
S = timedelta(seconds=1)
ON_LCUS = 'driver = "lcus"\nport = "{port}"\nchannel = 1\nreconnect_max_s = 0.2\n'


def _site(tmp_path: Path, lock_port: str = "") -> Gateway:
    """Hard anti-passback; the door's lock on an LCUS board at `lock_port` (else simulated), and an
    exit door with a lock of its own."""
    text = site_toml(tmp_path / "data", anti_passback="hard") + DOOR_OUT_WITH_LOCK
    if lock_port:
        lock = 'id = "door-lock"\nlane = "door"\nkind = "relay"\n'
        text = text.replace(lock + 'driver = "simulated"\n', lock + ON_LCUS.format(port=lock_port))
        assert 'driver = "lcus"' in text
    cfg = parse_config(text, "site.toml")
    import_csv(
        cfg,
        [
            write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
            write_csv(tmp_path / "c.csv", f"card,resident_ref\n{CARD},R1\n"),
        ],
    )
    return Gateway(cfg)


def _tap(gw: Gateway, lane: str, at: Any = None) -> AccessEvent:
    p = Presented(lane, "card", CARD, 1.0, at or gw.now(), f"{lane}-reader")
    return gw.on_worker(lambda _conn: gw.handle(p)).result(timeout=10)


def _inside(gw: Gateway) -> list[tuple[Any, ...]]:
    return query(gw, "SELECT inside, people FROM presence WHERE subject = 'resident:1'")


def _audited(gw: Gateway) -> list[tuple[Any, ...]]:
    return query(gw, "SELECT target, detail FROM audit WHERE action = 'presence.not_through'")


def _unplugged(gw: Gateway, lane: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lane's lock board unplugged: its pulse raises, at the hardware edge."""

    def gone(seconds: float, ref: str = "") -> None:
        raise OSError("[Errno 5] Input/output error")

    monkeypatch.setattr(gw.devices.lanes[lane].relays[0], "pulse", gone)


def test_a_tap_at_a_lock_on_an_unplugged_lcus_board_leaves_her_outside_and_in_after_the_repair(
    tmp_path: Path, gateways: Callable[[Gateway], Gateway], pty_device: Callable[[str], PtyDevice]
) -> None:
    """The board unplugged, her tap is let through on record and the door says 门禁故障 请联系保安:
    she is not counted inside, she is not refused 重复入场 tapping again at the dead lock, and once
    the guard plugs the board back in her tap opens the door."""
    board = pty_device("ttyUSB-lock")
    gw = gateways(_site(tmp_path, board.path))
    lock = gw.devices.lanes["door"].relays[0]
    wait_for(lambda: lock.health.online, "the lock's board online")
    board.unplug()
    wait_for(lambda: not lock.health.online, "the board seen gone")
    assert _tap(gw, "door").admitted
    # Its write's outcome may be told later (the board's own thread): taken back once it is.
    wait_for(lambda: _inside(gw) == [(0, 1)], "her entry taken back, not counted inside at a shut door")
    again = _tap(gw, "door")
    assert (again.admitted, again.reason) == (True, "resident"), f"tapped again at the dead lock: {again}"
    wait_for(lambda: _inside(gw) == [(0, 1)], "that entry taken back too")
    board.plug()
    wait_for(lambda: lock.health.online, "the lock's board back")
    repaired = _tap(gw, "door")
    assert (repaired.admitted, repaired.reason, repaired.flags) == (True, "resident", ())
    written = bytearray()

    def opened() -> bool:
        written.extend(board.pending())
        return lcus_frame(1, True) in written

    wait_for(opened, "the lock's board told to open")
    assert _inside(gw) == [(1, 1)]
    audited = _audited(gw)
    assert len(audited) == 2 and audited[0][0] == "resident:1", audited
    assert "not let in at door: its lock did not open" in audited[0][1]


def test_a_lock_that_answers_later_not_taken_takes_her_entry_back_on_the_worker(tmp_path: Path) -> None:
    """A lock whose relay answers on a thread of its own after the decision (a Modbus module; an
    LCUS board written on its own thread): not taken, her entry is taken back once it answers, and
    her next tap is let in, not refused 重复入场. Taken, she is inside: her next entry is refused."""
    gw = _site(tmp_path)
    lane = gw.devices.lanes["door"]
    relay = RelayWrittenLater(lane.relays[0])  # type: ignore[arg-type]
    lane.relays[0] = relay
    gw.start()
    try:
        first = _tap(gw, "door")
        inside_before_the_answer = _inside(gw)
        bus = threading.Thread(target=relay.outcomes[0].set_result, args=(False,))
        bus.start()
        bus.join()
        not_taken = _inside(gw)
        second = _tap(gw, "door", first.at + 5 * S)
        assert (first.admitted, inside_before_the_answer, not_taken) == (True, [(1, 1)], [(0, 1)])
        assert (second.admitted, second.reason) == (True, "resident"), second.reason
        bus = threading.Thread(target=relay.outcomes[1].set_result, args=(True,))
        bus.start()
        bus.join()
        third = _tap(gw, "door", first.at + 60 * S)
    finally:
        gw.stop()
    assert (third.admitted, third.reason) == (False, "anti_passback"), "the lock opened: she is inside"


def test_a_tap_out_at_an_exit_door_whose_lock_did_not_open_counts_her_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In through the door; out at the exit door whose lock board is unplugged: she is out on record
    (the guard lets her out another way, which records nothing), nothing is taken back, and out
    through it once mended, her exit is flagged no_entry_record. Review 64Rb: this test expected her
    kept inside and a plain exit at the mended door; kept inside, she was refused 重复入场 at her own
    door coming home."""
    gw = _site(tmp_path)
    gw.start()
    try:
        t0 = gw.now()
        assert _tap(gw, "door", t0).admitted
        _unplugged(gw, "door-out", monkeypatch)
        out = _tap(gw, "door-out", t0 + 60 * S)
        still = _inside(gw)
        monkeypatch.undo()
        gw.devices.lanes["door-out"].relays[0].health.set_online()
        mended = _tap(gw, "door-out", t0 + 120 * S)
        audited = _audited(gw)
    finally:
        gw.stop()
    assert (out.admitted, still) == (True, [(0, 1)]), f"kept inside at an exit door: {still}"
    assert (mended.admitted, mended.flags) == (True, (NO_ENTRY_RECORD,)), mended.flags
    assert audited == [], audited
