"""A misread at the exit under exit_without_entry = "guard" (review 61h): a stranger in 28 minutes
ago (30 free minutes) is read 苏E12340 for 苏E1234D and refused 禁止通行 未登记, again every 15 s
as it waits; the guard corrects the reading. The car got to the barrier inside its free minutes:
it owes nothing, and the correction carries across the refusal as across a hold (the lane's quote
names the car, the camera's repeat is that car and lets it out). Before, the fee ran to the
guard's 纠正并重新判断 (5元), the quote named no car and the repeat was refused again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving

M = timedelta(minutes=1)
S = timedelta(seconds=1)
REAL, MISREAD = "苏E1234D", "苏E12340"


def _show(gw: Gateway, lane: str, plate: str, at: datetime) -> AccessEvent:
    p = Presented(lane, "plate", plate, 0.97, at, "cam")
    return gw.on_worker(lambda _: gw.handle(p)).result(60)


def _refused_while_waiting(gw: Gateway, now: datetime) -> list[AccessEvent]:
    """In 31 minutes before `now`, at the barrier 28 minutes after: refused every 15 s since."""
    assert _show(gw, "car-in", REAL, now - 31 * M).admitted
    refused = [_show(gw, "car-out", MISREAD, now - 3 * M + i * 15 * S) for i in range(12)]
    assert all(r.flags == ("no_entry_record",) and not r.admitted for r in refused)
    return refused


def test_the_camera_repeat_after_the_correction_lets_the_free_car_out(make_gw: Callable[..., Any]) -> None:
    gw = make_gw()
    with serving(gw) as (_, client, auth):
        now = gw.now()
        last = _refused_while_waiting(gw, now)[-1]
        corrected = client.post(f"/api/events/{last.event_id}/plate", headers=auth, json={"plate": REAL})
        assert corrected.status_code == 200, corrected.text
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        booth = client.get("/api/parking/quote", headers=auth, params={"plate": REAL}).json()
        assert (quote["plate"], quote["due_fen"], booth["due_fen"]) == (REAL, 0, 0)
        again = _show(gw, "car-out", MISREAD, now + 2 * S)
        assert again.admitted and again.fee_fen == 0 and again.plate == REAL
        after = client.get("/api/parking/lanes/car-out/quote", headers=auth).json() or {}
        assert after.get("plate") != REAL  # let out: no longer shown held


def test_correct_and_decide_again_charges_to_the_barrier(make_gw: Callable[..., Any]) -> None:
    gw = make_gw()
    with serving(gw) as (_, client, auth):
        now = gw.now()
        last = _refused_while_waiting(gw, now)[-1]
        r = client.post(f"/api/events/{last.event_id}/plate", headers=auth, json={"plate": REAL})
        assert r.status_code == 200, r.text
        decided = client.post(
            "/api/lanes/car-out/plate",
            headers={**auth, "Idempotency-Key": "fix61h"},
            json={"plate": REAL, "corrected_event": last.event_id},
        ).json()
        assert decided["admitted"], decided
        charged = gw.on_worker(lambda conn: conn.execute("SELECT amount_fen FROM charges").fetchall()).result(
            60
        )
        assert charged == [(0,)]  # its stay's exit: 28 minutes, free (not 5元 to the guard's click)
