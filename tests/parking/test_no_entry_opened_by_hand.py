"""A car with no entry record (the camera missed it coming in) held at the exit for a day's fee
(exit_without_entry = "charge"), which the guard lets out by opening the barrier by hand
(docs/parking.md, *Let out by hand*). It has no stay to close, yet it has gone: the lane no longer
shows it, and the next opening lets out the car held behind it. It stayed shown for half an hour,
the guard's quote naming a car that had left, and the next opening let nobody out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.conftest import report_so_far
from tests.parking.conftest import T0
from tests.parking.test_opened_by_hand import RELAY, _exit_with_relay, _rows

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _shown(gw: Gateway) -> dict[str, object] | None:
    return gw.on_worker(lambda c: gw.parking.lane_quote(c, "car-out", gw.now())).result()


def test_a_car_with_no_entry_let_out_by_hand_is_no_longer_shown_at_the_lane(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(exit_without_entry="charge", extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        held = look("car-out", "苏E12345", T0 + 2 * H)
        assert (held.reason, held.flags) == ("payment_due", ("no_entry_record",)), held
        open_by_hand()
        shown = _shown(gw)
        report = report_so_far(gw)
    assert shown is None, f"the car let out by hand is still shown at the lane: {shown}"
    assert report["held_for_payment"] == 1, report


def test_the_car_held_behind_a_car_with_no_entry_is_let_out_by_the_next_opening(
    make_gw: Callable[..., Gateway],
) -> None:
    """苏E54321 came in and is held to pay; 苏E12345, with no entry record, is held behind it (the
    lane, without a camera to tell, shows the newest). Two openings let both out."""
    gw = make_gw(exit_without_entry="charge", extra=RELAY)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "苏E54321", T0)
        assert look("car-out", "苏E54321", T0 + 2 * H).reason == "payment_due"
        assert look("car-out", "苏E12345", T0 + 2 * H + M).flags == ("no_entry_record",)
        open_by_hand()  # the lane showed 苏E12345: it leaves
        shown = _shown(gw)
        open_by_hand()  # and now 苏E54321
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        after = _shown(gw)
    assert (shown or {}).get("plate") == "苏E54321", f"after the first car left the lane shows {shown}"
    assert inside == [], f"the second opening let nobody out: {inside} still recorded inside"
    assert after is None, after
