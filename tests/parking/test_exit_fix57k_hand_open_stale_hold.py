"""Review 57k: the guard's 开闸 for the car whose exit pulse waits let out a car held there earlier.

A stranger B is held to pay at the exit (7元), backs away and parks. Ten minutes later resident A is
let out there, its pulse waiting on a Modbus module; the arm does not move and the guard presses 开闸.
Review 57g counts A out, but the opening still looked for the car held at the barrier, and with the
camera seeing none it fell back to the lane's last hold (held for half an hour): B's stay was closed
"let out by hand", its fee let go on record, the display named B's plate, and B, still inside, met
no_entry_record at its real exit. The opening joined A's passage: it is for A, and lets out no car
held or refused there before A was let out (JoinedByHand.since)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY, RelayWrittenLater
from tests.parking.test_report_figures import Clock, serving

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
STRANGER = "苏E12345"  # B: pays by time
RESIDENT = "皖B33333"  # A: R2's car on its own slot


class Lane:
    def __init__(self, gw: Gateway, clock: Clock) -> None:
        self.gw, self.clock = gw, clock
        self.relay = RelayWrittenLater(gw.devices.lanes["car-out"].relays[0])  # type: ignore[arg-type]
        gw.devices.lanes["car-out"].relays[0] = self.relay

    def look(self, lane: str, plate: str, at: datetime) -> AccessEvent:
        self.clock.at = at
        p = Presented(lane, "plate", plate, 0.97, at, f"{lane}-camera")
        return self.gw.on_worker(lambda _c: self.gw.handle(p)).result(timeout=10)

    def answer(self, pulse: int, took: bool) -> None:
        bus = threading.Thread(target=self.relay.outcomes[pulse].set_result, args=(took,))
        bus.start()
        bus.join()

    def open_stays(self, plate: str) -> int:
        sql = "SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NULL"
        return int(self.gw.on_worker(lambda c: c.execute(sql, (plate,)).fetchone()[0]).result(timeout=10))

    def audit_naming(self, plate: str) -> list[tuple[str, str]]:
        sql = "SELECT action, coalesce(target, '') || ' ' || coalesce(detail, '') FROM audit"
        rows = self.gw.on_worker(lambda c: c.execute(sql).fetchall()).result(timeout=10)
        return [(action, text) for action, text in rows if plate in text]


@pytest.fixture
def served(make_gw: Callable[..., Gateway]) -> Iterator[tuple[Lane, object, dict[str, str]]]:
    gw = make_gw(extra=EXIT_RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        yield Lane(gw, clock), client, auth


def test_guards_opening_for_the_car_whose_pulse_waits_lets_out_no_car_held_before_it(
    served: tuple[Lane, object, dict[str, str]],
) -> None:
    lane, client, auth = served
    assert lane.look("car-in", STRANGER, T0).admitted
    assert lane.look("car-in", RESIDENT, T0 + M).admitted
    held = lane.look("car-out", STRANGER, T0 + 2 * H)
    assert (held.admitted, held.reason) == (False, "payment_due")  # B backs away, parks again
    audit_before = lane.audit_naming(STRANGER)
    out = T0 + 2 * H + 10 * M
    assert lane.look("car-out", RESIDENT, out).admitted  # A let out: its pulse (0) waits
    assert len(lane.relay.outcomes) == 1
    lane.clock.at = out + 2 * S
    status: list[int] = []

    def press() -> None:
        r = client.post("/api/lanes/car-out/open", headers=auth, json={"reason": "道闸没抬"})  # type: ignore[attr-defined]
        status.append(r.status_code)

    guard = threading.Thread(target=press)
    guard.start()
    for _ in range(250):
        if len(lane.relay.outcomes) > 1:
            break
        threading.Event().wait(0.02)
    assert len(lane.relay.outcomes) == 2
    threading.Thread(target=lane.relay.outcomes[1].set_result, args=(True,)).start()  # A drives out
    guard.join(15)
    assert status == [200]
    lane.answer(0, False)  # A's own pulse: not taken
    assert lane.open_stays(RESIDENT) == 0  # A is out (Review 57g)
    shown = lane.gw.devices.lanes["car-out"].displays[0].shown[-1]  # type: ignore[attr-defined]
    assert STRANGER not in shown, f"the display named B, who is parked inside: {shown}"
    assert lane.open_stays(STRANGER) == 1, "B, parked inside, was booked out by the guard's opening for A"
    assert lane.audit_naming(STRANGER) == audit_before  # no fee let go for B
    # B leaves later: still asked its fee, not refused as a car with no entry record.
    later = lane.look("car-out", STRANGER, out + 20 * M)
    assert (later.admitted, later.reason) == (False, "payment_due")
