"""A vehicle lane with a plate camera and a card reader. In the rush the camera reads a resident's car
and opens; the driver, used to the old system, also taps the car's card as it rolls under the
barrier. One car, one passage: the card is one more look at it (flag "again"), whichever came first.
A car refused or held to pay on its plate whose card is then tapped is one car turned away, or one
hold (flag "refused_again"); a plate from elsewhere than the lane's camera is a presentation of its
own, unless a guard typed it within a minute of the car being let through there and anti-passback is
not hard (the same car: docs/parking.md, *One car, one passage*)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.core import TYPED_BY, Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.passes import NewPass, Occupant, create_pass
from gateway.store.registry import set_blocked
from tests.conftest import report_so_far, write_csv
from tests.rush_helpers import camera_lane, parking_gw

CAR = "皖B33333"  # R2's car on its own slot B002
CARD = "0012345678"  # R2's card for that car
FIRST = "皖A11111"  # R1's first car of shared slot B001
SECOND = "皖A22222"  # R1's second car of B001: pays as temporary while FIRST is on it
SECOND_CARD = "0099887766"
STRANGER = "苏E55555"
VISITOR = "苏E66666"


def _gateway(tmp_path: Path, anti_passback: str = "soft") -> Gateway:
    gw = parking_gw(tmp_path, anti_passback=anti_passback)
    import_csv(gw.site.config, [write_csv(tmp_path / "c.csv", f"card,resident_ref,plate\n{CARD},R2,{CAR}\n")])
    return gw


def _entries(gw: Gateway) -> int:
    return int(report_so_far(gw)["vehicles"]["entries"]["total"])


def _visitors_qr(gw: Gateway, at: datetime) -> str:
    """The QR code of a pass for VISITOR's car, made by a guard an hour before `at`, valid a day on."""
    visit = NewPass(
        "visitor",
        "钱七",
        at - timedelta(hours=1),
        at + timedelta(days=1),
        host_building="3栋",
        host_unit="2单元",
        plate=VISITOR,
        occupants=(Occupant("钱七"),),
    )
    pass_id = create_pass(gw.conn, gw.secrets, visit, at - timedelta(hours=1), "guard1")
    qr: str = gw.conn.execute(
        "SELECT value FROM credentials WHERE kind='qr' AND pass_id=?", (pass_id,)
    ).fetchone()[0]
    return qr


@pytest.mark.parametrize("anti_passback", ["soft", "hard"])
@pytest.mark.parametrize("first", ["plate", "card"])
def test_a_car_read_by_the_camera_and_its_card_tapped_is_one_entry(
    tmp_path: Path, anti_passback: str, first: str
) -> None:
    gw = _gateway(tmp_path, anti_passback)
    at = gw.now() - timedelta(hours=1)
    shown = {"plate": ("plate", CAR, "car-in-camera"), "card": ("card", CARD, "car-in-reader")}
    second = "card" if first == "plate" else "plate"
    kind, value, device = shown[first]
    one = gw.handle(Presented("car-in", kind, value, 1.0, at, device))  # type: ignore[arg-type]
    kind, value, device = shown[second]
    two = gw.handle(Presented("car-in", kind, value, 1.0, at + timedelta(seconds=2), device))  # type: ignore[arg-type]
    assert one.admitted and two.admitted, (two.reason, two.flags)
    assert (two.reason, two.flags) == (one.reason, ("again",)), "the guard is told the car was inside"
    stays = gw.conn.execute("SELECT entry_event, closed_by FROM stays ORDER BY id").fetchall()
    assert stays == [(one.event_id, None)]
    assert _entries(gw) == 1, f"one car came in; the daily report counts {_entries(gw)} entries"


def test_the_same_card_shown_again_is_still_anti_passbacks_business(tmp_path: Path) -> None:
    """A card handed back to the car behind: the second tap is decided as before (hard: refused)."""
    gw = _gateway(tmp_path, "hard")
    at = gw.now() - timedelta(hours=1)
    assert gw.handle(Presented("car-in", "card", CARD, 1.0, at, "car-in-reader")).admitted
    again = gw.handle(Presented("car-in", "card", CARD, 1.0, at + timedelta(seconds=5), "car-in-reader"))
    assert again.reason == "anti_passback"


def test_a_card_tapped_long_after_the_car_was_read_is_a_new_presentation(tmp_path: Path) -> None:
    """Beyond a few seconds the card is not the same passage: anti-passback (soft) flags it."""
    gw = _gateway(tmp_path)
    at = gw.now() - timedelta(hours=1)
    assert gw.handle(Presented("car-in", "plate", CAR, 0.99, at, "car-in-camera")).admitted
    later = gw.handle(Presented("car-in", "card", CARD, 1.0, at + timedelta(seconds=40), "car-in-reader"))
    assert later.admitted and "already_inside" in later.flags


