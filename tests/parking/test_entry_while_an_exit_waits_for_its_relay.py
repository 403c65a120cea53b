"""A car let out at car-out whose barrier has not confirmed yet (a Modbus relay module answers up to a
second after the decision), and a car read at car-in meanwhile, the car park's shared spaces full.
The exit closed the leaving car's stay at once; should its barrier stay down (道闸故障), the car is
put back on its stay with no room to check. So the car entering is decided as if the leaving car
were still inside: a stranger is refused zone_full, the household's other car is its slot's second
car. Let in onto that space, the car park held one car more than its spaces (Review 55a). An exit at
a lane with no relay is final at its decision: nothing can put its car back (Review 55e). The
occupancy figures the guard reads count the leaving car as the entrance does (Review 55e)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.runtime.worker import Job
from gateway.store.accounts import create_token
from gateway.store.occupancy import occupancy
from tests.parking.conftest import T0
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY, RelayWrittenLater, unplug_exit

S = timedelta(seconds=1)
M = timedelta(minutes=1)
# 4 car spaces, B001 (R1's 皖A11111 and 皖A22222) and B002 fixed: 2 shared spaces.
CAPACITY = 4


def _cars(gw: Gateway) -> dict[str, object]:
    """The occupancy page's car row for the garage, read on the decision worker."""
    rows = gw.on_worker(lambda conn: occupancy(conn, gw.site.capacity, None, gw.stays_leaving())).result(
        timeout=10
    )
    (car,) = [row for row in rows if row["class"] == "car"]
    return car


def _plate(lane: str, plate: str, at: timedelta) -> Presented:
    return Presented(lane, "plate", plate, 0.97, T0 + at, "cam")


class ExitWaitingForItsRelay:
    """The gateway running, car-out's relay a Modbus module whose answer the test gives."""

    def __init__(self, make_gw: Callable[..., Gateway], capacity: int = CAPACITY) -> None:
        self.gw = make_gw(extra=EXIT_RELAY, capacity=capacity)
        lane = self.gw.devices.lanes["car-out"]
        self.relay = RelayWrittenLater(lane.relays[0])  # type: ignore[arg-type]
        lane.relays[0] = self.relay

    def decided(self, lane: str, plate: str, at: timedelta) -> AccessEvent:
        p = _plate(lane, plate, at)
        return self.gw.on_worker(lambda _conn: self.gw.handle(p)).result(timeout=10)

    def relay_answers(self, taken: bool) -> None:
        """The module's answer to the exit's pulse, on its bus's thread; then the worker's work on it done."""
        (outcome,) = self.relay.outcomes
        bus = threading.Thread(target=outcome.set_result, args=(taken,))
        bus.start()
        bus.join()
        self.gw.on_worker(lambda _conn: None).result(timeout=10)


@pytest.fixture
def lanes(make_gw: Callable[..., Gateway]) -> Iterator[ExitWaitingForItsRelay]:
    served = ExitWaitingForItsRelay(make_gw)
    served.gw.start()
    yield served
    served.gw.stop()


def _two_strangers_parked(lanes: ExitWaitingForItsRelay) -> None:
    assert lanes.decided("car-in", "苏E10001", 0 * M).admitted
    assert lanes.decided("car-in", "苏E10002", 1 * M).admitted
    assert lanes.decided("car-in", "苏E10003", 2 * M).reason == "zone_full"


def test_a_stranger_read_at_the_entrance_while_the_exit_waits_for_its_relay_is_refused_zone_full(
    lanes: ExitWaitingForItsRelay,
) -> None:
    """Two strangers fill the 2 shared spaces. Stranger 1 is let out at car-out; its relay module
    has not answered when stranger 4 is read at car-in 0.2 s later. The module then answers 'not
    taken': stranger 1 never left and is put back. Stranger 4 must not have been let into the
    space stranger 1 still held: the guard would find 3 cars in 2 shared spaces, and the next
    cars refused zone_full while the page counts one car over."""
    _two_strangers_parked(lanes)
    out = lanes.decided("car-out", "苏E10001", 30 * M)
    assert out.admitted and len(lanes.relay.outcomes) == 1  # pulse written, answer to come
    entry = lanes.decided("car-in", "苏E10004", 30 * M + S / 5)
    lanes.relay_answers(taken=False)
    car = _cars(lanes.gw)
    assert (entry.admitted, entry.reason) == (False, "zone_full"), (entry.reason, car)
    assert (car["shared_occupied"], car["shared_capacity"]) == (2, 2), car


