"""The rows an import adds or changes go up in `registry` records of many rows each, every record
within `[mqtt] max_message_bytes` (over it the uplink sets a record aside); a row changed since is
sent again, an unchanged one not (reviewer 60k: before, only the import's summary went up, and the
central server's next snapshot removed the imported rows)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from gateway.config import parse_config
from gateway.store.admin import import_csv
from gateway.sync.topics import Topics
from gateway.sync.uplink import body_of
from tests.conftest import site_toml, write_csv


def _rows_records(data: Path) -> list[str]:
    with sqlite3.connect(data / "gateway.db") as c:
        return [
            p
            for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq")
            if json.loads(p)["entity"] == "rows"
        ]


def test_imported_rows_go_up_in_records_that_fit(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data"))
    cfg = cfg.model_copy(update={"mqtt": cfg.mqtt.model_copy(update={"max_message_bytes": 4096})})
    people = "ref,building,unit,room,name,phone\n" + "".join(
        f"R{i},1,2,{i},张三{i},138{i:08d}\n" for i in range(200)
    )
    csv = write_csv(tmp_path / "residents.csv", people)
    import_csv(cfg, [csv])
    sent = _rows_records(tmp_path / "data")
    # Each as the uplink measures it against the limit, with its seq, stream and topic.
    topic = Topics(cfg.mqtt.topic_prefix, cfg.site.id).upstream("registry") or ""
    sizes = [len(body_of(10**9, "5ebb1046", cfg.site.id, p)) + len(topic.encode()) for p in sent]
    assert len(sent) > 1 and max(sizes) <= 4096, sizes
    rows = [row for p in sent for row in json.loads(p)["rows"]]
    assert sorted(r["ref"] for r in rows) == sorted(f"R{i}" for i in range(200))
    assert rows[0] | {"id": 0} == {
        "op": "upsert",
        "entity": "resident",
        "id": 0,
        "ref": "R0",
        "building": "1",
        "unit": "2",
        "room": "0",
        "valid_from": None,
        "valid_to": None,
        "name": "张**",
        "phone": "138****0000",
    }

    csv.write_text(people.replace("R7,1,2,7,", "R7,1,2,707,"), encoding="utf-8")
    import_csv(cfg, [csv])
    again = [row for p in _rows_records(tmp_path / "data")[len(sent) :] for row in json.loads(p)["rows"]]
    assert [(r["ref"], r["room"]) for r in again] == [("R7", "707")]
