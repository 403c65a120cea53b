"""The camera's `again` looks at a car the corrected repeat let out (4fee2b1: Gateway._decide_one,
_as_read) name that car, as the record they repeat does (docs/mqtt.md): they named the misread
plate, a car that never came in, let through as a resident with no resident."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_correct_fix47b_upstream import _sent
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving
from tests.ui.test_hand_open_failed_record import _look

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def _let_out_then_seen_again(
    gw: Gateway, plate: str, misread: str, stayed: timedelta, looks: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`plate`, in for `stayed`, misread `misread` at car-out and held; corrected; the camera's
    repeat 15 s on lets it out, and it looks at the car `looks` times more (`again`, 3 s apart) as
    it passes under the barrier: the repeat's access record and those looks', as they go up."""
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        assert _look(gw, clock, "car-in", plate, T0).admitted is True
        held = _look(gw, clock, "car-out", misread, T0 + stayed)
        assert held.reason == "payment_due", held
        clock.at = T0 + stayed + 5 * S
        fixed = client.post(f"/api/events/{held.event_id}/plate", headers=auth, json={"plate": plate})
        assert fixed.status_code == 200, fixed.text
        first = _sent(gw, _look(gw, clock, "car-out", misread, T0 + stayed + 15 * S))
        assert (first["admitted"], first["vehicle"]["plate"]) == (True, plate), first
        again = []
        for n in range(1, looks + 1):
            clock.at = T0 + stayed + (15 + 3 * n) * S
            p = Presented("car-out", "plate", misread, 0.97, clock.at, "cam", again=True)
            again.append(_sent(gw, gw.on_worker(lambda _, p=p: gw.handle(p)).result(timeout=10)))
    return first, again


def _named(sent: dict[str, Any]) -> tuple[Any, ...]:
    return (sent["reason"], sent["billing"], sent["holder"], sent["vehicle"], sent["credential"]["value"])


@pytest.mark.parametrize(
    ("plate", "misread", "stayed"),
    [("皖B33333", "皖B3333B", 2 * H), ("苏E12345", "苏E12346", 20 * M)],
    ids=["resident", "stranger"],
)
def test_again_looks_after_the_corrected_repeat_name_the_car_let_out(
    make_gw: Callable[..., Gateway],  # noqa: F811
    plate: str,
    misread: str,
    stayed: timedelta,
) -> None:
    """A resident's 皖B33333 (or a stranger's 苏E12345 in 20 minutes), misread at car-out and held,
    is corrected by the guard; the camera's repeat lets it out as that car, and the camera looks at
    it twice more as it passes under the barrier. Each `again` record named the misread plate (the
    resident's: reason resident, billing slot, no holder); each names the car the repeat let out,
    its credential the plate the camera read, flagged `read:` beside `again` (no `lookalike`)."""
    gw = make_gw(extra=RELAY, exit_without_entry="charge")
    first, again = _let_out_then_seen_again(gw, plate, misread, stayed, looks=2)
    for sent in again:
        assert sent["admitted"] is True, sent
        assert _named(sent) == _named(first), (
            f"the `again` record of the car just let out names {_named(sent)}, not {_named(first)}"
        )
        assert sent["flags"] == ["again", f"read:{misread}"], sent
