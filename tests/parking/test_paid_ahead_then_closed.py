"""A car that paid ahead at the booth and then left without an exit that charged it (let out by the
guard's opening by hand, or its stay closed by an admin): it has left, so the money it paid stands
against a charge, and the daily report no longer counts it as paid ahead by a car not seen leaving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show
from tests.parking.test_opened_by_hand import RELAY, _exit_with_relay, _rows
from tests.parking.test_operations import ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
PLATE = "苏E12345"


def _day_report(gw: Gateway) -> dict[str, Any]:
    body: dict[str, Any] = ops(gw).build_report(T0.date(), T0 + 20 * H)
    return dict(body["parking"])


def test_booth_payment_of_a_car_let_out_by_hand_is_not_left_paid_ahead(
    make_gw: Callable[..., Gateway],
) -> None:
    """Paid 7元 at the booth, overstayed the grace period, held at the exit for the extra and let
    out by the guard's opening by hand (policy.reentry = "void", the default): the day's report
    shows the 7元 as taken and charged, and nothing paid ahead by a car not seen leaving."""
    gw = make_gw(extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", PLATE, T0)
        prepay = gw.parking.prepay
        paid = gw.on_worker(lambda c: prepay(c, PLATE, 700, "cash", "", "guard1", T0 + 2 * H)).result()
        assert paid["amount_fen"] == 700
        held = look("car-out", PLATE, T0 + 2 * H + 40 * M)  # past the 15-minute grace
        assert held.reason == "payment_due", held
        open_by_hand()
        assert _rows(gw, "SELECT closed_by FROM stays") == [("hand",)]
        assert _rows(gw, "SELECT kind, amount_fen, settled_at IS NOT NULL FROM charges") == [("exit", 700, 1)]
        report = gw.on_worker(lambda _: _day_report(gw)).result()
    assert (report["revenue_fen"], report["charged_fen"], report["unpaid_fen"]) == (700, 700, 0)
    assert report["paid_ahead_not_left_fen"] == 0, report


def test_booth_payment_of_a_stay_an_admin_closes_is_not_left_paid_ahead(gw: Gateway) -> None:
    """Paid 7元 at the booth, then left unseen (camera down) and the admin closed its stay: the
    day's report shows the 7元 as taken and charged, and nothing paid ahead by a car not seen
    leaving (it stayed there for good, as no exit would ever come to apply it)."""
    show(gw, "car-in", PLATE, T0)
    gw.parking.prepay(gw.conn, PLATE, 700, "cash", "", "booth", T0 + 2 * H)
    stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    gw.parking.close_stay(gw.conn, stay, "camera down, car seen leaving", "admin1", T0 + 3 * H)
    charged = gw.conn.execute("SELECT kind, amount_fen, settled_at IS NOT NULL FROM charges").fetchall()
    assert charged == [("exit", 700, 1)]
    report = _day_report(gw)
    assert (report["revenue_fen"], report["charged_fen"], report["unpaid_fen"]) == (700, 700, 0)
    assert report["paid_ahead_not_left_fen"] == 0, report


def test_a_stay_an_admin_closes_with_nothing_paid_is_charged_nothing(gw: Gateway) -> None:
    """Nothing paid ahead: the admin's close charges nothing, as before."""
    show(gw, "car-in", PLATE, T0)
    stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    gw.parking.close_stay(gw.conn, stay, "camera down, car seen leaving", "admin1", T0 + 3 * H)
    assert gw.conn.execute("SELECT count(*) FROM charges").fetchone()[0] == 0
