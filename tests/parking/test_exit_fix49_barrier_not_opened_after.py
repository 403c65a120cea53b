"""After 道闸故障 at an exit (no relay of the lane took the pulse, the car put back on its stay: docs/
parking.md, *Let out by hand*), what the guard does next: he opens the lane by hand (开闸) once the
relay works again, and the car drives out; and the day's report of that car's exit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day, show
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY
from tests.parking.test_report_figures import Clock, serving

PLATE = "苏E12345"  # a stranger's car, pays by time
OTHER = "苏E54321"  # a car with no entry record (exit_without_entry = "guard": refused 未登记)
S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)


class Exit:
    """The site served, its exit relay board unplugged (its pulse raises, at the hardware edge)
    until plugged back; the lanes' cameras and the guard's 开闸 on the live page, each at a time."""

    def __init__(self, gw: Gateway, monkeypatch: pytest.MonkeyPatch, clock: Clock, client: Any, auth: Any):
        self.gw, self.clock, self.client, self.auth = gw, clock, client, auth
        self._monkeypatch = monkeypatch
        self.relay = gw.devices.lanes["car-out"].relays[0]

        def gone(seconds: float, ref: str = "") -> None:
            raise OSError("[Errno 5] Input/output error")

        monkeypatch.setattr(self.relay, "pulse", gone)

    def plug_back(self) -> None:
        self._monkeypatch.undo()
        self.relay.health.set_online()

    def look(self, lane: str, plate: str, at: datetime, again: bool = False) -> AccessEvent:
        self.clock.at = at
        p = Presented(lane, "plate", plate, 0.97, at, "cam", again=again)
        return self.gw.on_worker(lambda _: self.gw.handle(p)).result(timeout=10)

    def open_by_hand(self, at: datetime) -> dict[str, Any]:
        self.clock.at = at
        reason = {"reason": "道闸故障，已修复"}
        r = self.client.post("/api/lanes/car-out/open", headers=self.auth, json=reason)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def rows(self, sql: str, *args: object) -> list[Any]:
        return self.gw.on_worker(lambda c: c.execute(sql, args).fetchall()).result(timeout=10)

    def open_stays(self, plate: str = PLATE) -> int:
        return int(self.rows("SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NULL", plate)[0][0])


Served = Callable[..., AbstractContextManager[Exit]]  # the site, with its config's overrides


@pytest.fixture
def exit_lane(make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch) -> Served:
    @contextmanager
    def served(**overrides: object) -> Iterator[Exit]:
        gw = make_gw(extra=EXIT_RELAY, **overrides)
        clock = Clock(T0)
        with serving(gw, clock) as (client, auth):
            yield Exit(gw, monkeypatch, clock, client, auth)

    return served


def _put_back(lane: Exit, out_at: datetime) -> AccessEvent:
    """In at T0, let out on record at `out_at` at the exit whose relay board is unplugged (道闸故障):
    the car is put back on its stay."""
    assert lane.look("car-in", PLATE, T0).admitted
    out = lane.look("car-out", PLATE, out_at)
    assert out.admitted
    assert lane.open_stays() == 1, "the car whose barrier did not open is not back on its stay"
    return out


def _report(lane: Exit) -> dict[str, Any]:
    """The daily report of T0's day, built on the worker (it owns the connection while served)."""
    return dict(lane.gw.on_worker(lambda _: report_of_t0_day(lane.gw, T0 + 24 * H)).result(timeout=10))


def test_the_guards_opening_once_the_relay_works_lets_out_the_car_put_back(
    exit_lane: Served,
) -> None:
    """20 minutes inside (free), 道闸故障 at the exit. The board plugged back, the guard presses 开闸
    ten seconds later and the car drives out. The opening found no car (it was neither held nor
    refused there): the stay stayed open for good, and the car, back three days later for an
    hour, was a re-entry billed (reentry = "charge") for the three days it was out. Its stay
    closes by hand, dated at the opening, and it pays its new hour only."""
    with exit_lane(reentry="charge") as lane:
        _put_back(lane, T0 + 20 * M)
        lane.plug_back()
        opened_at = T0 + 20 * M + 10 * S
        lane.open_by_hand(opened_at)
        still_open = lane.open_stays()
        closed = lane.rows("SELECT closed_by, exited_at FROM stays WHERE plate = ?", PLATE)
        sent = [json.loads(p) for (p,) in lane.rows("SELECT payload FROM outbox WHERE topic = 'stay'")]
        assert still_open == 0, (
            f"the guard's 开闸 let the car put back out, yet its stay is still open: {closed}"
        )
        back = lane.look("car-in", PLATE, T0 + 72 * H)
        out = lane.look("car-out", PLATE, T0 + 73 * H)
    assert [(by, datetime.fromisoformat(at)) for by, at in closed] == [("hand", opened_at)], closed
    assert [(s["change"], s["plate"], s["fee_fen"]) for s in sent if s["change"] == "closed_by_hand"] == [
        ("closed_by_hand", PLATE, 0)
    ]
    assert back.admitted and "already_inside" not in back.flags, back.flags
    assert out.fee_fen == 500, f"an hour is 5元, asked {out.fee_fen / 100:.0f}元"