def test_the_car_let_out_in_between_is_not_the_same_passage(tmp_path: Path) -> None:
    """Read at the entrance, read at the exit, its card tapped at the entrance seconds later: the
    car came back, a passage of its own. (The exit's read is past SAME_PASSAGE of the entry: one
    within it is the exit camera reading the neighbouring lane's car, no passage, review 62c.)"""
    gw = _gateway(tmp_path, "hard")
    at = gw.now() - timedelta(hours=1)
    assert gw.handle(Presented("car-in", "plate", CAR, 0.99, at, "car-in-camera")).admitted
    assert gw.handle(Presented("car-out", "plate", CAR, 0.99, at + timedelta(seconds=15), "cam")).admitted
    back = gw.handle(Presented("car-in", "card", CARD, 1.0, at + timedelta(seconds=18), "car-in-reader"))
    assert (back.admitted, back.flags) == (True, ())
    assert gw.conn.execute("SELECT count(*) FROM stays").fetchone()[0] == 2


@pytest.mark.parametrize("first", ["plate", "qr"])
def test_a_visitors_car_read_and_its_pass_scanned_is_one_entry(tmp_path: Path, first: str) -> None:
    """A visitor's car read by the camera and its pass scanned (either order) is one entry, even
    under hard anti-passback."""
    gw = parking_gw(tmp_path, anti_passback="hard")
    at = gw.now() - timedelta(hours=1)
    qr = _visitors_qr(gw, at)
    shown = {"plate": ("plate", VISITOR, "car-in-camera"), "qr": ("qr", qr, "car-in-scanner")}
    second = "qr" if first == "plate" else "plate"
    kind, value, device = shown[first]
    one = gw.handle(Presented("car-in", kind, value, 1.0, at, device))  # type: ignore[arg-type]
    kind, value, device = shown[second]
    two = gw.handle(Presented("car-in", kind, value, 1.0, at + timedelta(seconds=3), device))  # type: ignore[arg-type]
    assert one.admitted, one.reason
    assert (two.admitted, two.flags) == (True, ("again",)), (two.reason, two.flags)
    assert gw.conn.execute("SELECT count(*) FROM stays").fetchone()[0] == 1


