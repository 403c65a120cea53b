"""Review Re1 of 65e1: an exit's hours judge a held car at its hold's start only while it stands there.

The exit `night-out` is open 06:00-23:00. A car held there to pay at 22:58 and still at the barrier
at 23:01 (the camera decides it again every 15 s) pays and leaves (test_exit_hours_held_fix65e1.py).
One that backed away and comes back after the hours is a car that comes after them: refused
`outside_hours`, its fee refused too, however often it came back within the half hour a hold is
kept (PENDING_FOR, HOLD_GAP). The refusal's words say the exit is outside its hours, not that the
car came after them: a car whose plate was misread at the barrier since before they ended is
refused so too (a limit, docs/parking.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.runtime.gateway import Gateway
from gateway.web.i18n import TEXTS
from tests.parking.conftest import TZ
from tests.parking.test_exit_hours_held_fix65e1 import HELD, _exit, _money, _paying
from tests.parking.test_report_figures import Clock, look, serving


def test_a_car_that_backed_away_and_comes_back_after_the_hours_is_refused(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=_exit())
    clock = Clock(datetime(2025, 3, 3, 20, 0, tzinfo=TZ))
    with serving(gw, clock) as (client, auth):
        look(gw, "car-in", "plate", "苏E12345", clock.at)
        clock.at = HELD
        held = look(gw, "night-out", "plate", "苏E12345", HELD)
        clock.at = datetime(2025, 3, 3, 23, 25, tzinfo=TZ)
        came = look(gw, "night-out", "plate", "苏E12345", clock.at)  # back at the barrier, not a repeat
        quote = client.get("/api/parking/lanes/night-out/quote", headers=auth).json()
        paid = _paying(client, auth, "苏E12345", quote["due_fen"])
        money = _money(gw)
    assert held.reason == "payment_due"
    assert came.reason == "outside_hours" and not came.admitted, came
    assert paid.status_code == 409 and paid.json()["error"]["state"] == "outside_hours", paid.json()
    assert money == (0, 0)


def test_a_car_coming_back_every_27_minutes_does_not_keep_the_exit_open_all_night(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=_exit())
    clock = Clock(datetime(2025, 3, 3, 20, 0, tzinfo=TZ))
    seen = []
    with serving(gw, clock) as (client, auth):
        look(gw, "car-in", "plate", "苏E12345", clock.at)
        clock.at = HELD
        while clock.at < datetime(2025, 3, 4, 3, 10, tzinfo=TZ):
            seen.append(look(gw, "night-out", "plate", "苏E12345", clock.at).reason)
            clock.at += timedelta(minutes=27)
        clock.at -= timedelta(minutes=27)  # paid at its last visit
        due = client.get("/api/parking/quote", headers=auth, params={"plate": "苏E12345"}).json()["due_fen"]
        paid = _paying(client, auth, "苏E12345", due)
        money = _money(gw)
    assert seen[0] == "payment_due"
    assert set(seen[1:]) == {"outside_hours"}, seen
    assert due > 0
    assert paid.status_code == 409 and paid.json()["error"]["state"] == "outside_hours", paid.json()
    assert money == (0, 0)


def test_a_car_standing_at_the_barrier_as_the_hours_end_pays_to_the_guard_and_leaves(
    make_gw: Callable[..., Gateway],
) -> None:
    """The camera decides the car again every 15 s from 22:58; the guard takes the fee at 23:02."""
    gw = make_gw(extra=_exit())
    clock = Clock(datetime(2025, 3, 3, 20, 0, tzinfo=TZ))
    with serving(gw, clock) as (client, auth):
        look(gw, "car-in", "plate", "苏E12345", clock.at)
        clock.at = HELD
        reasons = []
        while clock.at <= datetime(2025, 3, 3, 23, 2, tzinfo=TZ):
            reasons.append(look(gw, "night-out", "plate", "苏E12345", clock.at, again=clock.at > HELD).reason)
            clock.at += timedelta(seconds=15)
        clock.at = datetime(2025, 3, 3, 23, 2, 5, tzinfo=TZ)
        quote = client.get("/api/parking/lanes/night-out/quote", headers=auth).json()
        paid = _paying(client, auth, "苏E12345", quote["due_fen"])
        money = _money(gw)
    assert set(reasons) == {"payment_due"}, reasons
    assert paid.status_code == 200 and paid.json()["admitted"], paid.json()
    assert money == (1, quote["due_fen"])


def test_a_misread_car_corrected_after_the_hours_is_refused_in_words_that_do_not_blame_it(
    make_gw: Callable[..., Gateway],
) -> None:
    """At the barrier since 22:58, its plate misread (refused 未登记, then outside_hours from 23:00),
    corrected by the guard at 23:01: its fee is refused (a limit, docs/parking.md), and the words
    say the exit is outside its hours, not that the car came after them."""
    real, misread = "苏E1234D", "苏E12340"
    gw = make_gw(extra=_exit())
    clock = Clock(datetime(2025, 3, 3, 20, 0, tzinfo=TZ))
    with serving(gw, clock) as (client, auth):
        look(gw, "car-in", "plate", real, clock.at)
        clock.at = HELD
        last = None
        while clock.at <= datetime(2025, 3, 3, 23, 1, tzinfo=TZ):
            last = look(gw, "night-out", "plate", misread, clock.at, again=clock.at > HELD)
            clock.at += timedelta(seconds=15)
        assert last is not None and last.reason == "outside_hours"
        fix = client.post(f"/api/events/{last.event_id}/plate", headers=auth, json={"plate": real})
        due = client.get("/api/parking/quote", headers=auth, params={"plate": real}).json()["due_fen"]
        paid = _paying(client, auth, real, due)
        money = _money(gw)
    assert fix.status_code == 200, fix.text
    assert paid.status_code == 409, paid.json()
    error = paid.json()["error"]
    assert (error["code"], error["state"], error["hours"]) == ("exit_refused", "outside_hours", "06:00-23:00")
    assert "came after" not in error["message"], error
    assert money == (0, 0)
    zh, en = TEXTS["err.exit_refused.outside_hours"]
    assert "到达" not in zh and "came after" not in en
