"""What an import tells the centre of each row it writes, field by field, as the admin's records give
them: times in the site's offset, a name masked (an invisible character pasted before it kept out of
the mask), a card's hours as a list, a slot's cars. The records are written out row by row since
stop 64 (csv_records.py, for the import's speed), not built from the admin's helpers; a resident's
fields must stay those of an admin's edit (registry_base._resident_changes)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.config import parse_config
from gateway.store.admin import import_csv
from gateway.store.registry_base import _resident_changes
from tests.conftest import site_toml, write_csv


def _rows_told(data: Path) -> dict[str, list[dict[str, Any]]]:
    with sqlite3.connect(data / "gateway.db") as c:
        payloads = [
            json.loads(p) for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'registry'")
        ]
    told: dict[str, list[dict[str, Any]]] = {}
    for p in payloads:
        for row in p.get("rows", []) if p["entity"] == "rows" else []:
            told.setdefault(row["entity"], []).append({k: v for k, v in row.items() if k != "id"})
    return told


def test_each_kind_told_as_the_admin_records_give_it(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data"))
    files = [
        write_csv(
            tmp_path / "residents.csv",
            """
            ref,building,unit,room,name,phone,valid_from,valid_to
            R9,1栋,2单元,902,\u200b张三丰,13812348000,2026-03-01,2027-06-30
            R1,1栋,2单元,,李,,,
            """,
        ),
        write_csv(
            tmp_path / "cars.csv",
            "plate,resident_ref,class,monthly_until,valid_to\n粤B99999,R9,car,2026-12-31,2027-06-30\n粤B12345,R9,motorcycle,,\n",
        ),
        write_csv(
            tmp_path / "cards.csv",
            "card,resident_ref,plate,hours,valid_from\n"
            "0012340099,R9,粤B99999,06:00-12:00;13:00-23:00,2026-03-01 08:30\n",
        ),
        write_csv(
            tmp_path / "slots.csv", "zone,number,resident_ref,plates\nmain,A-009,R9,粤B99999;粤B12345\n"
        ),
    ]
    import_csv(cfg, files)
    told = _rows_told(tmp_path / "data")
    assert told["resident"] == [
        {
            "op": "upsert",
            "entity": "resident",
            "ref": "R9",
            "building": "1栋",
            "unit": "2单元",
            "room": "902",
            "valid_from": "2026-03-01T00:00:00+08:00",
            "valid_to": "2027-07-01T00:00:00+08:00",
            "name": "张**",
            "phone": "138****8000",
        },
        {
            "op": "upsert",
            "entity": "resident",
            "ref": "R1",
            "building": "1栋",
            "unit": "2单元",
            "room": "",
            "valid_from": None,
            "valid_to": None,
            "name": "李",
            "phone": "",
        },
    ]
    at = datetime(2026, 11, 26, 8, 0, tzinfo=ZoneInfo(cfg.site.timezone))
    resident = told["resident"][0]
    data = {k: resident[k] for k in ("building", "unit", "room", "valid_from", "valid_to")}
    admin = _resident_changes(data | {"name": "\u200b张三丰"}, {"phone_masked": "138****8000"}, at)
    assert {k: v for k, v in resident.items() if k not in ("op", "entity", "ref")} == admin
    assert told["vehicle"] == [
        {
            "op": "upsert",
            "entity": "vehicle",
            "plate": "粤B99999",
            "resident": "R9",
            "class": "car",
            "monthly_until": "2027-01-01T00:00:00+08:00",
            "valid_from": None,
            "valid_to": "2027-07-01T00:00:00+08:00",
        },
        {
            "op": "upsert",
            "entity": "vehicle",
            "plate": "粤B12345",
            "resident": "R9",
            "class": "motorcycle",
            "monthly_until": None,
            "valid_from": None,
            "valid_to": None,
        },
    ]
    assert told["card"] == [
        {
            "op": "upsert",
            "entity": "card",
            "card": "0012340099",
            "resident": "R9",
            "plate": "粤B99999",
            "valid_from": "2026-03-01T08:30:00+08:00",
            "valid_to": None,
            "hours": ["06:00-12:00", "13:00-23:00"],
        }
    ]
    assert told["slot"] == [
        {
            "op": "upsert",
            "entity": "slot",
            "zone": "main",
            "number": "A-009",
            "resident": "R9",
            "plates": ["粤B12345", "粤B99999"],
        }
    ]
