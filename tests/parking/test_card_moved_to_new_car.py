"""A resident's card moved to their new car by the central server while the old car it let in is parked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta

CARD = "0012345678"
OLD, NEW = "皖B33333", "皖B99999"


def tap(gw: Gateway, lane: str, card: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, at, "reader"))


def _card_lets_in(gw: Gateway, resident: str, plate: str) -> AccessEvent:
    """The centre gives the card to a resident's car, which comes in on it at T0."""
    delta(
        gw,
        1,
        0,
        T0 - timedelta(hours=1),
        upsert=[{"kind": "card", "card": CARD, "resident": resident, "plate": plate}],
    )
    return tap(gw, "car-in", CARD, T0)


def _open_stays(gw: Gateway) -> list[tuple[str, int | None]]:
    return gw.conn.execute("SELECT plate, slot_id FROM stays WHERE exited_at IS NULL ORDER BY id").fetchall()


def test_old_car_leaves_on_the_card_moved_to_the_new_car_and_frees_its_slot(
    make_gw: Callable[..., Gateway],
) -> None:
    """R2 drives its car 皖B33333 in on its card and parks on its slot B002. R2 buys a new car: the
    centre adds it to B002 and moves the card to it. R2 drives the old car out on the same card (to
    sell it): it leaves as it came in, free, its stay closed; the new car then comes in free on
    B002, not as a second car that pays while the old car is counted inside for good."""
    gw = make_gw()
    came_in = _card_lets_in(gw, "R2", "皖B33333")
    assert (came_in.reason, came_in.billing) == ("resident", "slot")
    delta(
        gw,
        2,
        1,
        T0 + timedelta(hours=1),
        upsert=[
            {"kind": "vehicle", "plate": "皖B99999", "resident": "R2"},
            {"kind": "card", "card": CARD, "resident": "R2", "plate": "皖B99999"},
            {
                "kind": "slot",
                "zone": "main",
                "number": "B002",
                "resident": "R2",
                "plates": ["皖B33333", "皖B99999"],
            },
        ],
    )
    out = tap(gw, "car-out", CARD, T0 + timedelta(hours=2))
    assert (out.admitted, out.reason, out.plate, out.flags, out.fee_fen) == (
        True,
        "resident",
        "皖B33333",
        (),
        0,
    )
    assert _open_stays(gw) == []
    new_car = show(gw, "car-in", "皖B99999", T0 + timedelta(days=1))
    assert (new_car.reason, new_car.billing, new_car.flags) == ("resident", "slot", ())


def test_second_car_that_came_in_on_the_card_still_pays_its_stay(make_gw: Callable[..., Gateway]) -> None:
    """R1's second car 皖A22222 comes in on R1's card while the first is on their shared slot, a
    paying temporary car. The card is moved to R1's new car; the old car tapping out on it is held
    for the fee of the stay it came in for, not let out free as no_entry_record."""
    gw = make_gw()
    assert show(gw, "car-in", "皖A11111", T0).reason == "resident"
    came_in = _card_lets_in(gw, "R1", "皖A22222")
    assert (came_in.reason, came_in.flags) == ("temporary", ("shared_slot",))
    delta(
        gw,
        2,
        1,
        T0 + timedelta(minutes=30),
        upsert=[
            {"kind": "vehicle", "plate": "皖A99999", "resident": "R1"},
            {"kind": "card", "card": CARD, "resident": "R1", "plate": "皖A99999"},
        ],
    )
    out = tap(gw, "car-out", CARD, T0 + timedelta(hours=2))
    assert (out.reason, out.plate, out.fee_fen) == ("payment_due", "皖A22222", 700)


def _old_car_in_on_the_card_then_card_moved(gw: Gateway, to: list[dict[str, object]]) -> None:
    assert _card_lets_in(gw, "R2", OLD).admitted
    delta(gw, 2, 1, T0 + timedelta(hours=1), upsert=to)


def test_card_tapped_as_the_new_car_is_read_out_does_not_let_the_old_parked_car_out(
    make_gw: Callable[..., Gateway],
) -> None:
    """The old car is kept parked; the new car comes in and goes out on its plate, and at the exit the
    driver, used to the old system, also taps the card as the camera reads the car. That tap is the
    new car again (one car, one passage), not the old car leaving: its stay was closed and its slot
    freed while it stood in the garage, and it left later as no_entry_record."""
    gw = make_gw()
    new_car = [
        {"kind": "vehicle", "plate": NEW, "resident": "R2"},
        {"kind": "card", "card": CARD, "resident": "R2", "plate": NEW},
        {"kind": "slot", "zone": "main", "number": "B002", "resident": "R2", "plates": [NEW]},
    ]
    _old_car_in_on_the_card_then_card_moved(gw, new_car)
    assert show(gw, "car-in", NEW, T0 + timedelta(hours=2)).admitted
    out_at = T0 + timedelta(hours=5)
    assert show(gw, "car-out", NEW, out_at).admitted
    again = tap(gw, "car-out", CARD, out_at + timedelta(seconds=3))
    assert (again.plate, again.flags) == (NEW, ("again",))
    assert [plate for plate, _ in _open_stays(gw)] == [OLD], "the old car is still parked"


def test_card_handed_to_another_household_does_not_let_the_old_holders_car_out(
    make_gw: Callable[..., Gateway],
) -> None:
    """R2's car came in on the card, which the office then gives to R1's car: R1 tapping it at the
    exit is R1's car, whatever the card let in before; R2's parked car stays inside."""
    gw = make_gw()
    _old_car_in_on_the_card_then_card_moved(
        gw, [{"kind": "card", "card": CARD, "resident": "R1", "plate": "皖A22222"}]
    )
    tap(gw, "car-out", CARD, T0 + timedelta(hours=2))
    assert [plate for plate, _ in _open_stays(gw)] == [OLD], "R2's car let out on R1's card"
