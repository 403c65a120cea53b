"""A car refused at the exit that the guard lets out by hand (开闸) has left, as a car held there to
pay does (docs/parking.md, *Let out by hand*); and the receipt numbers the gateway makes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.test_opened_by_hand import RELAY, _camera_at_the_exit, _exit_with_relay, _rows

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
RESIDENT = "皖B33333"  # R2's car, on its own slot B002
NIGHT = T0 + 14 * H  # 23:00, after the car exit's hours


@pytest.fixture
def night_exit(tmp_path: Path) -> Iterator[Gateway]:
    """The parking site, its car exit open 07:00-22:00 (lane `hours`), with anti_passback = "hard"."""
    text = parking_toml(tmp_path / "data", extra=RELAY)
    text = text.replace('id = "car-out"\n', 'id = "car-out"\nhours = ["07:00-22:00"]\n', 1)
    text = text.replace('anti_passback = "soft"', 'anti_passback = "hard"', 1)
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    yield gw
    gw.conn.close()


def test_resident_car_let_out_by_hand_outside_the_exits_hours_is_no_longer_inside(
    night_exit: Gateway,
) -> None:
    """The car exit keeps opening hours (lane `hours`); outside them a resident must leave (a child
    to hospital at night). The camera reads the car: 禁止通行 不在通行时段, the barrier stays down, and
    the guard opens it by hand (开闸, reason given) for that car, which drives out. The gateway still
    has the car inside: its stay stays open, its fixed slot shows taken on 车位占用 and upstream, and
    when it comes back it is taken for a car whose exit was missed (already_inside; refused outright
    with anti_passback = "hard"). The gateway knows which car it just turned away at that barrier:
    as for a car held there to pay (docs/parking.md *Let out by hand*: "Left open, the stay kept a
    space taken"), the guard's opening for it should record it as gone."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, open_by_hand):
        assert look("car-in", RESIDENT, T0).admitted
        refused = look("car-out", RESIDENT, NIGHT)
        assert refused.reason == "outside_hours", refused
        open_by_hand()
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        closed = _rows(gw, "SELECT closed_by, exit_event FROM stays")
        back = look("car-in", RESIDENT, NIGHT + H)
        sent = [json.loads(p) for (p,) in _rows(gw, "SELECT payload FROM outbox WHERE topic = 'stay'")]
        audited = _rows(gw, "SELECT detail FROM audit WHERE action = 'stay.close'")
    assert inside == [], (
        f"the guard let the car out, yet the gateway still has {inside} inside (its slot taken)"
    )
    assert closed == [("hand", refused.event_id)], closed
    assert [(s["change"], s["plate"], s["lane"]) for s in sent] == [("closed_by_hand", RESIDENT, "car-out")]
    assert [d for (d,) in audited] == [f"{RESIDENT}: let out by hand at car-out: 业主确认访客，已线下处理"]
    assert back.admitted and "already_inside" not in back.flags, back


def test_the_camera_reading_the_refused_car_let_out_as_it_pulls_away_lets_it_go(
    night_exit: Gateway,
) -> None:
    """Let out by hand, the resident's car is read again by the exit's camera 3 s later, still under
    the barrier: it is the car just let out (flag `again`), not refused once more, and no more
    refusals go on record (*One car, one passage*)."""
    gw = night_exit
    _camera_at_the_exit(gw)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", RESIDENT, T0)
        look("car-out", RESIDENT, NIGHT)
        open_by_hand()
        again = look("car-out", RESIDENT, NIGHT + 3 * S)
    assert (again.admitted, again.flags) == (True, ("again",)), again


def test_a_car_refused_a_minute_before_the_opening_is_not_let_out_by_it(night_exit: Gateway) -> None:
    """The resident's car was turned away at 23:00 and backed off into the car park; a minute later
    the guard opens the barrier by hand for something else (a delivery tricycle). The car is still
    inside: only a car refused at the barrier a moment ago is the one the opening is for."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", RESIDENT, T0)
        look("car-out", RESIDENT, NIGHT)
        gw.now.at = NIGHT + M  # type: ignore[attr-defined]
        open_by_hand()
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
    assert inside == [(RESIDENT,)]


def test_the_car_refused_is_let_out_once(night_exit: Gateway) -> None:
    """The guard presses 开闸 twice for the resident's car (the barrier fell before it moved): it
    leaves once, on the record, and nothing more is closed or told upstream."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", RESIDENT, T0)
        look("car-out", RESIDENT, NIGHT)
        open_by_hand()
        gw.now.at = NIGHT + 5 * S  # type: ignore[attr-defined]
        open_by_hand()
        closed = _rows(gw, "SELECT count(*) FROM audit WHERE action = 'stay.close'")
        openings = _rows(gw, "SELECT count(*) FROM let_outs_by_hand")
    assert (closed, openings) == ([(1,)], [(1,)])


def test_a_car_refused_with_no_stay_is_let_out_closing_nothing(night_exit: Gateway) -> None:
    """A resident's car with no entry record (the camera missed it coming in) is refused at the
    exit at night and let out by hand: there is no stay to close, and nothing else is."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", "皖A11111", T0)  # another car of the estate, inside
        refused = look("car-out", RESIDENT, NIGHT)
        assert not refused.admitted, refused
        open_by_hand()
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        closed = _rows(gw, "SELECT count(*) FROM audit WHERE action = 'stay.close'")
    assert (inside, closed) == ([("皖A11111",)], [(0,)])


def test_a_lane_held_open_for_a_car_refused_closes_no_stay(night_exit: Gateway) -> None:
    """Holding the exit open (常开) lets out no car on record, refused or held to pay: the guard
    holds it for a convoy, not for one car (docs/parking.md, *Let out by hand*)."""
    gw = night_exit
    with _exit_with_relay(gw) as (look, _):
        look("car-in", RESIDENT, T0)
        look("car-out", RESIDENT, NIGHT)
        gw.by_hand.hold_lane("car-out", "保安 王", "车队")
        inside = _rows(gw, "SELECT plate FROM stays WHERE exited_at IS NULL")
        gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    assert inside == [(RESIDENT,)]
