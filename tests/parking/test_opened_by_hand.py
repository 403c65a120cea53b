"""A car held at the exit to pay that the guard lets out by hand (docs/parking.md: the host confirms
a withdrawn visitor's visit, or the driver paid what the stay really cost on a clock behind its
entry): it has left, so its stay closes then. Left open, the car held a space until it came back,
and, back days later, was billed for the days it was gone."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.again import SAME_CAR
from gateway.runtime.gateway import Gateway
from gateway.runtime.plate_reading import PlateReader
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.lane_helpers import Recognizer
from tests.parking.conftest import T0
from tests.parking.test_report_figures import Clock, serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
STRANGER = "苏E12345"
RELAY = """
[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "simulated"
"""


@contextmanager
def _exit_with_relay(
    gw: Gateway,
) -> Iterator[tuple[Callable[[str, str, datetime], AccessEvent], Callable[[], dict[str, Any]]]]:
    """The lanes, and the guard's "open" on the live page at car-out (a single opening)."""
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):

        def look(lane: str, plate: str, at: datetime) -> AccessEvent:
            clock.at = at
            p = Presented(lane, "plate", plate, 0.97, at, "cam")
            return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)

        def open_by_hand() -> dict[str, Any]:
            r = client.post(
                "/api/lanes/car-out/open", headers=auth, json={"reason": "业主确认访客，已线下处理"}
            )
            assert r.status_code == 200, r.text
            return dict(r.json())

        yield look, open_by_hand


def _rows(gw: Gateway, sql: str) -> list[Any]:
    return gw.on_worker(lambda c: c.execute(sql).fetchall()).result()


def _until(done: Callable[[], bool], never: str) -> None:
    until = time.monotonic() + 15
    while not done():
        assert time.monotonic() < until, never
        time.sleep(0.1)


def test_a_car_let_out_by_hand_is_not_billed_for_the_days_after_it_left(
    make_gw: Callable[..., Gateway],
) -> None:
    """reentry = "charge": held for 7元 at 11:00, let out by hand a minute later, back three days
    later for an hour. It pays 12元 then: the 7元 it owed when let out, and 5元 for its hour."""
    gw = make_gw(reentry="charge", extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "苏E12345", T0)
        held = look("car-out", "苏E12345", T0 + 2 * H)
        assert (held.reason, held.fee_fen) == ("payment_due", 700)
        look("car-out", "苏E12345", T0 + 2 * H + M)  # the camera decides the standing car again
        open_by_hand()
        assert _rows(gw, "SELECT closed_by FROM stays") == [("hand",)]
        assert _rows(gw, "SELECT kind, amount_fen, settled_at IS NULL FROM charges") == [("reentry", 700, 1)]
        back = look("car-in", "苏E12345", T0 + 72 * H)
        assert back.admitted and "already_inside" not in back.flags
        out = look("car-out", "苏E12345", T0 + 73 * H)
        sent = [json.loads(p) for (p,) in _rows(gw, "SELECT payload FROM outbox WHERE topic = 'stay'")]
        audited = _rows(gw, "SELECT count(*) FROM audit WHERE action = 'stay.close'")
    assert out.fee_fen == 700 + 500
    assert [(s["change"], s["plate"], s["fee_fen"], s["lane"]) for s in sent] == [
        ("closed_by_hand", "苏E12345", 700, "car-out")
    ]
    assert audited == [(1,)]


def test_under_reentry_void_a_car_let_out_by_hand_leaves_its_space_free(
    make_gw: Callable[..., Gateway],
) -> None:
    """The default reentry = "void": the fee the guard let go is not asked again, and the car no
    longer holds a shared space; back later, it pays for its new stay only."""
    gw = make_gw(extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "苏E12345", T0)
        look("car-out", "苏E12345", T0 + 2 * H)
        open_by_hand()
        assert _rows(gw, "SELECT count(*) FROM stays WHERE exited_at IS NULL") == [(0,)]
        assert _rows(gw, "SELECT count(*) FROM charges") == [(0,)]
        look("car-in", "苏E12345", T0 + 72 * H)
        out = look("car-out", "苏E12345", T0 + 73 * H)
    assert out.fee_fen == 500


