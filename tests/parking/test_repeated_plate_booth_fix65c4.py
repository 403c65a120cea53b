"""Review Rdc (of 3354d44c): a temporary car whose muddy plate the guard types at the entrance,
types again at the exit (held: 请缴费), whose driver pays at the booth window (POST
/api/parking/prepay, not the fee taken at the lane) and which the guard types once more to let
out, raised 陌生车牌反复出现: the third typing counted as a third try. A plate a guard types at an
exit names a car inside already, never a new try; at an entrance, where a stranger tries again
and again, it still counts (test_repeated_plate_typed_fix65c2)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.config.models import Alarms
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_toml, seed
from tests.parking.test_repeated_plate_typed_fix65c2 import Booth, _booth

M = timedelta(minutes=1)
PLATE = "皖Z98765"  # nobody's: a temporary car (the test site's no_slot = "temporary")


@pytest.fixture
def hour_window(make_gw: Callable[..., Gateway]) -> Iterator[Booth]:
    """30 minutes free; alarmed at 3 tries in an hour."""
    yield from _booth(make_gw(), Alarms(repeated_minutes=60))


@pytest.fixture
def charged_from_first_minute(tmp_path: Path) -> Iterator[Booth]:
    """free_minutes = 0 and the default rule (3 tries in 10 minutes)."""
    text = parking_toml(tmp_path / "data").replace("free_minutes = 30", "free_minutes = 0")
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        yield from _booth(gw, Alarms())
    finally:
        gw.conn.close()


def _typed_in_held_paid_at_the_booth_typed_out(b: Booth, minutes: int) -> None:
    assert b.type("car-in", PLATE, 0 * M)["admitted"]  # the camera cannot read it: typed in
    assert b.type("car-out", PLATE, minutes * M)["reason"] == "payment_due"  # typed at the exit
    b.at((minutes + 2) * M)  # the driver walks to the booth window and pays there
    quote = b.client.get("/api/parking/quote", params={"plate": PLATE}, headers=b.auth)
    assert quote.status_code == 200, quote.text
    body = {"plate": PLATE, "amount_fen": quote.json()["fee_fen"], "method": "cash", "receipt": ""}
    paid = b.client.post("/api/parking/prepay", headers=b.auth, json=body)
    assert paid.status_code == 200, paid.text
    assert b.type("car-out", PLATE, (minutes + 3) * M)["admitted"]  # typed once more: let out


def test_a_muddy_plate_paid_at_the_booth_raises_no_alarm(hour_window: Booth) -> None:
    _typed_in_held_paid_at_the_booth_typed_out(hour_window, 40)
    assert hour_window.alarms() == []


def test_a_drop_off_paid_at_the_booth_raises_no_alarm_under_the_default_rule(
    charged_from_first_minute: Booth,
) -> None:
    _typed_in_held_paid_at_the_booth_typed_out(charged_from_first_minute, 5)
    assert charged_from_first_minute.alarms() == []


def test_a_stranger_the_exit_camera_reads_three_times_still_raises_it(hour_window: Booth) -> None:
    stranger = "苏E55555"
    for minute in (0, 2, 4):  # held at the exit, backs away, comes back
        hour_window.read("car-out", stranger, minute * M)
    assert hour_window.alarms() == [("repeated_unknown_plate", stranger)]
