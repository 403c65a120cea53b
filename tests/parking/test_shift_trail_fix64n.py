"""The guard's 交班 page (GET /api/shift, /shift), his handover (POST /api/shift/handover, on the
decision worker in a write transaction, the lanes waiting) and a payment's method corrected (its
shift checked) found where his shift began by reading the whole audit trail, kept
retention.audit_days (365 by default, up to 3650), and for a guard who never handed over the whole
payments table too (payments are kept for ever): on a busy estate's year (~330,000 audit rows) the
shift page took ~145 ms and a handover up to 625 ms. Noticed by reviewer 64E.

Counted in SQLite's own steps (as tests/test_retention_query_plans.py does), not in time: the same
shift costs about the same on a trail of 10,000 rows (36 days of a busy estate's) as on
one of 100,000 (a year)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account
from gateway.store.audit import audit, transaction
from gateway.store.payment_method import correct_method
from gateway.store.shifts import hand_over, mark_payments, shift_of
from gateway.timefmt import from_db, to_db
from tests.conftest import query_plan
from tests.parking.conftest import T0, TZ
from tests.test_retention_query_plans import _vm_steps

SMALL, BIG = 10_000, 100_000
H = timedelta(hours=1)
EVERY = 315  # seconds between audit rows, and between payments: ~270 of each a day


def a_trail(gw: Gateway, rows: int) -> datetime:
    """`rows` audit rows and as many payments, one of each every EVERY seconds up to the day before
    the time it returns, now (other guards' fees and visitors, a booth token's validations), and
    guard1's and guard2's accounts. Now is two days after the newest row the store had (the
    register's import, at the real time): the 36 hours a shift is looked for in hold these rows alone."""
    conn = gw.conn
    (newest,) = conn.execute("SELECT max(at) FROM audit").fetchone()
    now = (from_db(newest) or T0) + 48 * H
    for name in ("guard1", "guard2"):
        create_account(conn, now - 400 * 24 * H, "test", name, "", "guard", "x")
    days = rows * EVERY // 86400  # at a busy estate's rate: 10,000 rows are 36 days, 100,000 a year
    trail = {"rows": rows, "start": to_db(now - (days + 1) * 24 * H)[:19], "span": days * 86400}
    numbers = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)"
    at = "strftime('%Y-%m-%dT%H:%M:%f', :start, printf('+%d seconds', i * :span / :rows)) || '000+00:00'"
    conn.execute("BEGIN")
    conn.execute(
        f"""{numbers}
        INSERT INTO audit (at, actor, action, target, detail)
        SELECT {at}, CASE i % 3 WHEN 0 THEN 'guard3' WHEN 1 THEN 'guard4' ELSE 'token:booth for guard5' END,
               CASE i % 3 WHEN 0 THEN 'payment.take' WHEN 1 THEN 'visitor.register' ELSE 'stay.validate' END,
               'plate:苏E' || i, 'amount 500 fen, cash'
        FROM n""",
        trail,
    )
    conn.execute(
        f"""{numbers}
        INSERT INTO payments (subject, plate, lane, at, fee_until, amount_fen, method, receipt, actor)
        SELECT 'plate:苏E' || i, '苏E' || i, 'car-out', {at}, {at}, 500, 'cash', 'Y-' || i, 'guard3'
        FROM n""",
        trail,
    )
    conn.execute("COMMIT")
    return now


def _steps(make_gw: Callable[..., Gateway], rows: int, guard: str, since: str) -> int:
    gw = make_gw()
    now = a_trail(gw, rows)
    hand_over(gw.conn, "guard1", now - 8 * H, 0, "", TZ)
    with transaction(gw.conn):  # guard4, who registered a third of the trail's visitors, logs in
        mark_payments(gw.conn, audit(gw.conn, now - 2 * H, "guard4", "session.login", "guard4"))
    shift = shift_of(gw.conn, guard, now)
    assert (shift.start.since, shift.payments) == (since, [])
    return _vm_steps(gw.conn, lambda: shift_of(gw.conn, guard, now))


