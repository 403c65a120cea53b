"""`gateway import-inside FILE.csv`: an estate's first day, the cars parked before the gateway
recorded inside from the old system's list, all or nothing (README, docs/parking.md Cars already
inside)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.accounts.cli import cli_actor
from gateway.cli import main
from gateway.config import load_config
from gateway.runtime.gateway import Gateway
from tests.conftest import locked_by_another_process
from tests.parking.conftest import TZ, parking_toml, seed

H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The parking test estate's config file, its register imported (R1's two cars share B001)."""
    config = tmp_path / "site.toml"
    config.write_text(
        parking_toml(tmp_path / "data", exit_without_entry="charge", capacity=4), encoding="utf-8"
    )
    seed(load_config(config), tmp_path)
    return config


@pytest.fixture
def gw(site: Path) -> Iterator[Gateway]:
    made = Gateway(load_config(site))
    yield made
    made.conn.close()


def rows(config: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(config.parent / "data" / "gateway.db")) as conn:
        return conn.execute(sql, args).fetchall()


def excel(at: datetime) -> str:
    """A time as Excel on a Chinese Windows saves it in a CSV: 2025/3/2 9:05."""
    return f"{at.year}/{at.month}/{at.day} {at.hour}:{at.minute:02d}"


def test_day_one_records_every_car_as_its_entry_would_have(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(TZ)
    earlier, later = now - 5 * H, now - 2 * H - 30 * M
    listed = tmp_path / "inside.csv"
    # 皖A22222 is listed first but came in after 皖A11111: the first in is the one on their slot.
    text = (
        "plate,entered_at,vehicle_class,zone\n"
        f"皖A22222,{later:%Y-%m-%d %H:%M},,\n"
        f"皖A11111,{excel(earlier)},,main\n"
        f"苏E12345,{later:%Y-%m-%d %H:%M},,\n"
        "苏F54321,,motorcycle,\n"
    )
    listed.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # Excel's CSV UTF-8 has a BOM
    assert main(["import-inside", "-c", str(site), str(listed)]) == 0
    out = capsys.readouterr().out
    assert "recorded 4 car(s) inside (1 on their own slots)" in out
    assert "main (车库) car: 3" in out and "main (车库) motorcycle: 1" in out
    stays = rows(
        site, "SELECT plate, class, billing, slot_id IS NOT NULL, recorded_by FROM stays ORDER BY plate"
    )
    actor = cli_actor()
    assert stays == [
        ("皖A11111", "car", "slot", 1, actor),
        ("皖A22222", "car", "temporary", 0, actor),
        ("苏E12345", "car", "temporary", 0, actor),
        ("苏F54321", "motorcycle", "temporary", 0, actor),
    ]
    audited = rows(site, "SELECT actor, detail FROM audit WHERE action = 'stay.record' ORDER BY id")
    assert len(audited) == 4 and {a for a, _ in audited} == {actor}
    assert all(d.endswith(": day one: parked before the gateway") for _, d in audited)  # type: ignore[union-attr]
    sent = [json.loads(str(p)) for (p,) in rows(site, "SELECT payload FROM outbox WHERE topic = 'stay'")]
    assert sorted(s["plate"] for s in sent if s["change"] == "recorded_by_admin") == sorted(
        ["皖A11111", "皖A22222", "苏E12345", "苏F54321"]
    )

    # At their exits: the temporary car pays from the old system's entry time, not a day's fee.
    gw = Gateway(load_config(site))
    try:
        from gateway.core import Presented

        out_car = gw.handle(Presented("car-out", "plate", "苏E12345", 0.97, gw.now(), "cam"))
        assert (out_car.reason, out_car.fee_fen, "no_entry_record" in out_car.flags) == (
            "payment_due",
            900,
            False,
        )
        own = gw.handle(Presented("car-out", "plate", "皖A11111", 0.97, gw.now(), "cam"))
        assert (own.reason, own.fee_fen, own.flags) == ("resident", 0, ())
    finally:
        gw.conn.close()


def test_bad_rows_are_named_by_line_and_nothing_is_recorded(
    site: Path, gw: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A GBK file from the old system (Excel on a Chinese Windows): every bad row named, exit 65."""
    from gateway.core import Presented

    assert gw.handle(Presented("car-in", "plate", "皖B33333", 0.97, gw.now() - H, "cam")).admitted
    future = datetime.now(TZ) + 3 * H
    listed = tmp_path / "inside.csv"
    listed.write_bytes(
        (
            "plate,entered_at,vehicle_class,zone\n"
            "苏E12345,2025-03-02 09:30,,\n"  # 2: fine on its own
            "皖X,,,\n"  # 3: not a plate
            "苏E12345,,,\n"  # 4: twice in the file
            "皖B33333,,,\n"  # 5: inside already
            "苏F11111,20250303,,\n"  # 6: an old system's date
            f"苏F22222,{future:%Y-%m-%d %H:%M},,\n"  # 7: in the future
            "苏F33333,,,east\n"  # 8: no such zone
            "苏F44444,,truck,\n"  # 9: no such class
        ).encode("gbk")
    )
    before = rows(site, "SELECT count(*) FROM stays")
    assert main(["import-inside", "-c", str(site), str(listed)]) == 65
    err = capsys.readouterr().err
    for line, words in [
        (3, "not a Chinese licence plate"),
        (4, "repeats line 2"),
        (5, "inside already, on stay"),
        (6, "did you mean 2025-03-03"),
        (7, "after now"),
        (8, "not a zone of this site"),
        (9, "not one of car, motorcycle, bicycle"),
    ]:
        assert any(f"{listed}:{line}:" in e and words in e for e in err.splitlines()), (line, err)
    assert f"{listed}:2:" not in err
    assert rows(site, "SELECT count(*) FROM stays") == before  # 皖B33333's, no more
    assert rows(site, "SELECT count(*) FROM audit WHERE action = 'stay.record'") == [(0,)]
    assert rows(site, "SELECT count(*) FROM outbox WHERE topic = 'stay'") == [(0,)]


def test_it_runs_beside_the_service_and_warns_of_a_zone_overfilled(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Capacity 4 cars with 2 fixed slots: 2 shared spaces, and 3 temporary cars inside overfill them."""
    gw = Gateway(load_config(site))
    gw.start()
    try:
        listed = tmp_path / "inside.csv"
        listed.write_text("plate\n苏E11111\n苏E22222\n苏E33333\n", encoding="utf-8")
        assert main(["import-inside", "-c", str(site), str(listed)]) == 0
        out = capsys.readouterr().out
        assert "warning: zone 'main' car: 3 cars in its 2 shared spaces (1 over)" in out, out
        occupancy = gw.on_worker(
            lambda c: c.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()
        )
        assert occupancy.result(timeout=10) == (3,)
        # The lanes see it at once: the next stranger is refused, the zone is full.
        from gateway.core import Presented

        refused = gw.on_worker(
            lambda _: gw.handle(Presented("car-in", "plate", "苏E44444", 0.97, gw.now(), "c"))
        )
        assert refused.result(timeout=10).reason == "zone_full"
    finally:
        gw.stop()


def test_a_database_held_by_another_process_exits_1_and_records_nothing(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = tmp_path / "inside.csv"
    listed.write_text("plate\n苏E11111\n", encoding="utf-8")
    with locked_by_another_process(site.parent / "data" / "gateway.db"):
        status = main(["import-inside", "-c", str(site), str(listed)])
    assert status == 1, capsys.readouterr().err
    assert rows(site, "SELECT count(*) FROM stays") == [(0,)]
    assert main(["import-inside", "-c", str(site), str(listed)]) == 0  # run again once it is over


def test_an_entered_at_cell_with_an_offset_is_a_bad_row_not_a_shifted_time(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The installer's list (made by a script that writes ISO times with a trailing Z) says 苏E12345
    came in at 08:00, the site's time. What the installer sees: exit 0, the car recorded as in since
    16:00 (the cell read as UTC), billed 8 hours short. What README promises for every CSV date
    cell: a bad row naming the forms taken, exit 65, nothing recorded."""
    came = (datetime.now(TZ) - 10 * H).replace(second=0, microsecond=0)
    listed = tmp_path / "inside.csv"
    listed.write_text(
        f"plate,entered_at,vehicle_class,zone\n苏E12345,{came:%Y-%m-%d %H:%M}Z,,\n", encoding="utf-8"
    )
    status = main(["import-inside", "-c", str(site), str(listed)])
    err = capsys.readouterr().err
    with closing(sqlite3.connect(site.parent / "data" / "gateway.db")) as conn:
        stays = conn.execute("SELECT plate, entered_at FROM stays").fetchall()
    assert status == 65 and stays == [], (
        f"exit {status}, recorded {stays} (the cell said {came:%H:%M} site time)"
    )
    assert "offset" in err or "site's time" in err, err
