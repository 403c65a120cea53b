"""Upgrading a box from a gateway of schema version 20 (the release before migration 22), whose
guard let out by hand, minutes before the upgrade, a visitor's car held on the QR of a pass
without a plate, with a stranger's car held behind it at the same exit. Migration 25 found the
openings by hand of cars held on their plate or their card's car only: after the upgrade the lane
still showed the visitor's pass held, and the next opening let nobody out.

The old database is written directly, rows as that gateway wrote them (its access records name no
car, its stays closed by hand name no exit event), as tests/test_upgrade.py does: no git history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking.conftest import parking_config
from tests.parking.test_opened_by_hand import RELAY
from tests.test_store import database_at

H = timedelta(hours=1)
M = timedelta(minutes=1)
QR = "QR-visit-no-plate-0001"
STRANGER = "苏E77777"


def _old_box(data: Path, now: datetime) -> None:
    """Schema 20: the pass's car came in on its QR, the stranger on its plate; both held at car-out
    (the stranger first), and the guard let the pass's car out by hand, closing its stay."""
    data.mkdir()
    old = database_at(data / "gateway.db", 20)
    old.execute(
        "INSERT INTO passes (id, kind, name, host_building, host_unit, valid_from, valid_to, created_at) "
        "VALUES (1, 'visitor', '钱七', '3栋', '2单元', ?, ?, ?)",
        (to_db(now - 5 * H), to_db(now + 5 * H), to_db(now - 5 * H)),
    )
    old.execute("INSERT INTO credentials (kind, value, pass_id) VALUES ('qr', ?, 1)", (QR,))
    log = [
        ("in-qr", now - 4 * H, "car-in", "entrance", "qr", QR, "visitor", 1, 1, "visitor"),
        ("in-plate", now - 3 * H, "car-in", "entrance", "plate", STRANGER, None, None, 1, "temporary"),
        ("held-plate", now - 6 * M, "car-out", "exit", "plate", STRANGER, None, None, 0, "payment_due"),
        ("held-qr", now - 3 * M, "car-out", "exit", "qr", QR, "visitor", 1, 0, "payment_due"),
    ]
    for event, at, lane, direction, kind, value, holder_kind, holder_id, admitted, reason in log:
        old.execute(
            "INSERT INTO access_log (event_id, at, lane, direction, lane_type, kind, value, confidence, "
            "holder_kind, holder_id, admitted, reason, class) "
            "VALUES (?, ?, ?, ?, 'vehicle', ?, ?, 1.0, ?, ?, ?, ?, 'car')",
            (event, to_db(at), lane, direction, kind, value, holder_kind, holder_id, admitted, reason),
        )
    old.execute(
        "INSERT INTO stays (subject, class, zone, billing, entered_at, entry_event, exited_at, closed_by) "
        "VALUES ('visitor:1', 'car', 'main', 'visitor', ?, 'in-qr', ?, 'hand')",  # the camera read no plate
        (to_db(now - 4 * H), to_db(now - 2 * M)),
    )
    old.execute(
        "INSERT INTO stays (subject, plate, class, zone, billing, entered_at, entry_event) "
        "VALUES ('plate:' || ?, ?, 'car', 'main', 'temporary', ?, 'in-plate')",
        (STRANGER, STRANGER, to_db(now - 3 * H)),
    )
    old.close()


@contextmanager
def _upgraded(tmp_path: Path) -> Iterator[Gateway]:
    data = tmp_path / "data"
    _old_box(data, datetime.now(UTC))
    gw = Gateway(parking_config(data, extra=RELAY))
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
        gw.conn.close()


def test_qr_car_let_out_by_hand_before_the_upgrade_is_not_held_after_it(tmp_path: Path) -> None:
    """After the upgrade the lane's quote (the tablet's 收费放行) names the stranger still waiting,
    not the visitor's car that left by hand before it."""
    with _upgraded(tmp_path) as gw:
        quote = gw.parking.lane_quote(gw.conn, "car-out", gw.now())
    assert quote is not None and quote["plate"] == STRANGER and quote.get("pass") is None, (
        f"after the upgrade the lane shows, as held, the visitor's car let out by hand before it: {quote}"
    )


def test_the_next_opening_after_the_upgrade_lets_out_the_car_still_held(tmp_path: Path) -> None:
    """The guard's first opening by hand after the upgrade lets the stranger out: its stay closes."""
    with _upgraded(tmp_path) as gw:
        gw.by_hand.open_lane("car-out", "guard1", "业主确认访客，已线下处理")
        left = gw.on_worker(
            lambda c: c.execute(
                "SELECT exited_at IS NOT NULL FROM stays WHERE plate = ?", (STRANGER,)
            ).fetchone()
        ).result(10)
    assert left == (1,), "the opening after the upgrade let nobody out: the stranger's stay is still open"
