"""The installer corrects the site id (`[site] id`, a typo at install) between restarts. The records
sent before went up under the old id, the rest come under the new one with seqs running on: the
central side must not take the new id's first seqs as lost for ever (docs/mqtt.md, site_renamed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import SITE_TOML, mqtt_section, running
from sync_helpers import Mosquitto, free_port, wait_for
from test_sync_sink import sink
from test_sync_uplink import produce

from gateway.config import SiteConfig, parse_config
from gateway.runtime.gateway import Gateway


def _cfg(tmp_path: Path, port: int, site_id: str) -> SiteConfig:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    text = SITE_TOML.format(data_dir=data, http_port=free_port(), site_id=site_id) + "\n" + mqtt_section(port)
    return parse_config(text, "site.toml", base_dir=tmp_path)


def _drained(gw: Gateway) -> bool:
    with sqlite3.connect(gw.db_path) as c:
        return c.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0


def _max_seq(db: Path, site: str) -> int:
    with sqlite3.connect(db) as c:
        row = c.execute("SELECT max_seq FROM sites WHERE site = ?", (site,)).fetchone()
    return int(row[0]) if row else 0


def test_a_corrected_site_id_leaves_the_centre_no_seqs_missing(broker: Mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "central.db"
    with sink(broker, db):
        with running(_cfg(tmp_path, broker.port, "sunshine-nrth")) as (gw, _):  # a typo at install
            produce(gw, 10)
            wait_for("the outbox drained", lambda: _drained(gw))
        with running(_cfg(tmp_path, broker.port, "sunshine-north")) as (gw, _):  # put right
            produce(gw, 5)
            wait_for("the outbox drained", lambda: _drained(gw))
        wait_for("the renamed site's records stored", lambda: _max_seq(db, "sunshine-north") > 10)
    with sqlite3.connect(db) as c:
        gaps = dict(c.execute("SELECT site, missing FROM site_gaps").fetchall())
        (renamed,) = c.execute("SELECT payload FROM events WHERE type = 'site_renamed'").fetchone()
    assert gaps == {"sunshine-nrth": 0, "sunshine-north": 0}, gaps
    assert '"from": "sunshine-nrth"' in renamed and '"to": "sunshine-north"' in renamed


def test_a_restart_under_the_same_site_id_sends_no_rename(broker: Mosquitto, tmp_path: Path) -> None:
    for _ in range(2):
        with running(_cfg(tmp_path, broker.port, "sunshine-north")) as (gw, _):
            pass
    with sqlite3.connect(tmp_path / "data" / "gateway.db") as c:
        assert c.execute("SELECT count(*) FROM outbox WHERE topic = 'site_renamed'").fetchone() == (0,)
