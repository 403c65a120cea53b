"""A box replaced: the SD card dies, the installer fits a new box with a fresh gateway.db under the
same [site] id and secrets; or a box is put back on an older copy of its gateway.db, as README.md
('To go back after an upgrade') tells the installer. The outbox's seqs are a stream of their own
(docs/mqtt.md, `outbox_started`): the central side (the reference subscriber, `gateway
central-sink`) checks order and completeness per site and stream."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

from conftest import SITE_TOML, mqtt_section, running
from sync_helpers import Mosquitto, free_port, wait_for
from test_sync_sink import sink
from test_sync_uplink import produce

from gateway.alarm_texts import AlarmText
from gateway.config import SiteConfig, parse_config
from gateway.runtime.gateway import Gateway
from gateway.runtime.outbox_stream import HIGH_WATER_NAME
from gateway.store.alarms import clear_alarm, raise_alarm
from gateway.store.database import DB_NAME, _migrate
from gateway.store.outbox import enqueue, streams
from gateway.sync.sink import Sink, SinkOptions
from gateway.sync.uplink import body_of, stream_of
from tests.conftest import site_toml
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)

SITE = "sunshine-north"
H = timedelta(hours=1)
M = timedelta(minutes=1)


def _cfg(tmp_path: Path, port: int, box: str) -> SiteConfig:
    """The same site config file, on a box whose data directory is `box`'s own."""
    data = tmp_path / box
    data.mkdir(exist_ok=True)
    text = SITE_TOML.format(data_dir=data, http_port=free_port(), site_id=SITE) + "\n" + mqtt_section(port)
    return parse_config(text, "site.toml", base_dir=tmp_path)


def _drained(gw: Gateway) -> bool:
    with sqlite3.connect(gw.db_path) as c:
        return c.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0


