"""An unpaid re-entry charge (policy.reentry = "charge") follows its plate to whoever holds it now,
parked or not: a car struck off and registered again (same plate, new vehicle id), a stranger
registered afterwards. Nothing already paid moves, and nothing is counted twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.database import open_database
from tests.parking.conftest import T0, parking_config, pay, show
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_operations import ops
from tests.test_store import database_at

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY2 = T0 + timedelta(days=1)
CAR = "皖D55555"  # R4's car, its monthly period long over: a temporary car that pays by time
STRANGER = "苏E12345"


def _owes_a_reentry_charge_and_left_unseen(gw: Gateway, plate: str) -> None:
    """The car's exit read is missed (11元 charged at its next entry, unpaid); it leaves unseen
    again and the admin closes its stay (POST /api/parking/stays/{id}/close)."""
    assert show(gw, "car-in", plate, T0).reason == "temporary"
    assert "already_inside" in show(gw, "car-in", plate, T0 + 3 * H + 30 * M).flags
    assert gw.conn.execute("SELECT kind, amount_fen, settled_at FROM charges").fetchall() == [
        ("reentry", 1100, None)
    ]
    stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    gw.parking.close_stay(gw.conn, stay, "left unseen", "admin", T0 + 5 * H)


def _fee_next_day(gw: Gateway, plate: str) -> int:
    """The car comes back next day for two hours (7元 of its own)."""
    assert show(gw, "car-in", plate, DAY2).admitted
    return show(gw, "car-out", plate, DAY2 + 2 * H).fee_fen


def test_debt_of_a_car_registered_again_after_its_stay_was_closed_is_asked(
    make_gw: Callable[..., Gateway],
) -> None:
    """The office deletes and re-adds the car after its stay was closed. Next day the 11元 still
    owed is asked at its exit (it was never asked again, and stayed unsettled upstream for good)."""
    gw = make_gw(reentry="charge")
    _owes_a_reentry_charge_and_left_unseen(gw, CAR)
    delta(gw, 1, 0, T0 + 6 * H, delete=[{"kind": "vehicle", "plate": CAR}])
    delta(gw, 2, 1, T0 + 7 * H, upsert=[{"kind": "vehicle", "plate": CAR, "resident": "R4"}])
    assert _fee_next_day(gw, CAR) == 700 + 1100


def test_debt_of_a_stranger_registered_afterwards_is_asked(make_gw: Callable[..., Gateway]) -> None:
    """A stranger's car left owing 11元; the office then registers it as R4's. Its next exit asks
    the 11元 too, as it would have had the car stayed a stranger."""
    gw = make_gw(reentry="charge")
    _owes_a_reentry_charge_and_left_unseen(gw, STRANGER)
    r4 = gw.conn.execute("SELECT id FROM residents WHERE ref = 'R4'").fetchone()[0]
    registry.add_vehicle(gw.conn, T0 + 6 * H, "admin", STRANGER, r4, "car", None)
    assert _fee_next_day(gw, STRANGER) == 700 + 1100


def test_debt_paid_is_not_asked_again_nor_counted_twice(make_gw: Callable[..., Gateway]) -> None:
    """The car pays its 11元 at its next exit, then is deleted and re-added again: the settled
    charge stays where it is, the exit after asks only its own fee, and the days' reports count
    the 11元 once, as charged on the first day and paid on the second."""
    gw = make_gw(reentry="charge")
    _owes_a_reentry_charge_and_left_unseen(gw, CAR)
    assert _fee_next_day(gw, CAR) == 700 + 1100
    assert pay(gw, CAR, 1800, DAY2 + 2 * H + M).admitted
    settled = gw.conn.execute("SELECT id, subject, settled_at FROM charges WHERE kind = 'reentry'").fetchall()
    assert settled[0][2] is not None
    vid, rid = gw.conn.execute("SELECT id, resident_id FROM vehicles WHERE plate = ?", (CAR,)).fetchone()
    registry.delete_vehicle(gw.conn, DAY2 + 3 * H, "admin", vid)
    registry.add_vehicle(gw.conn, DAY2 + 3 * H, "admin", CAR, rid, "car", None)
    assert (
        gw.conn.execute("SELECT id, subject, settled_at FROM charges WHERE kind = 'reentry'").fetchall()
        == settled
    )
    assert show(gw, "car-in", CAR, DAY2 + 4 * H).admitted
    assert show(gw, "car-out", CAR, DAY2 + 6 * H).fee_fen == 700
    day1 = ops(gw).build_report(T0.date(), DAY2 + 10 * H)["parking"]
    day2 = ops(gw).build_report(DAY2.date(), DAY2 + 30 * H)["parking"]
    assert (day1["charged_fen"], day1["unpaid_fen"]) == (1100, 1100)
    assert (day2["unpaid_fen"], day2["revenue_fen"]) == (0, 1800)


def test_debt_left_under_a_deleted_car_by_an_older_gateway_is_asked_after_the_upgrade(tmp_path: Path) -> None:
    """A box upgraded from an older gateway holds an 11元 charge still owed under vehicle 1, struck
    off since and registered again as vehicle 2, and a 5元 one already paid: the upgrade puts the
    owed one under vehicle 2, where its next exit asks it, and leaves the paid one as it was."""
    path = tmp_path / "gateway.db"
    old = database_at(path, 19)
    at = "2025-03-03T01:00:00.000000+00:00"
    old.execute(
        "INSERT INTO residents (id, ref, building, unit, name) VALUES (1, 'R4', '7栋', '1单元', '赵六')"
    )
    old.execute("INSERT INTO vehicles (id, plate, resident_id) VALUES (2, ?, 1)", (CAR,))
    old.execute(
        "INSERT INTO credentials (kind, value, resident_id, vehicle_id) VALUES ('plate', ?, 1, 2)", (CAR,)
    )
    old.executemany(
        "INSERT INTO charges (subject, plate, class, kind, tariff_version, ended_at, amount_fen, at, "
        "settled_at) VALUES ('vehicle:1', ?, 'car', 'reentry', 't1', ?, ?, ?, ?)",
        [(CAR, at, 1100, at, None), (CAR, at, 500, at, at)],
    )
    old.close()
    conn = open_database(path).conn
    assert conn.execute("SELECT subject, amount_fen FROM charges ORDER BY id").fetchall() == [
        ("vehicle:2", 1100),
        ("vehicle:1", 500),
    ]


STRUCK_OFF = "皖D55555"


def test_debt_left_under_a_car_struck_off_is_asked_of_its_plate_after_the_upgrade(tmp_path: Path) -> None:
    """An older gateway left a closed stay's 11元 under a car the office struck off since: after the
    upgrade the plate itself owes it, and the car back as a stranger is asked it at its exit."""
    cfg = parking_config(tmp_path / "data", reentry="charge")
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    path = tmp_path / "data" / "gateway.db"
    old = database_at(path, 19)
    at = "2025-03-02T01:00:00.000000+00:00"
    # An older gateway: vehicle 1 (plate 皖D55555) owed an 11元 re-entry charge, its stay was
    # closed by the admin, then the office struck the car off. The old trigger moved only the
    # charges of an open stay, so the charge stayed under vehicle:1 of a car gone.
    old.execute(
        "INSERT INTO charges (subject, plate, class, kind, tariff_version, ended_at, amount_fen, at) "
        "VALUES ('vehicle:1', ?, 'car', 'reentry', 't1', ?, 1100, ?)",
        (STRUCK_OFF, at, at),
    )
    old.close()
    gw = Gateway(cfg)  # the upgrade runs here
    try:
        subject = gw.conn.execute("SELECT subject FROM charges").fetchone()[0]
        # The car comes back as a stranger: its exit should ask its own fee and the 11元.
        assert show(gw, "car-in", STRUCK_OFF, T0).admitted
        out = show(gw, "car-out", STRUCK_OFF, T0 + timedelta(hours=2))
        assert (subject, out.fee_fen) == (f"plate:{STRUCK_OFF}", 700 + 1100), (subject, out.fee_fen)
    finally:
        gw.conn.close()
