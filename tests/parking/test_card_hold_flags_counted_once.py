"""A car held on its card at an exit with no camera, whose hold carries a flag, and then let out by the
guard's fee taken by its plate (the quote names a card's car by its plate): the exit that ends the hold
is decided again with the hold's flags, which are counted with the hold, not a second time, as for a
car held on its plate (docs/parking.md, *At the exit lane*)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.core import Presented
from tests.conftest import report_so_far
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_api import serving

H = timedelta(hours=1)
S = timedelta(seconds=1)
CARD = "0012345678"
SECOND_CAR = "皖A22222"  # R1's second car; 皖A11111, its first, is on their shared slot B001


def test_a_flag_of_a_car_held_on_its_card_and_paid_by_its_plate_is_counted_once(make_gw: Any) -> None:
    """reentry = "charge": R1's second car came in twice on its card (its first stay's fee carried),
    an admin closed its second stay (the camera was down), and at car-out its card holds it for the
    carried fee, flagged no_entry_record. The guard takes the fee by the plate the quote names: one
    car, one missed read in the report's flags."""
    with serving(make_gw(reentry="charge")) as (gw, client, auth):
        now = gw.now()

        def tap(lane: str, at: Any) -> Any:
            return gw.on_worker(lambda _: gw.handle(Presented(lane, "card", CARD, 1.0, at, "reader"))).result(
                10
            )

        delta(
            gw,
            1,
            0,
            now - 6 * H,
            upsert=[{"kind": "card", "card": CARD, "resident": "R1", "plate": SECOND_CAR}],
        )
        first = Presented("car-in", "plate", "皖A11111", 0.97, now - 5 * H, "cam")
        assert gw.on_worker(lambda _: gw.handle(first)).result(10).reason == "resident"
        assert tap("car-in", now - 4 * H).reason == "temporary"
        assert "already_inside" in tap("car-in", now - 3 * H).flags  # the first stay's fee is carried
        (stay_id,) = gw.conn.execute(
            "SELECT id FROM stays WHERE exited_at IS NULL AND plate = ?", (SECOND_CAR,)
        ).fetchone()
        closed = client.post(
            f"/api/parking/stays/{stay_id}/close", headers=auth, json={"reason": "camera down"}
        )
        assert closed.status_code == 200, closed.text
        held = tap("car-out", now - 30 * S)
        assert (held.reason, held.flags) == ("payment_due", ("no_entry_record",)), held
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": quote["plate"], "amount_fen": quote["due_fen"], "method": "cash"},
        )
        assert paid.status_code == 200 and paid.json()["admitted"], paid.text
        report = report_so_far(gw)
    assert report["held_for_payment"] == 1, report
    assert report["flags"]["no_entry_record"] == 1, report["flags"]
