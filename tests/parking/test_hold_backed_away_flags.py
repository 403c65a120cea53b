"""A car held to pay whose driver backs away from the barrier to find money and comes back a few
minutes later is decided again inside the same hold, not as a camera repeat (`refused_again`). The
daily report counts it as one car held for payment, and its flags "once, with the hold"
(docs/parking.md, *Daily report*)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from gateway.core import Presented
from gateway.events import AccessEvent
from tests.parking.conftest import T0
from tests.parking.test_report_figures import Clock, serving
from tests.rush_helpers import parking_gw

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = T0.replace(hour=0)
STRANGER = "苏E10001"


def test_a_hold_backed_away_from_counts_its_flags_once_like_the_hold(tmp_path: Path) -> None:
    """exit_without_entry = "charge": a stranger with no entry record is held for a day's fee, backs
    away and is held again two minutes later, then pays at the lane. The report said one car held
    and two `no_entry_record`."""
    gw = parking_gw(tmp_path, exit_without_entry="charge")
    clock = Clock(DAY + 10 * H)
    with serving(gw, clock) as (client, auth):

        def look(at: datetime) -> AccessEvent:
            clock.at = at
            p = Presented("car-out", "plate", STRANGER, 0.97, at, "car-out-camera")
            return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)

        for at in (DAY + 10 * H, DAY + 10 * H + 2 * M):
            held = look(at)
            assert (held.reason, held.flags) == ("payment_due", ("no_entry_record",)), held
        clock.at = DAY + 10 * H + 3 * M
        q = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        r = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": STRANGER, "amount_fen": q["due_fen"], "method": "cash"},
        )
        assert r.status_code == 200, r.text
        clock.at = DAY + 24 * H + 5 * M
        report = gw.operations.build_report(DAY.date(), clock.at)
    assert report["held_for_payment"] == 1
    assert report["flags"]["no_entry_record"] == 1, report["flags"]