def test_a_plate_the_guard_types_within_a_minute_is_anti_passbacks_business_when_hard(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The lane's camera let the stranger's car in; 30 s later the guard types the same plate at that
    lane (a second car with those plates at the barrier: a cloned plate). Under hard anti-passback,
    which an estate sets to refuse such a car, a typed plate is not one more look at the car the
    camera let in: refused, as docs/parking.md says (under soft, it is that car: flag again)."""
    gw = parking_gw(tmp_path, anti_passback="hard")
    lane, decided = camera_lane(monkeypatch, gw, "car-in")
    lane.frames(0.0, 3.0, [STRANGER])
    lane.frames(3.0, 6.0, [])  # in and gone
    assert [(e.value, e.reason) for e in decided] == [(STRANGER, "temporary")]
    at = decided[0].at + timedelta(seconds=30)
    typed = gw.handle(Presented("car-in", "plate", STRANGER, 1.0, at, f"{TYPED_BY}guard1"))
    assert (typed.admitted, typed.reason) == (False, "anti_passback"), (typed.reason, typed.flags)


def test_a_blocked_car_refused_on_its_plate_then_its_card_is_one_car_turned_away(tmp_path: Path) -> None:
    """The police asked to stop the car (blocked): the camera reads it and the barrier stays shut; the
    driver taps the car's card 2 s later. One car turned away: the daily report counts one refusal."""
    gw = _gateway(tmp_path)
    at = gw.now() - timedelta(hours=1)
    set_blocked(gw.conn, at - timedelta(minutes=5), "guard", ("plate", CAR), True, "公安协查")
    plate = gw.handle(Presented("car-in", "plate", CAR, 0.99, at, "car-in-camera"))
    card = gw.handle(Presented("car-in", "card", CARD, 1.0, at + timedelta(seconds=2), "car-in-reader"))
    assert (plate.reason, card.reason) == ("blocked", "blocked")
    refusals = report_so_far(gw)["refusals"]
    assert "refused_again" in card.flags and refusals["total"] == 1, (
        f"one car turned away at the barrier; card flags {card.flags}, report refusals {refusals}"
    )


def _held_then_card(tmp_path: Path, parked: timedelta) -> tuple[Gateway, AccessEvent, AccessEvent]:
    """R1's second car (a shared slot's, paying as temporary) parked for `parked`, held at the exit on
    its plate (car-out has no camera of the gateway's own: its plates come from the lane's vendor
    camera), and the driver taps the car's card 3 s later."""
    gw = parking_gw(tmp_path)
    import_csv(
        gw.site.config,
        [write_csv(tmp_path / "c.csv", f"card,resident_ref,plate\n{SECOND_CARD},R1,{SECOND}\n")],
    )
    t = gw.now() - timedelta(hours=3)
    assert gw.handle(Presented("car-in", "plate", FIRST, 0.99, t, "car-in-camera")).reason == "resident"
    came = gw.handle(Presented("car-in", "plate", SECOND, 0.99, t + timedelta(minutes=1), "car-in-camera"))
    assert came.reason == "temporary" and "shared_slot" in came.flags
    out = came.at + parked
    held = gw.handle(Presented("car-out", "plate", SECOND, 0.99, out, "car-out-camera"))
    assert held.reason == "payment_due" and held.fee_fen > 0
    card = gw.handle(
        Presented("car-out", "card", SECOND_CARD, 1.0, out + timedelta(seconds=3), "car-out-reader")
    )
    assert card.reason == "payment_due"
    return gw, held, card


def test_a_car_held_to_pay_then_its_card_tapped_is_one_hold_in_the_report(tmp_path: Path) -> None:
    gw, _, card = _held_then_card(tmp_path, timedelta(hours=2))
    held_for_payment = report_so_far(gw)["held_for_payment"]
    assert held_for_payment == 1, f"one car held at the exit; the daily report says {held_for_payment}"
    assert "refused_again" in card.flags


def test_take_the_fee_quotes_the_held_car_after_its_card_was_tapped(tmp_path: Path) -> None:
    """docs/parking.md: the guard's "Take the fee" quotes the car held at the lane (the last held where
    the camera sees none), by its plate; live.js toasts "nothing to pay" when due_fen is 0."""
    gw, held, card = _held_then_card(tmp_path, timedelta(hours=2))
    quote = gw.parking.lane_quote(gw.conn, "car-out", card.at + timedelta(seconds=20))
    assert quote is not None
    assert (quote["plate"], quote["due_fen"]) == (SECOND, held.fee_fen), quote


def test_the_card_of_a_car_held_to_pay_asks_the_holds_fee_not_a_later_one(tmp_path: Path) -> None:
    """docs/parking.md: a car held at the barrier is one hold, "and the fee runs to its first, for the
    lane display and the record as for the guard's quote and the fee taken". Held on its plate 1 s
    before its stay's first hour ends (5元); its driver taps the car's card 3 s later."""
    gw, held, card = _held_then_card(tmp_path, timedelta(minutes=60) - timedelta(seconds=1))
    shown = gw.devices.lanes["car-out"].displays[0].shown[-1]  # type: ignore[attr-defined]
    assert held.fee_fen == 500
    assert (card.reason, card.fee_fen) == ("payment_due", 500), (
        f"the display now asks {card.fee_fen} fen ({shown}); the hold's fee, quoted and taken, is 500"
    )


def test_a_visitors_pass_scanned_while_its_car_is_held_asks_the_holds_fee(tmp_path: Path) -> None:
    """docs/parking.md: a car held to pay whose card or pass is shown within 10 s of its plate is one
    hold, its plate's: it asks the hold's fee (the fee runs to the hold's first). A visitor's car held
    on its plate 1 s before its first hour ends; the visitor scans the pass 3 s later."""
    gw = parking_gw(tmp_path)
    t = gw.now() - timedelta(hours=3)
    qr = _visitors_qr(gw, t)
    came = gw.handle(Presented("car-in", "plate", VISITOR, 0.99, t, "car-in-camera"))
    assert came.admitted, came.reason
    out = came.at + timedelta(minutes=60) - timedelta(seconds=1)
    held = gw.handle(Presented("car-out", "plate", VISITOR, 0.99, out, "car-out-camera"))
    assert held.reason == "payment_due" and held.fee_fen > 0, (held.reason, held.fee_fen)
    scanned = gw.handle(Presented("car-out", "qr", qr, 1.0, out + timedelta(seconds=3), "car-out-scanner"))
    assert "refused_again" in scanned.flags, (scanned.reason, scanned.flags)
    assert (scanned.reason, scanned.fee_fen) == ("payment_due", held.fee_fen), (
        f"the pass scanned during the hold asks {scanned.fee_fen} fen; the hold's fee is {held.fee_fen}"
    )


def test_a_residents_own_card_tapped_after_the_camera_let_their_car_in_is_one_entry(tmp_path: Path) -> None:
    """The card names no car (a resident's door card, also valid at the vehicle lane): tapped as
    the car the camera let in rolls under the barrier, it is that car again, not a second stay under
    the resident that counts an entry nobody made and stays "inside" for ever."""
    gw = parking_gw(tmp_path, anti_passback="hard")
    import_csv(gw.site.config, [write_csv(tmp_path / "c.csv", f"card,resident_ref,plate\n{CARD},R2,\n")])
    at = gw.now() - timedelta(hours=1)
    car = gw.handle(Presented("car-in", "plate", CAR, 0.99, at, "car-in-camera"))
    card = gw.handle(Presented("car-in", "card", CARD, 1.0, at + timedelta(seconds=3), "car-in-reader"))
    assert car.admitted and card.admitted, (card.reason, card.flags)
    assert (card.reason, card.flags) == (car.reason, ("again",)), "told it is the car just let in"
    assert gw.conn.execute("SELECT count(*) FROM stays").fetchone()[0] == 1
    assert _entries(gw) == 1, f"one car came in; the daily report counts {_entries(gw)} entries"
    # Leaving, the car's plate closes the one stay; the resident is not left "inside" on foot.
    out = gw.handle(Presented("car-out", "plate", CAR, 0.99, at + timedelta(hours=2), "car-out-camera"))
    assert out.admitted
    assert gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0] == 0
