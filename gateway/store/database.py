"""Opening the SQLite database: WAL, durability, foreign keys, migrations, and readable errors."""

from __future__ import annotations

import errno
import glob
import logging
import os
import pwd
import shlex
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Literal

from gateway.config.service_user import SERVICE_DATA_DIR, SERVICE_USER, this_command_as
from gateway.errors import GatewayError, StorageError
from gateway.runtime import systemd
from gateway.store.held_open import held_by, process_named
from gateway.store.private_sqlite import zero_deleted
from gateway.store.schema import DATED_IN_UTC, DATED_IN_UTC_47, MIGRATIONS, SCHEMA_VERSION, TIMES_IN_UTC_47

log = logging.getLogger(__name__)

DB_NAME = "gateway.db"
# Beside the database, once a gateway has started on it: the outbox stream it last handed seqs out
# in (runtime/outbox_stream.py). Its being there says a database was here.
HIGH_WATER_NAME = "outbox-stream.json"
POLL_S = 0.001  # how often a writer asks again for the write lock
UPGRADE_TIMEOUT_US = 30 * 60 * 1_000_000  # how long systemd waits for a start that migrates
# The WAL file is cut back to this once it starts over (SQLite's journal_size_limit, on every
# connection that writes), and the checkpoint thread empties it when it has grown past it: a
# retention pass or an import writes in minutes what the lanes write in weeks, and a WAL once grown
# so kept that room on the card for good.
WAL_SIZE_LIMIT = 32 << 20
# The free pages (those of deleted rows) given back to the disk in one turn of the decision worker
# (give_back_free_pages): 2 MB of 4 KB pages, some 10-40 ms on the development VM, no longer than a
# retention batch (docs/benchmarks.md).
VACUUM_STEP_PAGES = 512
INCREMENTAL_VACUUM = 2  # PRAGMA auto_vacuum's value for INCREMENTAL


def open_read_only(
    db_path: Path | str, timeout: float = 5.0, *, check_same_thread: bool = True
) -> sqlite3.Connection:
    """A connection that only reads: in WAL mode it never blocks the decision worker's writes, nor
    they it. The path goes into the URI percent-encoded: a data directory named "gate#2" would
    otherwise open (and create) ".../gate" instead."""
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=check_same_thread)


@dataclass(frozen=True)
class Database:
    """The gateway's database, opened: its connection. Every part of the gateway works on the
    connection itself; sqlite-utils wraps it only where its helpers serve (the CSV export), and is
    imported there: imported at start it cost the running gateway 4 MB of memory for nothing."""

    conn: sqlite3.Connection


