"""The re-dating of a stale boot clock on a store of a year's use: one turn of the decision worker,
which every card and plate at a lane waits for, whose work must not grow with the payments kept
(they are never pruned). Counted in SQLite's steps, not timed: a test's timing is the machine's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from gateway.store.parking import _PAID_AHEAD
from gateway.timefmt import to_db
from tests.conftest import query_plan
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot

H = timedelta(hours=1)
S = timedelta(seconds=1)
CARS = 20  # let in on the stale clock, before NTP sets it


def _closed_stays_paid(gw: Gateway, stays: int, paid: int) -> None:
    """`stays` closed stays over the year before, each with `paid` payments (the accounts are kept
    for good)."""
    year = T0 - 400 * 24 * H
    c = gw.conn
    c.execute("BEGIN")
    for i in range(stays):
        at = year + i * 600 * S
        plate = f"苏E{i:05d}"
        stay = c.execute(
            "INSERT INTO stays (subject, plate, class, zone, billing, entered_at, exited_at) "
            "VALUES (?, ?, 'car', 'main', 'temporary', ?, ?)",
            (f"plate:{plate}", plate, to_db(at), to_db(at + H)),
        ).lastrowid
        c.executemany(
            "INSERT INTO payments (subject, plate, stay_id, lane, at, fee_until, amount_fen, "
            "method, receipt, actor) VALUES (?, ?, ?, 'car-out', ?, ?, 500, 'cash', ?, 'guard1')",
            [(f"plate:{plate}", plate, stay, to_db(at + H), to_db(at + H), f"r{i}-{k}") for k in range(paid)],
        )
    c.execute("COMMIT")


def _redate_steps(gw: Gateway) -> int:
    """SQLite's steps in the re-dating's turn: the Pi boots three days behind, CARS cars come in on
    that clock, and NTP sets it."""
    stale = T0 - 72 * H
    a_new_boot(gw)
    steady = Steady()
    counted: dict[str, int] = {}

    def run(fn: Any) -> Any:  # the decision worker: each turn's steps counted
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0

        gw.conn.set_progress_handler(count, 1)
        try:
            return fn(gw.conn)
        finally:
            gw.conn.set_progress_handler(None, 0)
            name = getattr(getattr(fn, "func", fn), "__name__", "?")
            counted[name] = counted.get(name, 0) + steps[0]

    o = Operations(gw.site, gw.db_path, gw.data_dir, run, stale, steady)
    o.tick(stale)
    for i in range(CARS):
        steady.s = 20 * (i + 1)
        assert show(gw, "car-in", f"皖B{i:05d}", stale + steady.s * S).admitted
    steady.s = 4200
    counted.clear()
    o.tick(T0 + steady.s * S)  # NTP
    (mark,) = gw.conn.execute("SELECT detail FROM audit WHERE action = 'clock.redate'").fetchone()
    assert '"rows": 20' in mark, mark
    return counted["redate"]


def test_the_re_dating_does_not_read_every_payment_ever_taken_for_each_car(
    make_gw: Callable[..., Gateway],
) -> None:
    """A store with ten times the payments kept (30,000, not 3,000) costs the re-dating no more
    work: each car's payments are found by their stay, not by reading them all (it was about
    2 s for 200 cars on a year's 150,000 payments, every lane held)."""
    small, big = make_gw(capacity=500), make_gw(capacity=500)
    _closed_stays_paid(small, 1_000, 3)
    _closed_stays_paid(big, 10_000, 3)
    few, many = _redate_steps(small), _redate_steps(big)
    assert many < 1.2 * few, (
        f"re-dating {CARS} cars: {few} steps with 3,000 payments kept, {many} with 30,000"
    )


def test_a_stays_payments_are_read_through_their_index(make_gw: Callable[..., Gateway]) -> None:
    """The re-dating's and a car's exit's look at a stay's payments (schema migration 39)."""
    gw = make_gw()
    for sql in ("SELECT rowid, at, fee_until FROM payments WHERE stay_id = ?", _PAID_AHEAD):
        plan = query_plan(gw.conn, sql, 7)
        assert "payments_stay" in plan and "SCAN payments" not in plan, plan
