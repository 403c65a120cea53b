"""Cars parked at a box swap (README, Replacing a box; Review 66 A3). R1's slot B001 lists 皖A11111
(A) and 皖A22222 (B) (tests/parking/conftest.py); the example tariff: 30 minutes free, 5元 the first
hour, 2元 an hour after it.

A new box with a fresh gateway.db knows nothing of B parked on B001: A would come in on the slot,
free, while B is there. A copy of gateway.db keeps B inside though it left after the copy: A would
come in as the slot's second car. The README's steps after the swap put each right: the cars inside
recorded (gateway import-inside, 登记场内车辆) on a fresh box, the cars gone closed (标记离场) on a
copy."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.database import DB_NAME
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
A, B = "皖A11111", "皖A22222"


def test_a_fresh_box_with_the_cars_inside_recorded_bills_the_second_car(
    make_gw: Callable[..., Gateway],
) -> None:
    old = make_gw()
    assert show(old, "car-in", B, T0).billing == "slot"  # B on B001 at 09:00; the old box dies
    new = make_gw()
    record_inside(new.conn, new.site, CarInside(B, T0), "换机：原网关记录的场内车辆", "admin1", T0 + H)
    a_in = show(new, "car-in", A, T0 + 2 * H)  # A at 11:00, B still parked
    assert (a_in.admitted, a_in.billing) == (True, "temporary")  # the slot's second car, not free
    assert show(new, "car-out", A, T0 + 4 * H).fee_fen == 700  # 11:00-13:00 as the second car


def test_a_copy_with_the_cars_gone_closed_lets_the_other_car_in_on_its_slot(
    make_gw: Callable[..., Gateway],
) -> None:
    old = make_gw()
    show(old, "car-in", B, T0)
    copy = old.data_dir.parent / "copy.db"
    with sqlite3.connect(copy) as target:
        old.conn.backup(target)  # the nightly copy, B inside
    show(old, "car-out", B, T0 + H)  # B leaves at 10:00; the old box dies at 10:30
    new = make_gw()
    cfg, data = new.site.config, new.data_dir
    new.conn.close()
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", "boot-alarms.json", "outbox-stream.json"):
        (data / name).unlink(missing_ok=True)
    shutil.copy(copy, data / DB_NAME)
    restored = Gateway(cfg)
    try:
        (stay,) = restored.conn.execute(
            "SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL", (B,)
        ).fetchone()
        with restored.conn:
            restored.parking.close_stay(restored.conn, stay, "换机：备份后已离场", "admin1", T0 + 2 * H)
        a_in = show(restored, "car-in", A, T0 + 3 * H)
        assert (a_in.admitted, a_in.billing) == (True, "slot")  # B001 is empty: A parks on it
    finally:
        restored.conn.close()
