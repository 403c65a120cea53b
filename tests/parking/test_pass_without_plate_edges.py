"""Edges of 'a plate-less pass's QR and an unregistered plate at one entrance within 10 s are one car
on the pass' (docs/parking.md, *One car, one passage*): a pass that ends between the two, and a
plate refused as recorded inside already (its exit missed), which is decided as itself and keeps
its stay, and one let in again over that stay, which is the pass's car."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.record import car_of_pass
from gateway.timefmt import to_db
from tests.parking.conftest import T0, pay
from tests.parking.test_pass_without_plate_at_camera_lane import _open_stays, _qr_of_pass_without_plate, _show
from tests.rush_helpers import parking_gw

H = timedelta(hours=1)
S = timedelta(seconds=1)
PLATE = "苏E77777"


def _ends_at(gw: Gateway, end: datetime) -> None:
    for table in ("passes", "credentials"):
        gw.conn.execute(f"UPDATE {table} SET valid_to = ? WHERE valid_to IS NOT NULL", (to_db(end),))


def _pass_stays(gw: Gateway, holder_id: int | None) -> list[tuple[str, str | None, str]]:
    rows = gw.conn.execute(
        "SELECT subject, plate, entered_at FROM stays WHERE exited_at IS NULL AND subject = ? ORDER BY id",
        (f"visitor:{holder_id}",),
    )
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("first", ["qr", "plate"])
def test_pass_ending_between_the_two_halves_is_still_one_car(
    make_gw: Callable[..., Gateway], first: str
) -> None:
    """The pass runs out a second after its car was first seen at the entrance: the second half,
    2 s later, is still that car coming in, not a second car with a stay of its own."""
    gw = make_gw()
    qr = _qr_of_pass_without_plate(gw)
    _ends_at(gw, T0 + S)
    shown = {"plate": PLATE, "qr": qr}
    second = "qr" if first == "plate" else "plate"
    one = _show(gw, "car-in", first, shown[first], T0)
    two = _show(gw, "car-in", second, shown[second], T0 + 3 * S)
    stays = _open_stays(gw)
    assert one.admitted, one.reason
    assert len(stays) == 1, f"one car, {len(stays)} stays: {stays}; second {two.reason} {two.flags}"


def test_plate_refused_as_inside_then_the_pass_qr_takes_no_old_stay(tmp_path: Path) -> None:
    """Hard anti-passback. A stranger's car came in yesterday and its exit was missed (its stay is
    still open). Today the driver comes as a visitor on a pass registered without a plate: the camera
    reads the plate first (refused anti_passback: 'inside already'), the driver scans the pass 2 s
    later and is let in as the pass's visitor. The pass has one open stay: yesterday's stranger stay
    does not become a second stay of the pass (billed from yesterday at its exit)."""
    gw = parking_gw(tmp_path, anti_passback="hard")
    try:
        assert _show(gw, "car-in", "plate", PLATE, T0 - 24 * H).admitted
        qr = _qr_of_pass_without_plate(gw)
        plate = _show(gw, "car-in", "plate", PLATE, T0)
        scan = _show(gw, "car-in", "qr", qr, T0 + 2 * S)
        assert (plate.admitted, plate.reason) == (False, "anti_passback"), plate.reason
        assert (scan.admitted, scan.reason) == (True, "visitor"), scan.reason
        stays = _pass_stays(gw, scan.holder_id)
        # docs/parking.md: "nor a plate recorded inside already ... (each is decided as itself)"
        assert len(stays) == 1, f"the pass has {len(stays)} open stays: {stays}"
    finally:
        gw.conn.close()


def test_a_strangers_open_stay_is_not_closed_free_by_a_visitors_exit(tmp_path: Path) -> None:
    """The same arrival; at the exit the car is held on its plate for the stranger's 25-hour stay
    and pays it: that temporary stay is charged, in the books and the daily report, not closed with
    the visitor's exit free of charge."""
    gw = parking_gw(tmp_path, anti_passback="hard")
    try:
        assert _show(gw, "car-in", "plate", PLATE, T0 - 24 * H).admitted
        qr = _qr_of_pass_without_plate(gw)
        _show(gw, "car-in", "plate", PLATE, T0)
        assert _show(gw, "car-in", "qr", qr, T0 + 2 * S).admitted
        out = _show(gw, "car-out", "plate", PLATE, T0 + H)
        assert pay(gw, PLATE, out.fee_fen, T0 + H + 20 * S).admitted
        closed_free = gw.conn.execute(
            "SELECT s.id, s.subject, s.billing, s.entered_at FROM stays s WHERE s.exited_at IS NOT NULL "
            "AND s.billing = 'temporary' AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.stay_id = s.id)"
        ).fetchall()
        assert closed_free == [], (
            f"temporary stay(s) closed with no charge at the visitor's exit: {closed_free}"
        )
    finally:
        gw.conn.close()


def test_plate_let_in_again_over_its_open_stay_then_the_pass_qr_is_that_car_again(
    make_gw: Callable[..., Gateway],
) -> None:
    """Soft anti-passback: the stranger's plate is let in again over yesterday's open stay (flag
    already_inside: yesterday's stay closed as a reentry), then the pass is scanned 2 s later. That
    is the car of the pass coming in once: one open stay, the pass's, carrying the plate; not a
    stranger's stay and a visitor's stay for one car, each paid for at its exit."""
    gw = make_gw()
    yesterday = _show(gw, "car-in", "plate", PLATE, T0 - 24 * H)
    qr = _qr_of_pass_without_plate(gw)
    plate = _show(gw, "car-in", "plate", PLATE, T0)
    scan = _show(gw, "car-in", "qr", qr, T0 + 2 * S)
    assert (plate.admitted, plate.flags) == (True, ("already_inside",)), (plate.reason, plate.flags)
    assert (scan.admitted, scan.flags) == (True, ("again",)), (scan.reason, scan.flags)
    assert _open_stays(gw) == [("visitor:1", PLATE)], _open_stays(gw)
    closed = gw.conn.execute(
        "SELECT subject, closed_by FROM stays WHERE entry_event = ?", (yesterday.event_id,)
    )
    assert closed.fetchall() == [(f"plate:{PLATE}", "reentry")]


def test_the_pass_takes_only_the_stay_its_plate_opened(make_gw: Callable[..., Gateway]) -> None:
    """Store level: made the car of a pass, a plate takes along the stay its own entry opened a
    moment ago, never one an earlier entry of that plate left open (its exit missed)."""
    gw = make_gw()
    earlier = _show(gw, "car-in", "plate", PLATE, T0 - 24 * H)
    gw.conn.execute(
        "INSERT INTO stays (subject, plate, billing, entered_at, entry_event) VALUES (?, ?, ?, ?, ?)",
        (f"plate:{PLATE}", PLATE, "temporary", to_db(T0), "opened-now"),
    )
    car_of_pass(gw.conn, "visitor:1", PLATE, "opened-now")
    moved = dict(gw.conn.execute("SELECT entry_event, subject FROM stays WHERE exited_at IS NULL"))
    assert moved == {earlier.event_id: f"plate:{PLATE}", "opened-now": "visitor:1"}, moved
