"""Review 65 D, fault 4: a car refused at a vehicle entrance that the guard then lets in with 开闸
(a single opening, with its reason) was recorded as nothing: not an entry, so the report said it
was turned away, and at the exit it was held as a car with no entry record (a temporary car left
unbilled, or paid a day's fee). The entrance's opening now lets in, on record, the car that
entrance refused in the 30 s before it, as the exit's opening lets out the car it refused
(docs/parking.md, *Let in by hand*)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import CLOSED, ops
from tests.parking.test_report_figures import Clock, look, serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
CAR = "苏E00002"  # nobody's: refused in the closed hours (closed_management)
RELAY = """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"
"""


class Booth:
    """The lanes and the guard's 开闸 at car-in, at the times the test gives."""

    def __init__(self, gw: Gateway, clock: Clock, client: Any, auth: dict[str, str]) -> None:
        self.gw, self.clock, self.client, self.auth = gw, clock, client, auth

    def read(self, lane: str, plate: str, at: datetime, again: bool = False) -> AccessEvent:
        self.clock.at = at
        return look(self.gw, lane, "plate", plate, at, again)  # type: ignore[no-any-return]

    def open(self, at: datetime, action: str = "open") -> int:
        self.clock.at = at
        r = self.client.post(
            f"/api/lanes/car-in/{action}", headers=self.auth, json={"reason": "业主电话确认"}
        )
        self.gw.on_worker(lambda _: None).result(10)  # what the opening queued on the worker is done
        return int(r.status_code)

    def rows(self, sql: str) -> list[Any]:
        return self.gw.on_worker(lambda c: c.execute(sql).fetchall()).result(10)


@pytest.fixture
def booth(make_gw: Callable[..., Gateway]) -> Iterator[Booth]:
    gw = make_gw(extra=CLOSED + RELAY)  # closed management 07:00-21:00 that Monday
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        yield Booth(gw, clock, client, auth)


def _inside(booth: Booth) -> list[Any]:
    return booth.rows("SELECT plate, billing, entered_at FROM stays WHERE exited_at IS NULL ORDER BY id")


def _db(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def test_a_car_refused_then_let_in_by_hand_is_inside_and_leaves_paying_its_fee(booth: Booth) -> None:
    refused = booth.read("car-in", CAR, T0)
    assert (refused.admitted, refused.reason) == (False, "closed_management")
    assert booth.open(T0 + 10 * S) == 200
    assert _inside(booth) == [(CAR, "temporary", _db(T0 + 10 * S))]  # billed from the opening
    (entry,) = booth.rows("SELECT reason, flags FROM access_log WHERE lane = 'car-in' AND admitted = 1")
    assert entry == ("temporary", "let_in_by_hand")
    audited = booth.rows("SELECT actor, action, detail FROM audit WHERE action = 'stay.record'")
    assert audited == [("token:booth", "stay.record", f"{CAR}: let in by hand at car-in: 业主电话确认")]
    sent = [json.loads(p) for (p,) in booth.rows("SELECT payload FROM outbox WHERE topic = 'access'")]
    assert [(s["admitted"], s["flags"]) for s in sent] == [(False, []), (True, ["let_in_by_hand"])]

    # The camera reads it again as it drives through: the car just let in, not refused again.
    through = booth.read("car-in", CAR, T0 + 13 * S, again=True)
    assert (through.admitted, through.flags) == (True, ("again",))
    out = booth.read("car-out", CAR, T0 + 2 * H + 10 * S)
    assert (out.reason, out.flags) == ("payment_due", ())
    assert out.fee_fen > 0
    day = T0.replace(hour=0)
    booth.gw.on_worker(lambda _: ops(booth.gw, started=day).reports(day + 24 * H + 5 * M)).result(10)
    (body,) = booth.rows("SELECT body FROM daily_reports WHERE day = '2025-03-03'")
    cm = json.loads(body[0])["closed_management"]
    assert (cm["vehicles_in"], cm["vehicles_turned_away"]) == (1, 0)


def test_an_opening_with_no_car_refused_in_the_30_s_before_it_lets_nobody_in(booth: Booth) -> None:
    """Nothing refused at all (an ambulance), or a car refused 31 s before: it backed away."""
    assert booth.open(T0) == 200
    booth.read("car-in", CAR, T0 + M)
    assert booth.open(T0 + M + 31 * S) == 200
    assert _inside(booth) == []
    assert booth.rows("SELECT count(*) FROM access_log WHERE admitted = 1") == [(0,)]


def test_of_two_cars_refused_only_the_latest_is_let_in_and_only_once(booth: Booth) -> None:
    booth.read("car-in", "苏E00003", T0)
    booth.read("car-in", CAR, T0 + 5 * S)
    assert booth.open(T0 + 10 * S) == 200
    assert booth.open(T0 + 20 * S) == 200  # opened again for the same car: one entry
    assert [plate for plate, _, _ in _inside(booth)] == [CAR]
    assert booth.rows("SELECT count(*) FROM access_log WHERE admitted = 1") == [(1,)]


def test_an_opening_no_relay_took_lets_no_car_in_and_the_next_one_does(
    booth: Booth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay board is unplugged: 开闸 fails (relay_failed), the barrier stayed down and the
    car is still outside. Plugged back, the camera refuses the standing car again and the guard's
    next 开闸 lets it in."""
    (relay,) = booth.gw.devices.lanes["car-in"].relays

    def unplugged(seconds: float, ref: str = "") -> None:
        raise OSError("no such device")

    booth.read("car-in", CAR, T0)
    with monkeypatch.context() as m:
        m.setattr(relay, "pulse", unplugged)
        assert booth.open(T0 + 5 * S) == 500
    assert _inside(booth) == []
    relay.health.set_online()  # plugged back
    booth.read("car-in", CAR, T0 + 20 * S, again=True)  # still there: refused again
    assert booth.open(T0 + 25 * S) == 200
    assert _inside(booth) == [(CAR, "temporary", _db(T0 + 25 * S))]


def test_an_opening_of_a_lane_held_open_lets_no_car_in_on_record(booth: Booth) -> None:
    booth.read("car-in", CAR, T0)
    assert booth.open(T0 + 5 * S, "hold") == 200
    assert booth.open(T0 + 10 * S) == 200
    assert _inside(booth) == []


def test_a_residents_car_let_in_by_hand_at_a_closed_lane_comes_in_on_its_slot(booth: Booth) -> None:
    assert booth.open(T0 - M, "close") == 200
    assert booth.read("car-in", "皖B33333", T0).reason == "lane_closed"
    assert booth.open(T0 + 10 * S) == 200
    assert _inside(booth) == [("皖B33333", "slot", _db(T0 + 10 * S))]