def test_the_households_other_car_read_while_its_first_car_waits_to_leave_is_the_slots_second_car(
    lanes: ExitWaitingForItsRelay,
) -> None:
    """R1's 皖A11111 is on B001, two strangers in the 2 shared spaces. 皖A11111 is let out at car-out
    (the module's answer to come) as R1's 皖A22222 (same slot, 一位多车) is read at car-in. B001 is
    not free yet: 皖A22222 is its second car, a paying car for the full shared spaces, refused
    zone_full. The module answers 'not taken': 皖A11111 is back on B001, free, and the car park
    holds no more cars than it has spaces. Let in free on B001, 皖A22222 kept the slot and
    皖A11111 was put back into the full shared spaces: both cars free, one car over."""
    assert lanes.decided("car-in", "皖A11111", 0 * M).billing == "slot"
    assert lanes.decided("car-in", "苏E10001", 1 * M).admitted
    assert lanes.decided("car-in", "苏E10002", 2 * M).admitted
    out = lanes.decided("car-out", "皖A11111", 60 * M)
    assert out.admitted and len(lanes.relay.outcomes) == 1
    second = lanes.decided("car-in", "皖A22222", 60 * M + S / 5)
    lanes.relay_answers(taken=False)
    car = _cars(lanes.gw)
    assert second.reason == "zone_full", (second.reason, second.flags, second.billing)
    assert (car["on_slots"], car["shared_occupied"], car["shared_capacity"]) == (1, 2, 2), car


def test_once_the_relay_confirms_the_exit_the_space_is_free_for_the_next_car(
    lanes: ExitWaitingForItsRelay,
) -> None:
    """The module answers 'taken': the arm rose and stranger 1 drove out. The space is free again,
    and the next stranger read at car-in is let in, as before."""
    _two_strangers_parked(lanes)
    assert lanes.decided("car-out", "苏E10001", 30 * M).admitted
    lanes.relay_answers(taken=True)
    entry = lanes.decided("car-in", "苏E10004", 30 * M + S)
    assert entry.admitted, entry.reason
    assert _cars(lanes.gw)["shared_occupied"] == 2


def test_the_households_other_car_let_in_as_second_car_is_handed_the_slot_once_the_exit_is_confirmed(
    make_gw: Callable[..., Gateway],
) -> None:
    """6 car spaces, 4 shared and room in them. R1's 皖A11111 leaves B001 (the module's answer to
    come) as 皖A22222 comes in: let in as B001's second car (temporary, shared_slot). The module
    answers 'taken': 皖A11111 drove out, and 皖A22222 moves onto B001 as if it had come in just
    after, as the slot's car: back at the exit two hours later it leaves free, as it would have
    had the barrier answered at once."""
    lanes = ExitWaitingForItsRelay(make_gw, capacity=6)
    lanes.gw.start()
    try:
        assert lanes.decided("car-in", "皖A11111", 0 * M).billing == "slot"
        assert lanes.decided("car-out", "皖A11111", 60 * M).admitted
        second = lanes.decided("car-in", "皖A22222", 60 * M + S / 5)
        assert second.admitted and "shared_slot" in second.flags, (second.reason, second.flags)
        lanes.relay_answers(taken=True)
        car = _cars(lanes.gw)
        leaves = lanes.decided("car-out", "皖A22222", 180 * M)
    finally:
        lanes.gw.stop()
    assert (car["on_slots"], car["shared_occupied"]) == (1, 0), car
    assert leaves.admitted and leaves.fee_fen == 0, (leaves.reason, leaves.fee_fen, leaves.billing)


