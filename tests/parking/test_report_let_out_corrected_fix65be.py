"""Review 65 Rbe: a car let out by the guard's 开闸 at an exit is one exit in the daily report (docs/
parking.md *Let out by hand*, *Daily report*), also when its stay is closed there by a correction.
Its entry misread (苏E12345 read as 苏E12346), the exit reads it right: no entry record, the barrier
kept shut (exit_without_entry = "guard", the default); the guard lets it out by hand; the office
corrects the entry in the plate log, which closes the stay, moved onto 苏E12345, at the opening
(closed_by 'correction', by_hand upstream). The report counted its entry and no exit: in 1, out 0,
with nothing inside; the closed-management summary missed its exit too."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.test_opened_by_hand import RELAY, _exit_with_relay, _rows, _until
from tests.parking.test_operations import CLOSED, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)
REAL, MISREAD = "苏E12345", "苏E12346"


@contextmanager
def _let_out_then_corrected(gw: Gateway, entered: datetime, left: datetime) -> Iterator[Any]:
    """The misread entry, the exit held with no entry record and let out by hand, the entry then
    corrected; the stays as they stand, the gateway still running."""
    with _exit_with_relay(gw) as (look, open_by_hand):
        came = look("car-in", MISREAD, entered)
        held = look("car-out", REAL, left)
        assert not held.admitted and "no_entry_record" in held.flags
        open_by_hand()
        _until(lambda: _rows(gw, "SELECT count(*) FROM let_outs_by_hand") == [(1,)], "not let out")
        gw.on_worker(lambda c: correct_plate(c, came.event_id, REAL, "office1", left + 4 * H)).result()
        yield _rows(gw, "SELECT plate, closed_by, exited_at IS NOT NULL FROM stays")


def test_a_car_let_out_by_hand_whose_entry_is_corrected_is_one_exit(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=RELAY)
    with _let_out_then_corrected(gw, T0, T0 + 2 * H) as stays:
        body = gw.on_worker(lambda c: report_of_t0_day(gw, T0 + 30 * H)).result()
    assert stays == [(REAL, "correction", 1)]  # gone, closed at the opening
    v = body["vehicles"]
    got = (v["entries"]["total"], v["exits"]["total"])
    assert got == (1, 1), f"one car in and let out by hand, nothing inside: report says in/out {got}"
    assert {c: n for c, n in v["exits"]["by_class"].items() if n} == {"car": 1}
    assert {k: n for k, n in v["exits"]["by_kind"].items() if n} == {"temporary": 1}


def test_in_the_closed_hours_it_is_one_vehicle_out(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=RELAY + CLOSED)  # closed management 07:00-21:00 that Monday
    day = T0.replace(hour=0)
    with _let_out_then_corrected(gw, day + 6 * H, day + 10 * H) as stays:
        gw.on_worker(lambda _: ops(gw, started=day).reports(day + 24 * H + 5 * 60 * S)).result(10)
        (text,) = _rows(gw, "SELECT body FROM daily_reports WHERE day = '2025-03-03'")[0]
    assert stays == [(REAL, "correction", 1)]
    cm = json.loads(text)["closed_management"]
    assert (cm["vehicles_in"], cm["vehicles_out"]) == (0, 1)  # in before the hours
