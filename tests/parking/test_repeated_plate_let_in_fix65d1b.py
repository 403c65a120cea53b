"""Review 65 Rc: a stranger refused at an entrance and let in by the guard's 开闸 (let_in_by_hand)
that drops a guest and leaves within the alarm's window was counted three times: its refused read,
the let-in (which carries the camera's device) and its read at the exit. The let-in is the refused
read's car, counted already: it raised 陌生车牌反复出现 for one car in once and out once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from gateway.config.models import Alarms
from gateway.runtime.gateway import Gateway
from gateway.runtime.watch import AlarmWatch
from tests.parking.conftest import T0
from tests.parking.test_entrance_opened_by_hand_fix65d1 import RELAY, Booth
from tests.parking.test_operations import CLOSED
from tests.parking.test_report_figures import Clock, serving

M = timedelta(minutes=1)
S = timedelta(seconds=1)
CAR = "苏E00002"  # nobody's: refused in the closed hours


@pytest.fixture
def watched(make_gw: Callable[..., Gateway]) -> Iterator[tuple[Booth, list[float]]]:
    gw = make_gw(extra=CLOSED + RELAY)  # closed management 07:00-21:00 that Monday
    now = [0.0]  # minutes since T0, the watch's clock
    gw.subscribe(AlarmWatch(gw, Alarms(), clock=lambda: now[0] * 60).on_event)  # 3 in 10 minutes
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        yield Booth(gw, clock, client, auth), now


def _alarms(booth: Booth) -> list[Any]:
    booth.gw.on_worker(lambda _: None).result(10)  # what the watch raised is written by now
    return booth.rows("SELECT kind, source FROM alarms WHERE kind = 'repeated_unknown_plate'")


def test_a_stranger_let_in_by_hand_that_leaves_soon_raises_no_alarm(watched: Any) -> None:
    booth, now = watched
    assert booth.read("car-in", CAR, T0).reason == "closed_management"
    assert booth.open(T0 + 10 * S) == 200  # 开闸: let in on record
    now[0] = 6
    out = booth.read("car-out", CAR, T0 + 6 * M)  # drops the guest, leaves
    assert out.admitted
    flags = booth.rows("SELECT lane, admitted, flags FROM access_log ORDER BY at")
    assert flags == [("car-in", 0, ""), ("car-in", 1, "let_in_by_hand"), ("car-out", 1, "")]
    assert _alarms(booth) == []


def test_a_stranger_let_in_by_hand_whose_plate_is_read_twice_more_raises_it(watched: Any) -> None:
    booth, now = watched
    assert booth.read("car-in", CAR, T0).reason == "closed_management"
    assert booth.open(T0 + 10 * S) == 200
    now[0] = 3
    assert booth.read("car-out", CAR, T0 + 3 * M).admitted
    now[0] = 6
    assert booth.read("car-in", CAR, T0 + 6 * M).reason == "closed_management"  # back again
    assert _alarms(booth) == [("repeated_unknown_plate", CAR)]
