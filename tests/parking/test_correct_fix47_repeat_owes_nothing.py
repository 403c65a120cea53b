"""A car held at an exit under a misread plate, corrected by the guard (纠正车牌): the camera's
repeat of the car still waiting is the corrected car, quoted and decided as it (docs/guard-app.md),
so a car the quote says owes nothing, or that paid at the kiosk since, is let out."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.api.views import from_event
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving
from tests.rush_helpers import pulses
from tests.ui.test_hand_open_failed_record import _look

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def _open_stays(conn: sqlite3.Connection) -> list[str]:
    return [s for (s,) in conn.execute("SELECT subject FROM stays WHERE exited_at IS NULL")]


def _charged(conn: sqlite3.Connection) -> list[tuple[str, int, str]]:
    return list(conn.execute("SELECT plate, amount_fen, kind FROM charges ORDER BY id"))


def test_the_repeat_of_a_corrected_hold_that_owes_nothing_lets_the_car_out(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """exit_without_entry = "charge". A stranger's 苏E12345, in 20 minutes ago (the free half hour),
    is misread 苏E12346 at car-out and held for the 30元 no-entry charge. The guard corrects it to
    苏E12345: the quote names it, owing 0元. The camera's repeat 15 s later (苏E12346 again) is that
    car: let out free, the barrier raised once, its stay closed."""
    gw = make_gw(extra=RELAY, exit_without_entry="charge")
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "苏E12345", T0)
        misread = _look(gw, clock, "car-out", "苏E12346", T0 + 20 * M)
        assert (misread.reason, misread.admitted) == ("payment_due", False), misread
        clock.at = T0 + 20 * M + 5 * S
        fixed = client.post(f"/api/events/{misread.event_id}/plate", headers=auth, json={"plate": "苏E12345"})
        assert fixed.status_code == 200, fixed.text
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        assert (quote["plate"], quote["due_fen"]) == ("苏E12345", 0), quote
        before = pulses(gw, "car-out")
        repeat = _look(gw, clock, "car-out", "苏E12346", T0 + 20 * M + 15 * S)
        raised = pulses(gw, "car-out") - before
        assert (repeat.admitted, repeat.fee_fen, raised) == (True, 0, 1), repeat
        assert gw.on_worker(_open_stays).result(timeout=10) == [], "the corrected car is still inside"
        assert gw.on_worker(_charged).result(timeout=10) == [("苏E12345", 0, "exit")], "not its own exit"
        held = client.get("/api/parking/lanes/car-out/quote", headers=auth)
        assert held.json()["plate"] is None, f"still shown held: {held.text}"


def test_the_repeat_of_a_corrected_hold_paid_at_the_kiosk_lets_the_car_out(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The same car in 3 hours (owing 7元 as 苏E12345), misread and held for 30元, corrected; the
    driver pays 苏E12345's fee at the kiosk (paid ahead): the camera's repeat lets it out, not held
    for the misread plate's 30元."""
    gw = make_gw(extra=RELAY, exit_without_entry="charge")
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", "苏E12345", T0)
        misread = _look(gw, clock, "car-out", "苏E12346", T0 + 3 * H)
        assert (misread.reason, misread.admitted) == ("payment_due", False), misread
        clock.at = T0 + 3 * H + 5 * S
        fixed = client.post(f"/api/events/{misread.event_id}/plate", headers=auth, json={"plate": "苏E12345"})
        assert fixed.status_code == 200, fixed.text
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        assert quote["plate"] == "苏E12345" and quote["due_fen"] > 0, quote
        clock.at = T0 + 3 * H + 10 * S
        kiosk = {"plate": "苏E12345", "amount_fen": quote["due_fen"], "method": "qr", "receipt": "WX4700001"}
        paid = client.post("/api/parking/prepay", headers=auth, json=kiosk)
        assert paid.status_code == 200, paid.text
        before = pulses(gw, "car-out")
        repeat = _look(gw, clock, "car-out", "苏E12346", T0 + 3 * H + 20 * S)
        raised = pulses(gw, "car-out") - before
        assert (repeat.admitted, repeat.fee_fen, raised) == (True, 0, 1), repeat
        assert gw.on_worker(_open_stays).result(timeout=10) == [], "the corrected car is still inside"
        charged = [("苏E12345", quote["due_fen"], "exit")]
        assert gw.on_worker(_charged).result(timeout=10) == charged, "not its own exit, what it paid"


def test_the_repeat_of_a_resident_held_as_a_stranger_lets_the_resident_out(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The resident's 皖B33333, in at 09:00, is misread 皖B3333B at car-out and held for the 30元
    no-entry charge; the guard corrects it. The camera's repeat is the resident: let out on his own
    stay, the panel naming the corrected plate as it is pushed (识别为 the misread one)."""
    gw = make_gw(extra=RELAY, exit_without_entry="charge")
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        assert _look(gw, clock, "car-in", "皖B33333", T0).admitted is True
        misread = _look(gw, clock, "car-out", "皖B3333B", T0 + 2 * H)
        assert (misread.reason, misread.fee_fen) == ("payment_due", 3000), misread
        clock.at = T0 + 2 * H + 5 * S
        fixed = client.post(f"/api/events/{misread.event_id}/plate", headers=auth, json={"plate": "皖B33333"})
        assert fixed.status_code == 200, fixed.text
        repeat = _look(gw, clock, "car-out", "皖B3333B", T0 + 2 * H + 15 * S)
        assert (repeat.admitted, repeat.reason, repeat.plate) == (True, "resident", "皖B33333"), repeat
        assert gw.on_worker(_open_stays).result(timeout=10) == [], "the resident is still inside"
        pushed = from_event(gw, repeat)
    assert (pushed["value"], pushed["corrected"]["plate"]) == ("皖B3333B", "皖B33333"), pushed
