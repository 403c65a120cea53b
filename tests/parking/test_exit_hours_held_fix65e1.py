"""Review 65e1: a car held to pay at an exit whose opening hours end while the driver is paying.

The exit `night-out` is open 06:00-23:00. A temporary car held there at 22:58 (payment_due) had its
fee refused at 23:01 (`exit_refused`, worded "the lane closed or the car blocked: reopen the lane"),
though the lane was neither; 开放通道 answered already_done, and only 开闸 let the car out, which
under the default `reentry = "void"` dropped the fee. The hours keep new cars out, not the car
standing at the barrier since before they ended: its hold is judged at its start. A car that comes
after the hours is still refused `outside_hours`, and a fee for it is refused naming the hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.parking import ParkingError
from gateway.web.i18n import TEXTS
from tests.parking.conftest import TZ, parking_toml, pay, seed, show
from tests.parking.test_report_figures import Clock, look, serving

EXIT_HOURS = """
[[lanes]]
id = "night-out"
gate = "north"
direction = "exit"
type = "vehicle"
zone = "main"
hours = ["{hours}"]

[[devices]]
id = "night-out-barrier"
lane = "night-out"
kind = "relay"
driver = "simulated"
"""
HELD = datetime(2025, 3, 3, 22, 58, tzinfo=TZ)
AFTER = datetime(2025, 3, 3, 23, 1, tzinfo=TZ)


def _exit(hours: str = "06:00-23:00") -> str:
    return EXIT_HOURS.format(hours=hours)


def _money(gw: Gateway) -> tuple[int, int]:
    return gw.on_worker(
        lambda c: c.execute("SELECT count(*), coalesce(sum(amount_fen), 0) FROM payments").fetchone()
    ).result()


def _standing(gw: Gateway, clock: Clock, plate: str, until: datetime) -> Any:
    """The car held at night-out stands at its barrier until `until`: the camera decides it again
    every 15 s (repeat_after_s), each repeat a decision of its hold. Its last decision."""
    again = None
    while clock.at < until:
        clock.at = min(clock.at + timedelta(seconds=15), until)
        again = look(gw, "night-out", "plate", plate, clock.at, again=True)
    return again


def _paying(client: Any, auth: dict[str, str], plate: str, amount_fen: int) -> Any:
    body = {"plate": plate, "amount_fen": amount_fen, "method": "cash", "receipt": ""}
    return client.post("/api/parking/lanes/night-out/pay", headers=auth, json=body)


def test_a_car_held_before_closing_time_pays_and_leaves_after_it(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=_exit())
    clock = Clock(datetime(2025, 3, 3, 20, 0, tzinfo=TZ))
    with serving(gw, clock) as (client, auth):
        look(gw, "car-in", "plate", "苏E12345", clock.at)
        clock.at = HELD
        held = look(gw, "night-out", "plate", "苏E12345", HELD)
        assert held.reason == "payment_due", held
        # The camera decides the car standing there again: still the one hold, its fee on the display.
        again = _standing(gw, clock, "苏E12345", AFTER)
        quote = client.get("/api/parking/lanes/night-out/quote", headers=auth).json()
        paid = _paying(client, auth, "苏E12345", quote["due_fen"])
        after = client.get("/api/parking/lanes/night-out/quote", headers=auth).json()
        stays = gw.on_worker(
            lambda c: c.execute("SELECT exited_at IS NOT NULL FROM stays").fetchall()
        ).result()
        money = _money(gw)
    assert again.reason == "payment_due" and "refused_again" in again.flags, again
    assert again.fee_fen == held.fee_fen
    assert quote["plate"] == "苏E12345" and quote["due_fen"] == held.fee_fen > 0
    assert paid.status_code == 200, paid.json()
    assert paid.json()["admitted"] and paid.json()["reason"] == "temporary"
    assert money == (1, quote["due_fen"])  # taken once, what the guard was quoted
    assert stays == [(1,)]  # the car has left: its stay is closed
    assert after["plate"] is None  # nothing more is asked at the lane


def test_a_car_held_before_closing_time_paid_at_the_booth_leaves_on_its_plate(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=_exit())
    clock = Clock(datetime(2025, 3, 3, 20, 0, tzinfo=TZ))
    with serving(gw, clock) as (client, auth):
        look(gw, "car-in", "plate", "苏E12345", clock.at)
        clock.at = HELD
        held = look(gw, "night-out", "plate", "苏E12345", HELD)
        _standing(gw, clock, "苏E12345", AFTER)
        due = client.get("/api/parking/quote", headers=auth, params={"plate": "苏E12345"}).json()["due_fen"]
        body = {"plate": "苏E12345", "amount_fen": due, "method": "cash"}
        paid = client.post("/api/parking/prepay", headers=auth, json=body)
        out = look(gw, "night-out", "plate", "苏E12345", AFTER, again=True)
        money = _money(gw)
    assert due == held.fee_fen > 0
    assert paid.status_code == 200, paid.json()
    assert out.admitted and out.reason == "temporary", out
    assert money == (1, due)


def test_a_car_that_comes_after_closing_time_is_still_refused(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=_exit())
    clock = Clock(datetime(2025, 3, 3, 20, 0, tzinfo=TZ))
    with serving(gw, clock) as (client, auth):
        look(gw, "car-in", "plate", "苏E12345", clock.at)
        clock.at = AFTER
        came = look(gw, "night-out", "plate", "苏E12345", AFTER)
        # Paid all the same (an API client, or the plate typed on the dialog): refused, naming why.
        due = client.get("/api/parking/quote", headers=auth, params={"plate": "苏E12345"}).json()["due_fen"]
        paid = _paying(client, auth, "苏E12345", due)
        money = _money(gw)
    assert came.reason == "outside_hours" and not came.admitted, came
    assert due > 0
    assert paid.status_code == 409
    error = paid.json()["error"]
    assert error["code"] == "exit_refused"
    assert (error["state"], error["hours"]) == ("outside_hours", "06:00-23:00")
    assert "06:00-23:00" in error["message"] + error["fix"]
    assert "reopen" not in error["fix"]
    assert money == (0, 0)
    zh, en = TEXTS["err.exit_refused.outside_hours"]
    assert "{hours}" in zh and "{hours}" in en
    assert "开放通道" not in zh and "已关闭" not in zh


def test_a_hold_begun_outside_the_hours_is_refused_as_before(tmp_path: Path) -> None:
    """Held at 22:58 under hours to 23:00, the installer then shortening them to 22:00 (a restart):
    the hold began outside the hours the lane has now, and it is refused outside_hours at 23:01."""
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data, extra=_exit()), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        show(gw, "car-in", "苏E12345", datetime(2025, 3, 3, 20, 0, tzinfo=TZ))
        assert show(gw, "night-out", "苏E12345", HELD).reason == "payment_due"
    finally:
        gw.conn.close()
    second = Gateway(parse_config(parking_toml(data, extra=_exit("06:00-22:00")), "site.toml"))
    try:
        again = second.handle(Presented("night-out", "plate", "苏E12345", 0.97, AFTER, "cam", again=True))
        with pytest.raises(ParkingError) as refused:
            due = second.parking.quote(second.conn, "苏E12345", AFTER)["due_fen"]
            pay(second, "苏E12345", due, AFTER, lane="night-out")
        money = second.conn.execute("SELECT count(*) FROM payments").fetchone()[0]
    finally:
        second.conn.close()
    assert again.reason == "outside_hours", again
    assert refused.value.http_code == "exit_refused"
    assert refused.value.data == {"state": "outside_hours", "hours": "06:00-22:00"}
    assert money == 0
