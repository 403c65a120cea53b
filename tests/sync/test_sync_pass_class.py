"""A pass pushed by the central server carries its vehicle's class: its plate is counted as that."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sync_helpers import free_port
from test_sync_downlink import TZ, visitor

from gateway.config import SiteConfig
from gateway.core import Presented
from gateway.privacy import Secrets
from gateway.runtime.gateway import Gateway
from gateway.sync.apply import apply_snapshot_steps
from gateway.sync.entries import EntryError, parse_entry
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage


def moto_visitor(ref: str, plate: str, **more: Any) -> dict[str, Any]:
    return {**visitor(ref, ("plate", plate)), "plate": plate, "vehicle_class": "motorcycle", **more}


def test_a_central_visitors_motorcycle_is_counted_as_a_motorcycle(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    cfg = sync_cfg(free_port())  # no broker: the snapshot is staged and applied here
    gw = Gateway(cfg)
    staging = gw.data_dir / STAGING_NAME
    entries = [
        moto_visitor("P1", "粤B54321", registered_fields=["host_building", "host_unit", "occupants"]),
        visitor("P2", ("plate", "粤B11111")),
    ]
    conn = open_staging(staging)
    for i, body in enumerate(parts := encode_snapshot(3, entries, per_part=10)):
        save_part(conn, 3, i + 1, len(parts), len(entries), body)
    conn.close()
    meta = stage(StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", 3))
    gw.start()
    try:
        gw.on_worker(
            lambda c: apply_snapshot_steps(
                c, staging, 3, meta["counts"], 0, 100, gw.now(), lambda: True, lambda r, _: r
            )
        ).result()
        with sqlite3.connect(gw.db_path) as check:
            rows = check.execute(
                "SELECT ref, vehicle_class, registered_fields FROM passes ORDER BY ref"
            ).fetchall()
        assert rows == [("P1", "motorcycle", "host_building,host_unit,occupants"), ("P2", "car", "")]
        p = Presented("car-in", "plate", "粤B54321", 1.0, datetime.now(TZ), "test")
        ev = gw.on_worker(lambda c: gw.handle(p)).result(timeout=10)
        assert ev.reason == "visitor" and ev.vehicle_class == "motorcycle"
    finally:
        gw.stop()


def test_a_staging_file_from_before_vehicle_classes_is_upgraded(tmp_path: Any) -> None:
    path = tmp_path / STAGING_NAME
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE s_passes (n INTEGER PRIMARY KEY, ref TEXT, kind TEXT, name TEXT, "
            "phone_masked TEXT, phone_hash TEXT, id_masked TEXT, id_hash TEXT, host_building TEXT, "
            "host_unit TEXT, company TEXT, destination TEXT, reason TEXT, passengers INTEGER, "
            "plate TEXT, valid_from TEXT, valid_to TEXT, hours TEXT, registered_fields TEXT, "
            "blocked INTEGER)"
        )
    conn = open_staging(path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(s_passes)")]
    conn.close()
    assert columns[-2:] == ["vehicle_class", "id_kind"]  # in the order the staging INSERT gives them


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vehicle_class": "truck"}, "vehicle_class: 'truck' is not one of car, motorcycle, bicycle"),
        ({"registered_fields": ["building"]}, "registered_fields: ['building'] not among"),
    ],
)
def test_a_pass_entry_with_a_wrong_class_or_field_is_refused(changes: dict[str, Any], message: str) -> None:
    entry = {**visitor("P9"), **changes}
    with pytest.raises(EntryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_entry(entry, TZ, Secrets(b"k" * 32))
