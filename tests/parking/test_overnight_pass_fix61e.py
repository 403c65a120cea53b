"""A pass or a card for whole days with overnight hours counts each night for the day it began,
as a closed-management period does (windows.py Window.day_of, ClosedPeriod.active). A night crew's
contractor pass from 1 to 2 November, hours 22:00-06:00 (施工人员 page), works the nights of 1 and 2
November: back at 00:30 on 3 November it was refused 已过期 and had dropped off the guard's list of
current passes at midnight, while at 02:00 on 1 November (the night of 31 October, before its first
shift) the door opened. Review 61e."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from gateway.core import (
    CredentialFacts,
    Facts,
    Holder,
    LaneRules,
    Policy,
    Presented,
    Reason,
    Validity,
    decide,
)
from gateway.core.windows import stored_windows
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass, get_pass, list_passes, state_of
from tests.parking.conftest import TZ, make_gw  # noqa: F401  (fixture)


def _nov(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def _night_crew(gw: Gateway) -> tuple[int, str]:
    """Issued as the contractors page stores it: from 1 Nov (00:00) to the end of 2 Nov."""
    crew = NewPass(
        "contractor", "王师傅", _nov(1, 0), _nov(3, 0), company="夜班施工队", hours=("22:00-06:00",)
    )
    pid = create_pass(gw.conn, gw.secrets, crew, _nov(1, 0) - (_nov(2, 0) - _nov(1, 0)), "admin")
    qr = gw.conn.execute("SELECT value FROM credentials WHERE kind='qr' AND pass_id=?", (pid,)).fetchone()[0]
    return pid, str(qr)


@pytest.mark.parametrize(
    ("at", "door_says", "listed"),
    [
        (_nov(1, 2), "not_yet_valid", True),  # the night of 31 Oct
        (_nov(1, 22, 30), "contractor", True),  # the first night
        (_nov(2, 23), "contractor", True),  # the last night, before midnight
        (_nov(3, 0, 30), "contractor", True),  # the last night, after midnight
        (_nov(3, 6, 30), "expired", False),  # the last night is over
        (_nov(3, 22, 30), "expired", False),  # the night after the last day
    ],
    ids=[
        "night-before-first-day",
        "first-night",
        "last-night-2300",
        "last-night-0030",
        "after",
        "next-night",
    ],
)
def test_night_crew_pass_at_the_door_and_on_the_guards_list(
    make_gw: Callable[..., Gateway],  # noqa: F811
    at: datetime,
    door_says: str,
    listed: bool,
) -> None:
    gw = make_gw()
    pid, qr = _night_crew(gw)
    door = gw.handle(Presented("door", "qr", qr, 1.0, at, "door-reader"))
    assert door.reason == door_says
    assert door.admitted == (door_says == "contractor")
    # The guard's pass check says what the door does, and the list of current passes agrees.
    check = {"contractor": "active", "not_yet_valid": "upcoming"}.get(door_says, door_says)
    assert state_of(get_pass(gw.conn, pid), at) == check
    assert (pid in [r["id"] for r in list_passes(gw.conn, "contractor", at, True, None)]) == listed


def test_current_list_with_a_limit_counts_only_current_passes(make_gw: Callable[..., Gateway]) -> None:  # noqa: F811
    gw = make_gw()
    crew, _ = _night_crew(gw)
    ended = NewPass(
        "contractor", "李师傅", _nov(1, 0), _nov(3, 0), company="白班施工队", hours=("08:00-18:00",)
    )
    create_pass(gw.conn, gw.secrets, ended, _nov(1, 0), "admin")  # newer, over at 00:30 on 3 Nov
    assert [r["id"] for r in list_passes(gw.conn, "contractor", _nov(3, 0, 30), True, 1)] == [crew]


CARD_DOOR = LaneRules("door", "entrance", "pedestrian", None)


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (_nov(1, 2), Reason.NOT_YET_VALID),
        (_nov(1, 23), Reason.RESIDENT),
        (_nov(3, 0, 30), Reason.RESIDENT),
        (_nov(3, 7), Reason.EXPIRED),
    ],
    ids=["night-before", "first-night", "last-night-after-midnight", "after"],
)
def test_resident_card_with_overnight_hours_and_a_last_day(at: datetime, reason: Reason) -> None:
    card = Validity(_nov(1, 0), _nov(3, 0), stored_windows("22:00-06:00"))
    holder = Holder("resident", 7, "张*")
    facts = Facts(CARD_DOOR, CredentialFacts(1, "card", "0012345678", holder, validity=card))
    assert decide(Presented("door", "card", "0012345678", 1.0, at), facts, Policy()).reason == reason


def test_a_bound_with_a_time_of_day_is_the_instant_given() -> None:
    """A pass given to 00:00 is a whole day; one given to 23:00 ends at 23:00, night or not."""
    until_2300 = Validity(_nov(1, 0), _nov(2, 23), stored_windows("22:00-06:00"))
    assert until_2300.admits(_nov(2, 22, 30))
    assert until_2300.expired(_nov(2, 23, 30))
    from_2300 = Validity(_nov(1, 23), _nov(3, 0), stored_windows("22:00-06:00"))
    assert from_2300.not_yet(_nov(1, 22, 30))
    assert from_2300.admits(_nov(2, 0, 30))
