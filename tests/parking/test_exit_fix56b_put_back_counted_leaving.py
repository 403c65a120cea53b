"""A car let out at car-out whose relay module answers 'not taken' never left: the decision worker
puts its stay back (Gateway._put_back). Till that put-back has committed the car is still leaving
(Gateway.stays_leaving), counted inside by the entrance and the occupancy figures. Taken off the
leaving before the put-back's transaction, a page read whose view began before its commit counted
the car nowhere and showed a shared space free that the car held, for as long as the put-back
waited for the write lock; with the put-back not stored (gateway.db locked past the busy timeout,
disk full) for good: the next stranger was let into the full shared spaces (Review 56b). Not put
back, the car recorded inside by hand (as the gateway's log says) was counted twice, and the
camera reading it again at the shut arm counted it nowhere (Review 56j)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator

import pytest

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.database import transaction
from gateway.store.occupancy import occupancy, open_stays
from tests.parking.conftest import T0, pay
from tests.parking.test_entry_while_an_exit_waits_for_its_relay import (
    ExitWaitingForItsRelay,
    M,
    S,
    _shared_used,
    _two_strangers_parked,
)


@pytest.fixture
def lanes(make_gw: Callable[..., Gateway]) -> Iterator[ExitWaitingForItsRelay]:
    served = ExitWaitingForItsRelay(make_gw)
    served.gw.start()
    yield served
    served.gw.stop()


def _shared_used_now(gw: Gateway) -> int:
    return _shared_used(
        gw.on_worker(lambda c: occupancy(c, gw.site.capacity, None, gw.stays_leaving)).result(10)
    )


def _put_back_refused(lanes: ExitWaitingForItsRelay) -> None:
    """Stranger 1 let out at car-out, its module answering 'not taken' while gateway.db is held by
    another process past the busy timeout: the put-back is not stored (said in the journal)."""
    gw = lanes.gw
    _two_strangers_parked(lanes)
    assert lanes.decided("car-out", "苏E10001", 30 * M).admitted and len(lanes.relay.outcomes) == 1

    def locked(conn, ev, repeats=()):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database is locked")

    real = gw.parking.not_let_out
    gw.parking.not_let_out = locked  # type: ignore[method-assign]
    lanes.relay_answers(taken=False)
    gw.parking.not_let_out = real  # type: ignore[method-assign]


def test_figures_read_while_the_car_is_being_put_back_count_it(lanes: ExitWaitingForItsRelay) -> None:
    """A guard's page request reads the figures on its own connection as the worker puts the stay
    back, its view begun before the put-back commits: the car is still leaving then, counted in
    the shared space it never left; after the commit it is counted once, by its open stay."""
    gw = lanes.gw
    _two_strangers_parked(lanes)
    assert lanes.decided("car-out", "苏E10001", 30 * M).admitted and len(lanes.relay.outcomes) == 1
    seen: list[int] = []
    real = gw.parking.not_let_out

    def not_let_out(conn, ev, repeats=()):  # type: ignore[no-untyped-def]
        reader = sqlite3.connect(f"file:{gw.db_path}?mode=ro", uri=True)
        try:
            seen.append(_shared_used(occupancy(reader, gw.site.capacity, None, gw.stays_leaving)))
        finally:
            reader.close()
        return real(conn, ev, repeats)

    gw.parking.not_let_out = not_let_out  # type: ignore[method-assign]
    lanes.relay_answers(taken=False)
    assert seen == [2], seen  # the car never left: both shared spaces used all along
    assert _shared_used_now(gw) == 2  # put back: inside, not leaving as well
    assert gw.stays_leaving() == []


def test_a_put_back_the_database_refuses_keeps_the_car_counted_inside(lanes: ExitWaitingForItsRelay) -> None:
    """The put-back not stored, the gateway knows the car is still inside: it stays leaving, the
    next stranger refused zone_full and the page showing no shared space free (before: 3 cars let
    into 2 shared spaces)."""
    gw = lanes.gw
    _put_back_refused(lanes)
    assert len(gw.stays_leaving()) == 1
    assert _shared_used_now(gw) == 2
    entry = lanes.decided("car-in", "苏E10004", 31 * M)
    assert (entry.admitted, entry.reason) == (False, "zone_full"), entry.reason


def test_the_cars_next_passage_at_the_exit_ends_its_refused_put_back(lanes: ExitWaitingForItsRelay) -> None:
    """Its relay mended, the car not put back is read at car-out again and let out, the arm rising:
    it is gone, no longer counted leaving, and its space is free for the next stranger."""
    gw = lanes.gw
    _put_back_refused(lanes)
    again = lanes.decided("car-out", "苏E10001", 35 * M)
    assert again.admitted, again.reason
    assert len(lanes.relay.outcomes) == 2
    bus = threading.Thread(target=lanes.relay.outcomes[-1].set_result, args=(True,))
    bus.start()
    bus.join()
    gw.on_worker(lambda _conn: None).result(timeout=10)
    assert gw.stays_leaving() == []
    assert _shared_used_now(gw) == 1
    assert lanes.decided("car-in", "苏E10004", 36 * M).admitted


def _answered(lanes: ExitWaitingForItsRelay, taken: bool) -> None:
    """The module's answer to the last pulse, on its bus's thread; then the worker's work on it done."""
    bus = threading.Thread(target=lanes.relay.outcomes[-1].set_result, args=(taken,))
    bus.start()
    bus.join()
    lanes.gw.on_worker(lambda _conn: None).result(timeout=10)


