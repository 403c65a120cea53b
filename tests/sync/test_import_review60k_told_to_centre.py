"""`gateway import` on a register the central server keeps (a snapshot applied). Its only record
upstream was `{"op": "import", "entity": "batch", "counts"}`, which names no row, so the centre
could not take the imported residents into its register, and its next snapshot (which removes what
it does not list, docs/mqtt.md) removed them: the office's import undone overnight, nobody told.
Found by reviewer 60k. Each row an import adds or changes now goes up as an `upsert`, as an admin's
change at the booth does, many to a `{"op": "import", "entity": "rows"}` record; a file imported
again sends none."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import Site, _site, directory_v1

from gateway.config import SiteConfig
from gateway.store.admin import import_csv
from tests.conftest import write_csv


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    with _site(broker, sync_cfg(broker.port)) as s:
        yield s


def _files(tmp_path: Path) -> list[Path]:
    return [
        write_csv(
            tmp_path / "residents.csv",
            """
            ref,building,unit,room,name,phone,valid_to
            R9,1,2,902,张三丰,13812348000,2027-06-30
            R1,1,2,,住户R1,13812345678,
            """,
        ),
        write_csv(tmp_path / "cars.csv", "plate,resident_ref,class\n粤B99999,R9,car\n"),
        write_csv(
            tmp_path / "cards.csv", "card,resident_ref,plate,hours\n0012340099,R9,粤B99999,06:00-23:00\n"
        ),
        write_csv(tmp_path / "slots.csv", "zone,number,resident_ref,plates\nmain,A-009,R9,粤B99999\n"),
    ]


def _records(site: Site, entity: str) -> list[dict[str, Any]]:
    return [r for r in site.upstream("/events/registry") if r["op"] == "import" and r["entity"] == entity]


def _rows_told(site: Site) -> list[dict[str, Any]]:
    return [row for r in _records(site, "rows") for row in r["rows"]]


def _batches(site: Site) -> list[dict[str, Any]]:
    return _records(site, "batch")


def _as_centre_lists(record: dict[str, Any]) -> dict[str, Any]:
    """A registry record's row as the centre, taking it in, lists it in its next snapshot: with what
    it was told (a name and phone masked, which keep the stored ones: review 60o)."""
    kept = {k: v for k, v in record.items() if k not in ("op", "entity", "id")}
    return {"kind": record["entity"], **{k: v for k, v in kept.items() if v is not None}}


def test_rows_imported_on_a_centre_kept_register_go_up_and_stay(site: Site, tmp_path: Path) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    files = _files(tmp_path)
    assert import_csv(site.gw.site.config, files) == {"residents": 2, "vehicles": 1, "cards": 1, "slots": 1}

    batch = wait_for("the import's summary record", lambda: _batches(site))[0]
    told = wait_for("the imported rows' records", lambda: len(_rows_told(site)) >= 4 and _rows_told(site))
    by_entity = {r["entity"]: r for r in told}
    # R1 is in the file as the centre's snapshot has him: no change, nothing sent for him.
    assert sorted(r["entity"] for r in told) == ["card", "resident", "slot", "vehicle"], told
    resident = by_entity["resident"]
    assert (resident["ref"], resident["name"], resident["phone"]) == ("R9", "张**", "138****8000")
    assert (resident["building"], resident["unit"], resident["room"]) == ("1", "2", "902")
    assert resident["valid_to"].startswith("2027-07-01T00:00:00+08:00")  # the last day's next midnight
    assert {k: by_entity["vehicle"][k] for k in ("plate", "resident", "class")} == {
        "plate": "粤B99999",
        "resident": "R9",
        "class": "car",
    }
    card = by_entity["card"]
    assert (card["card"], card["resident"], card["plate"], card["hours"]) == (
        "0012340099",
        "R9",
        "粤B99999",
        ["06:00-23:00"],
    )
    slot = by_entity["slot"]
    assert (slot["zone"], slot["number"], slot["resident"], slot["plates"]) == (
        "main",
        "A-009",
        "R9",
        ["粤B99999"],
    )
    rows = _records(site, "rows")
    assert {r["id"] for r in rows} == {batch["id"]}
    assert all(r["seq"] < batch["seq"] for r in rows)  # the rows before the summary

    hashed = site.rows("SELECT phone_hash FROM residents WHERE ref = 'R9'")
    # The centre takes them into its register: its next snapshot keeps what the office imported.
    site.snapshot(2, directory_v1() + [_as_centre_lists(r) for r in told])
    site.wait_applied(2)
    assert site.rows("SELECT ref, room, name FROM residents WHERE ref = 'R9'") == [("R9", "902", "张三丰")]
    assert site.rows("SELECT hours FROM credentials WHERE value = '0012340099'") == [("06:00-23:00",)]
    assert site.rows("SELECT number FROM slots WHERE zone = 'main' ORDER BY number") == [
        ("A-001",),
        ("A-009",),
    ]

    assert site.rows("SELECT phone_hash FROM residents WHERE ref = 'R9'") == hashed != [("",)]

    # The same files again: only the summary goes up, not every row unchanged.
    import_csv(site.gw.site.config, files)
    wait_for("the second import's summary", lambda: len(_batches(site)) == 2)
    assert len(_rows_told(site)) == 4