def test_of_two_cars_held_only_the_one_the_lane_shows_is_let_out_by_hand(
    make_gw: Callable[..., Gateway],
) -> None:
    """Two strangers' cars held at car-out (no camera there tells which is at the barrier): the
    guard's quote names the newest hold, and opening by hand lets that car out only."""
    gw = make_gw(extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "苏E12345", T0)
        look("car-in", "苏E54321", T0 + M)
        look("car-out", "苏E12345", T0 + 2 * H)
        look("car-out", "苏E54321", T0 + 2 * H + M)
        open_by_hand()
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
    assert inside == [("苏E12345",)]


def test_opening_an_entrance_by_hand_closes_no_stay(make_gw: Callable[..., Gateway]) -> None:
    """Only an exit lets a car out: a car inside is not taken for gone when the entrance opens."""
    gw = make_gw(extra=RELAY.replace("car-out", "car-in"))
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        gw.on_worker(lambda _: gw.handle(Presented("car-in", "plate", "苏E12345", 0.97, T0, "cam"))).result()
        r = client.post("/api/lanes/car-in/open", headers=auth, json={"reason": "救护车"})
        assert r.status_code == 200, r.text
        assert _rows(gw, "SELECT count(*) FROM stays WHERE exited_at IS NULL") == [(1,)]


