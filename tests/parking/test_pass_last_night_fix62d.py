"""A night crew's pass keeps its plate through its last night (review 62a). A contractor pass for 1-2
Nov, hours 22:00-06:00, with its car's plate, lets the crew in until 06:00 on 3 Nov (review 61e: a
night counts for the day it began). The plate's queries compared the stored end (midnight) with now:
after midnight a later job's pass took the plate (the crew's car refused 未到有效期 at 01:00, while
the guard's pass check said 有效), a visitor pass registered on the plate by mistake and checked out
kept it (the car refused 已过期), and before midnight the refusal said the pass was valid until
midnight."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest

from gateway.core import Presented, Validity
from gateway.core.windows import Window, stored_windows
from gateway.errors import Conflict
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, check_out, create_pass, get_pass, state_of
from tests.parking.conftest import TZ

PLATE = "苏E12345"


def _nov(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def _crew(gw: Gateway) -> int:
    """Issued as the contractors page stores it: from 1 Nov (00:00) to the end of 2 Nov."""
    crew = NewPass(
        "contractor",
        "王师傅",
        _nov(1, 0),
        _nov(3, 0),
        company="夜班施工队",
        hours=("22:00-06:00",),
        plate=PLATE,
    )
    return create_pass(gw.conn, gw.secrets, crew, _nov(1, 0), "admin")


def _later_job(gw: Gateway, at: datetime) -> int:
    job = NewPass(
        "contractor",
        "王师傅",
        _nov(10, 0),
        _nov(12, 0),
        company="夜班施工队",
        hours=("22:00-06:00",),
        plate=PLATE,
    )
    return create_pass(gw.conn, gw.secrets, job, at, "admin")


def _visitor_by_mistake(gw: Gateway, at: datetime) -> int:
    """A guard types the crew's plate for a visitor arriving now."""
    mistake = NewPass(
        "visitor", "李四", at, at + timedelta(hours=4), host_building="3栋", host_unit="2单元", plate=PLATE
    )
    return create_pass(gw.conn, gw.secrets, mistake, at, "guard1")


def _crew_car_comes_in(gw: Gateway, at: datetime) -> str:
    ev = gw.handle(Presented("car-in", "plate", PLATE, 0.97, at, "cam"))
    return "admitted" if ev.admitted else str(ev.reason)


@pytest.mark.parametrize("at", [_nov(2, 23, 30), _nov(3, 0, 30)], ids=["before-midnight", "after-midnight"])
def test_a_later_job_cannot_take_the_plate_in_the_last_night(
    make_gw: Callable[..., Gateway], at: datetime
) -> None:
    gw = make_gw()
    pid = _crew(gw)
    with pytest.raises(Conflict) as refused:
        _later_job(gw, at)
    # The guard is told when the crew's pass is over: the end of its last night, not the midnight stored.
    assert f"valid until {_nov(3, 6).isoformat()}" in str(refused.value), str(refused.value)
    assert state_of(get_pass(gw.conn, pid), _nov(3, 1)) == "active"
    assert _crew_car_comes_in(gw, _nov(3, 1)) == "admitted"


def test_a_mistaken_pass_checked_out_in_the_last_night_hands_the_plate_back(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    pid = _crew(gw)
    wrong = _visitor_by_mistake(gw, _nov(3, 0, 30))
    check_out(gw.conn, wrong, _nov(3, 0, 35), "guard1")
    holder = gw.conn.execute(
        "SELECT pass_id FROM credentials WHERE kind='plate' AND value=?", (PLATE,)
    ).fetchone()
    assert holder[0] == pid
    assert _crew_car_comes_in(gw, _nov(3, 1)) == "admitted"


def test_the_crew_car_comes_in_on_its_plate_once_a_mistaken_pass_is_over(
    make_gw: Callable[..., Gateway],
) -> None:
    """The mistaken pass never checked out holds the plate past its end: the crew's pass, still in its
    last night, is the plate's visit then."""
    gw = make_gw()
    _crew(gw)
    _visitor_by_mistake(gw, _nov(3, 0, 30))  # until 04:30
    assert _crew_car_comes_in(gw, _nov(3, 5)) == "admitted"


def test_after_the_last_night_the_plate_is_free_for_the_later_job(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    _crew(gw)
    job = _later_job(gw, _nov(3, 6, 30))
    holder = gw.conn.execute(
        "SELECT pass_id FROM credentials WHERE kind='plate' AND value=?", (PLATE,)
    ).fetchone()
    assert holder[0] == job
    assert _crew_car_comes_in(gw, _nov(3, 7)) == "not_yet_valid"


@pytest.mark.parametrize(
    ("valid_to", "hours", "ends"),
    [
        (_nov(3, 0), "22:00-06:00", _nov(3, 6)),  # the last night runs past the stored midnight
        (_nov(3, 0), "08:00-18:00,22:00-05:00,23:00-06:30", _nov(3, 6, 30)),  # the latest night
        (_nov(3, 0), "08:00-18:00", _nov(3, 0)),  # no night
        (_nov(3, 0), "", _nov(3, 0)),  # any time: the whole last day
        (_nov(3, 0), "00:00-24:00", _nov(3, 0)),  # round the clock: its own day
        (_nov(2, 17, 30), "22:00-06:00", _nov(2, 17, 30)),  # a bound with a time of day is the instant
    ],
)
def test_a_validity_ends_where_the_door_stops_opening(valid_to: datetime, hours: str, ends: datetime) -> None:
    validity = Validity(_nov(1, 0), valid_to, stored_windows(hours))
    assert validity.ends(TZ) == ends
    assert not validity.expired(ends - timedelta(minutes=1))
    assert validity.expired(ends)


def test_a_last_night_on_a_weekday_without_hours_ends_at_midnight() -> None:
    """Hours for weeknights only: a last day on Saturday (7 Nov 2026) has no night to run past midnight."""
    weeknights = Window(time(22), time(6), frozenset(range(5)))
    validity = Validity(_nov(1, 0), _nov(8, 0), (weeknights,))
    assert validity.ends(TZ) == _nov(8, 0)
    assert validity.expired(_nov(8, 1))
