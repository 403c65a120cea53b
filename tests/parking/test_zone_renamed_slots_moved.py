"""A zone renamed in site.toml (main -> garage), then the fix the start's ERROR and docs/parking.md
give: re-import the slots in the configured zone. The import moves each slot there, the same slot
(its owner's history, its cars, a car parked on it), rather than adding a second one beside it, so
the ERROR and slots_outside_zones clear. Deleting the old slots in the admin API clears them too."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import SiteConfig, parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from gateway.store.admin import import_csv
from gateway.store.database import DB_NAME
from gateway.store.occupancy import occupancy
from tests.conftest import write_csv
from tests.parking.conftest import T0, parking_toml, seed, show

H = timedelta(hours=1)


def _site(tmp_path: Path) -> tuple[SiteConfig, SiteConfig]:
    """The seeded site (slots main/B001 for R1's two cars, main/B002 for R2's), and its config
    with the zone renamed garage."""
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data), "site.toml")
    seed(cfg, tmp_path)
    renamed = (
        parking_toml(data).replace('id = "main"', 'id = "garage"').replace('zone = "main"', 'zone = "garage"')
    )
    return cfg, parse_config(renamed, "site.toml")


def _reimport_in_garage(cfg: SiteConfig, tmp_path: Path) -> None:
    """The fix the ERROR gives, as an installer does it."""
    slots = """
        zone,number,resident_ref,plates
        garage,B001,R1,皖A11111;皖A22222
        garage,B002,R2,皖B33333
        """
    import_csv(cfg, [write_csv(tmp_path / "slots.csv", slots)])


def _slots(gw: Gateway) -> list[tuple[int, str, str, str]]:
    return gw.conn.execute(
        "SELECT s.id, s.zone, s.number, r.ref FROM slots s "
        "JOIN residents r ON r.id = s.resident_id ORDER BY s.id"
    ).fetchall()


def _outside_zones_said(gw: Gateway, caplog: pytest.LogCaptureFixture) -> tuple[dict[str, int], list[str]]:
    """What /api/health says of slots outside zones, and the start's ERRORs about them."""
    health = TestClient(create_app(gw)).get("/api/health").json()
    errors = [
        r.getMessage() for r in caplog.records if r.levelname == "ERROR" and "fixed slot" in r.getMessage()
    ]
    return health["slots_outside_zones"], errors


def test_reimporting_the_slots_in_the_renamed_zone_clears_slots_outside_zones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """After the re-import the next start logs no ERROR, and /api/health no longer says {"main": 2}."""
    cfg, renamed = _site(tmp_path)
    Gateway(cfg).conn.close()
    _reimport_in_garage(renamed, tmp_path)
    caplog.set_level(logging.INFO, logger="gateway")
    gw = Gateway(renamed)
    try:
        assert _outside_zones_said(gw, caplog) == ({}, [])
    finally:
        gw.conn.close()


def test_reimported_slots_are_the_residents_same_slots_in_the_new_zone(tmp_path: Path) -> None:
    """Each resident still has one slot (not the old one and a new one), the same one, and the
    resident's car parks on it free at the renamed zone's lane."""
    cfg, renamed = _site(tmp_path)
    gw = Gateway(cfg)
    before = _slots(gw)
    gw.conn.close()
    _reimport_in_garage(renamed, tmp_path)
    gw = Gateway(renamed)
    try:
        assert _slots(gw) == [(sid, "garage", number, ref) for sid, _, number, ref in before]
        came = show(gw, "car-in", "皖B33333", T0)
        assert (came.reason, came.billing) == ("resident", "slot")
    finally:
        gw.conn.close()


def test_a_car_parked_on_its_slot_across_the_rename_is_on_it_in_the_new_zone(tmp_path: Path) -> None:
    """R2's car parked on B002 before the rename: the guard's occupancy counts it on a slot of the
    garage, and it leaves free as the resident's car on its own slot."""
    cfg, renamed = _site(tmp_path)
    gw = Gateway(cfg)
    assert show(gw, "car-in", "皖B33333", T0).billing == "slot"
    gw.conn.close()
    _reimport_in_garage(renamed, tmp_path)
    gw = Gateway(renamed)
    try:
        cars = [r for r in occupancy(gw.conn, gw.site.capacity) if r["class"] == "car"]
        assert [(r["zone"], r["fixed_slots"], r["on_slots"], r["inside"]) for r in cars] == [
            ("garage", 2, 1, 1)
        ]
        left = show(gw, "car-out", "皖B33333", T0 + 5 * H)
        assert (left.admitted, left.reason, left.fee_fen) == (True, "resident", 0)
    finally:
        gw.conn.close()


