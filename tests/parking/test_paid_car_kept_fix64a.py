"""Review 64a: a car that paid, or is still within its free minutes, is asked for more money by
something the driver did not do.

1. NTP sets a fast clock back behind the car's entry after it paid at the booth: within its grace
   (docs/parking.md, *Paying ahead at the booth*), the exit asked a day's fee less what it paid.
2. The exit is closed (检修) as the car reaches it within its grace or its free minutes: refused
   lane_closed at every camera repeat, then asked for more when the lane reopened, the time the
   gateway itself kept it at the barrier billed to it. An opening by hand of that car runs its fee
   to the refusal (*Let out by hand*); the reopened lane ran it to the new read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.charge_record_helpers import LET_OUT
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.conftest import show as show_now
from tests.parking.test_api import serving, show
from tests.rush_helpers import RELAYS

CAR = "苏E12345"
OTHER = "苏E67890"
M = timedelta(minutes=1)
S = timedelta(seconds=1)
OPEN_STAYS = "SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NULL"


def _close(gw: Gateway, client: TestClient, auth: dict[str, str], when: datetime) -> None:
    """The guard closes car-out (检修) at `when`, before the car gets there: its record dated so
    (the car kept counts its refusals from the lane's close on, store/holds.py kept_since)."""
    gw.now = lambda: when  # type: ignore[method-assign]
    try:
        r = client.post("/api/lanes/car-out/close", headers=auth, json={"reason": "检修"})
    finally:
        del gw.now
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("set_back_minutes", [30, 50])
def test_a_car_paid_at_the_booth_leaves_within_its_grace_after_ntp_sets_the_clock_back(
    tmp_path: Path, set_back_minutes: int
) -> None:
    cfg = parse_config(parking_toml(tmp_path / "data"), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        assert show_now(gw, "car-in", CAR, T0).reason == "temporary"  # 09:00 on a clock running fast
        paid = T0 + 40 * M  # 09:40: the first hour, 5元
        due = gw.parking.quote(gw.conn, CAR, paid)["due_fen"]
        receipt = gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", paid)
        leave_by = datetime.fromisoformat(receipt["leave_by"])
        # At 09:41 NTP sets the fast clock back (less than an hour: no clock_stepped alarm). The
        # driver is at the exit 3 real minutes after paying, 12 minutes before his leave_by: with
        # 50 minutes set back, the clock reads 08:53, before his entry.
        at_exit = paid + 3 * M - set_back_minutes * M
        out = show_now(gw, "car-out", CAR, at_exit)
    finally:
        gw.conn.close()
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"paid {due} fen at {paid:%H:%M}, leave_by {leave_by:%H:%M}; clock set back {set_back_minutes} min, "
        f"at the exit 3 real minutes later ({at_exit:%H:%M} on the clock): {out.reason}, "
        f"asked {out.fee_fen} fen more"
    )


def test_a_paid_car_kept_at_a_closed_exit_within_its_grace_leaves_free_when_it_reopens(
    make_gw: Callable[..., Gateway],
) -> None:
    with serving(make_gw()) as (gw, client, auth):
        paid = gw.now() - 20 * M
        assert show(gw, "car-in", CAR, paid - 2 * 60 * M).reason == "temporary"
        due = gw.on_worker(lambda c: gw.parking.quote(c, CAR, paid)["due_fen"]).result(10)
        gw.on_worker(lambda c: gw.parking.prepay(c, CAR, due, "cash", "", "booth", paid)).result(10)
        _close(gw, client, auth, paid + 9 * M)
        for minute in range(10, 20, 3):  # at the barrier 10 minutes after paying, refused every repeat
            assert show(gw, "car-out", CAR, paid + minute * M).reason == "lane_closed"
        r = client.post("/api/lanes/car-out/reopen", headers=auth, json={"reason": "检修完毕"})
        assert r.status_code == 200, r.text
        out = show(gw, "car-out", CAR, paid + 20 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"paid {due} fen, at the exit from minute 10 of a 15-minute grace, the exit closed; reopened at "
        f"minute 20: {out.reason}, asked {out.fee_fen} fen more"
    )


def test_a_car_kept_at_a_closed_exit_within_its_free_minutes_leaves_free_when_it_reopens(
    make_gw: Callable[..., Gateway],
) -> None:
    with serving(make_gw()) as (gw, client, auth):
        entered = gw.now() - 40 * M
        assert show(gw, "car-in", CAR, entered).reason == "temporary"
        _close(gw, client, auth, entered + 24 * M)
        for minute in range(25, 35, 3):  # at the barrier 25 minutes after entry (30 free)
            assert show(gw, "car-out", CAR, entered + minute * M).reason == "lane_closed"
        r = client.post("/api/lanes/car-out/reopen", headers=auth, json={"reason": "检修完毕"})
        assert r.status_code == 200, r.text
        out = show(gw, "car-out", CAR, entered + 35 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"at the exit at minute 25 of 30 free, the exit closed; reopened at minute 35: {out.reason}, "
        f"asked {out.fee_fen} fen"
    )


def test_a_paid_car_kept_at_a_closed_exit_within_its_grace_let_out_by_hand_owes_nothing_after(
    make_gw: Callable[..., Gateway],
) -> None:
    """The same car let out by the guard's 开闸 at minute 20 instead (policy.reentry = "charge"):
    its fee runs to when it got to the barrier, within its grace, and nothing is carried to its
    next visit, as for the lane reopened."""
    with serving(make_gw(extra=RELAYS, reentry="charge")) as (gw, client, auth):
        now = gw.now()
        paid = now - 20 * M
        assert show(gw, "car-in", CAR, paid - 2 * 60 * M).reason == "temporary"
        due = gw.on_worker(lambda c: gw.parking.quote(c, CAR, paid)["due_fen"]).result(10)
        gw.on_worker(lambda c: gw.parking.prepay(c, CAR, due, "cash", "", "booth", paid)).result(10)
        _close(gw, client, auth, paid + 9 * M)
        for at in [*(paid + minute * M for minute in range(10, 20, 3)), now - 5 * S]:
            assert show(gw, "car-out", CAR, at).reason == "lane_closed"
        r = client.post("/api/lanes/car-out/open", headers=auth, json=LET_OUT)
        assert r.status_code == 200, r.text
        owes = gw.on_worker(lambda c: gw.parking.quote(c, CAR, now)["due_fen"]).result(10)
        inside = gw.on_worker(lambda c: c.execute(OPEN_STAYS, (CAR,)).fetchone()[0]).result(10)
    assert (inside, owes) == (0, 0), (
        f"paid {due} fen, at the closed exit from minute 10 of its 15-minute grace, let out by hand at "
        f"minute 20: {inside} stay open, {owes} fen carried to its next visit"
    )


def test_a_car_kept_at_a_closed_exit_pays_its_fee_to_the_refusal_on_the_lane_and_to_the_guard(
    make_gw: Callable[..., Gateway],
) -> None:
    """Owing 7元 (1 h 50 min) when the closed exit first refuses it, reopened 20 minutes later (9元
    by then): held for 7元, on the lane display, the camera's repeat, the guard's quote and the
    booth's alike, and the 7元 taken at the lane lets it out."""
    with serving(make_gw()) as (gw, client, auth):
        entered = gw.now() - 130 * M
        assert show(gw, "car-in", CAR, entered).reason == "temporary"
        _close(gw, client, auth, entered + 109 * M)
        for minute in range(110, 128, 3):  # the camera's repeats, to the one before the reopening
            assert show(gw, "car-out", CAR, entered + minute * M).reason == "lane_closed"
        r = client.post("/api/lanes/car-out/reopen", headers=auth, json={"reason": "检修完毕"})
        assert r.status_code == 200, r.text
        held = show(gw, "car-out", CAR, entered + 128 * M)
        again = show(gw, "car-out", CAR, entered + 129 * M)
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        booth = client.get("/api/parking/quote", headers=auth, params={"plate": CAR}).json()
        body = {"plate": CAR, "amount_fen": 700, "method": "cash"}
        paid = client.post("/api/parking/lanes/car-out/pay", headers=auth, json=body)
    seen = (held.reason, held.fee_fen, again.fee_fen, quote.get("due_fen"), booth.get("due_fen"))
    assert seen == ("payment_due", 700, 700, 700, 700), (
        f"refused at the closed exit from 1 h 50 min (7元), reopened, read at 2 h 08 min: {seen}"
    )
    assert paid.status_code == 200 and paid.json()["admitted"], paid.text


def test_a_car_refused_at_a_closed_exit_that_drove_away_pays_for_its_stay_when_back_hours_later(
    make_gw: Callable[..., Gateway],
) -> None:
    """Refused within its free minutes, it drove away and parked two more hours: it pays for those,
    as a car that came in with it and was never refused does."""
    with serving(make_gw()) as (gw, client, auth):
        entered = gw.now() - 150 * M
        for car in (CAR, OTHER):
            assert show(gw, "car-in", car, entered).reason == "temporary"
        _close(gw, client, auth, entered + 24 * M)
        assert show(gw, "car-out", CAR, entered + 25 * M).reason == "lane_closed"
        r = client.post("/api/lanes/car-out/reopen", headers=auth, json={"reason": "检修完毕"})
        assert r.status_code == 200, r.text
        back = entered + 145 * M
        owed = gw.on_worker(lambda c: gw.parking.quote(c, OTHER, back)["due_fen"]).result(10)
        out = show(gw, "car-out", CAR, back)
    assert owed > 0 and (out.reason, out.fee_fen) == ("payment_due", owed), (
        f"refused at minute 25, back at the exit at minute 145: {out.reason}, {out.fee_fen} fen "
        f"(a car never refused owes {owed})"
    )


def test_a_car_refused_at_a_closed_exit_then_in_again_pays_its_new_stay_only(
    make_gw: Callable[..., Gateway],
) -> None:
    """Refused at the closed exit, the car turned back in at the entrance (its old stay closed as a
    re-entry) and leaves 15 minutes later: its new stay's free minutes, not a fee run to a refusal
    before it began (a day's fee, for a stay ending before its entry)."""
    with serving(make_gw()) as (gw, client, auth):
        entered = gw.now() - 60 * M
        assert show(gw, "car-in", CAR, entered).reason == "temporary"
        _close(gw, client, auth, entered + 19 * M)
        for minute in range(20, 30, 3):
            assert show(gw, "car-out", CAR, entered + minute * M).reason == "lane_closed"
        assert show(gw, "car-in", CAR, entered + 30 * M).admitted
        r = client.post("/api/lanes/car-out/reopen", headers=auth, json={"reason": "检修完毕"})
        assert r.status_code == 200, r.text
        out = show(gw, "car-out", CAR, entered + 45 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"refused at the closed exit, in again at minute 30, out at 45: {out.reason}, {out.fee_fen} fen"
    )
