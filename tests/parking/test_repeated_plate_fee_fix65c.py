"""Review 65c: a temporary car that comes in, is held at the exit and pays the guard there was read
twice, in and out. The fee the guard took (收费放行, decided on the plate the guard's tablet names) is
no third camera read: it raised 陌生车牌反复出现 for a paying car where parking is charged from the
first minute, or where the alarm's window is longer than the free time. A stranger's plate the
cameras read three times still raises it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from gateway.config import parse_config
from gateway.config.models import Alarms
from gateway.runtime.gateway import Gateway
from gateway.runtime.watch import AlarmWatch
from tests.parking.conftest import T0, parking_toml, pay, seed, show

M = timedelta(minutes=1)
PLATE = "皖Z98765"  # nobody's: a temporary car (the test site's no_slot = "temporary")


def _watched(gw: Gateway, rules: Alarms) -> list[float]:
    """Watch `gw` with `rules` on a clock the test sets (minutes since T0)."""
    now = [0.0]
    gw.subscribe(AlarmWatch(gw, rules, clock=lambda: now[0] * 60).on_event)
    return now


def _alarms(gw: Gateway) -> list[tuple[str, str]]:
    gw.on_worker(lambda c: None).result(10)  # what the watch raised is written by now
    return gw.conn.execute("SELECT kind, source FROM alarms").fetchall()


def _read(gw: Gateway, plate: str, at: datetime, conn: object) -> None:
    show(gw, "car-out", plate, at)


def _stays_and_pays(gw: Gateway, now: list[float], minutes: int) -> None:
    assert gw.on_worker(lambda c: show(gw, "car-in", PLATE, T0)).result(10).admitted
    now[0] = minutes
    out = T0 + minutes * M
    held = gw.on_worker(lambda c: show(gw, "car-out", PLATE, out)).result(10)
    assert held.reason == "payment_due"
    assert gw.on_worker(lambda c: pay(gw, PLATE, 500, out + M / 2)).result(10).admitted


def test_a_car_paying_at_the_exit_within_an_hour_window(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    now = _watched(gw, Alarms(repeated_minutes=60))
    gw.worker.start()
    try:
        _stays_and_pays(gw, now, 40)  # past the site's 30 free minutes
        assert _alarms(gw) == []
    finally:
        gw.worker.stop()


def test_a_car_paying_at_the_exit_where_parking_is_charged_from_the_first_minute(tmp_path: Path) -> None:
    text = parking_toml(tmp_path / "data").replace("free_minutes = 30", "free_minutes = 0")
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    now = _watched(gw, Alarms())  # the default: 3 reads in 10 minutes
    gw.worker.start()
    try:
        _stays_and_pays(gw, now, 5)  # drops someone off
        assert _alarms(gw) == []
    finally:
        gw.worker.stop()
        gw.conn.close()


def test_a_strangers_plate_read_three_times_still_raises_it(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    now = _watched(gw, Alarms())
    gw.worker.start()
    try:
        stranger = "苏E55555"
        for minute in (0, 2, 4):  # refused at the exit, turns round, comes back
            now[0] = minute
            gw.on_worker(partial(_read, gw, stranger, T0 + minute * M)).result(10)
        assert _alarms(gw) == [("repeated_unknown_plate", stranger)]
    finally:
        gw.worker.stop()
