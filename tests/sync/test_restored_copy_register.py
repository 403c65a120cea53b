"""A box put back on an older copy of gateway.db (README: going back after an upgrade; replacing a
box with a copy) knows the copy is older (its outbox starts a `restored_database` stream), and so
knows that its register is the copy's: what the centre changed since the copy was made was taken by
the old database and never comes again, so it asks the centre for the register (docs/mqtt.md, The
rules)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import Site, _site, directory_v1

from gateway.config import SiteConfig
from gateway.store.admin import import_csv
from gateway.store.database import DB_NAME
from tests.conftest import write_csv


def _copy(db: Path, to: Path) -> None:
    """The copy an upgrade's first start makes (gateway/store/database.py _back_up)."""
    with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(to)) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")


def _struck_off_after_a_copy(broker: Mosquitto, cfg: SiteConfig, tmp_path: Path) -> None:
    """Snapshot 1 in, the copy made, then delta 2 strikes card C0001 off (a lost or stolen card)
    and the records since go up; then the box is put back on the copy as README.md says: the
    database and its WAL and SHM moved aside, the .bak copied to gateway.db, outbox-stream.json
    left beside it."""
    db = cfg.site.data_dir / DB_NAME
    with _site(broker, cfg) as s:
        s.snapshot(1, directory_v1())
        s.wait_applied(1)
    _copy(db, db.with_name("gateway.db.v40.bak"))
    with _site(broker, cfg) as s:
        s.delta(2, 1, delete=[{"kind": "card", "card": "C0001"}])
        s.wait_applied(2)
        assert s.card_reason("C0001") == "unknown"
        # The box runs on after the copy: its records since (delta 2's sync_applied among them) go
        # up, so the centre holds seqs the copy never handed out, and the box tells the copy by them.
        wait_for("the records up", lambda: not s.rows("SELECT 1 FROM outbox WHERE sent_at IS NULL"))
    aside = tmp_path / "aside"
    aside.mkdir()
    for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm"):
        if (db.parent / name).exists():
            shutil.move(db.parent / name, aside / name)
    shutil.copy(db.with_name("gateway.db.v40.bak"), db)


def _asked_now(s: Site) -> list[dict[str, Any]]:
    """The snapshot requests sent in the stream the box hands seqs out in now: a request still
    waiting in the copy (its first start's, sent long ago) goes up again in the copy's own stream."""
    return [r for r in s.upstream("/sync/request") if r.get("stream") == s.gw.outbox_stream]


def test_a_box_put_back_on_an_older_copy_asks_the_centre_for_the_register(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], tmp_path: Path
) -> None:
    """The centre struck card C0001 off (a lost or stolen card, delta 2) after the upgrade's copy
    was made. The installer goes back on the copy as README.md says. The guard saw C0001 open the
    door again as a resident's, and the box asked the centre nothing: no sync/request went up and
    need_snapshot stayed false, so the struck-off card kept opening until some later delta happened
    to come. The box knows its database is an older copy (it starts a `restored_database` stream),
    so it asks for the register, as a box with an empty register does (docs/mqtt.md, The rules;
    README, Replacing a box: the register comes back from the centre by itself), and the centre's
    snapshot strikes C0001 off again."""
    cfg = sync_cfg(broker.port, resync_interval_s=1)
    _struck_off_after_a_copy(broker, cfg, tmp_path)
    with _site(broker, cfg) as s:
        time.sleep(2)
        reason = s.card_reason("C0001")
        started = [e for e in s.upstream("/events/outbox_started") if e["reason"] == "restored_database"]
        assert started and started[-1]["stream"] == s.gw.outbox_stream, "not known for an older copy"
        asked = _asked_now(s)
        status = s.service.directory.status()
        assert asked and status["need_snapshot"], (
            f"put back on an older copy, C0001 (struck off by the centre) is let in as {reason!r} and "
            f"no snapshot is asked for: {status}"
        )
        assert "older copy" in asked[0]["reason"], asked[0]
        # The centre answers with the register as it is now: C0001 is struck off again.
        s.snapshot(3, [e for e in directory_v1() if e.get("card") != "C0001"])
        s.wait_applied(3)
        assert s.card_reason("C0001") == "unknown"
        assert not s.service.directory.status()["need_snapshot"]


def test_an_import_before_the_start_does_not_hide_that_the_register_is_the_copy_s(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], tmp_path: Path
) -> None:
    """README, going back after an upgrade: the installer also runs `gateway import` on the copy
    before starting the service. The import is the first to find the copy older, and starts its
    stream (`restored_database`): the start after it must still ask the centre for the register,
    and so must a restart before the snapshot came."""
    cfg = sync_cfg(broker.port, resync_interval_s=1)
    _struck_off_after_a_copy(broker, cfg, tmp_path)
    import_csv(cfg, [write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR9,3栋,2单元,张三\n")])
    for _start in range(2):  # the second: a restart before the centre answered
        with _site(broker, cfg) as s:
            wait_for("a snapshot asked for", lambda: bool(_asked_now(s)), timeout=10)
            assert s.service.directory.status()["need_snapshot"]
    with _site(broker, cfg) as s:
        s.snapshot(3, [e for e in directory_v1() if e.get("card") != "C0001"])
        s.wait_applied(3)
    with _site(broker, cfg) as s:  # the register is the centre's now: nothing more to ask
        time.sleep(1.5)
        status = s.service.directory.status()
    assert not status["need_snapshot"], status
