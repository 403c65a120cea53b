"""Review s41money: money a monthly-car owner meets when the office renews or takes back a period
while the car is parked, and when the prices change while a monthly car is parked. A renewal stops
billing, it never adds any: not past the moment a fee paid at the booth or held at the lane was
worked out to. A monthly car pays the version published when it came in, not the one in force when
its period ran out, and the start's WARNING counts it among the cars that keep the old prices."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.timefmt import to_db
from tests.conftest import TARIFF_TOML
from tests.parking.conftest import T0, parking_toml, pay, seed, show
from tests.parking.test_tariff_added_while_parked import MONDAY

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
CAR = "皖C44444"  # R3's monthly car


def _vid(gw: Gateway) -> int:
    return int(gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (CAR,)).fetchone()[0])


def _renewed_and_taken_back(gw: Gateway) -> int:
    """皖C44444's month ran out; it comes in at 09:00 Monday paying (monthly_expired). The office
    renews it at 10:00 (billing stops) and takes the renewal back at 09:00 Tuesday (billing
    resumes)."""
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = ?", (to_db(T0 - D), CAR))
    came = show(gw, "car-in", CAR, T0)
    assert came.reason == "temporary" and "monthly_expired" in came.flags, came
    vid = _vid(gw)
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"monthly_until": T0 + 31 * D})
    registry.update_vehicle(gw.conn, T0 + D, "admin", vid, {"monthly_until": None})
    return vid


def test_paid_at_the_booth_then_renewed_leaves_within_grace_without_paying_more(gw: Gateway) -> None:
    """皖C44444's month ran out; it comes in at 09:00 Monday paying (monthly_expired). The office
    renews it at 10:00 (billing stops) and takes the renewal back at 09:00 Tuesday (billing resumes).
    At 10:00 Tuesday the driver pays at the booth what the quote asks (5元 + 5元 = 10元) and is told
    to leave by 10:15 (grace 15 min). At 10:10 the office renews the car again (the money came
    through). At 10:12 the car reaches the exit. docs/parking.md *Paying ahead at the booth*: the
    car "then has grace_minutes to leave without paying more"; a renewal stops billing, it never
    adds any. It was held at the barrier for 2元 more: the time kept between the take-back and the
    renewal (09:00-10:10) was billed to 10:10, past the 10:00 the booth fee was taken to."""
    vid = _renewed_and_taken_back(gw)
    quoted = gw.parking.quote(gw.conn, CAR, T0 + D + H)
    assert quoted["due_fen"] == 1000, quoted
    gw.parking.prepay(gw.conn, CAR, 1000, "cash", "", "booth", T0 + D + H)
    registry.update_vehicle(gw.conn, T0 + D + H + 10 * M, "admin", vid, {"monthly_until": T0 + 40 * D})
    out = show(gw, "car-out", CAR, T0 + D + H + 12 * M)
    assert out.admitted, (out.reason, out.fee_fen)


def test_held_at_the_lane_then_renewed_is_asked_the_fee_of_its_hold(gw: Gateway) -> None:
    """The same car, renewed at 10:00 Monday and taken back at 09:00 Tuesday, reaches the exit at
    10:00 Tuesday: held, the board shows 10元 (5元 + 5元). While it waits the office renews it
    (10:10). The guard's quote at 10:11 must still ask the hold's 10元 (docs: the fee runs to the
    hold's first decision), and 10元 taken lets it out. It asked 12元, and the 10元 the board showed
    was refused (fee_changed): the time between the take-back and the renewal was billed to 10:10."""
    vid = _renewed_and_taken_back(gw)
    held = show(gw, "car-out", CAR, T0 + D + H)
    assert (held.reason, held.fee_fen) == ("payment_due", 1000), held
    registry.update_vehicle(gw.conn, T0 + D + H + 10 * M, "admin", vid, {"monthly_until": T0 + 40 * D})
    quote = gw.parking.lane_quote(gw.conn, "car-out", T0 + D + H + 11 * M)
    assert quote is not None and quote["due_fen"] == 1000, quote
    out = pay(gw, CAR, 1000, T0 + D + H + 11 * M)
    assert out.admitted, (out.reason, out.fee_fen)


def test_monthly_car_parked_before_new_prices_pays_the_prices_published_when_it_came_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """09:00 Monday: the sign shows t1 (5元 the first hour, 2元 an hour after). 皖C44444, monthly
    until 14:00 that day, comes in as a monthly car, and so does a stranger's car 苏E12345. At
    11:00 the office adds t2 "from Monday" (double prices) and restarts the gateway; a car comes in
    after it. The monthly car's period runs out at 14:00 while it is parked and it leaves at 17:00.
    docs/parking.md *Fees*: a stay pays the version in force when it began "among those published
    when it began", so "a version added while a car is parked, even dated from that day or
    earlier, does not reprice that car" (the stranger's car is indeed charged t1). The owner pays
    t1 for 14:00-17:00: 5元 + 2元 + 2元 = 9元. It was asked t2's 18元 (the version was picked at
    the period's end, not at the car's entry), and the start's WARNING counted only the stranger's
    car among those that keep the prices published when they came in."""
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = ?", (to_db(T0 + 5 * H), CAR))
    came = show(gw, "car-in", CAR, T0)
    assert (came.reason, came.billing) == ("monthly", "monthly"), came
    assert show(gw, "car-in", "苏E12345", T0).admitted
    gw.conn.close()
    caplog.set_level(logging.INFO, logger="gateway")
    caplog.clear()
    gw = Gateway(parse_config(parking_toml(data).replace(TARIFF_TOML, TARIFF_TOML + MONDAY), "site.toml"))
    try:
        assert show(gw, "car-in", "苏E77777", T0 + 2 * H).admitted  # after the restart: t2 is published
        stranger = show(gw, "car-out", "苏E12345", T0 + 5 * H)
        assert stranger.fee_fen == 1300, stranger  # t1, as the docs' own test says
        out = show(gw, "car-out", CAR, T0 + 8 * H)
        quote = gw.parking.quote(gw.conn, CAR, T0 + 8 * H)
    finally:
        gw.conn.close()
    assert (out.fee_fen, quote["tariff_version"]) == (900, "t1"), (out.reason, out.fee_fen, quote)
    warned = [r.getMessage() for r in caplog.records if "'t2' is dated 2025-03-03" in r.getMessage()]
    assert len(warned) == 1 and "2 car(s)" in warned[0], warned
