"""A car with no plate (无牌车) held at the exit on the ticket the guard typed, where the exit's camera
reads another car: one queued behind it, or the ticket car's own plate, which the entrance could not
read (docs/parking.md *Cars with no plate*). The camera keeps a typed text in mind for 3 s only, and
the car it read was taken for the car at the barrier: 收费放行 named it and its fee, 开闸 let it out on
record, and the ticket car stayed inside for good. Noticed by reviewer 60i. The camera's memory is on
the real clock: the tests wait it out (time.sleep)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.test_let_out_and_receipts import ExitCamera, _guard_at
from tests.parking.test_opened_by_hand import RELAY, _rows

H = timedelta(hours=1)
S = timedelta(seconds=1)
PLATE = "苏E12345"
TICKET = "无牌-0303-01"
INSIDE = "SELECT plate FROM stays WHERE exited_at IS NULL ORDER BY plate"


def _site(tmp_path: Path, **policy: str) -> Gateway:
    cfg = parse_config(parking_toml(tmp_path / "data", extra=RELAY, **policy), "site.toml")
    seed(cfg, tmp_path)
    return Gateway(cfg)


def test_the_ticket_car_at_the_barrier_is_quoted_and_let_out_not_the_car_behind(tmp_path: Path) -> None:
    gw = _site(tmp_path)
    cam = ExitCamera(gw)
    try:
        with _guard_at(gw) as (look, open_by_hand, client, auth):
            came = client.post("/api/lanes/car-in/plate", headers=auth, json={"no_plate": True})
            assert came.json()["plate"] == TICKET, came.text
            assert look("car-in", PLATE, T0).admitted
            at = T0 + 2 * H
            cam.frames(1.0, [])  # the car with no plate at the barrier: nothing to read
            gw.now.at = at  # type: ignore[attr-defined]
            held = client.post("/api/lanes/car-out/plate", headers=auth, json={"plate": "0303-01"}).json()
            assert (held["plate"], held["reason"]) == (TICKET, "payment_due"), held
            time.sleep(3.5)  # the driver looks for his money: the camera has forgotten the typed ticket
            cam.frames(1.0, [], behind=[PLATE])  # a stranger's car queues behind it
            assert look("car-out", PLATE, at + 10 * S).reason == "payment_due"
            cam.frames(1.0, [], behind=[PLATE])
            gw.now.at = at + 15 * S  # type: ignore[attr-defined]
            quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
            open_by_hand(at + 20 * S)  # for the car at the barrier, which drives out
            inside = [p for (p,) in _rows(gw, INSIDE)]
            cam.frames(1.0, [PLATE])  # the stranger's car moves up to the barrier
            stranger = look("car-out", PLATE, at + 30 * S)
            tickets = client.get("/api/lanes/car-out/tickets", headers=auth).json()
    finally:
        gw.conn.close()
    assert (quote["plate"], quote["due_fen"]) == (TICKET, 700), f"收费放行 names {quote['plate']}"
    assert inside == [PLATE], f"the ticket car drove out; the gateway has inside: {inside}"
    assert tickets == [], f"the exit still lists {tickets} among the cars inside"
    assert (stranger.admitted, stranger.reason) == (False, "payment_due"), (
        f"the stranger, never paid, is let out at the barrier: {stranger.reason} {stranger.flags}"
    )


def test_the_ticket_typed_for_the_car_whose_plate_the_exit_reads_is_the_fee_taken(tmp_path: Path) -> None:
    """Its plate unreadable at the entrance (covered, on paper), the car came in on a ticket; at the
    exit the camera reads its plate: a car with no entry record, held for a day's fee (30元, policy
    exit_without_entry = "charge"). The guard types its ticket, as parking.md says: the ticket is
    held for its 7元, and 收费放行 takes those and lets the ticket out, not the day's fee of the
    plate read (which no correction can move onto the ticket: ticket_not_a_plate)."""
    gw = _site(tmp_path, exit_without_entry="charge")
    cam = ExitCamera(gw)
    try:
        with _guard_at(gw) as (look, _open, client, auth):
            came = client.post("/api/lanes/car-in/plate", headers=auth, json={"no_plate": True})
            assert came.json()["plate"] == TICKET, came.text
            at = T0 + 2 * H
            cam.frames(1.0, [PLATE])  # at the exit its plate reads
            read = look("car-out", PLATE, at - 10 * S)
            assert (read.reason, read.fee_fen) == ("payment_due", 3000), read
            gw.now.at = at  # type: ignore[attr-defined]
            typed = client.post("/api/lanes/car-out/plate", headers=auth, json={"plate": "0303-01"}).json()
            assert (typed["plate"], typed["reason"]) == (TICKET, "payment_due"), typed
            time.sleep(3.5)  # the guard reaches for 收费放行, the car standing at the barrier
            cam.frames(1.0, [PLATE])
            gw.now.at = at + 20 * S  # type: ignore[attr-defined]
            quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
            body = {"plate": quote["plate"], "amount_fen": quote["due_fen"], "method": "cash"}
            paid = client.post("/api/parking/lanes/car-out/pay", headers=auth, json=body)
            inside = [p for (p,) in _rows(gw, INSIDE)]
            taken = _rows(gw, "SELECT amount_fen FROM payments")
    finally:
        gw.conn.close()
    assert (quote["plate"], quote["due_fen"]) == (TICKET, 700), (
        f"收费放行 after the guard typed the car's ticket asks {quote['due_fen']} fen of {quote['plate']}"
    )
    assert paid.status_code == 200 and paid.json()["admitted"], paid.text
    assert inside == [] and taken == [(700,)], (inside, taken)