def test_a_car_that_came_in_without_its_slot_since_the_rename_moves_onto_it(tmp_path: Path) -> None:
    """Between the rename and the re-import R2's car found no slot in the lane's zone and came in as
    a car without one; once its slot is in that zone it moves onto it, as at a handover."""
    cfg, renamed = _site(tmp_path)
    Gateway(cfg).conn.close()
    gw = Gateway(renamed)
    came = show(gw, "car-in", "皖B33333", T0)
    assert "no_slot" in came.flags
    gw.conn.close()
    _reimport_in_garage(renamed, tmp_path)
    gw = Gateway(renamed)
    try:
        on = gw.conn.execute(
            "SELECT s.zone, s.number FROM stays t JOIN slots s ON s.id = t.slot_id "
            "WHERE t.exited_at IS NULL AND t.plate = '皖B33333'"
        ).fetchone()
        assert on == ("garage", "B002")
    finally:
        gw.conn.close()


def test_deleting_the_old_slots_in_the_admin_api_clears_slots_outside_zones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg, renamed = _site(tmp_path)
    Gateway(cfg).conn.close()
    gw = Gateway(renamed)
    _, token = create_token(gw.conn, T0, "test", "admin-bot", "admin", None)
    old_slots = gw.conn.execute("SELECT id FROM slots").fetchall()
    gw.start()  # an admin's change is written by the decision worker
    try:
        client = TestClient(create_app(gw))
        for (sid,) in old_slots:
            r = client.delete(f"/api/slots/{sid}", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 204, r.text
    finally:
        gw.stop()
    caplog.clear()  # the ERROR of the start before the slots were deleted
    caplog.set_level(logging.INFO, logger="gateway")
    gw = Gateway(renamed)
    try:
        assert _outside_zones_said(gw, caplog) == ({}, [])
    finally:
        gw.conn.close()


def test_a_number_in_two_zones_gone_is_not_guessed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """B001 is in two zones the config no longer has: which one garage/B001 is cannot be told, so
    neither is moved (the ERROR goes on naming them, to be deleted); B002, in one, is moved."""
    cfg, renamed = _site(tmp_path)
    gw = Gateway(cfg)
    gw.conn.execute("INSERT INTO slots (zone, number) VALUES ('annex', 'B001')")
    gw.conn.close()
    _reimport_in_garage(renamed, tmp_path)
    caplog.set_level(logging.INFO, logger="gateway")
    gw = Gateway(renamed)
    try:
        zones = gw.conn.execute("SELECT zone, number FROM slots ORDER BY zone, number").fetchall()
        assert zones == [("annex", "B001"), ("garage", "B001"), ("garage", "B002"), ("main", "B001")]
        assert _outside_zones_said(gw, caplog)[0] == {"annex": 1, "main": 1}
    finally:
        gw.conn.close()


def test_a_move_stopped_half_way_is_finished_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The power cut after the first slot's step: the next `gateway import` finishes the import
    (roll forward) and every slot is moved once, none copied."""
    cfg, renamed = _site(tmp_path)
    gw = Gateway(cfg)
    before = _slots(gw)
    gw.conn.close()
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 1)

    def power_cut() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_csv(
            renamed,
            [write_csv(tmp_path / "slots.csv", "zone,number\ngarage,B001\ngarage,B002\n")],
            pause=power_cut,
        )
    with closing(sqlite3.connect(renamed.site.data_dir / DB_NAME)) as half:
        assert half.execute("SELECT zone, number FROM slots ORDER BY id").fetchall() == [
            ("garage", "B001"),
            ("main", "B002"),
        ]
    import_csv(renamed, [])
    gw = Gateway(renamed)
    try:
        assert _slots(gw) == [(sid, "garage", number, ref) for sid, _, number, ref in before]
    finally:
        gw.conn.close()
