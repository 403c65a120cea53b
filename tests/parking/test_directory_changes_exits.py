"""The register changing while cars are parked: each car still leaves as it came in, pays what its
stay owes, and a centre pass stays one vehicle's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, pay, show
from tests.parking.directory_exit_helpers import delta, stage_delta
from tests.parking.test_operations import ops


def _pass(ref: str, kind: str, *plates: str) -> dict[str, Any]:
    return {
        "kind": "pass",
        "ref": ref,
        "pass_kind": kind,
        "name": "孙八",
        "host_building": "3栋",
        "host_unit": "2单元",
        "plate": plates[0],
        "valid_from": "2025-03-03T08:00+08:00",
        "valid_to": "2025-03-10T18:00+08:00",
        "credentials": [{"kind": "plate", "value": p} for p in plates],
    }


def _exits_match_entries(gw: Gateway) -> tuple[dict[str, int], dict[str, int]]:
    vehicles = ops(gw).build_report(T0.date(), T0 + timedelta(days=2))["vehicles"]
    return vehicles["entries"]["by_kind"], vehicles["exits"]["by_kind"]


def test_resident_car_struck_off_while_inside_leaves_free_as_resident(gw: Gateway) -> None:
    """R2's car parks on its own slot; the centre deletes the car while it is inside (sold, moved
    out). It leaves free, as the resident's car it came in as, and the report's exits match its
    entries (it used to leave as a temporary car)."""
    assert show(gw, "car-in", "皖B33333", T0).reason == "resident"
    delta(gw, 1, 0, T0 + timedelta(hours=1), delete=[{"kind": "vehicle", "plate": "皖B33333"}])
    out = show(gw, "car-out", "皖B33333", T0 + timedelta(hours=3))
    assert (out.reason, out.fee_fen, out.flags) == ("resident", 0, ())
    entries, exits = _exits_match_entries(gw)
    assert exits == entries


def test_shared_slot_second_car_struck_off_while_inside_still_pays_as_temporary(gw: Gateway) -> None:
    """R1's second car comes in while the first is on their slot (一位多车: temporary, pays by
    time); the centre deletes it while it is parked. At the exit it still pays its stay, and
    leaves as the temporary car it came in as."""
    assert show(gw, "car-in", "皖A11111", T0).reason == "resident"
    assert show(gw, "car-in", "皖A22222", T0 + timedelta(minutes=1)).reason == "temporary"
    delta(gw, 1, 0, T0 + timedelta(hours=1), delete=[{"kind": "vehicle", "plate": "皖A22222"}])
    held = show(gw, "car-out", "皖A22222", T0 + timedelta(hours=3))
    assert held.reason == "payment_due" and held.fee_fen > 0
    out = pay(gw, "皖A22222", held.fee_fen, T0 + timedelta(hours=3, minutes=1))
    assert (out.reason, out.flags) == ("temporary", ())


@pytest.mark.parametrize("kind", ["visitor", "contractor"])
def test_pass_withdrawn_while_inside_leaves_as_its_pass(gw: Gateway, kind: str) -> None:
    """A centre visitor's (or contractor's) pass is withdrawn while the car is parked. The car pays
    its stay at the exit and leaves as the visitor (contractor) it came in as, so the daily
    report's exits by kind match its entries (it used to leave as a temporary car)."""
    delta(gw, 1, 0, T0 - timedelta(minutes=5), upsert=[_pass("P3", kind, "皖E33333")])
    assert show(gw, "car-in", "皖E33333", T0).reason == kind
    delta(gw, 2, 1, T0 + timedelta(hours=1), delete=[{"kind": "pass", "ref": "P3"}])
    held = show(gw, "car-out", "皖E33333", T0 + timedelta(hours=3))
    assert held.reason == "payment_due" and held.fee_fen > 0
    out = pay(gw, "皖E33333", held.fee_fen, T0 + timedelta(hours=3, minutes=1))
    assert (out.reason, out.flags) == (kind, ())
    entries, exits = _exits_match_entries(gw)
    assert exits == entries


