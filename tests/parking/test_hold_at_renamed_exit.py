"""A car held to pay at an exit lane whose id the installer renames in a restart, the car still at
the barrier: it pays the fee it was held for (docs/parking.md: the fee runs to the first of a hold),
at the renamed lane as at the same lane after a plain restart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.config import parse_config
from gateway.parking.operations import Operations
from gateway.parking.report import report_period
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_toml, pay, seed, show

M = timedelta(minutes=1)


def _renamed(text: str) -> str:
    """The exit lane car-out is exit-north after the installer's edit (its devices moved with it)."""
    assert 'id = "car-out"\n' in text, "the test's site config no longer has the lane car-out"
    return text.replace('id = "car-out"\n', 'id = "exit-north"\n').replace(
        'lane = "car-out"', 'lane = "exit-north"'
    )


def _held_for_7_yuan_then_restarted(tmp_path: Path, renamed: bool) -> Gateway:
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    now = gw.now()
    assert show(gw, "car-in", "苏E12345", now - 122 * M).admitted
    held = show(gw, "car-out", "苏E12345", now - 3 * M)  # 1 h 59 min: 5元 + 2元
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    gw.conn.close()
    text = parking_toml(data)
    return Gateway(parse_config(_renamed(text) if renamed else text, "site.toml"))


def test_a_car_held_at_an_exit_renamed_in_a_restart_pays_the_fee_it_was_held_for(tmp_path: Path) -> None:
    gw = _held_for_7_yuan_then_restarted(tmp_path, renamed=True)
    try:
        again = show(gw, "exit-north", "苏E12345", gw.now())  # the camera's repeat, still at the barrier
        quote = gw.parking.lane_quote(gw.conn, "exit-north", gw.now())
        paid = pay(gw, "苏E12345", 700, gw.now(), lane="exit-north")
    finally:
        gw.conn.close()
    assert (again.fee_fen, quote and quote["due_fen"]) == (700, 700), (
        f"held for 7元 at the barrier before the restart, the same car is asked {again.fee_fen} fen "
        f"(quote {quote and quote['due_fen']}) at the renamed lane: its fee ran on across the restart"
    )
    assert paid.admitted


def test_a_car_held_at_an_exit_renamed_in_a_restart_is_charged_to_its_hold_when_the_guard_types_it(
    tmp_path: Path,
) -> None:
    """The camera did not decide the car again after the restart: the guard takes the fee by its
    plate at the renamed lane, and it is the fee it was held for."""
    gw = _held_for_7_yuan_then_restarted(tmp_path, renamed=True)
    try:
        paid = pay(gw, "苏E12345", 700, gw.now(), lane="exit-north")
    finally:
        gw.conn.close()
    assert paid.admitted


def test_the_same_restart_without_the_rename_keeps_the_hold(tmp_path: Path) -> None:
    gw = _held_for_7_yuan_then_restarted(tmp_path, renamed=False)
    try:
        assert show(gw, "car-out", "苏E12345", gw.now()).fee_fen == 700
    finally:
        gw.conn.close()


def test_the_daily_report_counts_a_car_held_at_a_renamed_exit_once(tmp_path: Path) -> None:
    """The office reads the day's cars held to pay: the car held before the restart and decided
    again at the renamed lane after it is one car held, not two."""
    gw = _held_for_7_yuan_then_restarted(tmp_path, renamed=True)
    try:
        now = gw.now()
        show(gw, "exit-north", "苏E12345", now)  # the camera's repeat, still at the barrier
        ops = Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), now)
        held = now - 3 * M
        start, _ = report_period(held.date(), gw.site.config.reports.hour, gw.site.tz)
        day = held.date() if held >= start else held.date() - timedelta(days=1)
        report = ops.build_report(day, now + timedelta(days=2))
    finally:
        gw.conn.close()
    assert report["held_for_payment"] == 1
