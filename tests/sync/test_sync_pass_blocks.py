"""Passes the central server pushes, and what the booth did with them since: a guard's block on a
pass's QR holds through the next snapshot (the snapshot names a pass's credentials, not whether
the booth blocked one: a lost printout), while the pass's own window and its withdrawal still
reach every credential and the people it let in."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sync_helpers import free_port
from test_sync_downlink import visitor

from gateway.api.app import create_app
from gateway.config import SiteConfig
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.accounts import create_token
from gateway.store.occupancy import people_inside
from gateway.store.passes import NewPass, check_out, create_pass
from gateway.store.retention import prune_visitors
from tests.snapshot_helpers import apply_snapshot


def _pass_credentials(gw: Gateway) -> list[tuple[int, str, str, int]]:
    with sqlite3.connect(gw.db_path) as conn:
        query = "SELECT id, kind, value, blocked FROM credentials WHERE pass_id IS NOT NULL ORDER BY kind"
        return conn.execute(query).fetchall()


def test_a_guards_block_on_a_central_pass_qr_holds_through_the_next_snapshot(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    gw = Gateway(sync_cfg(free_port()))
    entries = [visitor("P1", ("qr", "QR-TOKEN-P1"), ("plate", "粤B54321"))]
    gw.start()
    try:
        apply_snapshot(gw, 3, entries)
        block = ("qr", "QR-TOKEN-P1")
        gw.on_worker(
            lambda c: registry.set_blocked(c, gw.now(), "guard1", block, True, "printout lost")
        ).result()
        blocked = _pass_credentials(gw)
        apply_snapshot(gw, 4, entries)  # the next day's snapshot: the pass unchanged
        assert _pass_credentials(gw) == blocked, "the guard's block (or the credentials' ids) did not hold"
        assert [b for _, kind, _, b in blocked if kind == "qr"] == [1]
    finally:
        gw.stop()


def test_a_credential_the_snapshot_no_longer_names_for_a_pass_is_gone(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    gw = Gateway(sync_cfg(free_port()))
    gw.start()
    try:
        apply_snapshot(gw, 3, [visitor("P1", ("qr", "QR-TOKEN-P1"), ("plate", "粤B54321"))])
        apply_snapshot(gw, 4, [visitor("P1", ("qr", "QR-TOKEN-P1"))])  # the car is off the pass
        assert [(kind, value) for _, kind, value, _ in _pass_credentials(gw)] == [("qr", "QR-TOKEN-P1")]
    finally:
        gw.stop()


def _decide(gw: Gateway, lane: str, kind: str, value: str, at: datetime | None = None) -> tuple[bool, str]:
    p = Presented(lane, kind, value, 1.0, at or gw.now(), "dev")
    d = gw.on_worker(lambda c: gw.handle(p)).result(10)
    return d.admitted, d.reason


def _inside(gw: Gateway) -> int:
    return gw.on_worker(people_inside).result(10)


def test_a_visitor_whose_central_pass_the_centre_removed_is_not_counted_inside_for_ever(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    """A visitor came in on foot on a pass the central server pushed (QR at the door); the centre
    then withdraws the pass (the next snapshot no longer lists it). No exit reader can let them out
    any more (the QR is unknown now), and retention, which clears where a pass holder was last seen
    when it prunes the pass, never sees this pass again: the occupancy page counts a person on foot
    inside for ever, the very left-over row migration 14 deletes for cars."""
    gw = Gateway(sync_cfg(free_port()))
    gw.start()
    try:
        apply_snapshot(gw, 3, [visitor("P1", ("qr", "QR-TOKEN-P1"))])
        assert _decide(gw, "door", "qr", "QR-TOKEN-P1") == (True, "visitor")
        assert _inside(gw) == 1
        apply_snapshot(gw, 4, [])  # the centre withdrew the pass
        # Years later, every pass long past retention is pruned:
        gw.on_worker(lambda c: prune_visitors(c, gw.now() + timedelta(days=365 * 100))).result(10)
        assert _inside(gw) == 0, "a withdrawn central pass's visitor is counted inside on foot for ever"
    finally:
        gw.stop()


def test_a_central_pass_extended_by_the_centre_admits_its_car_after_the_plate_was_handed_back(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    """The centre pushed pass P1 for 粤B54321 until tomorrow. The guard registered the same car again
    at the booth (the plate moves to the new pass), then checked that pass out as a mistake: the
    plate is handed back to P1 with P1's window as it was then. The centre extends P1 by a month.
    Before 6019471 the snapshot re-wrote P1's credentials (no window of their own: the pass's
    counts); now the plate keeps the old window, and the car is refused 'expired' on day three of
    a pass the guard's screen shows as valid."""
    gw = Gateway(sync_cfg(free_port()))
    gw.start()
    try:
        now = gw.now()
        tomorrow = (now + timedelta(days=1)).date().isoformat()
        p1 = visitor("P1", ("qr", "QR-TOKEN-P1"), ("plate", "粤B54321"))
        p1 |= {"valid_to": tomorrow, "plate": "粤B54321"}
        apply_snapshot(gw, 3, [p1])
        start, end = now - timedelta(minutes=1), now + timedelta(hours=2)
        again = NewPass("visitor", "李四", start, end, plate="粤B54321")
        pid = gw.on_worker(lambda c: create_pass(c, gw.secrets, again, now, "guard1")).result(10)
        gw.on_worker(lambda c: check_out(c, pid, now, "guard1")).result(10)
        extended = {**p1, "valid_to": (now + timedelta(days=30)).date().isoformat()}
        apply_snapshot(gw, 4, [extended])
        with sqlite3.connect(gw.db_path) as conn:
            pass_to = conn.execute("SELECT valid_to FROM passes WHERE ref = 'P1'").fetchone()[0]
        later = now + timedelta(days=3)
        assert pass_to > later.isoformat()  # the pass itself runs a month
        assert _decide(gw, "car-in", "plate", "粤B54321", later) == (True, "visitor")
    finally:
        gw.stop()


LONG_QR = "PASS-2026-11-22-" + "a1B2c3D4e5F6g7H8i9J0" * 2  # 56 characters, a valid central QR


def test_a_guard_can_block_a_central_pass_qr_of_more_than_40_characters(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    """A central QR may be 8 to 64 characters (docs/mqtt.md), and the door's scanner reads it: the
    guard blocks a lost printout's QR by typing it whole."""
    gw = Gateway(sync_cfg(free_port()))
    gw.start()
    try:
        apply_snapshot(gw, 3, [visitor("P1", ("qr", LONG_QR))])
        p = Presented("door", "qr", LONG_QR, 1.0, gw.now(), "door-qr")
        assert gw.on_worker(lambda c: gw.handle(p)).result(10).admitted  # the door's scanner reads it
        made = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "guard1", "guard", None))
        _, token = made.result(10)
        with TestClient(create_app(gw)) as client:
            r = client.post(
                "/api/credentials/block",
                json={"kind": "qr", "value": LONG_QR, "reason": "printout lost"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert r.status_code == 200, r.text
    finally:
        gw.stop()
