"""A resident's own card that names no car (a door card also valid at the vehicle lane), tapped a
few seconds after the camera let one of the resident's cars through there, is that car again: one
stay, one entry. Held to pay, it asks the hold's fee as the car's own card would; a card that would
itself be refused is not taken for the car (docs/parking.md, *One car, one passage*)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.registry import set_blocked
from tests.conftest import report_so_far, write_csv
from tests.rush_helpers import RELAYS, parking_gw
from tests.test_lane_card_and_plate import CAR, FIRST, SECOND, _entries

DOOR_CARD = "0012345678"  # R2's door card, naming no car (CAR is R2's)
R1_DOOR_CARD = "0055500555"  # R1's door card, naming no car (FIRST and SECOND are R1's)


def _gateway(tmp_path: Path, anti_passback: str = "soft", card: str = f"{DOOR_CARD},R2,") -> Gateway:
    """The parking site with one door card: `card` is its cards.csv row."""
    return _with_card(parking_gw(tmp_path, anti_passback=anti_passback), tmp_path, card)


def _with_card(gw: Gateway, tmp_path: Path, card: str) -> Gateway:
    header = "card,resident_ref,plate,valid_from,valid_to,hours"
    import_csv(gw.site.config, [write_csv(tmp_path / "c.csv", f"{header}\n{card}\n")])
    return gw


def _plate(gw: Gateway, lane: str, plate: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "plate", plate, 0.99, at, f"{lane}-camera"))


def _tap(gw: Gateway, lane: str, card: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, at, f"{lane}-reader"))


def _open_stays(gw: Gateway) -> list[tuple[str, str]]:
    return gw.conn.execute("SELECT subject, billing FROM stays WHERE exited_at IS NULL").fetchall()


def test_a_residents_door_card_tapped_twice_after_the_car_is_still_one_entry(tmp_path: Path) -> None:
    """The driver taps the door card twice (the first beep not heard), 3 s and 6 s after the camera
    let the car in: both taps are the car again, not a second stay under the resident, parked as
    temporary and never closed, counted as one more entry."""
    gw = _gateway(tmp_path, anti_passback="hard")
    at = gw.now() - timedelta(hours=1)
    car = _plate(gw, "car-in", CAR, at)
    one = _tap(gw, "car-in", DOOR_CARD, at + timedelta(seconds=3))
    two = _tap(gw, "car-in", DOOR_CARD, at + timedelta(seconds=6))
    assert car.admitted and "again" in one.flags
    assert (two.admitted, two.reason, two.flags) == (True, car.reason, ("again",)), (two.reason, two.flags)
    assert len(_open_stays(gw)) == 1, f"one car inside; stays open: {_open_stays(gw)}"
    assert _entries(gw) == 1, f"one car came in; the daily report counts {_entries(gw)} entries"


def test_a_residents_door_card_is_the_car_just_let_in_though_their_other_car_left_meanwhile(
    tmp_path: Path,
) -> None:
    """R1's SECOND car is let in on its plate; 2 s later the spouse drives R1's FIRST car out at the
    other lane; 3 s after that SECOND's driver taps R1's door card. The card is SECOND again, not a
    new temporary stay under R1 left inside for ever."""
    gw = _gateway(tmp_path, anti_passback="hard", card=f"{R1_DOOR_CARD},R1,")
    at = gw.now() - timedelta(hours=1)
    assert _plate(gw, "car-in", FIRST, at - timedelta(hours=3)).admitted
    second = _plate(gw, "car-in", SECOND, at)
    left = _plate(gw, "car-out", FIRST, at + timedelta(seconds=2))
    card = _tap(gw, "car-in", R1_DOOR_CARD, at + timedelta(seconds=5))
    assert second.admitted and left.admitted
    assert "again" in card.flags, f"the door card is decided afresh: {card.reason} {card.flags}"
    assert len(_open_stays(gw)) == 1, f"one car inside (SECOND); stays open: {_open_stays(gw)}"


# An exit at another gate: read at the north gate's own exit 3 s after its entry, the car is the exit
# camera seeing the entrance lane beside it (no passage, flag neighbour_lane, review 62c).
SOUTH_EXIT = """
[[gates]]
id = "south"
name = "南门"

