"""Edges of the decision core that a guard or a driver sees and no nearby test held: the last day
of a closed period with no hours, a car brought in on a pass without a plate while a period asks
for the people in cars, a ticket nobody was given at an exit that lets strangers out, and the
first and last minute of a visitor's pass. Each fails on a one-token change of gateway/core
(windows.py, decide.py) that every other core test lets pass."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from tests.parking.conftest import T0, add_visitor, make_gw, show  # noqa: F401  (fixtures)

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025, 00:00 in Shanghai

# A week of closed management with no hours (all day, docs/config.md), temporary vehicles refused.
ALL_DAY_PERIOD = """
[[policy.closed_management]]
first_day = 2025-03-03
last_day = 2025-03-09
temporary_vehicles = "refuse"
"""

# A month of closed management that asks a visitor's registration for everyone in the car.
OCCUPANTS_PERIOD = """
[[policy.closed_management]]
first_day = 2025-03-01
last_day = 2025-03-31
temporary_vehicles = "refuse"
visitor_fields = ["occupants"]
"""


def test_an_all_day_closed_period_still_holds_on_its_last_day(make_gw: Callable[..., Gateway]) -> None:  # noqa: F811
    """docs/config.md: `last_day` is inclusive and empty hours mean all day. On Sunday 9 March,
    the last day of a period that refuses temporary vehicles, a stranger's car is turned away
    (closed_management) as on its first day, and on 10 March the period is over."""
    gw = make_gw(extra=ALL_DAY_PERIOD)
    first = show(gw, "car-in", "苏E00001", DAY + 10 * H)
    assert (first.admitted, first.reason) == (False, "closed_management")
    last_day = DAY + timedelta(days=6) + 23 * H + 59 * M  # Sunday 9 March, 23:59
    last = show(gw, "car-in", "苏E00002", last_day)
    assert (last.admitted, last.reason) == (False, "closed_management"), (
        f"9 March is the period's last day (inclusive): a stranger's car got {last.reason}"
    )
    after = show(gw, "car-in", "苏E00003", DAY + timedelta(days=7))  # Monday 10 March, 00:00
    assert (after.admitted, after.reason) == (True, "temporary"), after.reason


def test_a_car_on_a_pass_without_plate_is_kept_out_when_the_period_asks_for_occupants(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """A visitor registered on foot (no plate) drives up and scans the pass's QR at the car lane
    while a closed period asks for everyone in a vehicle: nobody in that car was registered, so the
    car is turned away (closed_management) for the guard to register it (core/decide.py
    registered_at). The same pass still opens the door on foot."""
    gw = make_gw(extra=OCCUPANTS_PERIOD)
    visit = NewPass("visitor", "钱七", T0 - H, T0 + 24 * H, host_building="3栋", host_unit="2单元")
    pid = create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1")
    (qr,) = gw.conn.execute(
        "SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,)
    ).fetchone()
    walked = gw.handle(Presented("door", "qr", qr, 1.0, T0, "door-scanner"))
    assert walked.admitted, walked.reason
    car = gw.handle(Presented("car-in", "qr", qr, 1.0, T0 + H, "car-in-scanner"))
    assert (car.admitted, car.reason) == (False, "closed_management"), (
        f"a car nobody registered the occupants of came in on a pass without a plate: {car.reason}"
    )


def test_a_ticket_nobody_was_given_does_not_open_the_exit_under_open_policy(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """exit_without_entry = "open" lets a stranger's plate out, but a no-plate ticket is only ever
    given at an entrance: one that names no car inside (a slip of the guard's pen) leaves the
    barrier shut for the guard (unknown), never opens it as a temporary car."""
    gw = make_gw(exit_without_entry="open")
    stranger = show(gw, "car-out", "苏E12345", T0)
    assert (stranger.admitted, stranger.reason) == (True, "temporary")  # the policy, for a plate
    slip = show(gw, "car-out", "无牌-0303-07", T0 + H)
    assert (slip.admitted, slip.reason) == (False, "unknown"), (
        f"a ticket nobody was given opened the exit: {slip.reason}"
    )
    assert "no_entry_record" in slip.flags


def test_a_visitor_pass_admits_from_the_minute_it_starts_and_not_at_the_minute_it_ends(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """A visitor's pass valid 08:00 Monday to 09:00 Tuesday (add_visitor: T0 - 1 h to T0 + 1 day;
    the booth prints those times). A minute early its car is not yet valid; at 08:00 sharp it comes
    in; two minutes before the end it still does; at 09:00 sharp on Tuesday the pass has ended
    (expired). Each stay is inside the free half hour. tests/test_core_properties.py holds the same
    edges in the core; this holds them as a pass is stored and read back at the lane."""
    gw = make_gw()
    add_visitor(gw, "苏E99999")
    starts, ends = T0 - H, T0 + timedelta(days=1)
    moments = [
        ("car-in", starts - M, False, "not_yet_valid"),
        ("car-in", starts, True, "visitor"),
        ("car-out", starts + 20 * M, True, "visitor"),
        ("car-in", ends - 2 * M, True, "visitor"),
        ("car-out", ends - M, True, "visitor"),
        ("car-in", ends, False, "expired"),
    ]
    seen = []
    for lane, at, _, _ in moments:
        decided = show(gw, lane, "苏E99999", at)
        seen.append((lane, at, decided.admitted, decided.reason))
    assert seen == moments, seen