def open_database(
    path: Path, *, sync: Literal["full", "normal"] = "full", migrate: bool = True, service: bool = False
) -> Database:
    """The database at `path`, created and migrated to this version's schema if needed. `service`:
    the gateway's own start (`gateway run`, the demo's site), which migrates a database other
    processes have open too, waiting for their writes; a command upgrades one only where no other
    process has it open (_refuse_upgrade_in_use)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create the data directory {path.parent}: {exc.strerror}",
            fix=_make_data_dir_fix(path.parent, exc),
        ) from exc
    blocked = not_writable(path)
    if blocked:
        raise _not_writable(path, blocked)
    if path.name == DB_NAME and not path.exists():
        _refuse_lost(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            # A new file, before its first table (the only time SQLite takes it without a VACUUM):
            # deleted rows' pages can then be given back to the disk (give_back_free_pages).
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        conn.execute(f"PRAGMA synchronous={sync.upper()}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        # As sqlite-utils set it when it wrapped every connection: the schema's triggers were
        # written and tested with it (a REPLACE's delete fires the delete triggers only with it).
        conn.execute("PRAGMA recursive_triggers=ON")
        # Deleted rows (visitors' masked numbers and hashes past retention) zeroed on disk, not left
        # in free pages: Debian's SQLite does so by default, a Python built with its own may not.
        zero_deleted(conn)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        # Damage first: a card that footage filled may have scrambled the header too, and no room
        # freed brings a damaged file back (told "full", systemd restarted it every 2 s for ever).
        if is_damaged(exc):  # a header bit rot or a power cut scrambled
            raise StorageError(
                f"cannot open the database {path}: it is damaged ({exc})", fix=damaged_fix(path)
            ) from exc
        if _is_full(exc, path.parent):
            # Not the database's fault: it opens once there is room. Exit 1, so systemd tries again.
            raise GatewayError(
                f"cannot open the database {path}: the data disk is full ({exc})",
                fix=f"free space on the disk of {path.parent}; the gateway already deleted the "
                "snapshots it may (the oldest first); do not replace the database",
            ) from exc
        if _read_only_disk(path.parent):  # the card failed since not_writable looked
            raise _not_writable(path, [path.parent]) from exc
        raise StorageError(
            f"cannot open the database {path}: {exc}",
            fix="check that the data directory is writable by the gateway user and the file is "
            "an estate-gateway database (restore it from a backup if it is damaged)",
        ) from exc
    if version > SCHEMA_VERSION:
        conn.close()
        raise StorageError(
            f"the database {path} has schema version {version}, written by a newer gateway; "
            f"this one knows up to version {SCHEMA_VERSION}",
            fix="upgrade estate-gateway, or go back to the copy the newer one made before it migrated "
            f"the database: {path.name}.v{SCHEMA_VERSION}.bak next to it (README, Upgrading)",
        )
    if migrate and version < SCHEMA_VERSION:
        if not service and version > 0:  # an upgrade (a new database is made, not upgraded)
            conn.close()  # first: held_by closes a file of its own, dropping this process's locks
            _refuse_upgrade_in_use(path, version)
            return open_database(path, sync=sync, service=True)  # nobody else has it open
        _migrate(conn, version, path)
    return Database(conn)


def _refuse_lost(path: Path) -> None:
    """No database at `path` where a gateway has run on one (its outbox stream's file beside it): lost
    (fsck on a failing SD card puts what it finds damaged in lost+found), not a new install. Made
    anew, it was taken for a new install (an INFO line): no accounts, no register, no cars parked,
    and the nightly `gateway backup` wrote that empty database over the good copies. Refused, exit
    78 (StorageError), by every command that would make it: the service, backup, user add, import.
    The lost database's -wal and -shm, left behind, are moved aside first (_set_aside_wal)."""
    high_water = path.parent / HIGH_WATER_NAME
    if not high_water.exists():
        return
    raise StorageError(
        f"the database {path} is missing, but {high_water.name} beside it shows a gateway ran on one "
        "here: it was lost (a failing SD card's fsck puts damaged files in lost+found), and a new empty "
        "one would be taken for it (no accounts, register or cars parked; the nightly backup would copy "
        "it over the good ones)",
        fix=_lost_database_fix(path, _set_aside_wal(path)),
    )


def _set_aside_wal(path: Path) -> str:
    """The lost database's -wal and -shm, renamed `<name>.lost-<time>` beside it (never deleted), and
    what the refusal says of them. Left where they were, SQLite took them for those of the backup's
    copy installed in the database's place and wrote the lost database's last pages into it: the
    restored database was damaged (Review 67 H1). Only the lost database itself can use them."""
    left = [path.with_name(f"{path.name}-{end}") for end in ("wal", "shm")]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        for f in left:
            if f.exists():
                f.rename(f.with_name(f"{f.name}.lost-{stamp}"))
    except OSError:  # the fix gives the command instead
        moves = "; ".join(
            f"sudo mv {shlex.quote(str(f))} {shlex.quote(f'{f}.lost')}" for f in left if f.exists()
        )
        return (
            f"first move the lost database's {path.name}-wal and -shm aside, or SQLite writes them into "
            f"the restored copy and damages it: {moves}; then "
        )
    # Those of this loss: moved now, or by the refusal before (a later command, a second start).
    moved = sorted(
        path.parent.glob(f"{glob.escape(path.name)}-*.lost-*"), key=lambda f: f.name.split(".lost-")[1]
    )
    newest = [f for f in moved if f.name.endswith(moved[-1].name.split(".lost-")[1])] if moved else []
    if not newest:
        return ""
    back = "; ".join(
        f"sudo mv {shlex.quote(str(f))} {shlex.quote(str(f.with_name(f.name.split('.lost-')[0])))}"
        for f in newest
    )
    return (
        f"the lost database's {path.name}-wal and -shm were moved aside, as "
        f"{' and '.join(f.name for f in newest)}: left in place, SQLite would have written them into the "
        f"restored copy and damaged it (to put back the lost {path.name} itself from lost+found instead, "
        f"put them back with it: {back}); "
    )


def _lost_database_fix(path: Path, aside: str = "") -> str:
    return (
        f"{aside}restore {path.name} from the newest backup (README, *Files lost to fsck*): sudo install -o "
        f"{SERVICE_USER} -g {SERVICE_USER} -m 600 BACKUP/{path.name} {path}, then start the service "
        f"(leave {HIGH_WATER_NAME} where it is: by it the copy's records go up in a new stream); only to "
        f"start anew on purpose, with an empty database, move {path.parent / HIGH_WATER_NAME} aside "
        f"(e.g. to {HIGH_WATER_NAME}.old) first"
    )


def _refuse_upgrade_in_use(path: Path, version: int) -> None:
    """A command's upgrade of a database another process has open, refused: between the new
    version's install and the service's restart (README, Upgrading) the old gateway runs on it, and
    a `gateway user add` or import run then held every lane's decision behind its write lock for the
    copy and the migration (minutes on a large database: storage_failed, barriers shut), then left
    the old code on a schema it does not know. The lock SQLite holds while a connection is open
    tells the running service of every version, older ones too."""
    holder = held_by(path)
    if holder is None:
        return
    raise GatewayError(
        f"the database {path} is at schema version {version} and this gateway needs {SCHEMA_VERSION}, "
        f"but {process_named(holder)} has it open: the running gateway service, of the version this "
        "one replaces, or another command; a command does not upgrade a database in use, and nothing "
        "was changed",
        fix="restart the service, which upgrades the database as it starts: sudo systemctl restart "
        "estate-gateway (README, Upgrading); then run this command again. With the service stopped, "
        "wait until the other command is over: this one then upgrades the database itself",
    )


def not_writable(path: Path) -> list[Path]:
    """Of the SQLite file `path`, its folder, -wal and -shm (those that exist): those this process
    may not write. SQLite opens a file it may not write read-only without a word, and the first
    write fails ("attempt to write a readonly database") naming no file. A command run with sudo
    leaves them root's: a -wal and -shm for good when a power cut ends it before it closes them."""
    folder = [] if _may_write(path.parent) else [path.parent]
    files = (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm"))
    try:
        return folder + [f for f in files if f.exists() and not _may_write(f)]
    except OSError:  # a folder this user may not even look into (the service's, mode 750): it is the fault
        return [path.parent]


def _make_data_dir_fix(data_dir: Path, exc: OSError) -> str:
    """A data directory this user may not make (/var/lib is root's: the import or first account
    run before the service's first start) is made for the service with the line README's Install
    gives; setting data_dir to the value it already has could not help."""
    if exc.errno not in (errno.EACCES, errno.EPERM):
        return (
            f"set site.data_dir to a directory the gateway user may write (under systemd: {SERVICE_DATA_DIR})"
        )
    made_at_start = " (or start the service once: its unit makes it)" if data_dir == SERVICE_DATA_DIR else ""
    return (
        f"make it for the gateway's user: sudo install -d -o {SERVICE_USER} -g {SERVICE_USER} -m 750 "
        f"{shlex.quote(str(data_dir))}{made_at_start}, then run the command again as that user "
        f"(sudo -u {SERVICE_USER} ...)"
    )


def _may_write(path: Path) -> bool:
    # The effective user's rights (os.access asks the real user's by default): those SQLite gets.
    # A folder's disk is also tried (_refuses_writes); a file's never is: opened and closed here, a
    # database file would lose this process's POSIX locks on it, SQLite's among them.
    folder = path.is_dir()
    mode = os.W_OK | os.X_OK if folder else os.W_OK
    allowed = os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)
    return allowed and not (folder and _refuses_writes(path))


def _refuses_writes(folder: Path) -> bool:
    """Whether the disk of `folder` refuses a write now (EROFS), tried with a file made there and
    dropped at once (nameless where the filesystem allows: O_TMPFILE). An SD card the kernel found
    failing is found so alone on newer kernels: ext4 marks itself read-only within (emergency_ro),
    the mount and statvfs still say rw, os.access says yes, and only a write is refused."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return False
    except OSError as exc:  # a full disk (ENOSPC) takes writes again once freed: not read-only
        return exc.errno == errno.EROFS


def give_to_service(paths: list[Path]) -> str:
    """The fix for files the gateway's user may not write, worded as for secret.key (privacy.py);
    on a disk mounted read-only (an SD card the kernel found failing) a chown cannot help."""
    if _read_only_disk(paths[0]) and _read_only_view(paths[0]):
        return (
            f"{paths[0]} is on a disk this service may only read (the unit's ProtectSystem=strict lets it "
            "write only its ReadWritePaths, /var/lib/estate-gateway): add the folder with `sudo systemctl "
            f"edit estate-gateway` ([Service] ReadWritePaths={_mount_point(paths[0])}), then start it again"
        )
    if _read_only_disk(paths[0]):
        return (
            f"the disk of {paths[0]} is mounted read-only (a failing SD card is remounted so: see "
            "`dmesg`); replace or repair it, then start the gateway again"
        )
    names = " ".join(str(p) for p in paths)
    it = "it" if len(paths) == 1 else "them"
    return (
        f"give {it} to the gateway's user (a command run with sudo, not `sudo -u {SERVICE_USER}`, "
        f"left {it} root's): sudo chown {SERVICE_USER}:{SERVICE_USER} {names}"
    )


def _mount_of(path: Path) -> tuple[str, str, str] | None:
    """The mount `path` is on, from /proc/self/mountinfo: its mount point, its own options and its
    filesystem's (the superblock's), or None where it cannot be read."""
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    target, best = str(path.resolve()), None
    for line in lines:
        mine, _, theirs = line.partition(" - ")
        fields, super_fields = mine.split(), theirs.split()
        if len(fields) < 6 or len(super_fields) < 3:
            continue
        point = fields[4].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, fields[5], super_fields[2])
    return best


def _read_only_view(path: Path) -> bool:
    """A folder mounted read-only over a filesystem that is writable: systemd's sandbox
    (ProtectSystem=strict) outside the unit's ReadWritePaths, not a failing SD card (the kernel
    remounts the filesystem itself read-only)."""
    mount = _mount_of(path)
    return mount is not None and "ro" in mount[1].split(",") and "rw" in mount[2].split(",")


def _mount_point(path: Path) -> str:
    mount = _mount_of(path)
    return mount[0] if mount is not None else str(path)


def _read_only_disk(path: Path) -> bool:
    """The disk of `path` (or of the nearest folder above it that exists) is read-only: mounted
    so, or refusing writes though mounted rw (_refuses_writes: a failing SD card)."""
    folder = next((p for p in (path, *path.parents) if p.is_dir()), None)
    if folder is None:
        return False
    try:
        mounted_read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False
    return mounted_read_only or _refuses_writes(folder)


def _not_writable(path: Path, blocked: list[Path]) -> StorageError:
    names = ", ".join(str(p) for p in blocked)
    read_only = _read_only_disk(blocked[0]) and not _read_only_view(blocked[0])
    owner = None if read_only else _other_owner(blocked[0])
    if owner is not None:  # the service's own folder, a command run as the installer's login user
        return StorageError(
            f"cannot open the database {path}: this user ({_user()}) may not write {names}, "
            f"which is {owner}'s",
            fix=f"run the command as {owner}, as README does: {this_command_as(owner)}",
        )
    who = f"the disk of {names} is read-only" if read_only else f"this user ({_user()}) may not write {names}"
    return StorageError(
        f"cannot write the database {path}: {who}",
        fix=f"{give_to_service(blocked)}; do not delete {path.name}-wal: it may hold records that "
        f"are not yet in {path.name}",
    )


def _other_owner(path: Path) -> str | None:
    """Who owns `path`, where it is neither this user nor root (root's is a command run with plain
    sudo, which a chown mends): the service's user, whose folder no chown should take from it."""
    try:
        uid = path.stat().st_uid
    except OSError:
        return None
    if uid in (0, os.geteuid()):
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid with no name: sudo takes it as #UID
        return f"#{uid}"


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid with no name (a container's)
        return f"uid {os.geteuid()}"


def _disk_full(folder: Path, room: int = 1 << 20) -> bool:
    """Less than `room` bytes left where the database lives (SQLite says "disk I/O error" then)."""
    try:
        return shutil.disk_usage(folder).free < room
    except OSError:
        return False


def is_busy(exc: BaseException) -> bool:
    """Whether an SQLite error is another connection's lock held past the busy timeout (a `gateway
    import` suspended with Ctrl-Z, a long write): it passes, unlike a full disk or a bad file."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return isinstance(exc, sqlite3.Error) and code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def passes(exc: BaseException | None, folder: Path | None = None) -> bool:
    """Whether a storage error can pass without the installer: another process's lock (is_busy) or
    a full disk, as storage_cause tells it for the data directory `folder` (what the command's fix
    says: an I/O error with next to no room left, a quota, were told to free space and exited 78).
    The command line exits 1 for it, not 78, so that systemd starts the gateway again (README, Exit
    status)."""
    return exc is not None and (is_busy(exc) or storage_cause(exc, folder) == "full")


def is_damaged(exc: BaseException) -> bool:
    """Whether an SQLite error is a damaged file ("database disk image is malformed", "file is not
    a database"): bit rot on a failing SD card, a power cut mid-write. It stays until the
    installer restores a copy: no restart, no freed space helps."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return isinstance(exc, sqlite3.Error) and code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def damaged_database(path: Path, exc: BaseException) -> StorageError:
    """A StorageError (exit 78: restarting finds the same damage) for the damaged database `path`."""
    return StorageError(f"the database {path} is damaged: {exc}", fix=damaged_fix(path))


def damaged_fix(path: Path) -> str:
    return (
        f"{path.name} is damaged (a failing SD card: see `dmesg`, or a power cut): stop the service, "
        f"move {path.name}, {path.name}-wal and {path.name}-shm in {path.parent} aside (keep them), "
        "restore it from a backup there, the newest (README, Replacing a box; a failing card replaced "
        f"first), give it to the service's user (sudo chown {SERVICE_USER}:{SERVICE_USER} {path}) "
        "and start the service"
    )


# Why the database took no write, as the journal words its fix (storage_fix) and the guard's
# panel a decision it could not store (Gateway._failed): only a full disk is helped by freeing
# space, and told so whatever the cause, the installer deleted snapshots on a card that had failed.
# A fault is none of storage's: an SQLite error of a bug (a constraint, a query on a table that is
# not there) or a decision's own; neither freed space nor a new card helps.
StorageCause = Literal["full", "unwritable", "locked", "damaged", "fault"]

# SQLite's primary codes of a disk that takes no writes otherwise: read-only, failing or gone.
_UNWRITABLE_CODES = (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN)


def storage_cause(exc: BaseException, folder: Path | None = None) -> StorageCause:
    """A full disk (SQLITE_FULL, ENOSPC; SQLite may say only "disk I/O error" on one, or "unable to
    open database file" for a -wal or journal it could not make, so those with next to no room left
    in `folder` too, where its disk still takes writes: one the kernel took off writes is
    unwritable however full), another process's lock (as is_busy tells
    it), a damaged file (as is_damaged does), a disk that takes no writes otherwise: read-only,
    failing or gone (SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN, a file's OSError: the probe's
    EROFS), or else a fault of the gateway's own (any other error, SQLite's of a bug too)."""
    code = _primary_code(exc)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return "locked"
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return "damaged"
    # Tried before the room left: a card the kernel took off writes when nearly full deletes
    # nothing, and freeing space does not bring it back.
    refused_by_the_disk = code in _UNWRITABLE_CODES
    if refused_by_the_disk and folder is not None and _read_only_disk(folder):
        return "unwritable"
    room_short = code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN)
    io_error_on_a_full_disk = room_short and folder is not None and _disk_full(folder)
    out_of_room = getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
    if code == sqlite3.SQLITE_FULL or out_of_room or io_error_on_a_full_disk:
        return "full"
    if code in _UNWRITABLE_CODES or isinstance(exc, OSError):
        return "unwritable"
    return "fault"


# A file's OSError that is storage's (the card read-only, failing or full), not the gateway's own.
_STORAGE_ERRNOS = frozenset({errno.EROFS, errno.EIO, errno.ENOSPC, errno.EDQUOT})


def storage_refused(exc: BaseException, data_dir: Path) -> StorageCause | None:
    """Why storage refused a write that raised `exc`, or None where it is not storage's doing (a
    fault of the gateway's own: its traceback is for the maintainers)."""
    if isinstance(exc, sqlite3.Error):
        cause = storage_cause(exc, data_dir)
        return None if cause == "fault" else cause
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return storage_cause(exc, data_dir)
    return None


# SQLite's words for the codes storage_cause tells apart, for an error raised without its code
# (made by hand: a stand-in for a connection on a full disk raises one so).
_CODE_OF_WORDS = {
    "database or disk is full": sqlite3.SQLITE_FULL,
    "database is locked": sqlite3.SQLITE_BUSY,
    "database disk image is malformed": sqlite3.SQLITE_CORRUPT,
    "file is not a database": sqlite3.SQLITE_NOTADB,
    "disk I/O error": sqlite3.SQLITE_IOERR,
    "attempt to write a readonly database": sqlite3.SQLITE_READONLY,
    "unable to open database file": sqlite3.SQLITE_CANTOPEN,
}


def _primary_code(exc: BaseException) -> int:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else _CODE_OF_WORDS.get(str(exc), 0)


def storage_fix(cause: StorageCause, data_dir: Path) -> str:
    """What the installer does about a write the database of `data_dir` refused for `cause`."""
    if cause == "full":
        return f"free disk space in {data_dir}"
    if cause == "locked":
        return "end what holds the database (a `gateway import` stopped with Ctrl-Z: fg)"
    if cause == "damaged":
        return damaged_fix(data_dir / DB_NAME)
    if cause == "fault":
        return (
            "a fault of the gateway, not of its disk or database: freeing space or replacing the card "
            "helps nothing; send the log, with its traceback (journalctl -u estate-gateway, or this "
            "command's output), to the maintainers"
        )
    return (
        f"the data disk of {data_dir} takes no writes (read-only or failing: see `dmesg`); replace or "
        "repair the card (if dmesg shows no fault, a file there may be root's, left by a command run "
        f"with sudo: sudo chown {SERVICE_USER}:{SERVICE_USER} {data_dir / DB_NAME}*)"
    )


def begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, asking again for the write lock every millisecond for as long as the
    connection's busy timeout (10 s), then failing with "database is locked" as SQLite would.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and 100 ms between
    tries. Behind a `gateway import`, which writes in steps of some ms with a gap after each, a
    lane waiting that way slept through gap after gap (150-200 ms); asking every millisecond, it
    takes the first gap."""
    timeout_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(POLL_S)
    finally:
        conn.execute(f"PRAGMA busy_timeout={timeout_ms}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: all of it is stored or none of it."""
    begin_immediate(conn)
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        # SQLite may have ended the transaction itself (a full disk at COMMIT): a ROLLBACK then
        # fails, "no transaction is active", in place of the error that tells what happened. And
        # a COMMIT that failed may leave it open, the connection's next BEGIN refused for good.
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def empty_wal(conn: sqlite3.Connection) -> bool:
    """A checkpoint that copies the WAL into the database and cuts its file to nothing (TRUNCATE),
    waiting for nobody: it holds the write lock only while it copies what is not copied yet (after
    a passive one, the last few commits) and cuts the file; with a write under way or a reader
    still on the WAL it gives up at once. Whether the WAL was emptied (else: try again later)."""
    timeout_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute("PRAGMA busy_timeout=0")
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        conn.execute(f"PRAGMA busy_timeout={timeout_ms}")
    return not busy


def give_back_free_pages(conn: sqlite3.Connection, pages: int = VACUUM_STEP_PAGES) -> int:
    """Up to `pages` of the database's free pages (those of deleted rows) given back to the disk, in
    one transaction: SQLite moves the last pages of the file into free ones and cuts the file (in
    WAL mode, at the checkpoint that copies the step in). How many were given back: none where the
    database keeps them (made before this version and not switched yet: use_incremental_vacuum)."""
    if _auto_vacuum(conn) != INCREMENTAL_VACUUM or not _free_pages(conn):
        return 0  # and no write lock taken for nothing, at every hourly pass
    with transaction(conn):
        free = _free_pages(conn)
        # The pragma gives back one page per step of its statement, and Python's sqlite3 steps a
        # statement that returns no columns only once: asked a page at a time.
        for _ in range(min(pages, free)):
            conn.execute("PRAGMA incremental_vacuum(1)")
        return free - _free_pages(conn)


def use_incremental_vacuum(conn: sqlite3.Connection, path: Path) -> None:
    """Switch a database made before this version (auto_vacuum off: the pages of deleted records
    stay in gateway.db as free pages for good, and a card filled once stays full) to give them back
    to the disk: once, by a VACUUM as the gateway starts, before its lanes open (it holds the write
    lock until it is over). Not a schema migration: an older version runs on the file all the same.

    The VACUUM writes a copy of the records to a temporary file (in the data directory: _temp_files_in)
    and another into the WAL: without room for both on the data disk it is left for a later start,
    with a WARNING saying what to do. One that fails changes nothing (it is one transaction) and is
    tried again at the next start; one cut short (a power cut) left its copy in the WAL, emptied
    first, so that its room counts as free."""
    if _auto_vacuum(conn) == INCREMENTAL_VACUUM:
        return
    with suppress(sqlite3.Error):  # busy: the room check finds the WAL's room taken, as before
        empty_wal(conn)
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    size = int(conn.execute("PRAGMA page_count").fetchone()[0]) * page_size
    records = size - _free_pages(conn) * page_size
    need = 2 * records + (1 << 20)
    if _disk_full(path.parent, room=need):
        log.warning(
            "database %s keeps the room of deleted records for good (made before this version): "
            "giving it back to the disk needs a VACUUM once, with %d MiB free on the data disk (two "
            "copies of its %d MiB of records); free space there (the old gateway.db.v*.bak copies once "
            "this version runs well, old snapshots) and start the gateway again. Until then that room "
            "is used again by new records, never given back",
            path,
            (need >> 20) + 1,
            records >> 20,
        )
        return
    systemd.notify(
        f"EXTEND_TIMEOUT_USEC={UPGRADE_TIMEOUT_US}\nSTATUS=giving the database's free room back (VACUUM)"
    )
    started, on_data_disk = time.monotonic(), False
    try:
        with _temp_files_in(conn, path.parent) as on_data_disk:
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # taken by the VACUUM
            conn.execute("VACUUM")
    except sqlite3.Error as exc:
        if is_damaged(exc):
            raise damaged_database(path, exc) from exc
        if not _switched(conn):
            _not_switched(path, exc, time.monotonic() - started, on_data_disk)
            return
        # SQLite may report an error after the VACUUM committed (a full disk, cleaning up): done.
        log.info("database %s: the VACUUM said %s after it had switched the database", path, exc)
    finally:
        with suppress(sqlite3.Error):  # the copy the VACUUM wrote into the WAL, or what a failed one left
            empty_wal(conn)
    took = time.monotonic() - started
    now = int(conn.execute("PRAGMA page_count").fetchone()[0]) * page_size
    systemd.notify(f"STATUS=database switched to give deleted records' room back (VACUUM, {took:.0f} s)")
    log.info(
        "database %s switched to give the room of deleted records back to the disk: VACUUM took %.1f s, "
        "the file is %.1f MiB, was %.1f MiB",
        path,
        took,
        now / (1 << 20),
        size / (1 << 20),
    )


@contextmanager
def _temp_files_in(conn: sqlite3.Connection, folder: Path) -> Iterator[bool]:
    """SQLite's temporary files (the VACUUM's copy of the records among them) written in `folder`
    while this lasts, as the room check counts them, not in SQLite's own temporary folder
    (SQLITE_TMPDIR, TMPDIR, else /var/tmp: under the unit's PrivateTmp, on the root card, which may
    be full while the data directory is on a big card). SQLite reads those variables once, when
    the process opens its first database: its temp_store_directory pragma (deprecated, but the
    only way that works later) sets the folder for the whole process, so it is put back after.
    Whether the files go to `folder` (not on an SQLite built without deprecated pragmas)."""
    before = conn.execute("PRAGMA temp_store_directory").fetchone()
    with suppress(sqlite3.Error):  # a folder SQLite may not write: its own is used
        conn.execute(f"PRAGMA temp_store_directory = {_sql_text(str(folder))}")
    try:
        yield conn.execute("PRAGMA temp_store_directory").fetchone() == (str(folder),)
    finally:
        with suppress(sqlite3.Error):
            conn.execute(f"PRAGMA temp_store_directory = {_sql_text(before[0] if before else '')}")


def _sql_text(text: str) -> str:
    """`text` as an SQL string literal: a pragma takes no bound parameters."""
    return "'" + text.replace("'", "''") + "'"


def _switched(conn: sqlite3.Connection) -> bool:
    """Whether the database gives deleted records' room back now, as far as it can be read."""
    try:
        return _auto_vacuum(conn) == INCREMENTAL_VACUUM
    except sqlite3.Error:
        return False


def _not_switched(path: Path, exc: sqlite3.Error, took: float, on_data_disk: bool) -> None:
    cause = storage_cause(exc, path.parent)
    fix = storage_fix(cause, path.parent)
    if cause == "full" and not on_data_disk:
        where = "SQLite's temporary folder (SQLITE_TMPDIR or TMPDIR, else /var/tmp)"
        fix += f" and in {where}: the VACUUM's copy went there"
    log.warning(
        "database %s not switched to give the room of deleted records back to the disk: VACUUM "
        "failed after %.1f s: %s; nothing was changed, and it is tried again at the next start (fix: %s)",
        path,
        took,
        exc,
        fix,
    )


def upgrade_copies(data_dir: Path) -> list[Path]:
    """The copies upgrades made of the database in `data_dir` (gateway.db.v45.bak: _back_up)."""
    return sorted(data_dir.glob(f"{DB_NAME}.v*.bak"))


def _auto_vacuum(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])


