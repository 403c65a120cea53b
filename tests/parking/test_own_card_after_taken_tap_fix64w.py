"""Review 64Rt (of 525b0625): a card taken for the held car made the resident's own card that names
no car be taken for the held car for 10 s from that tap, not from the camera's read. docs/parking.md:
"10 s after the camera last read the held car (his taps before that, taken for the held car, do not
make the 10 s run again)". The household's car memory keeps the camera's read time for such a tap."""

from __future__ import annotations

from datetime import timedelta

from tests.parking.conftest import T0, report_of_t0_day, show
from tests.parking.test_held_car_card_then_more_fix64t import FIRST, OTHER, OWN, SECOND, _card, _tap

S = timedelta(seconds=1)
H = timedelta(hours=1)


def test_own_card_11s_after_the_read_is_not_the_held_car_still(gw) -> None:  # type: ignore[no-untyped-def]
    """SECOND held; its driver taps the household's other card at +8 s (refused, taken for it);
    张三 in FIRST behind (plate unread) taps his own card at +14 s, 14 s after the camera's read."""
    _card(gw, OWN, "R1", None)
    _card(gw, OTHER, "R1", FIRST)
    show(gw, "car-in", FIRST, T0)
    show(gw, "car-in", SECOND, T0 + H)
    assert show(gw, "car-out", SECOND, T0 + 4 * H).reason == "payment_due"
    assert _tap(gw, OTHER, T0 + 4 * H + 8 * S).fee_fen == 900
    own = _tap(gw, OWN, T0 + 4 * H + 14 * S)
    assert (own.value, own.reason) != (SECOND, "payment_due"), (own.reason, own.fee_fen, own.flags)
    assert own.fee_fen != 900, (own.reason, own.fee_fen, own.flags)


def test_paid_held_car_gone_own_car_behind_unread_tap_12s_after_is_recorded(gw) -> None:  # type: ignore[no-untyped-def]
    """SECOND paid, let out on the other card at +3 s; FIRST (plate unread) behind, 张三 taps his own
    card at +12 s (12 s after the read): his own exit, recorded (flagged no_entry_record, as before
    525b0625), not the held car's `again` with nothing recorded for FIRST leaving."""
    _card(gw, OWN, "R1", None)
    _card(gw, OTHER, "R1", FIRST)
    show(gw, "car-in", FIRST, T0)
    show(gw, "car-in", SECOND, T0 + H)
    assert show(gw, "car-out", SECOND, T0 + 4 * H).reason == "payment_due"
    gw.parking.prepay(gw.conn, SECOND, 900, "cash", "", "booth", T0 + 4 * H + S)
    assert _tap(gw, OTHER, T0 + 4 * H + 3 * S).admitted
    own = _tap(gw, OWN, T0 + 4 * H + 12 * S)
    assert "again" not in own.flags, (own.value, own.reason, own.flags)
    assert report_of_t0_day(gw, T0 + 5 * H)["vehicles"]["exits"]["total"] == 2