def test_an_entry_decided_in_the_same_batch_as_an_exit_whose_barrier_stays_down_is_refused(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker was busy: stranger 1's exit at car-out and stranger 4 at car-in are decided in one
    batch, and car-out's relays are pulsed only once the batch is stored. Its relay board is
    unplugged (the barrier stays down): stranger 1 is put back. Stranger 4, decided before that
    barrier was even pulsed, must not have taken its space."""
    gw = make_gw(extra=EXIT_RELAY, capacity=CAPACITY)
    for plate, at in (("苏E10001", 0 * M), ("苏E10002", 1 * M)):
        assert gw.handle(_plate("car-in", plate, at)).admitted
    unplug_exit(gw, monkeypatch)
    jobs = [
        Job(_plate("car-out", "苏E10001", 30 * M), time.perf_counter()),
        Job(_plate("car-in", "苏E10004", 30 * M + S / 5), time.perf_counter()),
    ]
    out, entry = gw.decide_batch(jobs)
    rows = occupancy(gw.conn, gw.site.capacity)
    (car,) = [row for row in rows if row["class"] == "car"]
    shown = gw.devices.lanes["car-out"].displays[0].shown[-1][0]  # type: ignore[attr-defined]
    assert out.admitted and shown == "道闸故障 请联系保安"
    assert (entry.admitted, entry.reason) == (False, "zone_full"), (entry.reason, car)
    assert (car["shared_occupied"], car["shared_capacity"]) == (2, 2), car


def test_a_stranger_decided_in_one_batch_with_an_exit_at_a_lane_without_a_relay_is_let_in(
    make_gw: Callable[..., Gateway],
) -> None:
    """car-out has no relay (该通道没有接道闸/门锁: a supported lane; the bench site's lanes have
    none). Stranger 1's exit there and stranger 4 at car-in are decided in one batch, the 2 shared
    spaces full before. Nothing is pulsed at car-out, so nothing can put stranger 1 back: it left at
    the decision, and its space is stranger 4's. Counted as leaving, stranger 4 was refused
    zone_full for a free space."""
    gw = make_gw(capacity=CAPACITY)
    assert not gw.devices.lanes["car-out"].relays
    for plate, at in (("苏E10001", 0 * M), ("苏E10002", 1 * M)):
        assert gw.handle(_plate("car-in", plate, at)).admitted
    out, entry = gw.decide_batch(
        [
            Job(_plate("car-out", "苏E10001", 30 * M), time.perf_counter()),
            Job(_plate("car-in", "苏E10004", 30 * M + S / 5), time.perf_counter()),
        ]
    )
    (car,) = [row for row in occupancy(gw.conn, gw.site.capacity) if row["class"] == "car"]
    assert out.admitted
    assert entry.admitted, (entry.reason, car)
    assert (car["shared_occupied"], car["shared_capacity"]) == (2, 2), car


def test_the_households_car_batched_with_its_slot_mates_exit_at_a_relayless_lane_has_the_slot(
    make_gw: Callable[..., Gateway],
) -> None:
    """R1's 皖A11111 leaves B001 at car-out, which has no relay, in the same batch as R1's 皖A22222
    comes in at car-in. B001 is free once the batch is stored (nothing is pulsed, nothing can put
    皖A11111 back): 皖A22222 parks on it as the slot's car and leaves free two hours later. Counted
    as leaving, it was the slot's second car, paying 7元, and never handed the slot (only a relay's
    answer hands it on)."""
    gw = make_gw(capacity=6)
    assert not gw.devices.lanes["car-out"].relays
    assert gw.handle(_plate("car-in", "皖A11111", 0 * M)).billing == "slot"
    out, second = gw.decide_batch(
        [
            Job(_plate("car-out", "皖A11111", 60 * M), time.perf_counter()),
            Job(_plate("car-in", "皖A22222", 60 * M + S / 5), time.perf_counter()),
        ]
    )
    later = gw.handle(_plate("car-out", "皖A22222", 180 * M))
    assert out.admitted
    assert (second.billing, later.fee_fen) == ("slot", 0), (second.flags, later.reason, later.fee_fen)


def test_the_occupancy_figures_count_the_car_leaving_as_the_entrance_does(
    lanes: ExitWaitingForItsRelay,
) -> None:
    """While stranger 1's exit waits for car-out's relay module, the entrance refuses stranger 4
    zone_full. The guard's occupancy figures (the page's, /api/occupancy, /api/parking/occupancy)
    show the shared spaces full as well: shown 1 free, the guard would open by hand for a space the
    leaving car may still hold. The module answers 'taken': the space shows free again."""
    gw = lanes.gw
    client = TestClient(create_app(gw))
    _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "booth", "admin", None)).result()
    auth = {"Authorization": f"Bearer {token}"}

    def shown() -> list[int]:
        site = client.get("/api/occupancy", headers=auth).json()["zones"]
        parking = client.get("/api/parking/occupancy").json()
        return [row["shared_free"] for row in [_cars(gw), *site, *parking] if row["class"] == "car"]

    _two_strangers_parked(lanes)
    assert lanes.decided("car-out", "苏E10001", 30 * M).admitted and len(lanes.relay.outcomes) == 1
    entry = lanes.decided("car-in", "苏E10004", 30 * M + S / 5)
    during = shown()
    lanes.relay_answers(taken=True)
    after = shown()
    assert entry.reason == "zone_full"
    assert during == [0, 0, 0], during
    assert after == [1, 1, 1], after


def _shared_used(rows: list[dict[str, object]]) -> int:
    (car,) = [r for r in rows if r["class"] == "car"]
    return int(car["shared_occupied"])  # type: ignore[call-overload]


def test_the_figures_read_as_the_worker_pulses_the_exit_still_count_the_leaving_car(
    lanes: ExitWaitingForItsRelay,
) -> None:
    """The occupancy page's request reads the cars leaving while the worker, the exit stored, pulses
    the exit's relay (its answer to come) and lets go of the batch's exits: read in the wrong order,
    the exit was in neither list, and the guard was shown a shared space free that the entrance
    refused as full."""
    gw = lanes.gw
    _two_strangers_parked(lanes)
    real_waiting, real_act = gw._exits.waiting, gw._act
    read_waiting, worker_done = threading.Event(), threading.Event()
    got: list[list[int]] = []
    reader: list[threading.Thread] = []

    def waiting_read_slowly():  # type: ignore[no-untyped-def]
        out = real_waiting()
        if reader and threading.current_thread() is reader[0]:
            read_waiting.set()
            worker_done.wait(5)  # the worker pulses and lets go of the batch's exits meanwhile
        return out

    def act(ev):  # type: ignore[no-untyped-def]
        if ev.lane == "car-out" and not reader:
            reader.append(threading.Thread(target=lambda: got.append(gw.stays_leaving())))
            reader[0].start()
            read_waiting.wait(5)
        real_act(ev)

    gw._exits.waiting = waiting_read_slowly  # type: ignore[method-assign]
    gw._act = act  # type: ignore[method-assign]
    out = lanes.decided("car-out", "苏E10001", 30 * M)
    worker_done.set()
    reader[0].join(5)
    assert out.admitted and len(lanes.relay.outcomes) == 1  # pulsed, its answer to come: leaving
    now = gw.on_worker(lambda _c: gw.stays_leaving()).result(timeout=10)
    assert len(now) == 1 and got == [now]


class _PutBackBetweenReads:
    """A request's connection to the database: once the cars inside are read, the exit's relay
    answers 'not taken' (the worker puts the car back) before the cars leaving are read."""

    def __init__(self, conn: sqlite3.Connection, then: Callable[[], None]) -> None:
        self._conn, self._then, self._done = conn, then, False

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def execute(self, sql, *args):  # type: ignore[no-untyped-def]
        cur = self._conn.execute(sql, *args)
        if "GROUP BY zone, class" in sql and not self._done:
            rows = cur.fetchall()
            self._done = True
            self._then()
            return iter(rows)
        return cur


def test_the_figures_read_as_the_leaving_car_is_put_back_count_it_once(
    lanes: ExitWaitingForItsRelay,
) -> None:
    """The barrier stays down and the car is put back on its stay between the figures' two reads:
    the first saw its stay closed, the second no longer saw it leaving, and the car, inside all
    along, was counted nowhere (a shared space shown free)."""
    gw = lanes.gw
    _two_strangers_parked(lanes)
    assert lanes.decided("car-out", "苏E10001", 30 * M).admitted
    conn = sqlite3.connect(gw.data_dir / "gateway.db", check_same_thread=False)
    try:
        before = _shared_used(occupancy(conn, gw.site.capacity, None, gw.stays_leaving()))
        leaving = gw.stays_leaving()
        racing = _PutBackBetweenReads(conn, lambda: lanes.relay_answers(taken=False))
        during = _shared_used(occupancy(racing, gw.site.capacity, None, leaving))  # type: ignore[arg-type]
        after = _shared_used(occupancy(conn, gw.site.capacity, None, gw.stays_leaving()))
    finally:
        conn.close()
    assert (before, during, after) == (2, 2, 2)


class _ExitStoredAsTheViewBegins(_PutBackBetweenReads):
    """A request's connection: the worker stores an exit just as the figures' view begins."""

    def execute(self, sql, *args):  # type: ignore[no-untyped-def]
        if sql == "BEGIN" and not self._done:
            self._done = True
            self._then()
        return self._conn.execute(sql, *args)


def test_the_figures_read_as_the_exit_is_stored_count_the_leaving_car(
    lanes: ExitWaitingForItsRelay,
) -> None:
    """The cars leaving were read before the figures' view began: an exit stored in between was
    in neither (its stay closed in the view, not yet leaving when read), and the guard's page
    showed a space free that the entrance refused as full. They are read once the view has begun."""
    gw = lanes.gw
    _two_strangers_parked(lanes)

    def exit_stored() -> None:
        assert lanes.decided("car-out", "苏E10001", 30 * M).admitted and len(lanes.relay.outcomes) == 1

    conn = sqlite3.connect(f"file:{gw.db_path}?mode=ro", uri=True)
    try:
        racing = _ExitStoredAsTheViewBegins(conn, exit_stored)
        used = _shared_used(occupancy(racing, gw.site.capacity, None, gw.stays_leaving))  # type: ignore[arg-type]
    finally:
        conn.close()
    assert lanes.decided("car-in", "苏E10004", 30 * M + S / 5).reason == "zone_full"
    assert used == 2  # as the entrance counts it