def test_the_shift_after_a_handover_costs_the_same_however_long_the_trail(
    make_gw: Callable[..., Gateway],
) -> None:
    """guard1 handed over 8 hours ago: his shift since then is empty, on a short trail or a long one."""
    small, big = _steps(make_gw, SMALL, "guard1", "handover"), _steps(make_gw, BIG, "guard1", "handover")
    assert big < 2 * small, (
        f"the same empty shift costs {small} SQLite steps on a trail of {SMALL} audit rows and {big} on "
        f"one of {BIG}: his last handover is found by reading the whole trail"
    )


def test_a_shift_never_handed_over_costs_the_same_however_long_the_trail(
    make_gw: Callable[..., Gateway],
) -> None:
    """guard2 never handed over and has no login in the last 36 hours: his shift is the window's, and
    where it begins is found among the window's rows, not by reading the trail and every payment
    from the first."""
    small, big = _steps(make_gw, SMALL, "guard2", "look_back"), _steps(make_gw, BIG, "guard2", "look_back")
    assert big < 2 * small, (
        f"the same empty shift costs {small} SQLite steps on a trail of {SMALL} audit rows and payments "
        f"and {big} on one of {BIG}: the window's start is found by reading both from their oldest row"
    )


def test_a_shift_begun_at_a_login_costs_the_same_however_long_the_trail(
    make_gw: Callable[..., Gateway],
) -> None:
    """guard4 logged in 2 hours ago, never having handed over: his login is looked for among the
    window's rows, not among his own of the whole trail (a third of it here)."""
    small, big = _steps(make_gw, SMALL, "guard4", "login"), _steps(make_gw, BIG, "guard4", "login")
    assert big < 2 * small, (
        f"the same empty shift costs {small} SQLite steps on a trail of {SMALL} audit rows and {big} "
        f"on one of {BIG}: his login is looked for among all his rows"
    )


def _handover_and_correction_steps(make_gw: Callable[..., Gateway], rows: int) -> int:
    gw = make_gw()
    now = a_trail(gw, rows)
    hand_over(gw.conn, "guard1", now - 8 * H, 0, "", TZ)
    gw.conn.execute(
        "INSERT INTO payments (subject, plate, lane, at, fee_until, amount_fen, method, receipt, actor) "
        "VALUES ('plate:苏E00001', '苏E00001', 'car-out', ?, ?, 700, 'qr', 'B-1', 'guard1')",
        (to_db(now - H), to_db(now - H)),
    )

    def correct_then_hand_over() -> None:
        fixed = correct_method(
            gw.conn, "B-1", "cash", "司机付的现金", by="guard1", admin=False, now=now, tz=TZ, max_bytes=65536
        )
        assert fixed.previous_method == "qr"
        assert hand_over(gw.conn, "guard1", now, 700, "", TZ).recorded_cash_fen == 700

    return _vm_steps(gw.conn, correct_then_hand_over)


def test_a_handover_and_a_method_corrected_cost_the_same_however_long_the_trail(
    make_gw: Callable[..., Gateway],
) -> None:
    """The handover (on the decision worker, the lanes waiting) and a guard's payment corrected from
    QR to cash (checked against his shift) read his shift as the page does."""
    small, big = _handover_and_correction_steps(make_gw, SMALL), _handover_and_correction_steps(make_gw, BIG)
    assert big < 2 * small, (
        f"a fee's method corrected and the shift handed over cost {small} SQLite steps on a trail of "
        f"{SMALL} audit rows and {big} on one of {BIG}"
    )


def test_the_last_handover_is_found_by_walking_the_marks_newest_first(gw: Gateway) -> None:
    plans: list[str] = []
    gw.conn.set_trace_callback(plans.append)
    try:
        shift_of(gw.conn, "guard1", T0)
    finally:
        gw.conn.set_trace_callback(None)
    (sql,) = [s for s in plans if "shift.handover" in s]
    plan = query_plan(gw.conn, sql)
    assert "SCAN m" in plan and "SCAN a" not in plan and "TEMP B-TREE" not in plan, plan
