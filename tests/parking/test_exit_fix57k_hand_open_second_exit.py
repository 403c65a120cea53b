"""Review 57k: the guard's 开闸 at the SECOND exit lane, where the car's repeat waits on a Modbus module.

A car let out at car-out (its pulse waiting) moves to car-out-2 as the first arm stays down; that lane
lets it through as the same passage (flag again, Review 57g), its pulse waiting too. The guard presses
开闸 at car-out-2, the arm rises and the car drives out; then both modules answer "not taken". The
opening joined only the passages begun at the lane opened, and this one was begun at car-out: the car
was put back inside (stay reopened, its charge voided), 'already inside' on its next visit. An opening
joins every passage with a pulse waiting at its lane, a repeat's too (PassagePulses.at_lane)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY
from tests.parking.test_exit_fix57g_two_exit_cameras import (
    OUT,
    SECOND_EXIT,
    SECOND_EXIT_RELAY,
    S,
    TwoModbusExits,
)
from tests.parking.test_report_figures import Clock, serving


def test_guards_opening_at_the_second_exit_counts_the_car_out(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=SECOND_EXIT + EXIT_RELAY + SECOND_EXIT_RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        exits = TwoModbusExits(gw)
        assert exits.show("car-in", T0).admitted
        clock.at = OUT
        assert exits.show("car-out", OUT).admitted  # lane 1's pulse waits
        clock.at = OUT + S
        assert exits.show("car-out-2", OUT + S).flags == ("again",)  # lane 2's pulse waits
        assert len(exits.relays[1].outcomes) == 1
        clock.at = OUT + 2 * S
        status: list[int] = []

        def press() -> None:  # the page waits for the module's answer
            status.append(
                client.post("/api/lanes/car-out-2/open", headers=auth, json={"reason": "放车"}).status_code
            )

        guard = threading.Thread(target=press)
        guard.start()
        for _ in range(250):
            if len(exits.relays[1].outcomes) > 1:
                break
            threading.Event().wait(0.02)
        assert len(exits.relays[1].outcomes) == 2, "the opening never reached lane 2's relay"
        threading.Thread(target=exits.relays[1].outcomes[1].set_result, args=(True,)).start()
        guard.join(15)
        assert status == [200]  # the arm rose at lane 2: the car drove out
        exits.answer(0, False)  # lane 1's decision pulse: not taken
        exits.answer(1, False)  # lane 2's repeat pulse: not taken
        sql = "SELECT payload FROM outbox WHERE topic='stay'"
        sent = gw.on_worker(lambda c: c.execute(sql).fetchall()).result(timeout=10)
        assert exits.open_stays() == 0, "the car drove out on the guard's 开闸 at lane 2, yet it is inside"
        assert [p for (p,) in sent if '"reopened"' in p] == []
