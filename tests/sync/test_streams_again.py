"""The outbox's streams seen from the centre, once more (docs/mqtt.md, Streams, `outbox_started`,
`alarm`, the reference subscriber): an alarm raised before the upgrade to streams and cleared after
it, a central-sink database upgraded after the boxes, a site id changed and changed back."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from conftest import running
from sync_helpers import Mosquitto, wait_for
from test_box_replaced import SITE, _cfg, _drained, _missing, _site
from test_site_renamed import _cfg as _cfg_as
from test_site_renamed import _max_seq
from test_sync_sink import sink
from test_sync_uplink import produce

from gateway.alarm_texts import AlarmText
from gateway.store.alarms import clear_alarm, raise_alarm
from gateway.store.database import DB_NAME, _migrate
from gateway.store.outbox import enqueue
from gateway.timefmt import to_db
from tests.parking.conftest import T0


def test_alarm_raised_before_upgrade_is_cleared_in_the_same_stream(broker: Mosquitto, tmp_path: Path) -> None:
    """The estate's camera went offline under the older gateway: its `raised` record reached the
    centre (no `stream`: an older gateway's). The box is upgraded; the camera is repaired and the
    alarm cleared. docs/mqtt.md told the centre to match a `cleared` record 'to the raised record of
    the same site, stream and alarm_id', and that an `upgrade` outbox_started loses nothing. The
    `cleared` record goes up in the new stream, so the centre found no `raised` to match and showed
    the camera offline for good. Each alarm record names the stream that numbers its alarm
    (`alarm_stream`, null for the alarms of the records before streams, which an `upgrade` stream's
    alarms go on from): the centre matches by site, alarm_stream and alarm_id, and closes it."""
    data = tmp_path / "box"
    data.mkdir()
    with closing(sqlite3.connect(data / DB_NAME, isolation_level=None)) as conn:
        _migrate(conn, 0, data / DB_NAME, until=28)  # the schema before streams
        with conn:  # the alarm and its record as the older gateway wrote them: no alarm_stream
            words = {"device_kind": "camera", "device": "car-in-cam", "lane": "car-in", "error": "timeout"}
            text = AlarmText("device_offline", words)
            ((alarm_id,),) = conn.execute(
                "INSERT INTO alarms (kind, source, message, raised_at) VALUES (?, ?, ?, ?) RETURNING id",
                ("device_offline", "car-in-cam", text.stored(), to_db(T0)),
            ).fetchall()
            raised = {"at": T0.isoformat(), "state": "raised", "kind": "device_offline"}
            enqueue(conn, "alarm", {**raised, "source": "car-in-cam", "alarm_id": alarm_id}, T0)
    central = tmp_path / "central.db"
    with sink(broker, central):
        with running(_cfg(tmp_path, broker.port, "box")) as (gw, _):
            wait_for("the raised record up", lambda: _drained(gw))
            gw.on_worker(lambda c: clear_alarm(c, "device_offline", "car-in-cam", gw.now())).result(10)
            wait_for("the cleared record up", lambda: _drained(gw))

        def alarms() -> list[tuple[str, dict[str, object]]]:
            with closing(sqlite3.connect(central)) as c:
                return [
                    (stream, json.loads(p))
                    for stream, p in c.execute(
                        "SELECT stream, payload FROM events WHERE site = ? AND type = 'alarm' ORDER BY seq",
                        (SITE,),
                    )
                ]

        wait_for("the centre has both", lambda: len(alarms()) >= 2)
    got = alarms()
    # An older gateway's record names no alarm_stream: its alarm is numbered by its own (no) stream.
    keys = [(a.get("alarm_stream", a.get("stream")), a["alarm_id"], a["state"]) for _, a in got]
    raised = {(s, i) for s, i, state in keys if state == "raised"}
    cleared = [(s, i) for s, i, state in keys if state == "cleared"]
    assert cleared, got
    for key in cleared:
        assert key in raised, (
            f"cleared record (alarm_stream {key[0]!r}, alarm_id {key[1]}) matches no raised record the "
            f"centre holds: {sorted(raised, key=str)}; the camera alarm stays open at the centre"
        )
    (new_stream,) = {s for s, _ in got if s}
    assert [(s, a["state"]) for s, a in got] == [("", "raised"), (new_stream, "cleared")]


# events and sites as the central-sink before streams made them (git show 9c03ee9^:gateway/sync/sink.py).
_SINK_BEFORE_STREAMS = """
CREATE TABLE events (event_id TEXT PRIMARY KEY, site TEXT NOT NULL, seq INTEGER NOT NULL,
    type TEXT NOT NULL, topic TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE INDEX events_site_seq ON events(site, seq);
CREATE TABLE sites (site TEXT PRIMARY KEY, max_seq INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0,
    out_of_order INTEGER NOT NULL DEFAULT 0, status TEXT, status_at TEXT, health TEXT,
    health_at TEXT, sync_state TEXT, sync_state_at TEXT);
CREATE VIEW site_gaps AS SELECT site, 0 AS missing FROM sites;
"""


def _as_the_older_sink_kept(got: Path, central: Path) -> None:
    """`central` as the older sink would have written what `got` holds: the same events in the
    order stored, without a stream column (each payload still names its stream), counted by site."""
    with closing(sqlite3.connect(central)) as c:
        c.executescript(_SINK_BEFORE_STREAMS)
        c.execute("ATTACH DATABASE ? AS got", (str(got),))
        c.execute(
            "INSERT INTO events SELECT event_id, site, seq, type, topic, payload, received_at "
            "FROM got.events ORDER BY rowid"
        )
        c.execute(
            "INSERT INTO sites (site, max_seq, events) "
            "SELECT site, max(seq), count(*) FROM events GROUP BY site"
        )
        c.commit()


def test_sink_upgraded_after_the_gateways_counts_no_records_missing(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """The estates' boxes were upgraded first; the centre's `gateway central-sink` a week later.
    Every record the box sent reached the centre, in order. After the sink's upgrade its
    `site_gaps` said records were missing: the records the older sink stored before the upgrade
    name their stream in the payload, but the upgrade filed them under stream '' and counted the
    box's stream from its outbox_started first_seq with none of them in it. The operator was told
    records were lost when none were: site_gaps says 0."""
    got, central = tmp_path / "got.db", tmp_path / "central.db"
    with running(_cfg(tmp_path, broker.port, "box")) as (gw, _):
        with sink(broker, got):  # what reached the older sink, its database made from it below
            produce(gw, 5)
            wait_for("the records up", lambda: _drained(gw))
            wait_for("the sink has them", lambda: _site(got)[1] >= 6)
        _as_the_older_sink_kept(got, central)
        with sink(broker, central):  # this version's sink, on the older sink's database
            produce(gw, 5)
            wait_for("the records up", lambda: _drained(gw))
            wait_for("the sink has them", lambda: _site(central)[1] >= 11)
    with closing(sqlite3.connect(central)) as c:
        seqs = [s for (s,) in c.execute("SELECT seq FROM events WHERE site = ? ORDER BY seq", (SITE,))]
        per_stream = c.execute(
            "SELECT stream, max_seq, events, out_of_order FROM streams WHERE site = ?", (SITE,)
        ).fetchall()
    assert seqs == list(range(1, len(seqs) + 1)), f"the centre holds seqs {seqs}"
    assert _missing(central) == 0, (
        f"site_gaps says {_missing(central)} missing ({per_stream}); the centre holds seqs {seqs}, none lost"
    )
    ((stream, max_seq, events, late),) = per_stream
    assert stream and (max_seq, events, late) == (len(seqs), len(seqs), 0)


def test_site_id_changed_and_changed_back_counts_nothing_missing(broker: Mosquitto, tmp_path: Path) -> None:
    """The installer set `[site] id` to the centre's new naming ("sunshine-n"), then the centre
    asked for the old id back. Every record reached the centre: those sent while the box was
    "sunshine-n" under that id, the others under "sunshine-north", each site_renamed telling where
    the seqs went. `site_gaps` said sunshine-north was missing the seqs that went up under
    "sunshine-n": its stream was counted from the stream's outbox_started first_seq, ignoring the
    site_renamed record that says from which seq the records come under this id again (the sink
    before streams counted this site from that first_seq, and said 0). Nothing was lost: 0."""
    db = tmp_path / "central.db"
    with sink(broker, db):
        for site_id, n in (("sunshine-north", 10), ("sunshine-n", 5), ("sunshine-north", 5)):
            with running(_cfg_as(tmp_path, broker.port, site_id)) as (gw, _):
                produce(gw, n)
                wait_for("the outbox drained", lambda: _drained(gw))
        wait_for("the records stored", lambda: _max_seq(db, "sunshine-north") > 18)
    with closing(sqlite3.connect(db)) as c:
        gaps = dict(c.execute("SELECT site, missing FROM site_gaps").fetchall())
        held = {
            site: [s for (s,) in c.execute("SELECT seq FROM events WHERE site = ? ORDER BY seq", (site,))]
            for site in gaps
        }
    every = sorted(held["sunshine-north"] + held["sunshine-n"])
    assert every == list(range(1, len(every) + 1)), f"not every seq arrived: {held}"
    assert gaps == {"sunshine-north": 0, "sunshine-n": 0}, f"site_gaps {gaps}; the centre holds {held}"


def _unknown_plate(plate: str) -> AlarmText:
    return AlarmText("repeated_unknown_plate", {"plate": plate, "count": 5, "minutes": 10, "lane": "car-out"})


def _older_gateway_raises(db: Path, source: str, at: datetime) -> None:
    """An alarm raised by the older gateway (schema before streams) on `db`: its row and its record,
    which name no alarm_stream."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn, conn:
        text = AlarmText(
            "repeated_unknown_plate", {"plate": source, "count": 5, "minutes": 10, "lane": "car-out"}
        )
        ((alarm_id,),) = conn.execute(
            "INSERT INTO alarms (kind, source, message, raised_at) VALUES (?, ?, ?, ?) RETURNING id",
            ("repeated_unknown_plate", source, text.stored(), to_db(at)),
        ).fetchall()
        raised = {"at": at.isoformat(), "state": "raised", "kind": "repeated_unknown_plate"}
        enqueue(conn, "alarm", {**raised, "source": source, "alarm_id": alarm_id}, at)


def test_alarms_of_a_box_taken_back_to_its_copy_are_not_those_raised_after_the_upgrade(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """After the upgrade the exit's camera keeps reading an unregistered plate 粤X00001 and the box
    raises an alarm. The new version misbehaves; the installer goes back as README says (the older
    version, its database copy from before the upgrade) and the older gateway raises an alarm of its
    own for 粤Y00002; later the box is upgraded again. Both alarms reached the centre under one key
    (alarm_stream null, the same alarm_id: an `upgrade` stream's alarms went up with a null
    alarm_stream, as the older gateway's do, and the copy numbers its alarms from the same id), so
    the centre took the second `raised` as new words for the first and 粤X00001's alarm left its
    desk. Alarms raised after the upgrade carry the stream (docs/mqtt.md, alarm records)."""
    data = tmp_path / "box"
    data.mkdir()
    db = data / DB_NAME
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        _migrate(conn, 0, db, until=28)  # the schema before streams
    _older_gateway_raises(db, "粤A00000", T0)  # one alarm of the older gateway's, cleared or not
    copy = tmp_path / "gateway.db.copy"
    shutil.copy(db, copy)  # the copy the upgrade leaves (gateway.db.v28.bak)
    central = tmp_path / "central.db"
    with sink(broker, central):
        with running(_cfg(tmp_path, broker.port, "box")) as (gw, _):  # upgraded
            text = AlarmText(
                "repeated_unknown_plate", {"plate": "粤X00001", "count": 5, "minutes": 10, "lane": "car-out"}
            )
            gw.on_worker(
                lambda c: raise_alarm(c, "repeated_unknown_plate", "粤X00001", text, gw.now())
            ).result(10)
            wait_for("the records up", lambda: _drained(gw))
        for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):  # README, going back
            (data / name).unlink(missing_ok=True)
        shutil.copy(copy, db)
        _older_gateway_raises(db, "粤Y00002", T0)
        with running(_cfg(tmp_path, broker.port, "box")) as (gw, _):  # upgraded again
            wait_for("the records up", lambda: _drained(gw))

        def raised() -> list[dict[str, object]]:
            with closing(sqlite3.connect(central)) as c:
                rows = c.execute("SELECT payload FROM events WHERE type = 'alarm' ORDER BY rowid").fetchall()
            return [a for a in (json.loads(p) for (p,) in rows) if a["state"] == "raised"]

        wait_for("the centre has both", lambda: {a["source"] for a in raised()} >= {"粤X00001", "粤Y00002"})
    by_key: dict[tuple[object, object], set[object]] = {}
    for a in raised():
        by_key.setdefault((a.get("alarm_stream"), a["alarm_id"]), set()).add(a["source"])
    shared = {key: sources for key, sources in by_key.items() if len(sources) > 1}
    assert not shared, f"the centre holds different alarms under one (alarm_stream, alarm_id): {shared}"
