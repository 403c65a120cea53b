"""docs/parking.md, *Misread plates*: a correction of an exit reading changes no stay: the car
held there is let out by the guard's payment at the lane with the corrected plate. The camera
misreads a stranger's plate at the exit (苏E12345 read as 苏E12346): held for a day's fee
(exit_without_entry = "charge"). The guard corrects the reading and takes the stay's fee with the
corrected plate; the car leaves. The lane's quote (the tablet's 收费放行) still showed 苏E12346
held for 30元, for a car that had gone, and the next opening by hand 'let out' that phantom."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.core import Presented
from tests.parking.test_api import serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
REAL, MISREAD = "苏E12345", "苏E12346"


def test_car_paid_for_under_its_corrected_plate_is_no_longer_held_at_the_exit(make_gw: Any) -> None:
    """Once corrected, the lane's quote names the real plate; paid under it and let out, the lane
    holds nobody: its quote names no car and asks nothing."""
    gw = make_gw(exit_without_entry="charge")
    with serving(gw) as (_, client, auth):
        now = gw.now()

        def show(lane: str, plate: str, at: Any) -> Any:
            p = Presented(lane, "plate", plate, 0.97, at, "cam")
            return gw.on_worker(lambda _: gw.handle(p)).result(10)

        assert show("car-in", REAL, now - 3 * H).admitted
        held = show("car-out", MISREAD, now - 2 * M)
        assert held.reason == "payment_due" and held.fee_fen == 3000, held
        r = client.post(f"/api/events/{held.event_id}/plate", headers=auth, json={"plate": REAL})
        assert r.status_code == 200, r.text
        corrected = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        assert corrected["plate"] == REAL, corrected  # the car at the barrier, by its real plate
        due = client.get("/api/parking/quote", headers=auth, params={"plate": REAL}).json()["due_fen"]
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": REAL, "amount_fen": due, "method": "cash"},
        )
        assert paid.status_code == 200 and paid.json()["admitted"], paid.text
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    assert quote.get("plate") is None and quote.get("due_fen", 0) == 0, (
        f"the car has left, paid under {REAL}; the lane still shows {quote.get('plate')} held for "
        f"{quote.get('due_text')}"
    )
