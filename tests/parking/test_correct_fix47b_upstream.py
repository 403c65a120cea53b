"""The camera's repeat of a car whose hold at an exit a guard corrected is decided as the corrected
car (ParkingDesk.as_corrected), and its `access` record says so to the centre: `vehicle.plate` the
car let out or held again, the credential as the lane read it, and that reading in the flags
(`read:`) as a look-alike's (docs/mqtt.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_opened_by_hand import RELAY
from tests.parking.test_report_figures import Clock, serving
from tests.ui.test_hand_open_failed_record import _look

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def _sent(gw: Gateway, ev: AccessEvent) -> dict[str, Any]:
    rows = gw.on_worker(
        lambda c: [json.loads(p) for (p,) in c.execute("SELECT payload FROM outbox ORDER BY seq")]
    ).result(timeout=10)
    sent = [r for r in rows if r.get("type") == "access" and r.get("event_id") == ev.event_id]
    assert len(sent) == 1, rows
    return sent[0]


def _repeat_after_correction(gw: Gateway, plate: str, misread: str, stayed: timedelta) -> dict[str, Any]:
    """`plate`, in for `stayed`, misread `misread` at car-out and held; corrected; the camera's
    repeat 15 s on: its access record as it goes up."""
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        assert _look(gw, clock, "car-in", plate, T0).admitted is True
        held = _look(gw, clock, "car-out", misread, T0 + stayed)
        assert held.reason == "payment_due", held
        clock.at = T0 + stayed + 5 * S
        fixed = client.post(f"/api/events/{held.event_id}/plate", headers=auth, json={"plate": plate})
        assert fixed.status_code == 200, fixed.text
        repeat = _look(gw, clock, "car-out", misread, T0 + stayed + 15 * S)
        return _sent(gw, repeat)


def test_the_centre_is_told_which_car_the_corrected_repeat_let_out(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """A stranger's 苏E12345, in 20 minutes, is misread 苏E12346 at car-out and held; the guard
    corrects it and the camera's repeat lets 苏E12345 out on its own stay. The centre's access record
    of that exit named 苏E12346, a car that never came in, so 苏E12345 never left in the centre's
    log: it names the car let out, the credential as the camera read it."""
    gw = make_gw(extra=RELAY, exit_without_entry="charge")
    sent = _repeat_after_correction(gw, "苏E12345", "苏E12346", 20 * M)
    assert (sent["admitted"], sent["reason"]) == (True, "temporary"), sent
    assert sent["vehicle"]["plate"] == "苏E12345", f"the centre is told {sent['vehicle']} left"
    assert (sent["credential"]["value"], sent["flags"]) == ("苏E12346", ["read:苏E12346"]), sent


def test_the_corrected_repeat_held_again_names_the_car_held(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """In 3 hours, the corrected car still owes its own fee (9元, not the misread plate's 30元):
    held again, its record names it and that fee."""
    gw = make_gw(extra=RELAY, exit_without_entry="charge")
    sent = _repeat_after_correction(gw, "苏E12345", "苏E12346", 3 * H)
    assert (sent["admitted"], sent["reason"], sent["fee_fen"]) == (False, "payment_due", 900), sent
    assert (sent["vehicle"]["plate"], sent["credential"]["value"]) == ("苏E12345", "苏E12346"), sent
    assert "read:苏E12346" in sent["flags"] and "lookalike" not in sent["flags"], sent


def test_the_resident_corrected_repeat_names_the_residents_car(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """A resident's car, misread and held as a stranger, corrected: let out as the resident's car,
    as before."""
    gw = make_gw(extra=RELAY, exit_without_entry="charge")
    sent = _repeat_after_correction(gw, "皖B33333", "皖B3333B", 2 * H)
    assert (sent["admitted"], sent["reason"], sent["holder"]["kind"]) == (True, "resident", "resident"), sent
    assert (sent["vehicle"]["plate"], sent["credential"]["value"]) == ("皖B33333", "皖B3333B"), sent
    assert sent["flags"] == ["read:皖B3333B"], sent
