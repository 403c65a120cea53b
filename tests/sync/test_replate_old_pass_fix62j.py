"""The centre re-plates R1's parked second car 皖A22222 -> 皖AD22222 onto a plate a visitor pass once
had (the resident's new car, let in as his visitor until the property registered it) (review 62f).

The pass is over or checked out, but its plate credential stays with it until retention deletes it.
The re-registration was refused whole ("is pass 1's plate already ... delete that registration in
an earlier delta", which the centre cannot: the pass is the booth's), the snapshot then asked for
did not re-plate either, and the car left on its new plate free (a resident's car with no entry
record), its stay under the old plate open for good. A pass over lets its plate go, as a plain
vehicle entry takes it; only a pass still in use (the door's rule) refuses the delta, whole, also
when the guard registers it between staging and applying the delta.

R1's cars 皖A11111 and 皖A22222 share slot B001 (tests/parking/conftest.py); 30 minutes free, 5元
the first hour, 2元 an hour after it: 皖A22222 in 09:01-14:00 pays 13元.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.passes import NewPass, check_out, create_pass
from gateway.store.registry import update_vehicle
from gateway.store.registry_credentials import set_blocked
from gateway.sync.apply import apply_delta
from gateway.sync.errors import DownlinkRejected
from gateway.sync.staging import STAGING_NAME
from tests.parking.conftest import T0, gw, make_gw, show  # noqa: F401  (fixtures)
from tests.parking.directory_exit_helpers import delta, stage_delta
from tests.sync.snapshot_steps import register, snapshot

H = timedelta(hours=1)
A, B, GREEN_B = "皖A11111", "皖A22222", "皖AD22222"
B001 = {"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": [A, B]}
B_RE_REGISTERED = {"kind": "vehicle", "plate": GREEN_B, "resident": "R1", "previous_plate": B}
SLOT_LISTING_NEW = {**B001, "plates": [A, GREEN_B]}
STAY_09_01_TO_14_00 = 1300


def _visit(gw: Gateway, start: datetime, hours: int = 4) -> int:  # noqa: F811
    visit = NewPass(
        "visitor", "张三", start, start + hours * H, host_building="3栋", host_unit="2单元", plate=GREEN_B
    )
    return create_pass(gw.conn, gw.secrets, visit, start, "guard1")


def _checked_out_last_week(gw: Gateway) -> int:  # noqa: F811
    pid = _visit(gw, T0 - timedelta(days=7))
    check_out(gw.conn, pid, T0 - timedelta(days=7) + 2 * H, "guard1")
    return pid


def _checked_out_this_morning(gw: Gateway) -> int:  # noqa: F811
    """Registered for the whole day, checked out at 08:00: over by the door's rule though its dates run on."""
    pid = _visit(gw, T0 - 2 * H, hours=12)
    check_out(gw.conn, pid, T0 - H, "guard1")
    return pid


def _ran_out_yesterday(gw: Gateway) -> int:  # noqa: F811
    """Never checked out: its dates ended yesterday."""
    return _visit(gw, T0 - timedelta(days=1))


PASSES_OVER = pytest.mark.parametrize(
    "pass_over",
    [_checked_out_last_week, _checked_out_this_morning, _ran_out_yesterday],
    ids=["checked_out_last_week", "checked_out_this_morning", "ran_out_yesterday"],
)


def _second_car_parked(gw: Gateway) -> None:  # noqa: F811
    assert show(gw, "car-in", A, T0).billing == "slot"
    second = show(gw, "car-in", B, T0 + timedelta(minutes=1))
    assert (second.reason, second.flags) == ("temporary", ("shared_slot",))


def _leaves_paying_its_stay(gw: Gateway) -> None:  # noqa: F811
    assert sorted(s["plate"] for s in open_stays(gw.conn)) == [A, GREEN_B]
    out = show(gw, "car-out", GREEN_B, T0 + 5 * H)
    assert "no_entry_record" not in out.flags
    assert (out.reason, out.fee_fen) == ("payment_due", STAY_09_01_TO_14_00), (
        out.reason,
        out.fee_fen,
        out.flags,
    )


