"""Review of e69d6d8 (renewal taken back / moved back / run out while parked): money the car is
asked at the exit that disagrees with docs/parking.md *Monthly* and *Fees*. The pieces of a renewed
stay are priced on their own, no moment twice, and cost at most what the stay would never renewed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.timefmt import to_db
from tests.parking.conftest import T0, parking_toml, seed, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
CAR = "皖C44444"  # R3's monthly car (seeded with a period to 2026-12-31)


def _vid(gw: Gateway) -> int:
    return int(gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (CAR,)).fetchone()[0])


def _expired_and_in(gw: Gateway) -> int:
    """皖C44444's month ran out yesterday; it comes in at 09:00 paying (monthly_expired)."""
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = ?", (to_db(T0 - D), CAR))
    came = show(gw, "car-in", CAR, T0)
    assert came.reason == "temporary" and "monthly_expired" in came.flags, came
    return _vid(gw)


@pytest.fixture
def capped_gw(tmp_path: Path) -> Iterator[Callable[[], Gateway]]:
    """The parking site, its car tariff with a published per-stay maximum (单次停车最高 50元)."""
    made: list[Gateway] = []

    def make() -> Gateway:
        text = parking_toml(tmp_path / "data").replace(
            "daily_cap_fen = 3000", "daily_cap_fen = 3000\nmax_per_stay_fen = 5000"
        )
        cfg = parse_config(text, "site.toml")
        seed(cfg, tmp_path)
        gw = Gateway(cfg)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.conn.close()


def test_period_moved_back_after_a_second_renewal_bills_no_hour_twice(gw: Gateway) -> None:
    """In at 09:00 paying; renewed at 10:00, the renewal taken back at 11:00, renewed again at
    12:00; at 13:00 the office sees the second renewal was wrong too and moves the period back to
    11:00 (the end the first take-back gave it). The car leaves at 17:00. It had no paid-up period
    after 11:00, so the accountant expects 09:00-10:00 (5元) plus 11:00-17:00 (15元, priced on its
    own as docs/parking.md Monthly says) = 20元, and at most the 19元 of a car never renewed: 19元.
    Instead the hour 11:00-12:00 is billed twice, once as the piece kept between the renewals and
    again inside the piece from the moved-back end: 25元."""
    vid = _expired_and_in(gw)
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"monthly_until": T0 + 31 * D})
    registry.update_vehicle(gw.conn, T0 + 2 * H, "admin", vid, {"monthly_until": None})
    registry.update_vehicle(gw.conn, T0 + 3 * H, "admin", vid, {"monthly_until": T0 + 31 * D})
    registry.update_vehicle(gw.conn, T0 + 4 * H, "admin", vid, {"monthly_until": T0 + 2 * H})
    out = show(gw, "car-out", CAR, T0 + 8 * H)
    assert out.fee_fen == 1900, (out.reason, out.fee_fen)


def test_period_moved_back_a_day_after_the_renewal_bills_no_hour_twice(gw: Gateway) -> None:
    """The same mistakes a day apart, where the cap of a car never renewed (49元 for 32 hours) is
    no help: in at 09:00 paying, renewed at 10:00, the renewal taken back at 10:00 next day,
    renewed again at 11:00, and at 12:00 the period moved back to 10:00 that day. Out at 17:00
    that day, it pays 09:00-10:00 (5元) and 10:00-17:00 the next day (5元 + 6 x 2元 = 17元) = 22元,
    not 27元 with 10:00-11:00 billed twice."""
    vid = _expired_and_in(gw)
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"monthly_until": T0 + 31 * D})
    registry.update_vehicle(gw.conn, T0 + D + H, "admin", vid, {"monthly_until": None})
    registry.update_vehicle(gw.conn, T0 + D + 2 * H, "admin", vid, {"monthly_until": T0 + 31 * D})
    registry.update_vehicle(gw.conn, T0 + D + 3 * H, "admin", vid, {"monthly_until": T0 + D + H})
    out = show(gw, "car-out", CAR, T0 + D + 8 * H)
    assert out.fee_fen == 2200, (out.reason, out.fee_fen)


def test_renewed_car_struck_off_while_parked_pays_after_its_period_runs_out(gw: Gateway) -> None:
    """In at 09:00 paying (month run out); renewed at 10:00 for a month (to 3 April 09:00); at
    11:00 the office strikes the car off the register (it is sold, the owner moved). The car stays
    parked and leaves on 4 April at 09:00, a day after the renewed period ran out. docs/parking.md
    Monthly: a renewal's period that runs out while the car is still parked bills it again from
    that end, and a car struck off while parked "leaves as it would have on the register: free
    within its period, paying for the time after it". Expected: 5元 (09:00-10:00) + 30元 (the
    day after the period, daily cap) = 35元. Instead it is asked 5元: the stay kept no period end
    when the car was struck off, so its billing stays stopped at the renewal for ever."""
    vid = _expired_and_in(gw)
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"monthly_until": T0 + 31 * D})
    registry.delete_vehicle(gw.conn, T0 + 2 * H, "admin", vid)
    out = show(gw, "car-out", CAR, T0 + 32 * D)
    assert out.fee_fen == 3500, (out.reason, out.fee_fen)


def test_renewal_taken_back_never_charges_more_than_the_posted_maximum_per_stay(
    capped_gw: Callable[[], Gateway],
) -> None:
    """The tariff publishes 单次停车最高50元 (max_per_stay_fen: "at most this for the whole stay",
    docs/parking.md Fees; the price table shows it). In at 09:00 paying, renewed at 12:00 (the
    first piece 09:00-12:00 is 9元), taken back at 13:00, and the car stays until 09:00 three days
    later. It must never be asked more than the 50元 the sign promises for one stay; the pieces are
    each capped at 50元 on their own and summed, so it is asked 59元."""
    gw = capped_gw()
    vid = _expired_and_in(gw)
    registry.update_vehicle(gw.conn, T0 + 3 * H, "admin", vid, {"monthly_until": T0 + 31 * D})
    registry.update_vehicle(gw.conn, T0 + 4 * H, "admin", vid, {"monthly_until": None})
    out = show(gw, "car-out", CAR, T0 + 3 * D)
    assert out.fee_fen is not None and out.fee_fen <= 5000, (out.reason, out.fee_fen)


def test_renewal_taken_back_never_charges_more_than_the_daily_cap_within_a_day(gw: Gateway) -> None:
    """The tariff's daily cap is 30元 per 24 hours from entry (docs/parking.md Fees: "at most this
    per 24 hours from entry"; the engine's stated property: a fee "never exceeds the daily cap
    times the days begun"). In at 09:00 paying; renewed at 09:45 by mistake (the first piece,
    45 minutes, is 5元) and taken back at 09:50; the car leaves at 08:50 next morning, under 24
    hours after it came in. Never renewed it would pay 30元. It is asked 35元: the piece after
    the take-back gets its own daily cap on top of the first piece."""
    vid = _expired_and_in(gw)
    registry.update_vehicle(gw.conn, T0 + 45 * M, "admin", vid, {"monthly_until": T0 + 31 * D})
    registry.update_vehicle(gw.conn, T0 + 50 * M, "admin", vid, {"monthly_until": None})
    out = show(gw, "car-out", CAR, T0 + 23 * H + 50 * M)
    assert out.fee_fen is not None and out.fee_fen <= 3000, (out.reason, out.fee_fen)
