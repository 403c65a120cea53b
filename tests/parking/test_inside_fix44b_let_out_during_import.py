"""`gateway import-inside` run from a shell while the service runs (README: "before or while the
service runs"), and the guard's opening by hand (开闸) at the exit for a car of that list held there
while the import's transaction is under way.

The car held at the exit has no entry record (parked under the old system): held for a day's fee
(exit_without_entry = "charge"). The opening finds the car at the barrier (no stay) as the import
writes; the import, not seeing the opening (its record waits for the import's lock), records the
car inside since 07:00; the opening's let-out is then written with what it found before the import
(no stay to close). The car has gone, its stay stays open."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import gateway.parking.inside as inside
from gateway.cli import main
from gateway.config import load_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.test_opened_by_hand import RELAY, _until
from tests.parking.test_report_figures import Clock, serving

H = timedelta(hours=1)
STRANGER = "苏E12345"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, Gateway]]:
    config = tmp_path / "site.toml"
    config.write_text(
        parking_toml(tmp_path / "data", extra=RELAY, exit_without_entry="charge"), encoding="utf-8"
    )
    seed(load_config(config), tmp_path)
    gw = Gateway(load_config(config))
    yield config, gw
    gw.conn.close()


def test_a_car_let_out_by_hand_while_the_day_one_import_runs_is_not_left_inside(
    site: tuple[Path, Gateway], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """11:00, day one. 苏E12345 (in since 07:00 under the old system) is held at car-out for a
    day's fee: no entry record. The installer runs `gateway import-inside` with the old system's
    list, 苏E12345 in it. While the import writes, the guard presses 开闸 for the driver (the
    barrier opens, the car leaves). Once both are written: the import exits 0, and the car that
    left at 11:00 is on record as inside since 07:00, for good (counted in occupancy, its next entry
    days later closing it as a missed exit, charged under reentry = "charge")."""
    config, gw = site
    listed = tmp_path / "inside.csv"
    listed.write_text(f"plate,entered_at\n{STRANGER},{T0 - 2 * H:%Y-%m-%d %H:%M}\n", encoding="utf-8")
    begun, go = threading.Event(), threading.Event()
    real = inside.record_inside

    def paused(*args: Any, **kw: Any) -> Any:  # the import, in its transaction, at its first row
        begun.set()
        assert go.wait(30)
        return real(*args, **kw)

    monkeypatch.setattr(inside, "record_inside", paused)
    clock = Clock(T0 + 2 * H)
    with serving(gw, clock) as (client, auth):
        p = Presented("car-out", "plate", STRANGER, 0.97, clock.at, "cam")
        held = gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)
        assert (held.reason, "no_entry_record" in held.flags) == ("payment_due", True), held
        status: list[int] = []
        importing = threading.Thread(
            target=lambda: status.append(main(["import-inside", "-c", str(config), str(listed)]))
        )
        importing.start()
        try:
            assert begun.wait(30), "the import never began"
            opened = client.post(
                "/api/lanes/car-out/open", headers=auth, json={"reason": "司机出示老系统停车票"}
            )
            assert opened.status_code == 200, opened.text
        finally:
            go.set()
            importing.join(30)
        _until(lambda: gw.by_hand.unrecorded_opens() == 0, "the opening's records were never written")
        gw.on_worker(lambda c: None).result(timeout=15)
        still = gw.on_worker(
            lambda c: c.execute(
                "SELECT id, entered_at FROM stays WHERE plate = ? AND exited_at IS NULL", (STRANGER,)
            ).fetchall()
        ).result(timeout=10)
        occupancy = client.get("/api/parking/occupancy").json()
    inside_now = sum(r["inside"] for r in occupancy if r["class"] == "car")
    assert still == [] and inside_now == 0, (
        f"the import exited {status}; the car let out by hand at 11:00 is on record inside: open stays "
        f"{still}, occupancy counts {inside_now} car(s)"
    )


def test_a_car_let_out_by_hand_while_an_admin_records_it_is_not_left_inside(
    site: tuple[Path, Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same within the service, no import: 11:00, 苏E12345 held at car-out for a day's fee (no
    entry record). The driver says he has been parked since 07:00: the admin, on the 车位 page,
    records it (登记场内车辆, in since 07:00) while the guard, at the booth, presses 开闸 for it;
    the exit's Modbus relay module takes about a second to answer the pulse (ParkingDesk.let_out_by_hand), and
    the record lands in that second. Once both are written the car that left at 11:00 is on record
    as inside since 07:00 (the let-out closes the stay it found before the relay answered: none)."""
    import gateway.runtime.hand_lanes as hand_lanes
    from gateway.parking.inside import CarInside
    from gateway.store.database import transaction

    _, gw = site
    real_taken = hand_lanes.taken

    def relay_answering_while_the_admin_records(relay: Any, seconds: float, ref: str) -> bool:
        car = CarInside(STRANGER, T0 - 2 * H)

        def record(conn: Any) -> Any:
            with transaction(conn):
                return inside.record_inside(conn, gw.site, car, "司机称07:00已入场", "admin1", gw.now())

        gw.on_worker(record).result(timeout=10)
        return real_taken(relay, seconds, ref)

    monkeypatch.setattr(hand_lanes, "taken", relay_answering_while_the_admin_records)
    clock = Clock(T0 + 2 * H)
    with serving(gw, clock) as (client, auth):
        p = Presented("car-out", "plate", STRANGER, 0.97, clock.at, "cam")
        held = gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)
        assert held.reason == "payment_due", held
        opened = client.post("/api/lanes/car-out/open", headers=auth, json={"reason": "司机出示老系统停车票"})
        assert opened.status_code == 200, opened.text
        _until(lambda: gw.by_hand.unrecorded_opens() == 0, "the opening's records were never written")
        gw.on_worker(lambda c: None).result(timeout=15)
        still = gw.on_worker(
            lambda c: c.execute(
                "SELECT id, entered_at FROM stays WHERE plate = ? AND exited_at IS NULL", (STRANGER,)
            ).fetchall()
        ).result(timeout=10)
    assert still == [], f"the car let out by hand at 11:00 is on record inside: open stays {still}"