def _free_pages(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA freelist_count").fetchone()[0])


# The lists a migration keeps of the records it left dated in UTC (schema.py: SQL knows no site
# zone), each with the times in those records to give the site's offset.
_LISTED_IN_UTC = ((DATED_IN_UTC, ("$.at",)), (DATED_IN_UTC_47, TIMES_IN_UTC_47))
_LIST = "SELECT value FROM config_seen WHERE key = ?"
_ANY_LIST = f"SELECT 1 FROM config_seen WHERE key IN ({', '.join('?' * len(_LISTED_IN_UTC))})"


def date_in_site_zone(conn: sqlite3.Connection, tz: tzinfo) -> None:
    """The records a migration queued dated in UTC (schema.py DATED_IN_UTC, DATED_IN_UTC_47) given
    the site's offset, as docs/mqtt.md promises every record's times: by the gateway as it opens
    the database, before its uplink sends anything. Once: each list goes in the transaction that
    dates its records (a second run would leave each instant as it is, in the same zone)."""
    if conn.execute(_ANY_LIST, [key for key, _ in _LISTED_IN_UTC]).fetchone() is None:
        return  # the usual start: nothing to date, and no write lock taken for it
    with transaction(conn):
        dated = sum(_date_listed(conn, key, paths, tz) for key, paths in _LISTED_IN_UTC)
    log.info("dated %d record(s) the schema upgrade queued in the site's offset", dated)


def _date_listed(conn: sqlite3.Connection, key: str, paths: tuple[str, ...], tz: tzinfo) -> int:
    """The records listed under `key` with their times at `paths` (those they have) in the site's
    offset; the list forgotten. How many records were listed."""
    found = conn.execute(_LIST, (key,)).fetchone()
    if found is None:
        return 0
    times = ", ".join(f"json_extract(payload, '{path}')" for path in paths)
    rows = conn.execute(
        f"SELECT seq, {times} FROM outbox WHERE event_id IN (SELECT value FROM json_each(?))", (found[0],)
    ).fetchall()
    for seq, *stored in rows:
        moved = [
            (path, dated)
            for path, text in zip(paths, stored, strict=True)
            if isinstance(text, str) and (dated := _in_site_offset(text, tz)) != text
        ]
        if moved:
            places = ", ".join("?, ?" for _ in moved)
            values = [value for pair in moved for value in pair]
            conn.execute(
                f"UPDATE outbox SET payload = json_set(payload, {places}) WHERE seq = ?", (*values, seq)
            )
    conn.execute("DELETE FROM config_seen WHERE key = ?", (key,))
    return len(rows)


def _in_site_offset(text: str, tz: tzinfo) -> str:
    """A time as a record gives it, in the site's offset: as written where it has that offset
    already (a site whose zone is UTC, or at that moment of the year)."""
    at = datetime.fromisoformat(text)
    local = at.astimezone(tz)
    return text if local.utcoffset() == at.utcoffset() else local.isoformat()


def _migrate(conn: sqlite3.Connection, version: int, path: Path, until: int = SCHEMA_VERSION) -> None:
    """From schema `version` to `until` (tests stop early to make an older gateway's database), all
    steps in one transaction: one that fails (a full disk, a power cut) leaves the database as the
    older gateway left it, and that version still runs on it. One with data in it is copied first."""
    # A migration may rebuild a table (SQLite's way to change a column): foreign keys are off
    # meanwhile, so dropping the old table cascades to nothing, and checked before the commit.
    # The legacy rename leaves other tables' triggers and views alone while it runs.
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA legacy_alter_table=ON")
    backup, number = None, version
    try:
        conn.execute("BEGIN IMMEDIATE")
        # Read again under the write lock: an import started with the service may have migrated it.
        version = number = conn.execute("PRAGMA user_version").fetchone()[0]
        if 0 < version < until:  # an upgrade (a new database is made in no time)
            # The unit's TimeoutStartSec (60 s) would kill a long copy and migration, which then
            # starts over at every restart and never ends.
            systemd.notify(f"EXTEND_TIMEOUT_USEC={UPGRADE_TIMEOUT_US}\nSTATUS=upgrading the database")
            backup = _back_up(path, version)
        for number in range(version, until):
            log.info("migrating database %s to schema version %d", path, number + 1)
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            broken = conn.execute("PRAGMA foreign_key_check").fetchone()
            if broken is not None:
                raise sqlite3.IntegrityError(f"a row of {broken[0]} names a missing {broken[2]} row")
        if version < until:
            conn.execute(f"PRAGMA user_version={until}")
        conn.execute("COMMIT")
        if backup:
            systemd.notify(f"STATUS=database upgraded from schema version {version} to {until}")
    except BaseException as exc:
        if conn.in_transaction:  # a full disk may have ended it already, and a ROLLBACK then fails
            with suppress(sqlite3.Error):  # uncommitted, none of it is in the database anyway
                conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise _migration_failed(exc, path, version, number + 1, backup) from exc
        raise
    finally:
        conn.execute("PRAGMA legacy_alter_table=OFF")
        conn.execute("PRAGMA foreign_keys=ON")


def _migration_failed(
    exc: sqlite3.Error, path: Path, version: int, step: int, backup: Path | None
) -> GatewayError:
    kept = f"nothing was changed: {path} is still at schema version {version}"
    if backup:
        kept += f", and the gateway version that ran before still runs on it (a copy: {backup})"
    what = f"migrating the database {path} to schema version {SCHEMA_VERSION} stopped at step {step}"
    if is_damaged(exc):  # before a full disk: no room freed brings a damaged file back
        return StorageError(f"{what}: the database is damaged ({exc})", fix=damaged_fix(path))
    if _is_full(exc, path.parent):
        return _no_room(path, f"{what} ({exc})", kept)
    if is_busy(exc):  # GatewayError, exit 1: it passes, and systemd starts the gateway again
        return GatewayError(
            f"{what}: another process holds the database ({exc})",
            fix=f"{kept}; end what holds it (a `gateway import` suspended with Ctrl-Z: fg, or wait "
            "until it is over) and start the gateway again",
        )
    return StorageError(
        f"{what}: {exc}",
        fix=f"{kept}; fix the data directory's permissions and start again, or go back to the "
        "gateway version that ran before and report this error",
    )


def _back_up(path: Path, version: int) -> Path:
    """A copy of the database as it is, next to it (gateway.db.v12.bak for schema version 12), made
    before the first migration step: the way back to the version that ran before, should the new
    one misbehave in service (the older gateway refuses a database a newer one has migrated), with
    the files beside it that describe it (_back_up_beside).

    Read on a connection of its own: the migrating one holds the write lock (nothing changes the
    database meanwhile), and SQLite's backup waits for ever on a connection inside a transaction."""
    backup = path.with_name(f"{path.name}.v{version}.bak")
    part = path.with_name(f"{backup.name}.part")
    what = f"copying the database {path} to {backup} before upgrading it"
    try:
        _drop_half_copy(part)  # a power cut mid-copy: its room would keep this copy from ever fitting
        with closing(sqlite3.connect(path)) as source:
            pages, page_size = (
                source.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size")
            )
            # The copy, and as much again for the tables a step rebuilds and the transaction's
            # journal: checked first, so a box short of room does not copy its database at each start.
            copy = pages * page_size
            need = 2 * copy + (1 << 20)
            replaced = _replaced_room(backup, copy)
            if _disk_full(path.parent, room=need - replaced):
                raise _no_room(path, what, f"nothing was changed; {_room_needed(need, replaced, backup)}")
            with closing(sqlite3.connect(part)) as target:
                source.backup(target)
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, to copy back
        part.replace(backup)  # whole or not at all: a copy cut short never takes a good one's name
        _back_up_beside(path.parent, version)
    except (OSError, sqlite3.Error) as exc:
        part.unlink(missing_ok=True)
        if _is_full(exc, path.parent):
            raise _no_room(path, f"{what} ({exc})", "nothing was changed") from exc
        raise StorageError(
            f"{what}: {exc}",
            fix=f"nothing was changed; let the gateway's user write the data directory {path.parent} "
            "and start again",
        ) from exc
    log.info("copied database %s (schema version %d) to %s before upgrading it", path, version, backup)
    return backup


def _replaced_room(backup: Path, copy: int) -> int:
    """The room this version's earlier copy gives back when the new one replaces it: a power cut
    during the migration leaves the database at this version beside its whole copy, whose room
    kept every later start from ever fitting the upgrade. Only up to the new copy's size: the old
    one stays until the new one is whole (the way back until then), so the new one must fit
    beside it. A copy of another version is another upgrade's way back: never counted."""
    try:
        return min(backup.stat().st_size, copy)
    except FileNotFoundError:
        return 0


def _room_needed(need: int, replaced: int, backup: Path) -> str:
    needed = f"the copy and the upgrade need {((need - replaced) >> 20) + 1} MiB free"
    if replaced:  # freeing this version's copy gains nothing: the new copy replaces it anyway
        needed += f" beside {backup.name} (this version's earlier copy, which the new one replaces)"
    return needed


def _drop_half_copy(part: Path) -> None:
    """Deletes what an earlier copy cut short left (a power cut mid-copy): only the gateway writes
    it, under the migration's write lock, and half a copy is no way back."""
    for leftover in (part, part.with_name(f"{part.name}-journal")):
        leftover.unlink(missing_ok=True)


# The files beside the database that describe it as it is, copied with it (boot-alarms.json.v12.bak)
# and put back with it (README): gateway/parking/boot_clock.py's BOOT_MARKER names this boot's first
# rows and the clock they are dated on. Left as this version wrote it, the older version reads a
# clock already set and a first stay the restored copy never reaches, and re-dates nothing of the
# stale clock's boot. (Not outbox-stream.json: it must stay, to tell the copy for an older one.)
_DESCRIBE_THE_DATABASE = ("boot-alarms.json",)


def _back_up_beside(folder: Path, version: int) -> None:
    for name in _DESCRIBE_THE_DATABASE:
        kept = folder / name
        backup = folder / f"{name}.v{version}.bak"
        part = folder / f"{backup.name}.part"
        try:
            shutil.copyfile(kept, part)
            part.replace(backup)
        except FileNotFoundError:  # none yet (a first start): the way back deletes this version's,
            backup.unlink(missing_ok=True)  # not an older upgrade's copy, of another database
        except OSError:
            part.unlink(missing_ok=True)
            raise


def _no_room(path: Path, what: str, kept: str) -> GatewayError:
    """Not the database's fault: exit 1, not 78, so that systemd's next start, once there is room,
    goes on (README)."""
    return GatewayError(
        f"{what}: the data disk is full",
        fix=f"{kept}; free space on the disk of {path.parent} (old snapshots, old gateway.db.v*.bak "
        "copies) and the gateway starts again; do not replace the database",
    )


def _is_full(exc: Exception, folder: Path) -> bool:
    """The error is a full disk as storage_cause tells it: SQLITE_FULL, ENOSPC or EDQUOT, or an I/O
    error with next to no room left where the database lives on a disk that still takes writes
    (SQLite may say only "disk I/O error"). Any error with next to no room left was "full": a
    damaged file too, and a card the kernel had made read-only."""
    return storage_cause(exc, folder) == "full"


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
