"""A household moves out and comes back as visitors with their own car: one delta."""

from __future__ import annotations

from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.sync.apply import apply_delta
from gateway.sync.staging import STAGING_NAME
from tests.parking.conftest import T0, gw, make_gw, show  # noqa: F401  (fixtures)
from tests.parking.directory_exit_helpers import stage_delta

CAR = "皖B33333"  # R2's (tests/parking/conftest.py seed)
PASS = {
    "kind": "pass",
    "ref": "P9",
    "pass_kind": "visitor",
    "name": "李四",
    "plate": CAR,
    "valid_from": "2025-03-03T08:00+08:00",
    "valid_to": "2025-03-10T18:00+08:00",
}


def test_delta_deleting_a_resident_and_giving_their_car_to_a_pass_is_applied(gw: Gateway) -> None:  # noqa: F811
    """The centre deletes resident R2 (moved out; his car goes with him, docs/mqtt.md *Delta*) and
    in the same delta gives that plate to a visitor pass. A pass plate is refused only when it is
    "a resident's car in the store (one the same change does not delete)"; here the change deletes
    it, so the delta is staged and applied, and the car comes in on the pass. It was refused whole
    with a sync_error."""
    meta = stage_delta(gw, 1, 0, upsert=[PASS], delete=[{"kind": "resident", "ref": "R2"}])
    assert meta["status"] == "staged", meta["problems"]
    apply_delta(gw.conn, gw.data_dir / STAGING_NAME, 1, 0, meta["counts"], T0)
    assert gw.conn.execute("SELECT count(*) FROM vehicles WHERE plate = ?", (CAR,)).fetchone() == (0,)
    entry = show(gw, "car-in", CAR, T0 + timedelta(minutes=5))
    assert (entry.admitted, entry.reason) == (True, "visitor"), entry


def test_a_car_the_delta_hands_to_another_resident_is_still_refused_on_a_pass(gw: Gateway) -> None:  # noqa: F811
    """R2 is deleted but the same delta gives his car to R1: it is still a resident's car, so a
    pass naming its plate is refused, as before."""
    car_to_r1 = {"kind": "vehicle", "plate": CAR, "resident": "R1"}
    meta = stage_delta(gw, 1, 0, upsert=[car_to_r1, PASS], delete=[{"kind": "resident", "ref": "R2"}])
    assert meta["status"] == "rejected", meta
    assert meta["problems"] == [f"pass P9: plate {CAR} is also vehicle {CAR}"], meta["problems"]


def test_a_card_naming_a_car_that_goes_with_its_resident_is_refused(gw: Gateway) -> None:  # noqa: F811
    """A card the same delta ties to the deleted resident's car would name a car no longer there."""
    card = {"kind": "card", "card": "0012345678", "resident": "R1", "plate": CAR}
    meta = stage_delta(gw, 1, 0, upsert=[card], delete=[{"kind": "resident", "ref": "R2"}])
    assert meta["status"] == "rejected", meta
    assert meta["problems"] == [f"card 0012345678: no vehicle '{CAR}'"], meta["problems"]