def _monthly_second_car(gw: Gateway, tmp_path: Path) -> None:
    """R1's 皖A22222, monthly to the end of 4 March, comes in while 皖A11111 is on their slot B001."""
    f = write_csv(
        tmp_path / "monthly.csv",
        """
        plate,resident_ref,monthly_until
        皖A22222,R1,2025-03-04
        """,
    )
    import_csv(gw.site.config, [f])
    assert show(gw, "car-in", "皖A11111", T0).reason == "resident"
    second = show(gw, "car-in", "皖A22222", T0 + timedelta(hours=1))
    assert (second.reason, second.flags) == ("monthly", ("shared_slot",))


def test_monthly_second_car_handed_its_slot_then_period_ends_owes_nothing(
    gw: Gateway, tmp_path: Path
) -> None:
    """一位多车 with a monthly second car: the first car leaves, so the monthly car moves onto the
    slot (handover); its month then ends while it sits on its own slot. At its exit two days later
    it owes nothing: before the handover it was paid up, after it on its own slot (it used to be
    charged a full day, 30元)."""
    _monthly_second_car(gw, tmp_path)
    assert show(gw, "car-out", "皖A11111", T0 + timedelta(hours=2)).admitted  # the handover
    out = show(gw, "car-out", "皖A22222", T0 + timedelta(days=3))
    assert (out.reason, out.fee_fen) == ("monthly", 0)


def test_monthly_second_car_handed_its_slot_after_period_ended_pays_the_time_between(
    gw: Gateway, tmp_path: Path
) -> None:
    """The same car, but its month ends (5 March 00:00) two hours before the first car leaves: it
    pays for those two hours in the shared spaces (5元 + 2元), nothing for its time on the slot."""
    _monthly_second_car(gw, tmp_path)
    first_out = T0.replace(day=5, hour=2)
    assert show(gw, "car-out", "皖A11111", first_out).admitted  # the handover
    out = show(gw, "car-out", "皖A22222", T0 + timedelta(days=3))
    assert (out.reason, out.fee_fen) == ("payment_due", 700)


@pytest.mark.parametrize(
    "entry",
    [
        _pass("P4", "contractor", "皖F11111", "皖F22222"),  # two plate credentials
        {**_pass("P4", "contractor", "皖F22222"), "plate": "皖F11111"},  # its plate is not the one that opens
    ],
    ids=["two-plates", "plate-and-credential-differ"],
)
def test_centre_pass_for_a_second_van_is_refused_with_what_to_do(gw: Gateway, entry: dict[str, Any]) -> None:
    """A renovation company's pass names its van, which drives in; the centre then adds the crew's
    second van to the same pass. The gateway refuses the change and says to send one pass per
    vehicle: one pass shares one stay between its plates, so the second van's entry would close
    the first's stay (and anti-passback refuse it), and the first van's exit settle the second's."""
    delta(gw, 1, 0, T0 - timedelta(minutes=5), upsert=[_pass("P4", "contractor", "皖F11111")])
    assert show(gw, "car-in", "皖F11111", T0).reason == "contractor"
    meta = stage_delta(gw, 2, 1, upsert=[entry])
    assert meta["status"] == "rejected"
    (problem,) = meta["problems"]
    assert "entry 0 (pass P4)" in problem and "one pass per vehicle" in problem, problem


def test_second_van_on_a_pass_of_its_own_parks_beside_the_first(gw: Gateway) -> None:
    """Done as the refusal says, the second van on a pass of its own comes in as another car: both
    vans' stays are open and both hold a space."""
    delta(gw, 1, 0, T0 - timedelta(minutes=5), upsert=[_pass("P4", "contractor", "皖F11111")])
    assert show(gw, "car-in", "皖F11111", T0).reason == "contractor"
    delta(gw, 2, 1, T0 + timedelta(minutes=30), upsert=[_pass("P5", "contractor", "皖F22222")])
    second = show(gw, "car-in", "皖F22222", T0 + timedelta(hours=1))
    assert (second.reason, second.flags) == ("contractor", ())
    inside = gw.conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL ORDER BY id").fetchall()
    assert inside == [("皖F11111",), ("皖F22222",)]