def _site(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as c:
        row = c.execute("SELECT max_seq, events, out_of_order FROM sites WHERE site = ?", (SITE,)).fetchone()
    return tuple(row) if row else (0, 0, 0)  # type: ignore[return-value]


def _arrived(db: Path, event_ids: list[str]) -> bool:
    with sqlite3.connect(db) as c:
        got = {e for (e,) in c.execute("SELECT event_id FROM events WHERE site = ?", (SITE,))}
    return set(event_ids) <= got


def _missing(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute("SELECT missing FROM site_gaps WHERE site = ?", (SITE,)).fetchone()[0])


def _published(gw: Gateway, topic: str) -> list[dict[str, Any]]:
    """The outbox's records of `topic` as the uplink publishes them (seq, stream and site in front)."""
    known = streams(gw.conn)
    rows = gw.conn.execute("SELECT seq, payload FROM outbox WHERE topic = ? ORDER BY seq", (topic,))
    site = gw.site.config.site.id
    return [json.loads(body_of(seq, stream_of(known, seq), site, payload)) for seq, payload in rows]


def test_new_box_records_sent_in_order_are_not_counted_out_of_order(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """The centre's operator saw the replacement box's records, sent strictly oldest first, counted
    as `out_of_order` (each seq below the dead box's highest): the link looked broken. They count
    as in order: docs/mqtt.md promises that after dropping duplicates a subscriber sees a gateway's
    seqs in increasing order, seqs 'never reused' (within a stream)."""
    db = tmp_path / "central.db"
    with sink(broker, db):
        with running(_cfg(tmp_path, broker.port, "old-box")) as (gw, _):
            produce(gw, 10)
            wait_for("the old box's records up", lambda: _drained(gw))
        wait_for("the centre has them", lambda: _site(db)[1] >= 10)
        # The SD card dies. A new box: a fresh data directory, the same site config.
        with running(_cfg(tmp_path, broker.port, "new-box")) as (gw, _):
            produce(gw, 5)
            wait_for("the new box's records up", lambda: _drained(gw))
        wait_for("the centre has them", lambda: _site(db)[1] >= 15 + 0)
    _max_seq, _events, out_of_order = _site(db)
    assert out_of_order == 0, f"{out_of_order} in-order records of the new box counted out of order"
    with sqlite3.connect(db) as c:
        started = [
            json.loads(p) for (p,) in c.execute("SELECT payload FROM events WHERE type = 'outbox_started'")
        ]
        kept = c.execute("SELECT count(DISTINCT stream) FROM streams WHERE site = ?", (SITE,)).fetchone()[0]
    assert [(s["reason"], s["first_seq"], s["previous_stream"]) for s in started] == [
        ("new_database", 1, None),
        ("new_database", 1, None),
    ]
    assert started[0]["stream"] != started[1]["stream"] and kept == 2


def test_records_the_centre_never_got_from_the_new_box_show_as_missing(
    brokers: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    """The broker drops records for a consumer that is down once its queue is full (docs/mqtt.md,
    'a capped queue drops records'): the centre's `site_gaps` is how it learns records never came.
    After a box replacement, 10 records of the new box never reached the centre, yet `site_gaps`
    said 0 missing: the dead box's seqs 1..20 stood in for the new box's lost ones. The centre
    sees them missing (as it does for the same drop on a box that was not replaced)."""
    broker = brokers(extra="max_queued_messages 2\n")
    broker.start()
    db = tmp_path / "central.db"
    with sink(broker, db):
        with running(_cfg(tmp_path, broker.port, "old-box")) as (gw, _):
            produce(gw, 20)
            wait_for("the old box's records up", lambda: _drained(gw))
        wait_for("the centre has them", lambda: _site(db)[1] >= 20)
    assert _missing(db) == 0
    # The consumer is down for a while (its session kept); meanwhile the new box is fitted.
    with running(_cfg(tmp_path, broker.port, "new-box")) as (gw, _):
        produce(gw, 12)  # the broker keeps at most 2 for the consumer, drops the rest
        wait_for("the new box's records up", lambda: _drained(gw))
        with sink(broker, db):
            last = produce(gw, 3)  # delivered: the consumer is back
            wait_for("the new box's records up", lambda: _drained(gw))
            wait_for("the last three", lambda: _arrived(db, last))
    with sqlite3.connect(db) as c:
        got = c.execute("SELECT count(*) FROM events WHERE site = ? AND type = 'test'", (SITE,)).fetchone()[0]
    new_box_lost = 20 + 15 - got
    assert new_box_lost >= 9  # the drop happened as set up
    assert _missing(db) >= new_box_lost, (
        f"site_gaps says {_missing(db)} missing; {new_box_lost} records never came"
    )


def _copy(db: Path, to: Path) -> None:
    """The copy an upgrade's first start makes (gateway/store/database.py _back_up)."""
    with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(to)) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")


def _newest_seq(gw: Gateway) -> int:
    with sqlite3.connect(gw.db_path) as c:
        return int(c.execute("SELECT max(seq) FROM outbox WHERE topic = 'test'").fetchone()[0])


def test_a_box_put_back_on_an_older_database_does_not_reuse_seqs_the_centre_has(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], tmp_path: Path
) -> None:
    """The centre got the site's records, those sent after the upgrade's copy was made among them.
    Put back on the copy, as README.md ('To go back after an upgrade') tells the installer, the box
    sent its next record under a seq the centre already held: the centre's checks by seq
    (docs/mqtt.md: 'seq, per gateway, increasing, never reused'; `central-sink`'s out_of_order and
    site_gaps) counted the box's new records out of order and let them stand in for ones that never
    came. Its next seq is above every one sent, in a new stream whose `outbox_started` says the
    database was put back, and the centre counts nothing out of order or missing."""
    cfg = sync_cfg(broker.port, site_id=SITE)
    db = cfg.site.data_dir / DB_NAME
    central = tmp_path / "central.db"
    with sink(broker, central):
        with running(cfg) as (gw, _):
            produce(gw, 5)
            wait_for("the records up", lambda: _drained(gw))
        _copy(db, db.with_name("gateway.db.v40.bak"))
        with running(cfg) as (gw, _):
            produce(gw, 5)  # recorded and delivered after the copy
            wait_for("the records up", lambda: _drained(gw))
            highest_sent = _newest_seq(gw)
            (before,) = {stream for _, stream in streams(gw.conn)}
        # README: go back. Move the database and its WAL and SHM aside, copy the .bak to gateway.db.
        aside = tmp_path / "aside"
        aside.mkdir()
        for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm"):
            if (db.parent / name).exists():
                shutil.move(db.parent / name, aside / name)
        shutil.copy(db.with_name("gateway.db.v40.bak"), db)
        with running(cfg) as (gw, _):
            produce(gw, 1)
            wait_for("the record up", lambda: _drained(gw))
            seq = _newest_seq(gw)
            (started,) = [s for s in _published(gw, "outbox_started") if s["stream"] != before]
        wait_for("the centre has it", lambda: _site(central)[1] >= 11)
    assert seq > highest_sent, (
        f"the box's next record went up as seq {seq}; the centre has seqs up to {highest_sent}"
    )
    assert started["first_seq"] == started["seq"] > highest_sent
    assert (started["previous_stream"], started["reason"]) == (before, "restored_database")
    assert _site(central)[2] == 0 and _missing(central) == 0


def test_new_box_alarm_records_are_told_apart_from_the_dead_box_s(make_gw: Callable[..., Gateway]) -> None:  # noqa: F811
    """The dead box's camera went offline (alarm_id 1, raised, still open at the centre). On the new
    box the door is held open and shut again: its alarm goes up as alarm_id 1 too, then cleared. By
    docs/mqtt.md the centre matched a cleared record 'to the raised record of the same alarm_id',
    so it closed the camera's alarm, which no one repaired. Each box's records carry its own
    stream, and the centre matches by (site, stream, alarm_id): the new box's `cleared` names
    another alarm than the dead box's open one (the ids themselves are each database's own)."""
    old = make_gw()
    words = {"device_kind": "camera", "device": "car-in-cam", "lane": "car-in", "error": "timeout"}
    raise_alarm(old.conn, "device_offline", "car-in-cam", AlarmText("device_offline", words), T0)
    camera = _published(old, "alarm")[-1]
    new = make_gw()
    assert new.site.config.site.id == old.site.config.site.id
    held = AlarmText("held_open", {"lane": "door", "seconds": 120, "device": "door-lock"})
    raise_alarm(new.conn, "held_open", "door", held, T0 + 4 * H)
    clear_alarm(new.conn, "held_open", "door", T0 + 4 * H + M)
    cleared = _published(new, "alarm")[-1]
    assert cleared["state"] == "cleared" and camera["state"] == "raised"
    assert cleared["stream"] and camera["stream"]
    assert (cleared["site"], cleared["stream"], cleared["alarm_id"]) != (
        camera["site"],
        camera["stream"],
        camera["alarm_id"],
    ), f"the door's cleared record names the dead box's open camera alarm {camera['alarm_id']}"
    (told,) = _published(new, "outbox_started")
    assert (told["reason"], told["first_seq"]) == ("new_database", 1)  # the seed import is its first


def test_a_new_box_with_an_empty_register_asks_the_centre_for_it(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """A new box (fresh gateway.db, [mqtt] on, the site's key restored) connected with no register
    at all: every resident's card and plate was refused `unknown` at the gate. It told the centre
    nothing: no `sync/request` went up and its health said need_snapshot false, so a centre that
    answers sync/request (the documented way a gateway gets the whole register) sent nothing until
    its next delta happened to arrive. It asks for a snapshot, as it does when its inbox or
    staging file was lost."""
    with running(sync_cfg(broker.port, gap_wait_s=0.3, resync_interval_s=1)) as (gw, service):
        wait_for("the link", lambda: service.link.state == "connected")
        time.sleep(3)
        status = service.directory.status()
        with sqlite3.connect(gw.db_path) as c:
            asked = c.execute("SELECT count(*) FROM outbox WHERE topic = 'sync_request'").fetchone()[0]
    assert status["applied_version"] == 0
    assert asked >= 1 and status["need_snapshot"], f"no snapshot asked for: {status}"


def _older_gateway_database(data: Path, records: int) -> None:
    """gateway.db as the version before streams left it: `records` outbox rows, no high-water file."""
    data.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(data / DB_NAME, isolation_level=None)
    _migrate(conn, 0, data / DB_NAME, until=27)
    with conn:
        for n in range(records):
            enqueue(conn, "test", {"n": n}, T0)
    conn.close()


def test_an_upgraded_box_carries_on_its_seqs_and_loses_nothing(tmp_path: Path) -> None:
    """The first start of this version on a box that has sent records: its seqs run on, the records
    still waiting go up as before (no stream: they are the older gateway's), and the new stream's
    `outbox_started` says "upgrade" and names no stream whose records are lost."""
    data = tmp_path / "data"
    _older_gateway_database(data, 4)
    gw = Gateway(parse_config(site_toml(data), "site.toml"))
    (told,) = _published(gw, "outbox_started")
    waiting = _published(gw, "test")
    gw.conn.close()
    assert (told["seq"], told["first_seq"], told["previous_stream"], told["reason"]) == (
        5,
        5,
        None,
        "upgrade",
    )
    assert [r["seq"] for r in waiting] == [1, 2, 3, 4] and all("stream" not in r for r in waiting)
    high = json.loads((data / HIGH_WATER_NAME).read_text())
    assert high == {"stream": told["stream"], "seq": 5}


def test_a_centre_sink_database_from_before_streams_keeps_working(tmp_path: Path) -> None:
    """A central-sink database written by the version before streams (events without a stream
    column, site_gaps by site alone) opens and counts on: its records are the site's stream ''."""
    db = tmp_path / "central.db"
    with sqlite3.connect(db) as c:
        c.executescript(
            """
            CREATE TABLE events (event_id TEXT PRIMARY KEY, site TEXT NOT NULL, seq INTEGER NOT NULL,
                type TEXT NOT NULL, topic TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL);
            CREATE INDEX events_site_seq ON events(site, seq);
            CREATE TABLE sites (site TEXT PRIMARY KEY, max_seq INTEGER NOT NULL DEFAULT 0,
                events INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0,
                out_of_order INTEGER NOT NULL DEFAULT 0, status TEXT, status_at TEXT, health TEXT,
                health_at TEXT, sync_state TEXT, sync_state_at TEXT);
            CREATE VIEW site_gaps AS SELECT site, 0 AS missing FROM sites;
            INSERT INTO events VALUES ('e1', 'old-site', 1, 'test', 't', '{}', 'x');
            INSERT INTO events VALUES ('e3', 'old-site', 3, 'test', 't', '{}', 'x');
            INSERT INTO sites (site, max_seq, events, out_of_order) VALUES ('old-site', 3, 2, 1);
            """
        )
    Sink(SinkOptions("127.0.0.1", free_port(), "estate", db, "sink-1")).db.close()
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT site, missing FROM site_gaps").fetchall() == [("old-site", 1)]
        assert c.execute("SELECT site, stream, max_seq, events, out_of_order FROM streams").fetchall() == [
            ("old-site", "", 3, 2, 1)
        ]


def test_a_register_kept_by_import_is_not_asked_for_again_and_again(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """An estate keeps its register with `gateway import` and uses MQTT only to send its records
    up: no snapshot was ever applied (applied version 0), but the register is not empty. Asking
    the centre for one at every start and again every resync_interval_s, for a snapshot that never
    comes, would keep need_snapshot true on its health for good; only an empty register asks."""
    cfg = sync_cfg(broker.port, gap_wait_s=0.3, resync_interval_s=1)
    with running(cfg) as (gw, service):
        wait_for("the link", lambda: service.link.state == "connected")
        db_path = gw.db_path
    with closing(sqlite3.connect(db_path)) as c, c:
        c.execute(
            "INSERT INTO residents (ref, name, building, unit, room) VALUES ('R1', '王*', '3', '2', '301')"
        )
        asked_before = c.execute("SELECT count(*) FROM outbox WHERE topic = 'sync_request'").fetchone()[0]
    with running(cfg) as (gw, service):
        wait_for("the link", lambda: service.link.state == "connected")
        time.sleep(3)
        status = service.directory.status()
        with closing(sqlite3.connect(gw.db_path)) as c:
            asked = c.execute("SELECT count(*) FROM outbox WHERE topic = 'sync_request'").fetchone()[0]
    assert status["applied_version"] == 0
    assert asked == asked_before and not status["need_snapshot"], f"asked again: {status}"
