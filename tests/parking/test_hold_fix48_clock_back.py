"""A car that paid ahead at the booth, came to the exit after its grace ran out and is held there
owing the extra, while NTP sets a clock that ran fast back (docs/parking.md, *At the exit lane*,
*When the clock jumps*): the camera's repeats are one hold, ordered by record, not by time."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.holds import held_at_lane, starts_hold_sql
from gateway.timefmt import to_db
from tests.parking.conftest import T0
from tests.parking.test_report_figures import Clock, look, serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
CAR = "苏E12345"


def _held_owing_two(gw: Gateway, clock: Clock, client, auth) -> dict:
    """In 09:00, 7元 paid ahead at the booth 11:00 (leave by 11:15), at the exit 11:30: held, 2元 more."""
    look(gw, "car-in", "plate", CAR, T0)
    clock.at = T0 + 2 * H
    prepay = {"plate": CAR, "amount_fen": 700, "method": "cash"}
    booth = client.post("/api/parking/prepay", headers=auth, json=prepay)
    assert booth.status_code == 200, booth.text
    clock.at = T0 + 2 * H + 30 * M
    held = look(gw, "car-out", "plate", CAR, clock.at)
    assert (held.admitted, held.reason) == (False, "payment_due"), held
    quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    assert (quote["plate"], quote["due_fen"]) == (CAR, 200), quote
    return quote


def test_the_camera_repeat_after_the_clock_is_set_back_does_not_let_a_car_owing_2_yuan_out_free(
    make_gw: Callable[..., Gateway],
) -> None:
    """The car stands held owing 2元 (its prepay's grace ran out); NTP sets the clock back 40 min and
    the camera decides the standing car again every 15 s. Its second repeat lets it out free (the
    hold 'begins' again at the repeat, inside the old prepayment's grace): the 2元 is lost. The
    repeats are one hold whose fee runs to its first decision, so the car should stay held."""
    gw = make_gw()
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _held_owing_two(gw, clock, client, auth)
        clock.at -= 40 * M  # NTP sets the running clock back 40 minutes
        first = look(gw, "car-out", "plate", CAR, clock.at, again=True)
        clock.at += 15 * S
        second = look(gw, "car-out", "plate", CAR, clock.at, again=True)
    with sqlite3.connect(gw.db_path) as conn:
        paid = conn.execute("SELECT coalesce(sum(amount_fen), 0) FROM payments").fetchone()[0]
    assert (first.admitted, first.reason) == (False, "payment_due"), first
    assert (second.admitted, second.reason) == (False, "payment_due"), (
        f"the car owing 2元 was let out free by the camera's repeat ({second.reason}); paid {paid} fen of 900"
    )


def test_the_guards_2_yuan_after_the_clock_is_set_back_is_not_refused_as_already_paid(
    make_gw: Callable[..., Gateway],
) -> None:
    """The same car held owing 2元, the clock set back 40 min, the camera deciding it again once.
    The exit tablet's 现金已收 for the 2元 the display asks is refused 409 already_paid naming the
    7元 prepayment taken before the car ever reached the exit (it paid nothing of the 2元): the
    guard hands the money back. The 2元 should be taken (200), the car let out paid, 9元 in all."""
    gw = make_gw()
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        quote = _held_owing_two(gw, clock, client, auth)
        clock.at -= 40 * M  # NTP sets the running clock back 40 minutes
        again = look(gw, "car-out", "plate", CAR, clock.at, again=True)
        assert (again.admitted, again.reason) == (False, "payment_due"), again
        clock.at += 10 * S
        lane = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": CAR, "amount_fen": quote["due_fen"], "method": "cash"},
        )
    with sqlite3.connect(gw.db_path) as conn:
        paid = conn.execute("SELECT coalesce(sum(amount_fen), 0) FROM payments").fetchone()[0]
    assert lane.status_code == 200, f"2元 still owed, refused: {lane.text}"
    assert paid == 900, paid


def test_a_car_let_out_by_hand_before_the_clock_is_set_back_and_held_again_is_held_anew(
    make_gw: Callable[..., Gateway],
) -> None:
    """Held at 11:30, let out by the guard's opening by hand at 11:31 (as end_hold_by_hand writes
    it), the clock set back 40 min, and the car held at that exit again at 11:20 on the clock set
    back: a second hold, begun then, though the first hold's row is dated after it (the opening,
    dated on either side of the step, still ends the first)."""
    gw = make_gw()
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _held_owing_two(gw, clock, client, auth)
        first = gw.conn.execute("SELECT event_id FROM access_log WHERE reason = 'payment_due'").fetchone()[0]
        opened = to_db(clock.at + M)
        insert = "INSERT INTO let_outs_by_hand (at, lane, held_event) VALUES (?, 'car-out', ?)"
        gw.conn.execute(insert, (opened, first))
        clock.at -= 10 * M  # 11:20 on the clock NTP set back 40 minutes at 11:40, past the prepay's grace
        again = look(gw, "car-out", "plate", CAR, clock.at)
        assert (again.admitted, again.reason) == (False, "payment_due"), again
        held = held_at_lane(gw.conn, "car-out", clock.at, CAR, {"car-in", "car-out"})
    starts = f"SELECT count(*) FROM access_log a WHERE a.reason = 'payment_due' AND {starts_hold_sql('a')}"
    with sqlite3.connect(gw.db_path) as conn:
        holds = conn.execute(starts).fetchone()[0]
    assert holds == 2, holds
    assert held is not None and held.at == clock.at, held
