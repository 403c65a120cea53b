"""Two strangers' cars held to pay at car-out, one behind the other (a queue; no camera there tells
which is at the barrier). The host confirms both visits and the guard opens the exit by hand for each
in turn (docs/parking.md, *Let out by hand*: only the one the lane shows is let out, the other stays
held). After the first opening the lane shows the other car, and the second opening lets it out. It
kept showing the car that had gone (0元, no stay), so the second opening let nobody out on record:
the second car's stay stayed open, holding a space, and it was billed for the days it was gone when
it came back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.conftest import report_so_far
from tests.parking.conftest import T0
from tests.parking.test_opened_by_hand import RELAY, _exit_with_relay, _rows

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_the_second_of_two_held_cars_is_let_out_by_the_second_opening(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "苏E12345", T0)
        look("car-in", "苏E54321", T0 + M)
        assert look("car-out", "苏E12345", T0 + 2 * H).reason == "payment_due"
        assert look("car-out", "苏E54321", T0 + 2 * H + M).reason == "payment_due"
        open_by_hand()  # the lane showed 苏E54321: it leaves
        assert _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL") == [("苏E12345",)]
        shown = gw.on_worker(lambda c: gw.parking.lane_quote(c, "car-out", gw.now())).result()
        open_by_hand()  # and now the one still held
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        after = gw.on_worker(lambda c: gw.parking.lane_quote(c, "car-out", gw.now())).result()
        report = report_so_far(gw)
    assert (shown or {}).get("plate") == "苏E12345", f"after the first car left the lane still shows {shown}"
    assert (shown or {}).get("due_fen", 0) > 0, shown
    assert inside == [], f"the second opening let nobody out: {inside} still recorded inside"
    assert after is None, f"both cars have gone, but the lane still shows {after}"
    assert report["held_for_payment"] == 2, report


def test_a_car_let_out_by_hand_and_held_again_within_the_half_hour_is_held_anew(
    make_gw: Callable[..., Gateway],
) -> None:
    """Held at 11:00 and let out by hand, the car comes back in unseen (the camera missed it) and is
    at the exit again at 11:20, held for a day's fee as a car with no entry record
    (exit_without_entry = "charge"). That is a new hold, begun at 11:20 (the guard's quote says
    so), and the day's report counts two holds, not one that began before the car left."""
    gw = make_gw(exit_without_entry="charge", extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "苏E12345", T0)
        assert look("car-out", "苏E12345", T0 + 2 * H).fee_fen == 700
        open_by_hand()
        again = look("car-out", "苏E12345", T0 + 2 * H + 20 * M)
        shown = gw.on_worker(lambda c: gw.parking.lane_quote(c, "car-out", gw.now())).result()
        report = report_so_far(gw)
    assert (again.reason, again.flags) == ("payment_due", ("no_entry_record",)), again
    assert (shown or {}).get("at") == (T0 + 2 * H + 20 * M).isoformat(), shown
    assert (shown or {}).get("due_fen") == again.fee_fen, shown
    assert report["held_for_payment"] == 2, report