[[lanes]]
id = "south-out"
gate = "south"
direction = "exit"
type = "vehicle"
zone = "main"
"""


def test_a_residents_door_card_after_their_car_came_and_left_is_not_that_car(tmp_path: Path) -> None:
    """The car is let in, then out at another lane, and the door card is tapped at the entrance
    3 s later: the car is gone, so the card is not that car again (decided as the resident alone)."""
    gw = _with_card(parking_gw(tmp_path, extra=RELAYS + SOUTH_EXIT), tmp_path, f"{DOOR_CARD},R2,")
    at = gw.now() - timedelta(hours=1)
    assert _plate(gw, "car-in", CAR, at).admitted
    assert _plate(gw, "south-out", CAR, at + timedelta(seconds=3)).admitted
    card = _tap(gw, "car-in", DOOR_CARD, at + timedelta(seconds=6))
    assert "again" not in card.flags, (card.reason, card.flags)


def test_a_residents_door_card_tapped_while_their_temporary_car_is_held_to_pay_does_not_let_it_out(
    tmp_path: Path,
) -> None:
    """R1's SECOND car (parked as temporary: FIRST holds the shared slot) is held to pay at the exit.
    3 s later its driver taps R1's door card: the barrier stays shut and the card asks the hold's
    fee, as the car's own card would (one hold), instead of letting the resident out for free."""
    gw = _gateway(tmp_path, card=f"{R1_DOOR_CARD},R1,")
    at = gw.now() - timedelta(hours=1)
    assert _plate(gw, "car-in", FIRST, at - timedelta(hours=5)).admitted
    came = _plate(gw, "car-in", SECOND, at - timedelta(hours=4))
    assert came.admitted and came.billing == "temporary"
    held = _plate(gw, "car-out", SECOND, at)
    assert (held.admitted, held.reason) == (False, "payment_due") and held.fee_fen > 0
    card = _tap(gw, "car-out", R1_DOOR_CARD, at + timedelta(seconds=3))
    assert not card.admitted, f"the barrier opened for the door card ({card.reason} {card.flags})"
    assert (card.reason, card.fee_fen, card.flags) == ("payment_due", held.fee_fen, ("refused_again",))
    assert len(_open_stays(gw)) == 2, f"FIRST and SECOND (until it pays) inside: {_open_stays(gw)}"


def test_a_blocked_car_refused_on_its_plate_then_the_residents_door_card_is_one_car_turned_away(
    tmp_path: Path,
) -> None:
    """The police asked to stop the resident's car (blocked): the camera reads it and the barrier
    stays shut; the driver taps the resident's door card 2 s later. The barrier stays shut (not a
    resident let in as a temporary car), and the report counts one car turned away."""
    gw = _gateway(tmp_path)
    at = gw.now() - timedelta(hours=1)
    set_blocked(gw.conn, at - timedelta(minutes=5), "guard", ("plate", CAR), True, "公安协查")
    plate = _plate(gw, "car-in", CAR, at)
    card = _tap(gw, "car-in", DOOR_CARD, at + timedelta(seconds=2))
    assert plate.reason == "blocked"
    assert (card.admitted, card.reason) == (False, "blocked"), (card.reason, card.flags)
    refusals = report_so_far(gw)["refusals"]
    assert "refused_again" in card.flags and refusals["total"] == 1, (card.flags, refusals)


def _door_card_row(refused: str, at: datetime) -> str:
    """R2's door card, refused on its own at `at` for the reason `refused`."""
    start = at + timedelta(hours=2)  # daily hours of an hour that do not include `at`
    hours = f"{start:%H:%M}-{start + timedelta(hours=1):%H:%M}"
    validity = {"expired": ",2020-01-31,", "not_yet_valid": "2099-01-01,,", "outside_hours": f",,{hours}"}
    return f"{DOOR_CARD},R2,,{validity[refused]}"


@pytest.mark.parametrize("refused", ["expired", "not_yet_valid", "outside_hours"])
def test_a_residents_door_card_that_would_itself_be_refused_is_not_the_car(
    tmp_path: Path, refused: str
) -> None:
    """The card ran out, is not valid yet, or is outside its hours: tapped 3 s after the camera let
    the resident's car in, it is refused as it would be on its own, not let through as the car."""
    gw = parking_gw(tmp_path)
    at = gw.now() - timedelta(hours=1)
    _with_card(gw, tmp_path, _door_card_row(refused, at))
    assert _plate(gw, "car-in", CAR, at).admitted
    card = _tap(gw, "car-in", DOOR_CARD, at + timedelta(seconds=3))
    assert (card.admitted, card.reason) == (False, refused), (card.reason, card.flags)
    assert _entries(gw) == 1, f"one car came in; the daily report counts {_entries(gw)} entries"
