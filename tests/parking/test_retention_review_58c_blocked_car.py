"""Review 58c (retention): a guard's "Block now" on a visitor's car (a driver who threatened a
guard, a car reported stolen) holds after the pass ends, "the block is the car's" (docs/parking.md,
*Nobody is kept in*). The hourly retention pass deleted the pass retention.visitors_days (30) after
it ended, and the blocked plate with it: no audit row, no alarm, nothing to the centre; the same
car was let in as a temporary one, and the guard could not block it again (404
unregistered_plate). The pass is now kept as the plate's holder, bare of the visitor's data, until
an admin lifts the block; the next pass after that deletes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.errors import Conflict, Refused
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, Occupant, create_pass
from gateway.store.registry import set_blocked
from tests.parking.conftest import T0, show
from tests.parking.test_operations import ops

D = timedelta(days=1)
START = T0 - 41 * D  # a one-day visit that ended 40 days ago: past visitors_days (30)
PLATE = "浙A99999"
PHONE, ID = "13812345678", "11010519491231002X"


def _blocked_visitor_car(gw: Gateway) -> None:
    visit = NewPass(
        kind="visitor", name="钱七", valid_from=START, valid_to=START + D, phone=PHONE, id_number=ID,
        host_building="3栋", host_unit="2单元", reason="送货", plate=PLATE,
        occupants=(Occupant("钱七", PHONE, ID),),
    )  # fmt: skip
    create_pass(gw.conn, gw.secrets, visit, START, "guard1")
    assert show(gw, "car-in", PLATE, START + timedelta(hours=1)).admitted
    assert show(gw, "car-out", PLATE, START + timedelta(hours=1, minutes=20)).admitted
    # The driver threatened the guard on the way out: "Block now" on his car.
    set_blocked(gw.conn, START + timedelta(hours=2), "guard1", ("plate", PLATE), True, "威胁保安")


def test_a_blocked_visitor_car_is_still_refused_after_visitor_retention(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    _blocked_visitor_car(gw)
    before = show(gw, "car-in", PLATE, T0 - timedelta(hours=2))
    assert (before.admitted, before.reason) == (False, "blocked")

    ops(gw).retention(T0)

    after = show(gw, "car-in", PLATE, T0 + timedelta(hours=1))
    assert (after.admitted, after.reason) == (False, "blocked"), f"let in as {after.reason}"
    # The guard pressing "Block now" again is told it is blocked already, not that it is unregistered.
    with pytest.raises(Conflict) as again:
        set_blocked(gw.conn, T0 + timedelta(hours=1), "guard1", ("plate", PLATE), True, "又来了")
    assert again.value.http_code == "already_done"
    # A new visit registered for that car is refused while the block holds, as before retention.
    new = NewPass(kind="visitor", name="钱七", valid_from=T0, valid_to=T0 + D, plate=PLATE)
    with pytest.raises(Refused) as refused:
        create_pass(gw.conn, gw.secrets, new, T0, "guard1")
    assert refused.value.http_code == "plate_blocked"


def test_what_is_kept_for_the_block_holds_nothing_of_the_visitor(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    _blocked_visitor_car(gw)
    ops(gw).retention(T0)
    kept = gw.conn.execute(
        "SELECT name, phone_masked, phone_hash, id_masked, id_hash, reason, plate FROM passes"
    ).fetchall()
    assert kept == [("", "", "", "", "", "", PLATE)]
    assert gw.conn.execute("SELECT count(*) FROM pass_people").fetchone()[0] == 0
    its_own = gw.conn.execute("SELECT kind FROM credentials WHERE pass_id IS NOT NULL").fetchall()
    assert its_own == [("plate",)]  # its QR is gone
    assert ops(gw).retention(T0 + timedelta(hours=1))["visitor_passes"] == 0  # stripped once


def test_once_an_admin_lifts_the_block_retention_deletes_the_rest(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    _blocked_visitor_car(gw)
    ops(gw).retention(T0)
    set_blocked(gw.conn, T0 + timedelta(hours=1), "admin", ("plate", PLATE), False, "已处理")
    assert ops(gw).retention(T0 + timedelta(hours=2))["visitor_passes"] == 1
    assert gw.conn.execute("SELECT count(*) FROM passes").fetchone()[0] == 0
    assert gw.conn.execute("SELECT count(*) FROM credentials WHERE pass_id IS NOT NULL").fetchone()[0] == 0
    assert show(gw, "car-in", PLATE, T0 + timedelta(hours=3)).admitted  # an ordinary temporary car now