def _record_by_hand(gw: Gateway, plate: str, minutes: int) -> dict:  # type: ignore[type-arg]
    def work(conn):  # type: ignore[no-untyped-def]
        with transaction(conn):
            return record_inside(
                conn, gw.site, CarInside(plate), "道闸没抬，车还在场内", "admin1", T0 + minutes * M
            )

    return gw.on_worker(work).result(timeout=10)


def test_the_car_recorded_inside_by_hand_after_a_refused_put_back_is_counted_once(
    lanes: ExitWaitingForItsRelay,
) -> None:
    """The put-back not stored, the guard records the car inside, as the log says: it is counted
    by its new stay, no longer as leaving too. Counted twice, 2 cars in the 2 shared spaces read 3,
    and once the other stranger had left, the next was refused zone_full for the free space."""
    gw = lanes.gw
    _put_back_refused(lanes)
    assert _record_by_hand(gw, "苏E10001", 32)["stay_id"]
    assert _shared_used_now(gw) == 2
    assert gw.on_worker(lambda _c: pay(gw, "苏E10002", 500, T0 + 40 * M)).result(timeout=10).admitted
    _answered(lanes, taken=True)  # the other stranger drives out
    assert _shared_used_now(gw) == 1
    entry = lanes.decided("car-in", "苏E10004", 41 * M)
    assert entry.admitted, entry.reason


@pytest.mark.parametrize("taken", [False, True])
def test_the_camera_reading_the_car_again_after_a_refused_put_back_judges_its_passage(
    lanes: ExitWaitingForItsRelay, taken: bool
) -> None:
    """The put-back not stored, the car still at car-out's shut arm is read again (flag again): the
    repeat joins the exit's passage, the car leaving on it all along. Its pulse not taken either,
    the exit's stay is put back (open again, no longer leaving); taken, the car drove out. Begun as
    a passage of its own, the repeat (which closed no stay) replaced the exit's: the car was counted
    nowhere and the next stranger let into the shared space it holds (3 cars in 2)."""
    gw = lanes.gw
    _put_back_refused(lanes)
    again = lanes.decided("car-out", "苏E10001", 30 * M + 5 * S)
    assert again.admitted and "again" in again.flags and len(lanes.relay.outcomes) == 2
    assert (_shared_used_now(gw), len(gw.stays_leaving())) == (2, 1)
    _answered(lanes, taken)
    assert gw.stays_leaving() == []
    inside = gw.on_worker(lambda c: open_stays(c, plate="苏E10001")).result(timeout=10)
    used = _shared_used_now(gw)
    entry = lanes.decided("car-in", "苏E10004", 31 * M)
    if taken:
        assert (len(inside), used, entry.admitted) == (0, 1, True), entry.reason
    else:
        assert (len(inside), used, entry.admitted, entry.reason) == (1, 2, False, "zone_full")