@PASSES_OVER
def test_delta_re_plates_onto_the_plate_of_a_pass_over(
    gw: Gateway,  # noqa: F811
    pass_over: Callable[[Gateway], int],
) -> None:
    pid = pass_over(gw)
    _second_car_parked(gw)
    delta(gw, 1, 0, T0 + H, upsert=[B_RE_REGISTERED, SLOT_LISTING_NEW])
    held = gw.conn.execute(
        "SELECT pass_id FROM credentials WHERE kind = 'plate' AND value = ?", (GREEN_B,)
    ).fetchall()
    assert held == [(None,)]  # the car's now, the pass's credential gone
    assert gw.conn.execute("SELECT plate FROM passes WHERE id = ?", (pid,)).fetchone() == (
        GREEN_B,
    )  # its record kept
    _leaves_paying_its_stay(gw)


def test_snapshot_re_plates_onto_the_plate_of_a_pass_over(gw: Gateway) -> None:  # noqa: F811
    _checked_out_last_week(gw)
    _second_car_parked(gw)
    entries = [e for e in register([SLOT_LISTING_NEW]) if e.get("plate") != B]
    snapshot(gw, 1, [*entries, B_RE_REGISTERED], T0 + H, rows=2)
    _leaves_paying_its_stay(gw)


def test_a_guards_block_on_the_plate_stays_on_it(gw: Gateway) -> None:  # noqa: F811
    """As a plain vehicle entry taking the plate keeps it: a block is lifted only on record."""
    pid = _checked_out_last_week(gw)
    set_blocked(gw.conn, T0 - H, "guard1", ("plate", GREEN_B), True, "stolen")
    _second_car_parked(gw)
    delta(gw, 1, 0, T0 + H, upsert=[B_RE_REGISTERED, SLOT_LISTING_NEW])
    row = gw.conn.execute(
        "SELECT pass_id, blocked FROM credentials WHERE kind = 'plate' AND value = ?", (GREEN_B,)
    )
    assert row.fetchall() == [(None, 1)], pid


def test_admin_corrects_a_plate_onto_the_plate_of_a_pass_over(gw: Gateway) -> None:  # noqa: F811
    _checked_out_last_week(gw)
    _second_car_parked(gw)
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (B,)).fetchone()[0]
    update_vehicle(gw.conn, T0 + H, "admin", vid, {"plate": GREEN_B})
    _leaves_paying_its_stay(gw)


def _nothing_applied(gw: Gateway) -> None:  # noqa: F811
    assert gw.conn.execute("SELECT applied_version FROM sync_state").fetchone() == (0,)
    assert gw.conn.execute("SELECT 1 FROM vehicles WHERE plate = ?", (GREEN_B,)).fetchone() is None
    assert gw.conn.execute("SELECT 1 FROM vehicles WHERE plate = ?", (B,)).fetchone() is not None
    assert sorted(s["plate"] for s in open_stays(gw.conn)) == [A, B]


def test_delta_onto_the_plate_of_a_pass_in_use_is_refused_whole(gw: Gateway) -> None:  # noqa: F811
    """Today's visitor pass, not checked out: the plate is the pass's until the guard checks it out."""
    pid = _visit(gw, T0 - H)
    _second_car_parked(gw)
    meta = stage_delta(gw, 1, 0, upsert=[B_RE_REGISTERED, SLOT_LISTING_NEW])
    with pytest.raises(DownlinkRejected) as refused:
        apply_delta(gw.conn, gw.data_dir / STAGING_NAME, 1, 0, meta["counts"], T0 + H)
    assert f"pass {pid}" in refused.value.problems[0], refused.value.problems
    _nothing_applied(gw)


def test_pass_registered_between_staging_and_applying_refuses_the_delta(gw: Gateway) -> None:  # noqa: F811
    """Before, the re-registration's refusal was logged and the delta applied anyway: the entry
    added 皖AD22222 as another car, the car's stay under 皖A22222 stayed open for good."""
    _second_car_parked(gw)
    meta = stage_delta(gw, 1, 0, upsert=[B_RE_REGISTERED, SLOT_LISTING_NEW])
    assert meta["status"] == "staged", meta["problems"]
    _visit(gw, T0 + 30 * timedelta(minutes=1))  # the guard, meanwhile
    with pytest.raises(DownlinkRejected):
        apply_delta(gw.conn, gw.data_dir / STAGING_NAME, 1, 0, meta["counts"], T0 + H)
    _nothing_applied(gw)
