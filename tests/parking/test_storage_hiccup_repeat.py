"""A car let through at the entrance, still in the camera's view while one repeat decision of it
fails to be stored (the database locked by another process a moment: storage_failed), is still the
same passage once storage is back: docs/parking.md *One car, one passage* promises no stay moves,
nothing is counted twice, and anti-passback does not refuse it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.runtime.plate_reading import PlateReader
from tests.lane_helpers import Recognizer
from tests.parking.conftest import T0, report_of_t0_day

S = timedelta(seconds=1)
STRANGER = "苏E12345"


def _look(gw: Gateway, at_s: float, again: bool) -> object:
    return gw.handle(Presented("car-in", "plate", STRANGER, 0.97, T0 + at_s * S, "cam", again=again))


def _locked(gw: Gateway, run: Callable[[], object]) -> object:
    gw.conn.execute("PRAGMA busy_timeout=50")
    other = sqlite3.connect(gw.db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        return run()
    finally:
        other.execute("ROLLBACK")
        other.close()
        gw.conn.execute("PRAGMA busy_timeout=10000")


def test_a_standing_car_decided_again_after_a_storage_hiccup_is_still_one_entry(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    first = _look(gw, 0, again=False)
    assert first.admitted and first.reason == "temporary"
    failed = _locked(gw, lambda: _look(gw, 15, again=True))  # the camera's repeat, not stored
    assert failed.reason == "storage_failed"
    later = _look(gw, 30, again=True)  # still standing under the barrier: the same passage
    stays = gw.conn.execute("SELECT closed_by FROM stays ORDER BY id").fetchall()
    report = report_of_t0_day(gw, T0 + timedelta(days=2))
    assert (later.admitted, later.flags) == (True, ("again",)), (later.reason, later.flags)
    assert stays == [(None,)], stays
    assert report["vehicles"]["entries"]["total"] == 1, report["vehicles"]["entries"]


def test_a_car_read_again_afresh_within_a_minute_after_a_storage_hiccup_is_still_one_entry(
    make_gw: Callable[..., Gateway],
) -> None:
    """Glimpsed again by the lane's camera (not standing) 25 s after it was let in, a repeat read
    between having failed to be stored: within SAME_CAR, it is the same car, let through again."""
    gw = make_gw()
    gw.devices.lanes["car-in"].plate_readers.append(PlateReader(None, Recognizer()))
    assert _look(gw, 0, again=False).admitted
    assert _locked(gw, lambda: _look(gw, 5, again=False)).reason == "storage_failed"
    later = _look(gw, 25, again=False)
    stays = gw.conn.execute("SELECT closed_by FROM stays ORDER BY id").fetchall()
    assert (later.admitted, later.flags) == (True, ("again",)), (later.reason, later.flags)
    assert stays == [(None,)], stays


def test_control_without_the_hiccup_the_repeat_is_again(make_gw: Callable[..., Gateway]) -> None:
    """The same reads with storage working throughout (passes today): the hiccup alone breaks it."""
    gw = make_gw()
    gw.devices.lanes["car-in"].plate_readers.append(PlateReader(None, Recognizer()))
    assert _look(gw, 0, again=False).admitted
    assert _look(gw, 25, again=False).flags == ("again",)
    assert _look(gw, 40, again=True).flags == ("again",)


def test_a_car_that_paid_at_the_exit_is_not_held_for_a_days_fee_after_a_storage_hiccup(
    make_gw: Callable[..., Gateway],
) -> None:
    """exit_without_entry = "charge". The stranger pays its 7元 at car-out and the barrier opens; the
    camera decides the car again as it still stands under the barrier, a moment when the database
    is locked (not stored); 15 s later, storage back, it decides it again. It is the car that just
    paid (again, no fee), not a car with no entry record held for a day's 30元."""
    from tests.parking.conftest import pay

    gw = make_gw(exit_without_entry="charge")
    gw.handle(Presented("car-in", "plate", STRANGER, 0.97, T0, "cam"))
    out = T0 + timedelta(hours=2)
    held = gw.handle(Presented("car-out", "plate", STRANGER, 0.97, out, "cam"))
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    assert pay(gw, STRANGER, 700, out + S).admitted
    standing = Presented("car-out", "plate", STRANGER, 0.97, out + 5 * S, "cam", again=True)
    assert _locked(gw, lambda: gw.handle(standing)).reason == "storage_failed"
    later = gw.handle(Presented("car-out", "plate", STRANGER, 0.97, out + 20 * S, "cam", again=True))
    assert (later.admitted, later.fee_fen, later.flags) == (True, 0, ("again",)), (
        later.reason,
        later.fee_fen,
        later.flags,
    )
