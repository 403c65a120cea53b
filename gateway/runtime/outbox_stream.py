"""Which database's seqs these are: the outbox's stream, checked at start.

The central side checks a site's order and completeness by seq (docs/mqtt.md, Upstream). A seq
alone cannot say which database handed it out: a new box fitted after an SD card died starts its
outbox at 1 again under the same site id, and a box put back on an older copy of gateway.db (README,
going back after an upgrade) hands out again seqs the centre already holds. So each database's run
of seqs is a stream with a random id, published beside each record's seq, and a new stream opens
with an `outbox_started` record (gateway/store/outbox.py start_stream).

The database cannot tell by itself that it is a copy: a small high-water file beside it,
outbox-stream.json, names the stream this box last handed seqs out in and the highest seq it had
handed out (written at start and, by the link, before it publishes a seq above it). At start a
database whose stream the file does not vouch for starts a new stream, above the file's seq. Every
process that queues records checks so before it queues one: `gateway import`, run on a copy put
back before the service starts, would otherwise queue its records in the copy's stream, under seqs
the centre holds.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gateway.store.database import HIGH_WATER_NAME as HIGH_WATER_NAME  # named here as ever
from gateway.store.database import storage_cause, storage_fix, transaction
from gateway.store.outbox import highest_seq, seqs_before_streams, start_stream, streams

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HighWater:
    """The stream this box last handed seqs out in, and the highest seq it had handed out."""

    stream: str
    seq: int


@dataclass(frozen=True, slots=True)
class NewStream:
    reason: str  # outbox_started's: new_database, restored_database, upgrade
    previous: str | None  # the stream this box handed seqs out in before (None: none known)
    above: int  # seqs this box handed out already: the new stream's record goes above them
    first_seq: int | None  # where the stream starts, when before its outbox_started record
    why: str  # for the log


def judge(
    db_stream: str | None, db_seq: int, before_streams: int, kept: HighWater | None
) -> NewStream | None:
    """Whether the database's outbox must start a new stream, from its own stream (None: it has
    none yet), the highest seq it handed out, the highest it handed out before it had streams (an
    upgraded box's) and the high-water file (None: missing)."""
    above = kept.seq if kept else 0
    previous = kept.stream if kept else db_stream
    if db_stream is None and before_streams == 0:
        if db_seq:
            # Records queued before the first start (a `gateway import` of a version that did not
            # check first) are the new stream's: it starts at 1, and its seqs run on from them.
            return NewStream(
                "new_database", previous, 0, 1, "a new database, records queued before its start"
            )
        return NewStream("new_database", previous, above, None, "a new database")
    if db_stream is None and kept is None:
        # The first start of this version on a box that has sent records: nothing is lost, its
        # records before carry no stream, as the older gateway sent them.
        return NewStream("upgrade", None, 0, None, "the first start of a version with streams")
    if kept is None:
        why = f"{HIGH_WATER_NAME} is missing: the database was moved here, or the file lost"
    elif kept.stream != db_stream:
        why = f"{HIGH_WATER_NAME} names stream {kept.stream}: the database is another one, or an older copy"
    elif kept.seq > db_seq:
        why = f"the box handed out seqs up to {kept.seq}, the database up to {db_seq}: an older copy"
    else:
        return None
    return NewStream("restored_database", previous, above, None, why)


def read_high_water(data_dir: Path) -> HighWater | None:
    """The high-water file; None when missing, or unreadable (said, and taken as missing: a new
    stream costs the centre one record, seqs handed out twice in one stream cost it its checks)."""
    path = data_dir / HIGH_WATER_NAME
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        return HighWater(str(kept["stream"]), int(kept["seq"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s cannot be read (%s): taken as missing", path, exc)
        return None


def write_high_water(data_dir: Path, high: HighWater) -> None:
    """Whole or not at all: a power cut leaves the old file or the new one. Raises OSError."""
    path = data_dir / HIGH_WATER_NAME
    part = path.with_name(f"{path.name}.part")
    with open(part, "w", encoding="utf-8") as f:
        json.dump({"stream": high.stream, "seq": high.seq}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)
    folder = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself, on the card
    finally:
        os.close(folder)


def check_outbox_stream(
    conn: sqlite3.Connection, data_dir: Path, now: datetime, *, bring_up: bool = True
) -> str:
    """Before anything is queued upstream, in every process that queues records (the gateway at
    start, `gateway import`): the stream this process hands seqs out in, a new one where judge()
    says so. Returns it. What is written is written under the database's write lock, the
    high-water file read again under it: two processes starting on a copy put back (an import as
    the service starts) judge it once. With nothing to write no lock is taken: an import beside a
    busy gateway waits for nothing more than its own writes. `bring_up`: the file brought up to the
    database's seqs too; not by a process beside a running gateway, whose link writes it before each
    seq above it goes up (written lower, the file would vouch for fewer seqs than the centre holds)."""
    conn.execute("BEGIN")  # a read, one view of the database: in WAL mode it waits for no writer
    try:
        kept, db_stream, new = _judged(conn, data_dir)
        db_seq = highest_seq(conn)
    finally:
        conn.execute("COMMIT")
    if new is None and db_stream is not None and (kept == HighWater(db_stream, db_seq) or not bring_up):
        return db_stream
    with transaction(conn):
        kept, db_stream, new = _judged(conn, data_dir)
        if new is not None:
            db_stream = secrets.token_hex(4)
            first = start_stream(
                conn, db_stream, new.previous, new.reason, now, above=new.above, first_seq=new.first_seq
            )
        db_seq = highest_seq(conn)
        assert db_stream is not None
        if kept != HighWater(db_stream, db_seq) and (bring_up or new is not None):
            _write_or_say(data_dir, HighWater(db_stream, db_seq))
    if new is not None:
        level = logging.INFO if new.reason in ("new_database", "upgrade") else logging.WARNING
        log.log(
            level,
            "outbox stream %s started at seq %d (%s: %s); an outbox_started record tells the central "
            "server%s",
            db_stream,
            first,
            new.reason,
            new.why,
            f", and that stream {new.previous}'s records not yet sent will not come from this box"
            if new.previous
            else "",
        )
    return db_stream


def _judged(
    conn: sqlite3.Connection, data_dir: Path
) -> tuple[HighWater | None, str | None, NewStream | None]:
    """The high-water file, the database's stream (None: none yet) and judge()'s verdict."""
    kept = read_high_water(data_dir)
    known = streams(conn)
    db_stream = known[-1][1] if known else None
    return kept, db_stream, judge(db_stream, highest_seq(conn), seqs_before_streams(conn), kept)


def _write_or_say(data_dir: Path, high: HighWater) -> None:
    try:
        write_high_water(data_dir, high)
    except OSError as exc:
        # Not a reason to keep the lanes shut: the next start only finds it missing.
        log.error("%s cannot be written: %s (fix: %s)", HIGH_WATER_NAME, exc, high_water_fix(exc, data_dir))


def high_water_fix(exc: OSError, data_dir: Path) -> str:
    """The fix for a high-water file not written, by the cause: a chown frees no space on a full
    card, and neither frees a card the kernel took off writes (read-only or failing)."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"give the data directory {data_dir} to the gateway's user"
    return storage_fix(storage_cause(exc, data_dir), data_dir)


# The streams that open on a database that may not be the box's own latest: a copy put back, moved
# from another box, or found without its high-water file; a new database, should one hold a register.
_NOT_THE_LATEST = ("restored_database", "new_database")


def register_maybe_behind(conn: sqlite3.Connection) -> str | None:
    """Why the register of a database the centre keeps (a snapshot applied once) may lack the
    centre's changes since, or None. A copy put back started a stream of its own (check_outbox_stream,
    in whichever process first queued records on it: the service or a `gateway import` before it),
    and its register is the copy's: the deltas sent since it was made were taken by the database it
    replaced, and never come again. So until a snapshot or delta is applied in that stream (its
    `sync_applied` record; a delta on the copy's version, or the snapshot asked for coming at the
    copy's version, shows the centre changed nothing since), every start asks the centre for the
    register. Once the stream's first row is pruned from the outbox (sent, keep_sent_days ago)
    nothing is asked: the centre has had that long to answer."""
    row = conn.execute(
        "SELECT first_seq, reason FROM outbox_streams ORDER BY first_seq DESC LIMIT 1"
    ).fetchone()
    if row is None or row[1] not in _NOT_THE_LATEST:
        return None
    first, reason = int(row[0]), str(row[1])
    if conn.execute("SELECT 1 FROM outbox WHERE seq = ?", (first,)).fetchone() is None:
        return None
    applied = conn.execute(
        "SELECT 1 FROM outbox WHERE seq > ? AND topic = 'sync_applied' LIMIT 1", (first,)
    ).fetchone()
    if applied is not None:
        return None
    if reason == "restored_database":
        return (
            "the database is an older copy put back, or one moved from another box: its register "
            "may lack the centre's changes since the copy was made"
        )
    return "a new database holding a register from the centre: it may lack the centre's changes since"
