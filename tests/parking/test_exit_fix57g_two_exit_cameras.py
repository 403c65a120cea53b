"""Review 57g: one car read by the cameras of two exit lanes within a second (a camera that also sees
the neighbouring lane, or a car straddling two lanes) was two exits: the second lane's barrier
opened on a decision of its own, its record flagged no_entry_record for the guard, and the daily
report counted the car's exit twice (exits 2, entries 1). It is one passage: the second lane lets
it through again (flag again: the barrier opens, nothing counted, no stay moved)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY, RelayWrittenLater

S = timedelta(seconds=1)
H = timedelta(hours=1)
SECOND_EXIT = """
[[lanes]]
id = "car-out-2"
gate = "north"
direction = "exit"
type = "vehicle"
zone = "main"
"""
SECOND_EXIT_RELAY = """
[[devices]]
id = "car-out-2-barrier"
lane = "car-out-2"
kind = "relay"
driver = "simulated"
"""
RESIDENT = "皖B33333"  # R2's car on its own slot B002
OUT = T0 + 10 * H


def _show(gw: Gateway, lane: str, plate: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "plate", plate, 0.97, at, f"{lane}-camera"))


def _exits(gw: Gateway) -> int:
    return int(report_of_t0_day(gw, T0 + 24 * H)["vehicles"]["exits"]["total"])


def test_a_resident_car_read_at_two_exits_within_a_second_leaves_once(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=SECOND_EXIT + EXIT_RELAY + SECOND_EXIT_RELAY)
    assert _show(gw, "car-in", RESIDENT, T0).admitted
    first = _show(gw, "car-out", RESIDENT, OUT)
    second = _show(gw, "car-out-2", RESIDENT, OUT + S)
    assert first.admitted and first.flags == ()
    assert second.admitted and second.flags == ("again",), (second.reason, second.flags)
    assert gw.devices.lanes["car-out-2"].relays[0].pulses  # type: ignore[attr-defined]
    assert _exits(gw) == 1


def test_the_same_car_at_another_exit_later_is_decided_afresh(make_gw: Callable[..., Gateway]) -> None:
    """Past SAME_PASSAGE (10 s) the plate at another exit is decided afresh, as before."""
    gw = make_gw(extra=SECOND_EXIT)
    assert _show(gw, "car-in", RESIDENT, T0).admitted
    assert _show(gw, "car-out", RESIDENT, OUT).admitted
    later = _show(gw, "car-out-2", RESIDENT, OUT + 30 * S)
    assert "again" not in later.flags and "no_entry_record" in later.flags


class TwoModbusExits:
    """Both exits' relays Modbus modules, whose answers the test gives."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.relays: list[RelayWrittenLater] = []
        for lane in ("car-out", "car-out-2"):
            relays = gw.devices.lanes[lane].relays
            self.relays.append(RelayWrittenLater(relays[0]))  # type: ignore[arg-type]
            relays[0] = self.relays[-1]

    def show(self, lane: str, at: datetime, again: bool = False) -> AccessEvent:
        p = Presented(lane, "plate", RESIDENT, 0.97, at, f"{lane}-camera", again=again)
        return self.gw.on_worker(lambda _conn: self.gw.handle(p)).result(timeout=10)

    def answer(self, lane: int, took: bool) -> None:
        bus = threading.Thread(target=self.relays[lane].outcomes[0].set_result, args=(took,))
        bus.start()
        bus.join()

    def open_stays(self) -> int:
        sql = "SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NULL"
        return int(self.gw.on_worker(lambda c: c.execute(sql, (RESIDENT,)).fetchone()[0]).result(timeout=10))


def test_out_through_the_second_exits_barrier_when_the_first_stayed_down(
    make_gw: Callable[..., Gateway],
) -> None:
    """The first exit's arm did not rise, the second's did: the car drove out there, not put back."""
    gw = make_gw(extra=SECOND_EXIT + EXIT_RELAY + SECOND_EXIT_RELAY)
    gw.start()
    try:
        exits = TwoModbusExits(gw)
        assert exits.show("car-in", T0).admitted
        assert exits.show("car-out", OUT).admitted
        assert exits.show("car-out-2", OUT + S).flags == ("again",)
        exits.answer(0, False)
        assert exits.open_stays() == 0  # the second lane's pulse may yet raise its arm
        exits.answer(1, True)
        assert exits.open_stays() == 0
    finally:
        gw.stop()


def test_neither_exits_barrier_rose_puts_the_car_back_and_its_next_look_is_its_exit(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=SECOND_EXIT + EXIT_RELAY + SECOND_EXIT_RELAY)
    gw.start()
    try:
        exits = TwoModbusExits(gw)
        assert exits.show("car-in", T0).admitted
        assert exits.show("car-out", OUT).admitted
        assert exits.show("car-out-2", OUT + S).flags == ("again",)
        exits.answer(1, False)
        exits.answer(0, False)
        assert exits.open_stays() == 1  # 道闸故障 at both: still inside
        fresh = exits.show("car-out-2", OUT + 5 * S, again=True)  # the car still there, not that passage
        assert fresh.admitted and "again" not in fresh.flags
        assert exits.open_stays() == 0
    finally:
        gw.stop()
