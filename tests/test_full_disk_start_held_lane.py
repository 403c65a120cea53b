"""A power cut while the SD card is full, with a lane held open (常开) for a convoy: the box boots
again on the full disk. It used to die at start ("the site's database: database or disk is full")
and stay down, the barrier dropped on the convoy, while the same box with no lane held started and
ran. It starts, holds the barrier up again (README: a held lane stays held across a power cut), and
the hold's record (`lane.hold` by `gateway`) waits in memory, as a single opening's does, until the
disk takes writes again.

The full disk is the suite's: SQLite's SQLITE_FULL on each insert into the audit and outbox tables
(tests/ui/conftest.py, fill_the_disk)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    gpio_io,
    mock_pins,
    no_leaked_threads,
    query,
    start_gateway,
    wait_for,
)

GPIO_IO = gpio_io(held_open_s=0.3)
_FILLED = ("access_log", "audit", "outbox")


def fill_the_disk(gw: Gateway) -> None:
    """tests/ui/conftest.py's full disk, on a gateway not started yet: its worker's connection may
    not grow the file, and each insert into those tables writes a megabyte."""
    with sqlite3.connect(gw.db_path) as conn:
        conn.execute("CREATE TABLE ballast (b BLOB)")
        for table in _FILLED:
            conn.execute(
                f"CREATE TRIGGER full_{table} BEFORE INSERT ON {table} "
                "BEGIN INSERT INTO ballast VALUES (zeroblob(1000000)); END"
            )
    gw.conn.execute("PRAGMA max_page_count = 1")


def free_the_disk(gw: Gateway) -> None:
    with sqlite3.connect(gw.db_path) as conn:
        for table in _FILLED:
            conn.execute(f"DROP TRIGGER full_{table}")
    gw.on_worker(lambda c: c.execute("PRAGMA max_page_count = 1073741823")).result(timeout=60)


def holds(gw: Gateway) -> list[tuple[str, str]]:
    return query(gw, "SELECT action, actor FROM audit WHERE action LIKE 'lane.hold%' ORDER BY id")


def held_by_a_guard(tmp_path: Path, pins: MockFactory) -> None:
    """A guard held the car-in lane open for a convoy, its arm went up, and the power went."""
    gw = start_gateway(tmp_path, GPIO_IO)
    gw.start()
    try:
        gw.by_hand.hold_lane("car-in", "保安 王", "车队")
        pins.pin(6).drive_low()
    finally:
        gw.stop()


def test_a_box_restarted_on_a_full_disk_holds_its_held_lane_again(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
) -> None:
    """The card filled up during the convoy; the power goes and comes back. The gateway starts
    (no decision can be stored, but the guard can open by hand and the lanes are watched), the
    barrier goes up again and the page shows the lane held by the guard who held it. Once space
    is freed, the hold again after the restart is on record, as on a disk with room."""
    held_by_a_guard(tmp_path, mock_pins)
    again = start_gateway(tmp_path, GPIO_IO)
    fill_the_disk(again)
    mock_pins.pin(6).drive_low()  # the arm is still up
    try:
        again.start()  # raised sqlite3.OperationalError: database or disk is full
        assert mock_pins.pin(17).state is True, "the barrier was dropped on the convoy"
        assert again.by_hand.held == {"car-in": "保安 王"}
        assert holds(again) == [("lane.hold", "保安 王")]  # its record waits for the disk
        assert again.by_hand.unrecorded_opens() >= 1
        free_the_disk(again)
        wait_for(lambda: len(holds(again)) == 2, "the hold again after the restart on record")
        assert holds(again) == [("lane.hold", "保安 王"), ("lane.hold", "gateway")]
        assert again.by_hand.held == {"car-in": "保安 王"} and mock_pins.pin(17).state is True
    finally:
        again.stop()
