"""Review 61z: a stranger's car misread at the exit (exit_without_entry = "guard", 苏E12340 for
苏E1234D) is refused no_entry_record; the guard corrects the reading and the camera's next read
of the misread plate, decided as the corrected car, lets it out free, or holds it to pay and the
guard takes the fee (docs/parking.md, Misread plates). The day's report had one exit and also one
refusal, and flagged a missed entry read for a car whose entry is on record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import make_gw  # noqa: F401
from tests.parking.test_report_figures import DAY, Clock, H, M, S, build, look, serving

REAL, MISREAD = "苏E1234D", "苏E12340"


@pytest.mark.parametrize("parked", [28 * M, 2 * H], ids=["free", "paid"])
def test_a_misread_exit_corrected_and_let_out_is_one_exit_and_no_refusal(
    make_gw: Callable[..., Gateway],  # noqa: F811
    parked: timedelta,
) -> None:
    gw = make_gw()
    clock = Clock(DAY + 10 * H)
    with serving(gw, clock) as (client, auth):
        assert look(gw, "car-in", "plate", REAL, clock()).admitted
        clock.at += parked
        refused = look(gw, "car-out", "plate", MISREAD, clock())
        assert not refused.admitted and refused.flags == ("no_entry_record",), refused
        clock.at += 30 * S
        fixed = client.post(f"/api/events/{refused.event_id}/plate", headers=auth, json={"plate": REAL})
        assert fixed.status_code == 200, fixed.text
        clock.at += 5 * S
        again = look(gw, "car-out", "plate", MISREAD, clock(), again=True)
        assert again.plate == REAL, again
        if not again.admitted:  # held to pay its two hours: the guard takes the fee at the lane
            assert again.reason == "payment_due", again
            quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
            clock.at += 20 * S
            paid = client.post(
                "/api/parking/lanes/car-out/pay",
                headers=auth,
                json={"plate": REAL, "amount_fen": quote["due_fen"], "method": "cash"},
            )
            assert paid.status_code == 200 and paid.json()["admitted"], paid.text
        clock.at = DAY + 25 * H
        body = build(client, auth, "2025-03-03")
    assert body["vehicles"]["entries"]["total"] == 1
    assert body["vehicles"]["exits"]["total"] == 1
    assert body["refusals"] == {"total": 0, "by_reason": {}}, body["refusals"]
    assert body["flags"]["no_entry_record"] == 0, body["flags"]