@pytest.mark.parametrize("reentry", ["void", "charge"])
def test_a_car_that_paid_at_the_lane_and_was_put_back_leaves_on_what_it_paid(
    exit_lane: Served, reentry: str
) -> None:
    """Held two hours later (7元), the guard takes the 7元 at the lane: 道闸故障. The board plugged
    back, his 开闸 lets it out, within its grace: the 7元 is what its stay cost, paid, nothing more
    owed (also where a fee let go by hand is carried, reentry = "charge"); back three days later
    for an hour, it pays that hour only."""
    with exit_lane(reentry=reentry) as lane:
        lane.look("car-in", PLATE, T0)
        assert lane.look("car-out", PLATE, T0 + 2 * H).fee_fen == 700
        paid_at = T0 + 2 * H + M
        lane.clock.at = paid_at
        paid = {"plate": PLATE, "amount_fen": 700, "method": "cash"}
        r = lane.client.post("/api/parking/lanes/car-out/pay", headers=lane.auth, json=paid)
        assert r.status_code == 200, r.text
        assert lane.open_stays() == 1
        lane.plug_back()
        lane.open_by_hand(paid_at + 20 * S)
        still_open = lane.open_stays()
        money = _report(lane)["parking"]
        lane.look("car-in", PLATE, T0 + 72 * H)
        out = lane.look("car-out", PLATE, T0 + 73 * H)
    assert still_open == 0, "let out by the guard's 开闸, the car that paid 7元 is still inside on record"
    figures = (money["charges"], money["charged_fen"], money["revenue_fen"], money["unpaid_fen"])
    assert figures == (1, 700, 700, 0)
    assert out.fee_fen == 500, f"an hour is 5元, asked {out.fee_fen / 100:.0f}元"


def test_of_the_car_put_back_and_a_car_refused_after_it_the_opening_lets_out_the_later_first(
    exit_lane: Served,
) -> None:
    """The car put back, then 苏E54321 (no entry record) refused at the same exit five seconds
    later; the lane has no camera to tell which is at the barrier. As of two refused cars, the
    opening lets out the one decided last, and the next opening the car put back."""
    with exit_lane() as lane:
        _put_back(lane, T0 + 20 * M)
        refused = lane.look("car-out", OTHER, T0 + 20 * M + 5 * S)
        assert not refused.admitted and "no_entry_record" in refused.flags
        lane.plug_back()
        lane.open_by_hand(T0 + 20 * M + 10 * S)
        after_first = lane.open_stays()
        lane.open_by_hand(T0 + 20 * M + 15 * S)
        after_second = lane.open_stays()
        let_out = lane.rows(
            "SELECT a.value FROM let_outs_by_hand o JOIN access_log a ON a.event_id = o.held_event "
            "ORDER BY o.id"
        )
    assert after_first == 1, "the first opening let out the car put back, not the one refused after it"
    assert after_second == 0, "the second opening did not let out the car put back"
    assert let_out == [(OTHER,), (PLATE,)]


def test_a_car_put_back_longer_ago_than_a_refusal_counts_is_not_the_one_the_opening_is_for(
    exit_lane: Served,
) -> None:
    """The opening is for the car at the barrier now: one put back a minute before (the camera
    decides a car standing there again every 15 s) backed away, and stays inside on its stay."""
    with exit_lane() as lane:
        _put_back(lane, T0 + 20 * M)
        lane.plug_back()
        lane.open_by_hand(T0 + 21 * M)
        assert lane.open_stays() == 1


def test_a_car_put_back_and_let_out_on_the_cameras_next_look_is_one_exit_in_the_report(
    exit_lane: Served,
) -> None:
    """道闸故障, the board plugged back, the camera's next look at the car still at the barrier
    lets it out. Its failed exit's record is kept (append-only), and the report counted two exits
    for one car. It counts one."""
    with exit_lane() as lane:
        _put_back(lane, T0 + 20 * M)
        lane.plug_back()
        assert lane.look("car-out", PLATE, T0 + 20 * M + 15 * S, again=True).admitted
        assert lane.open_stays() == 0
        report = _report(lane)
    exits = report["vehicles"]["exits"]
    assert exits["total"] == 1, f"one car left once, the report counts {exits['total']} exits: {exits}"
    assert exits["by_kind"]["temporary"] == 1


def test_a_car_put_back_and_let_out_by_hand_is_one_exit_not_that_of_the_access_log(
    exit_lane: Served,
) -> None:
    """Let out by the guard's opening, the car is counted as a car held or refused there and let
    out so is: one exit by its stay closed by hand, and one of the corrections (Review 65 E4: no
    exit before), not also as an exit of its failed attempt."""
    with exit_lane() as lane:
        _put_back(lane, T0 + 20 * M)
        lane.plug_back()
        lane.open_by_hand(T0 + 20 * M + 10 * S)
        report = _report(lane)
    assert report["vehicles"]["exits"]["total"] == 1
    assert report["parking"]["admin_corrections"] == 1


def test_a_car_put_back_is_counted_once_without_a_server(make_gw: Callable[..., Gateway]) -> None:
    """The same decided on the caller's thread (no worker): back at the exit once the board is
    plugged back, still free, the car leaves; one exit in the report."""
    gw = make_gw(extra=EXIT_RELAY)
    relay = gw.devices.lanes["car-out"].relays[0]
    pulse = relay.pulse

    def gone(seconds: float, ref: str = "") -> None:
        raise OSError("[Errno 5] Input/output error")

    relay.pulse = gone  # type: ignore[method-assign]
    show(gw, "car-in", PLATE, T0)
    show(gw, "car-out", PLATE, T0 + 20 * M)
    relay.pulse = pulse  # type: ignore[method-assign]
    relay.health.set_online()
    assert show(gw, "car-out", PLATE, T0 + 25 * M).admitted  # still free: back on the board's return
    assert report_of_t0_day(gw, T0 + 24 * H)["vehicles"]["exits"]["total"] == 1
