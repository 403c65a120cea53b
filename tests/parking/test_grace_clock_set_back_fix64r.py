"""Review 64Ra, fault 1: after a clock set back far behind a payment, a car that paid once left free
however long it stayed: a payment's grace (fee_end) had no lower bound, and since 96fcb89b a fee end
before the entry within it is the payment's fee_until. The grace reaches back no further than the
largest step the gateway takes silently (CLOCK_ALARM, an hour): set back more, the car pays for its
stay as before 96fcb89b (docs/parking.md, *Paying ahead at the booth*; *A clock behind the entry*)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.conftest import show as show_now

CAR = "苏E12345"
M = timedelta(minutes=1)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    "set_back, real_after_paying",
    [(3 * H, 70 * M), (24 * H, 20 * H)],
    ids=["set back 3 h, out 70 min after paying", "set back a day, out 20 h after paying"],
)
def test_a_car_that_paid_once_is_not_let_out_free_long_after_its_grace_with_the_clock_set_back(
    tmp_path: Path, set_back: timedelta, real_after_paying: timedelta
) -> None:
    cfg = parse_config(parking_toml(tmp_path / "data"), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        assert show_now(gw, "car-in", CAR, T0).reason == "temporary"  # 09:00
        paid = T0 + 40 * M  # 09:40: the first hour, 5元
        due = gw.parking.quote(gw.conn, CAR, paid)["due_fen"]
        gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", paid)
        # The clock is set back at 09:41; the car is at the exit `real_after_paying` after paying.
        out = show_now(gw, "car-out", CAR, paid + real_after_paying - set_back)
    finally:
        gw.conn.close()
    assert (out.admitted, out.reason) == (False, "payment_due")
    assert out.fee_fen > 0


def test_a_car_paid_up_still_leaves_free_within_its_grace_with_the_clock_set_back_less_than_an_hour(
    tmp_path: Path,
) -> None:
    cfg = parse_config(parking_toml(tmp_path / "data"), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        assert show_now(gw, "car-in", CAR, T0).reason == "temporary"
        paid = T0 + 40 * M
        due = gw.parking.quote(gw.conn, CAR, paid)["due_fen"]
        gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", paid)
        out = show_now(gw, "car-out", CAR, paid + 5 * M - 55 * M)  # set back 55 minutes, out 5 later
    finally:
        gw.conn.close()
    assert (out.admitted, out.fee_fen) == (True, 0)
