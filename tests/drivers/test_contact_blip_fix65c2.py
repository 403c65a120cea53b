"""Review Rc (after fix 65c, db97bea9): a barrier contact's Modbus module that misses one poll (it is
offline at once on one unanswered poll) and answers the next, the arm up all along. Its report back,
still up, is the same arm-up (docs/hardware.md, *Tailgating*), but the lane had been told the arm came
down, which dropped every opening older than `open_grace_s`, and the report back began an arm-up
with none: the resident let out, slow off the loop, was alarmed 跟车通过 under its own opening, named
as the car held to pay a moment before ("openings 0, passed 1"). While the contact is unseen no car
is judged, and the arm-up keeps its openings; back still up, it goes on with them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.runtime.devices import Devices, LaneDevices
from gateway.runtime.lanes import LaneInputs
from gateway.store.database import open_database

GRACE_S = 0.3  # the lane's open_grace_s (and rise_within_s): an opening counts this long before the arm-up
LANE, LOOP, CONTACT = "car-out", "car-out-loop", "car-out-contact"
RESIDENT, HELD = "皖B33333", "苏E55555"


@pytest.fixture
def lane(tmp_path: Path) -> Iterator[tuple[LaneInputs, Callable[[], list[dict[str, Any]]]]]:
    """An exit with a loop and a barrier contact on a module of its own; a car held to pay there
    backed off to the booth, then the resident let out: the arm up, the resident still on the loop
    well past open_grace_s (a pedestrian crossing)."""
    conn = open_database(tmp_path / "gateway.db").conn

    def on_worker(fn: Callable[[Any], Any]) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(conn))
        return done

    devices = Devices(
        lanes={LANE: LaneDevices()},
        health=[],
        open_grace_s={LANE: GRACE_S},
        rise_within_s={LANE: GRACE_S},
        barrier_contacts={LANE},
    )
    inputs = LaneInputs(devices, on_worker, lambda: datetime.now(UTC))
    inputs.start()

    def tailgates() -> list[dict[str, Any]]:
        rows = conn.execute("SELECT message FROM alarms WHERE kind = 'tailgate'").fetchall()
        return [json.loads(message)["params"] for (message,) in rows]

    try:
        inputs.car_present(LANE, LOOP, True)
        inputs.refused(LANE, HELD, "payment_due")
        inputs.car_present(LANE, LOOP, False)  # backs off to pay at the booth
        time.sleep(1.1)  # a car at a time: a tailgate's source is the lane and the second
        inputs.car_present(LANE, LOOP, True)
        inputs.opening(LANE, RESIDENT)
        inputs.barrier(LANE, CONTACT, True)
        time.sleep(GRACE_S * 2)
        yield inputs, tailgates
    finally:
        inputs.stop()
        conn.close()


def _missed_poll(inputs: LaneInputs) -> None:
    inputs.device_offline(LANE, CONTACT)  # one poll unanswered (noise on the RS-485 line)
    inputs.barrier(LANE, CONTACT, True)  # the next one answers: still up


def test_the_resident_through_under_its_own_opening_after_a_missed_poll_is_no_tailgate(lane: Any) -> None:
    inputs, tailgates = lane
    _missed_poll(inputs)
    inputs.car_present(LANE, LOOP, False)
    assert tailgates() == []


def test_a_car_through_after_it_under_the_same_arm_up_is_still_a_tailgate(lane: Any) -> None:
    inputs, tailgates = lane
    _missed_poll(inputs)
    inputs.car_present(LANE, LOOP, False)  # the resident
    time.sleep(1.1)
    inputs.car_present(LANE, LOOP, True)
    inputs.refused(LANE, HELD, "payment_due")  # back, held again: drives through under the arm
    inputs.car_present(LANE, LOOP, False)
    (alarm,) = tailgates()
    assert (alarm["plate"], alarm["openings"], alarm["passed"]) == (HELD, 1, 2)


def test_a_car_off_the_loop_while_the_contact_is_unseen_is_not_judged(lane: Any) -> None:
    inputs, tailgates = lane
    inputs.device_offline(LANE, CONTACT)
    inputs.car_present(LANE, LOOP, False)  # the resident, on its opening
    time.sleep(1.1)
    inputs.car_present(LANE, LOOP, True)
    inputs.refused(LANE, HELD, "payment_due")
    inputs.car_present(LANE, LOOP, False)  # backed off, or through: the arm may be down
    inputs.barrier(LANE, CONTACT, False)  # back: down
    assert tailgates() == []