def test_a_car_let_out_by_hand_while_the_database_is_locked_leaves_when_it_is_written(
    make_gw: Callable[..., Gateway],
) -> None:
    """Another process holds the database (a `gateway import` stopped with Ctrl-Z): the opening goes
    ahead and its record waits. Written once the lock is let go, it closes the car's stay at the
    time of the opening, not at the time it was written."""
    gw = make_gw(extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "苏E12345", T0)
        look("car-out", "苏E12345", T0 + 2 * H)
        other = sqlite3.connect(gw.db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert open_by_hand()["record_waits"] is True  # the barrier went up without its record
            gw.now.at = T0 + 2 * H + 10 * M  # type: ignore[attr-defined]  # let go 10 minutes later
        finally:
            other.execute("ROLLBACK")
            other.close()
        inside = "SELECT count(*) FROM stays WHERE exited_at IS NULL"
        _until(lambda: _rows(gw, inside) == [(0,)], "the stay of the car let out was never closed")
        closed = _rows(gw, "SELECT exited_at, closed_by FROM stays")
    assert closed == [((T0 + 2 * H).astimezone(UTC).isoformat(timespec="microseconds"), "hand")]


def _camera_at_the_exit(gw: Gateway) -> None:
    """car-out's own plate camera (the real PlateReader; only the recognizer is fake): the plates
    presented there are its reads, as when it decides a car standing in its view again."""
    gw.devices.lanes["car-out"].plate_readers.append(PlateReader(None, Recognizer()))


def _exits(gw: Gateway) -> list[Any]:
    return _rows(gw, "SELECT value, reason, flags FROM access_log WHERE lane = 'car-out' ORDER BY id")


@pytest.mark.parametrize("exit_without_entry", ["guard", "charge"])
def test_the_camera_reading_the_car_let_out_by_hand_as_it_pulls_away_lets_it_go(
    make_gw: Callable[..., Gateway], exit_without_entry: str
) -> None:
    """The guard lets out the stranger's car held at car-out for 7元; 3 s later, still under the
    barrier, the lane's camera reads it again (its repeat timer). It is the car just let out: the
    barrier stays up, the display asks nothing, and no hold or refusal goes on record. Not a car
    with no entry record, held for a day's 30元 ("charge") or refused ("guard")."""
    gw = make_gw(extra=RELAY, exit_without_entry=exit_without_entry)
    _camera_at_the_exit(gw)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", STRANGER, T0)
        look("car-out", STRANGER, T0 + 2 * H)
        open_by_hand()
        again = look("car-out", STRANGER, T0 + 2 * H + 3 * S)
        exits = _exits(gw)
        stays = _rows(gw, "SELECT closed_by FROM stays")
    assert (again.admitted, again.fee_fen, again.flags) == (True, 0, ("again",))
    assert [(reason, flags) for _, reason, flags in exits] == [("payment_due", ""), ("temporary", "again")]
    assert stays == [("hand",)]


def test_the_card_of_a_car_let_out_by_hand_tapped_as_it_leaves_lets_it_go(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """R1's second car (paying as temporary on the shared slot) is held at car-out and let out by
    hand; the driver, used to the old system, taps the car's card 5 s later as it rolls under the
    barrier. One car, one passage: it is let go, not flagged as a car that never came in."""
    gw = make_gw(extra=RELAY, exit_without_entry="charge")
    _camera_at_the_exit(gw)
    cards = write_csv(tmp_path / "cards.csv", "card,resident_ref,plate\n0099887766,R1,皖A22222\n")
    import_csv(gw.site.config, [cards])
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "皖A11111", T0)
        look("car-in", "皖A22222", T0 + M)
        assert look("car-out", "皖A22222", T0 + 2 * H).reason == "payment_due"
        open_by_hand()
        tap = Presented("car-out", "card", "0099887766", 1.0, T0 + 2 * H + 5 * S, "car-out-reader")
        card = gw.on_worker(lambda _: gw.handle(tap)).result(timeout=10)
    assert (card.admitted, card.fee_fen, card.flags) == (True, 0, ("again",))


def test_the_car_behind_read_after_the_opening_still_pays(make_gw: Callable[..., Gateway]) -> None:
    """The guard lets out the car held at car-out; the stranger's car queued behind it, in a minute
    after it, reaches the barrier and is read 3 s later: it is held for its own 7元."""
    gw = make_gw(extra=RELAY)
    _camera_at_the_exit(gw)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", STRANGER, T0)
        look("car-in", "苏E54321", T0 + M)
        look("car-out", STRANGER, T0 + 2 * H)
        open_by_hand()
        behind = look("car-out", "苏E54321", T0 + 2 * H + 3 * S)
    assert (behind.reason, behind.fee_fen, behind.flags) == ("payment_due", 700, ())


def test_the_car_let_out_by_hand_back_at_the_exit_after_a_minute_is_a_new_exit(
    make_gw: Callable[..., Gateway],
) -> None:
    """Let out by hand, the car is back at car-out over a minute later (it turned round in the
    road): its stay closed, it is an exit with no entry record, refused for the guard to see."""
    gw = make_gw(extra=RELAY)
    _camera_at_the_exit(gw)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", STRANGER, T0)
        look("car-out", STRANGER, T0 + 2 * H)
        open_by_hand()
        back = look("car-out", STRANGER, T0 + 2 * H + SAME_CAR + S)
    assert (back.admitted, back.reason, back.flags) == (False, "unknown", ("no_entry_record",))


def test_a_car_let_out_by_hand_while_the_database_stays_locked_is_not_held_again(
    make_gw: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the database past the gateway's wait (a `gateway import` stopped with
    Ctrl-Z): the barrier opens all the same and the opening's record waits in memory, tried again
    in vain. The lock let go, the camera reads the car again 3 s after the opening, as it pulls
    away, before the record is tried once more: it is the car let out, not held again for its 7元.
    Its stay closes by hand once the record is written."""
    caplog.set_level(logging.DEBUG, logger="gateway.runtime.hand_opens")
    gw = make_gw(extra=RELAY)
    _camera_at_the_exit(gw)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", STRANGER, T0)
        look("car-out", STRANGER, T0 + 2 * H)
        gw.on_worker(lambda c: c.execute("PRAGMA busy_timeout=100")).result()  # a real box's 10 s, shortened
        other = sqlite3.connect(gw.db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert open_by_hand()["record_waits"] is True
            _until(lambda: "still waiting for storage" in caplog.text, "the record was never tried again")
        finally:
            other.execute("ROLLBACK")
            other.close()
        again = look("car-out", STRANGER, T0 + 2 * H + 3 * S)
        closed = "SELECT closed_by FROM stays"
        _until(
            lambda: _rows(gw, closed) == [("hand",)], "the stay of the car let out was never closed by hand"
        )
    assert (again.admitted, again.fee_fen, again.flags) == (True, 0, ("again",))
