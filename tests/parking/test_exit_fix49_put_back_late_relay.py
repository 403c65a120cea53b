"""A Modbus relay at the exit (it answers a moment after the decision, on its bus's thread): the car
let out (its exit, E1) is decided again by the camera a second later (its repeat, flag again) before
the module answers, and each decision pulses the relay. Whether the car left is its passage's, all
of its pulses: put back on its stay (道闸故障) only when none of them was taken."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY, PLATE, RelayWrittenLater
from tests.parking.test_report_figures import Clock, serving

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
OUT_AT = T0 + 20 * M


class Exit:
    """The site served, its exit's relay a Modbus module whose answers the test gives (answer)."""

    def __init__(self, gw: Gateway, clock: Clock, client: TestClient, auth: dict[str, str]) -> None:
        self.gw, self.clock, self.client, self.auth = gw, clock, client, auth
        self.lane = gw.devices.lanes["car-out"]
        self.working = self.lane.relays[0]
        self.relay = RelayWrittenLater(self.working)  # type: ignore[arg-type]
        self.lane.relays[0] = self.relay

    def look(self, lane: str, at: datetime, again: bool = False) -> AccessEvent:
        self.clock.at = at
        p = Presented(lane, "plate", PLATE, 0.97, at, "cam", again=again)
        return self.gw.on_worker(lambda _conn: self.gw.handle(p)).result(timeout=10)

    def answer(self, pulse: int, took: bool) -> None:
        """The module's answer to the `pulse`th pulse (from 0), on its bus's thread."""
        bus = threading.Thread(target=self.relay.outcomes[pulse].set_result, args=(took,))
        bus.start()
        bus.join()

    def open_stays(self) -> int:
        sql = "SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NULL"
        return int(self.gw.on_worker(lambda c: c.execute(sql, (PLATE,)).fetchone()[0]).result(timeout=10))

    def sent(self, topic: str) -> list[str]:
        sql = "SELECT payload FROM outbox WHERE topic = ? ORDER BY seq"
        rows = self.gw.on_worker(lambda c: c.execute(sql, (topic,)).fetchall()).result(timeout=10)
        return [str(row[0]) for row in rows]

    def report(self) -> dict[str, Any]:
        """The daily report of T0's day, built on the worker (it owns the connection while served)."""
        built = self.gw.on_worker(lambda _conn: report_of_t0_day(self.gw, T0 + 24 * H))
        return dict(built.result(timeout=10))

    def open_by_hand(self, at: datetime) -> None:
        """The guard's 开闸 on the live page at `at`."""
        self.clock.at = at
        reason = {"reason": "道闸故障，已修复"}
        r = self.client.post("/api/lanes/car-out/open", headers=self.auth, json=reason)
        assert r.status_code == 200, r.text

    def shown(self) -> str:
        return str(self.lane.displays[0].shown[-1][0])  # type: ignore[attr-defined]

    def out_and_repeat(self) -> None:
        """In at T0; let out at OUT_AT (E1), decided again a second later (flag again), both pulses
        waiting on the module."""
        assert self.look("car-in", T0).admitted
        assert self.look("car-out", OUT_AT).admitted
        repeat = self.look("car-out", OUT_AT + S, again=True)
        assert repeat.flags == ("again",) and len(self.relay.outcomes) == 2



@pytest.fixture
def exit_lane(make_gw: Callable[..., Gateway]) -> Iterator[Exit]:
    gw = make_gw(extra=EXIT_RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        yield Exit(gw, clock, client, auth)


def test_car_that_left_on_the_repeats_pulse_is_not_put_back_inside(exit_lane: Exit) -> None:
    """The exit's own pulse was not taken, but the camera's repeat's a second later was: the
    barrier rose and the car drove out. It is out, not put back on its stay (inside for good)."""
    exit_lane.out_and_repeat()
    exit_lane.answer(0, False)
    exit_lane.answer(1, True)
    still = exit_lane.open_stays()
    shown = exit_lane.shown()
    assert still == 0, f"the barrier rose on the repeat's pulse ({shown}), yet {still} open stay(s)"
    assert not [p for p in exit_lane.sent("stay") if '"reopened"' in p]


def test_the_repeats_pulse_taken_first_and_the_exits_not_lets_the_car_out(exit_lane: Exit) -> None:
    """The module answers the repeat's pulse first (taken), then the exit's (not): the car is out."""
    exit_lane.out_and_repeat()
    exit_lane.answer(1, True)
    exit_lane.answer(0, False)
    assert exit_lane.open_stays() == 0


def test_neither_pulse_of_the_passage_taken_puts_the_car_back_once(exit_lane: Exit) -> None:
    """Neither pulse taken (the exit's answered first, while the repeat's still waits): the car has
    not left, its stay put back once, when the last of its passage's pulses is known."""
    exit_lane.out_and_repeat()
    exit_lane.answer(0, False)
    assert exit_lane.open_stays() == 0  # the repeat's pulse may yet raise the arm
    exit_lane.answer(1, False)
    assert exit_lane.open_stays() == 1
    assert len([p for p in exit_lane.sent("stay") if '"reopened"' in p]) == 1
    fresh = exit_lane.look("car-out", OUT_AT + 15 * S, again=True)  # the camera's next look
    assert fresh.admitted and "again" not in fresh.flags
    assert exit_lane.open_stays() == 0


def test_guards_opening_lets_out_the_car_put_back_after_a_repeat(exit_lane: Exit) -> None:
    """Both pulses not taken, the car put back (道闸故障); the module replugged, the guard's 开闸 ten
    seconds after the exit lets it out, its stay closed by hand (the repeat, flag again, the car's
    last decision there, is of the passage put back)."""
    exit_lane.out_and_repeat()
    exit_lane.answer(0, False)
    exit_lane.answer(1, False)
    assert exit_lane.open_stays() == 1  # put back (道闸故障)
    exit_lane.lane.relays[0] = exit_lane.working  # the module replugged
    exit_lane.working.health.set_online()
    exit_lane.open_by_hand(OUT_AT + 10 * S)
    still = exit_lane.open_stays()
    assert still == 0, f"the guard's 开闸 let the car put back out, yet its stay is still open ({still})"
    report = exit_lane.report()
    assert report["vehicles"]["exits"]["total"] == 1  # let out by hand: by its stay, once
    assert report["parking"]["admin_corrections"] == 1


def test_guards_opening_lets_out_no_car_whose_repeat_raised_the_arm(exit_lane: Exit) -> None:
    """The repeat's pulse taken, the car drove out: an opening by hand a moment later is for no
    car of it (it is out, not put back)."""
    exit_lane.out_and_repeat()
    exit_lane.answer(0, False)
    exit_lane.answer(1, True)
    exit_lane.lane.relays[0] = exit_lane.working
    exit_lane.open_by_hand(OUT_AT + 10 * S)
    sql = "SELECT closed_by FROM stays WHERE plate = ?"
    closed = exit_lane.gw.on_worker(lambda c: c.execute(sql, (PLATE,)).fetchall()).result(timeout=10)
    assert closed == [("exit",)], closed
    assert exit_lane.report()["vehicles"]["exits"]["total"] == 1
