"""57o: an entry misread, its car let out by the guard's 开闸 at the exit (default
exit_without_entry = "guard": no entry record, the barrier kept shut for the guard), corrected
by the office in the plate log afterwards. b444139 closes the moved stay only at an *admitted*
exit flagged no_entry_record (the "charge" policy); the guard's opening by hand is not one, so
the stay moves onto the real plate and stays OPEN: the car, gone since 11:00, is counted inside,
and back next morning it is already_inside and (reentry = "charge") billed for the night away.
docs/guard-app.md plate log: "an entry corrected after its car has left (its exit read right,
with no entry record) has the stay moved closed at that exit"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0
from tests.parking.test_opened_by_hand import RELAY, _exit_with_relay, _rows, _until

H = timedelta(hours=1)
REAL, MISREAD = "苏E12345", "苏E12346"


def test_entry_corrected_after_its_car_was_let_out_by_hand_is_not_left_inside(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=RELAY, reentry="charge")
    with _exit_with_relay(gw) as (look, open_by_hand):
        came = look("car-in", MISREAD, T0)  # 苏E12345 read as 苏E12346 at 09:00
        held = look("car-out", REAL, T0 + 2 * H)  # read right at 11:00: no entry record
        assert not held.admitted and "no_entry_record" in held.flags
        open_by_hand()  # the guard lets it out (开闸)
        _until(lambda: _rows(gw, "SELECT count(*) FROM let_outs_by_hand") == [(1,)], "not let out")
        # 15:00: the office corrects the entry in the plate log.
        gw.on_worker(lambda c: correct_plate(c, came.event_id, REAL, "office1", T0 + 6 * H)).result()
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        back = look("car-in", REAL, T0 + 24 * H)  # back next morning
        carried = _rows(gw, "SELECT coalesce(sum(amount_fen), 0) FROM charges WHERE kind = 'reentry'")
    assert inside == [], f"gone since 11:00 but recorded inside after the correction: {inside}"
    assert "already_inside" not in back.flags and carried == [(0,)], (
        f"back next morning: flags {back.flags}, {carried} fen billed for the night it was away"
    )
