"""A box put back on an older copy of gateway.db, where the centre changed nothing since the copy
was made (the copy an upgrade made an hour ago; README, going back). The box asks the centre for
the register (d76d1e6); the centre answers with its register as it is: the same version the copy
holds."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import _site, directory_v1

from gateway.config import SiteConfig
from gateway.store.database import DB_NAME


def _copy(db: Path, to: Path) -> None:
    with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(to)) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")


def _put_back_on_a_copy_the_centre_did_not_change_since(
    broker: Mosquitto, cfg: SiteConfig, tmp_path: Path
) -> None:
    db = cfg.site.data_dir / DB_NAME
    with _site(broker, cfg) as s:
        s.snapshot(1, directory_v1())
        s.wait_applied(1)
    _copy(db, db.with_name("gateway.db.v40.bak"))
    with _site(broker, cfg) as s:  # the box runs on; its records go up; the centre changes nothing
        s.card_reason("C0001")
        wait_for("the records up", lambda: not s.rows("SELECT 1 FROM outbox WHERE sent_at IS NULL"))
    aside = tmp_path / "aside"
    aside.mkdir()
    for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm"):
        if (db.parent / name).exists():
            shutil.move(db.parent / name, aside / name)
    shutil.copy(db.with_name("gateway.db.v40.bak"), db)


def test_the_centre_answering_with_its_unchanged_register_ends_the_asking(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], tmp_path: Path
) -> None:
    """What the centre sees: the box put back on its copy asks for the register, the centre sends
    its snapshot (version 1, as the copy holds: nothing changed since), and the box ignores it as
    "version 1 is applied" (a resend) and goes on asking every resync_interval_s, need_snapshot true
    on /api/health and sync/state for good, the whole register sent again and again; every restart
    asks again. The snapshot it asked for is the centre's answer that the copy's register is its
    register: the asking should end (docs/mqtt.md, The rules: asked "until a snapshot or delta is
    applied in that stream")."""
    cfg = sync_cfg(broker.port, resync_interval_s=1)
    _put_back_on_a_copy_the_centre_did_not_change_since(broker, cfg, tmp_path)
    with _site(broker, cfg) as s:
        wait_for(
            "the register asked for",
            lambda: any(r.get("stream") == s.gw.outbox_stream for r in s.upstream("/sync/request")),
            timeout=10,
        )
        s.snapshot(1, directory_v1())  # the centre's register: unchanged since the copy, version 1
        time.sleep(3)
        status = s.service.directory.status()
        asked = [r for r in s.upstream("/sync/request") if r.get("stream") == s.gw.outbox_stream]
    assert not status["need_snapshot"], (
        f"the centre sent the snapshot asked for, and the box still asks for it ({len(asked)} "
        f"requests so far): {status}"
    )
    with _site(broker, cfg) as s:  # the next start: the register is the centre's, nothing to ask
        time.sleep(1.5)
        status = s.service.directory.status()
    assert not status["need_snapshot"], status
