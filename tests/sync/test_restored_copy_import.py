"""A box put back on an older copy of gateway.db, and the register brought up to date with
`gateway import` before the service starts again (an estate that keeps its register by import)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from conftest import running
from sync_helpers import Mosquitto, wait_for
from test_sync_sink import sink
from test_sync_uplink import produce

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.runtime.outbox_stream import HIGH_WATER_NAME
from gateway.store.admin import import_csv
from gateway.store.database import DB_NAME
from tests.conftest import write_csv


def _copy(db: Path, to: Path) -> None:
    with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(to)) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")


def _drained(gw: Gateway) -> bool:
    with sqlite3.connect(gw.db_path) as c:
        return c.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0


def _count(db: Path, where: str) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute(f"SELECT count(*) FROM events WHERE {where}").fetchone()[0])


def test_an_import_on_a_copy_put_back_does_not_reuse_a_seq_the_centre_holds(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], tmp_path: Path
) -> None:
    """README, going back after an upgrade: the box is put back on the .bak copy; the installer
    brings its register up to date with `gateway import` before starting the service. The import's
    `registry` record is queued in the copy's stream under the next seq of the copy, a seq the
    centre already holds from the records sent after the copy was made: two records under one
    (site, stream, seq), the new one counted out_of_order at the centre (central-sink) as if the
    link were broken. docs/mqtt.md: seqs are never reused within their stream, and a database put
    back from an older copy goes on above the highest seq the box handed out."""
    cfg = sync_cfg(broker.port)
    db = cfg.site.data_dir / DB_NAME
    central = tmp_path / "central.db"
    with sink(broker, central):
        with running(cfg) as (gw, _):
            produce(gw, 3)
            wait_for("the records up", lambda: _drained(gw))
        _copy(db, db.with_name("gateway.db.v40.bak"))
        with running(cfg) as (gw, _):
            produce(gw, 5)  # recorded and delivered after the copy
            wait_for("the records up", lambda: _drained(gw))
        wait_for("the centre has them", lambda: _count(central, "type = 'test'") >= 8)
        aside = tmp_path / "aside"
        aside.mkdir()
        for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm"):
            if (db.parent / name).exists():
                shutil.move(db.parent / name, aside / name)
        shutil.copy(db.with_name("gateway.db.v40.bak"), db)
        import_csv(cfg, [write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR9,3栋,2单元,张三\n")])
        with running(cfg) as (gw, _):
            wait_for("the records up", lambda: _drained(gw))
        wait_for("the import's record at the centre", lambda: _count(central, "type = 'registry'") >= 1)
    with sqlite3.connect(central) as c:
        twice = c.execute(
            "SELECT site, stream, seq, group_concat(type) FROM events GROUP BY site, stream, seq "
            "HAVING count(*) > 1"
        ).fetchall()
        out_of_order = c.execute("SELECT sum(out_of_order) FROM streams").fetchone()[0]
    assert not twice and out_of_order == 0, (
        f"seqs held twice at the centre: {twice}; out_of_order {out_of_order}"
    )


def test_an_import_beside_the_running_gateway_starts_no_stream_and_leaves_its_file(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], tmp_path: Path
) -> None:
    """An import on a live box (the service running, its link sending) checks the stream too: the
    database is the box's own, so its records go on in the box's stream, and the high-water file
    the link keeps is not written back to a lower seq."""
    cfg = sync_cfg(broker.port)
    high = cfg.site.data_dir / HIGH_WATER_NAME
    with sink(broker, tmp_path / "central.db"), running(cfg) as (gw, _):
        produce(gw, 5)
        wait_for("the records up", lambda: _drained(gw))
        before = json.loads(high.read_text())
        import_csv(cfg, [write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR9,3栋,2单元,张三\n")])
        wait_for("the import's record up", lambda: _drained(gw))
        after = json.loads(high.read_text())
        with sqlite3.connect(gw.db_path) as c:
            started = c.execute("SELECT count(*) FROM outbox_streams").fetchone()[0]
    assert started == 1
    assert after["stream"] == before["stream"] == gw.outbox_stream and after["seq"] >= before["seq"]
