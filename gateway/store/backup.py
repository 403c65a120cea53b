"""`gateway backup -c SITE OUT`: what README's *Replacing a box* puts back on a new box, taken while
the service runs. A consistent copy of gateway.db by SQLite's online backup (one read transaction:
in WAL mode the lanes' writes go on meanwhile, and the copy is the database as of one commit), the
site key and the command key, the site config and the files it names (TLS certificate and key,
broker password, CA), and RESTORE.txt saying where each goes back. Not boot-alarms.json nor
outbox-stream.json: they describe this box's boot and seqs, which a new box must not take for its own.

OUT must be new or empty (a backup is never mixed with an older one). The files are the command's
user's alone (600, a folder it makes 700): the keys open the gates and find every stored phone
number. Audited database.backup with who took it, as an export is; no copy is left without that row.
"""

from __future__ import annotations

import errno
import json
import logging
import shutil
import sqlite3
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from gateway.config import SiteConfig
from gateway.errors import GatewayError, StorageError
from gateway.store.audit import audit
from gateway.store.database import DB_NAME, open_database, storage_cause, storage_fix, transaction

log = logging.getLogger(__name__)

BACKUP_ACTION = "database.backup"
RESTORE_NOTES = "RESTORE.txt"
KEYS = ("secret.key", "command.key")  # in the data directory; command.key only with [mqtt]
_PARTIAL = ".gateway-backup-"  # written here first, moved in with the audit row


def take_backup(cfg: SiteConfig, config: Path, out: Path, actor: str) -> list[str]:
    """The backup written into `out`; returns the names of its files. Raises GatewayError (OUT not
    empty, not writable, its disk full), StorageError (the audit row cannot be written)."""
    out = out.resolve()  # the audit says where the copy went
    made = _new_or_empty(out)
    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    partial: Path | None = None
    try:
        partial = Path(tempfile.mkdtemp(prefix=_PARTIAL, dir=out))
        placed = _write(db.conn, cfg, config.resolve(), partial)
        names = [*placed, RESTORE_NOTES]
        for name in names:
            _private(partial / name)
        _move_in_audited(db.conn, partial, out, names, actor, cfg.site.data_dir)
        return names
    except OSError as exc:
        raise _not_written(out, exc) from exc
    except sqlite3.Error as exc:  # the copy's own writes: the backup folder's disk
        if storage_cause(exc, out) in ("full", "unwritable"):
            raise _not_written(out, exc) from exc
        raise
    finally:
        db.conn.close()
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
        if made and out.is_dir() and not any(out.iterdir()):
            out.rmdir()


def _new_or_empty(out: Path) -> bool:
    """Make OUT (700), or take an empty one; what a backup killed outright left in it (its hidden
    folder) is cleared. Returns whether it was made here."""
    try:
        made = not out.exists()
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        for left in out.glob(f"{_PARTIAL}*"):
            shutil.rmtree(left, ignore_errors=True)
        held = sorted(p.name for p in out.iterdir())
    except OSError as exc:
        raise _not_written(out, exc) from exc
    if held:
        raise GatewayError(
            f"{out} is not empty ({', '.join(held[:5])}{', ...' if len(held) > 5 else ''}): a backup "
            "is never written over or beside another",
            fix="give a new folder for each backup, as README's line does with the date "
            "(/var/backups/estate-gateway/$(date +%F))",
        )
    return made


def _write(conn: sqlite3.Connection, cfg: SiteConfig, config: Path, into: Path) -> dict[str, Path]:
    """The files, by their name in the backup, with where each came from."""
    placed: dict[str, Path] = {}
    with closing(sqlite3.connect(into / DB_NAME)) as target:
        conn.backup(target)  # all pages in one step: one read transaction, one commit's database
        (state,) = target.execute("PRAGMA quick_check").fetchone()
        target.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
    if state != "ok":
        raise GatewayError(
            f"the copy of {DB_NAME} is damaged ({state}): the database itself is (a failing SD card)",
            fix="keep the last good backup; replace the card (README, Replacing a box)",
        )
    placed[DB_NAME] = cfg.site.data_dir / DB_NAME
    for key in KEYS:
        if (cfg.site.data_dir / key).exists():
            placed[key] = _copy(cfg.site.data_dir / key, into, key)
    placed[config.name] = _copy(config, into, config.name)
    for setting, path in _named_files(cfg):
        name = path.name if path.name not in placed else f"{setting}-{path.name}"
        placed[name] = _copy(path, into, name)
    (into / RESTORE_NOTES).write_text(_notes(placed), encoding="utf-8")
    return placed


def _named_files(cfg: SiteConfig) -> list[tuple[str, Path]]:
    """The files the site config names that the box needs back: the broker's password and TLS
    files (with [mqtt] on), the guard pages' TLS certificate and key."""
    mqtt = cfg.mqtt
    named = [
        ("mqtt.password_file", mqtt.password_file if mqtt.enabled else None),
        ("mqtt.ca_file", mqtt.ca_file if mqtt.enabled else None),
        ("mqtt.cert_file", mqtt.cert_file if mqtt.enabled else None),
        ("mqtt.key_file", mqtt.key_file if mqtt.enabled else None),
        ("http.tls_cert_file", cfg.http.tls_cert_file),
        ("http.tls_key_file", cfg.http.tls_key_file),
    ]
    return [(setting, Path(path).resolve()) for setting, path in named if path is not None]


def _copy(source: Path, into: Path, name: str) -> Path:
    """A small file (a key, the config, a certificate) copied; one it cannot read is named."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise GatewayError(
            f"cannot read {source}: {exc.strerror or exc}; nothing of the backup was left",
            fix="run the backup as the service's user (sudo -u estate-gateway), which reads every file "
            "the gateway needs; a file the config names that is not on this box: put it back first",
        ) from exc
    (into / name).write_bytes(data)
    return source


def _notes(placed: dict[str, Path]) -> str:
    lines = [
        "estate-gateway backup: where each file goes back on the new box (README, Replacing a box).",
        "Stop the service first; delete the new box's gateway.db, gateway.db-wal, gateway.db-shm,",
        "boot-alarms.json and outbox-stream.json; chown estate-gateway:estate-gateway what goes in",
        "/var/lib/estate-gateway, mode 600 for the keys; then start the service.",
        "",
    ]
    lines += [f"{name}\t{source}" for name, source in placed.items()]
    return "\n".join(lines) + "\n"


def _private(path: Path) -> None:
    """The command's user's alone. A disk that keeps no modes (a USB stick's FAT, a network share)
    takes the copy all the same, with a warning."""
    try:
        path.chmod(0o600)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        log.warning(
            "the disk of %s keeps no file modes: the backup (keys among it) is readable by whoever its "
            "mount lets read it; keep it somewhere only the office reaches",
            path.parent.parent,
        )


def _move_in_audited(
    conn: sqlite3.Connection, partial: Path, out: Path, names: list[str], actor: str, data_dir: Path
) -> None:
    """The files moved into OUT in the transaction of their audit row; taken out again if it does
    not commit."""
    moved: list[Path] = []
    try:
        with transaction(conn):
            audit(conn, datetime.now(UTC), actor, BACKUP_ACTION, str(out), json.dumps(names))
            for name in names:
                (partial / name).replace(out / name)
                moved.append(out / name)
    except BaseException as exc:
        for path in moved:
            path.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            raise StorageError(
                f"the backup's audit row ({BACKUP_ACTION}) cannot be written: {exc}; no file was left "
                f"in {out}, as no copy of the keys leaves without a record of who took it",
                fix=f"{storage_fix(storage_cause(exc, data_dir), data_dir)}; then run the backup again",
            ) from exc
        raise


def _not_written(out: Path, exc: BaseException) -> GatewayError:
    if storage_cause(exc, out) == "full":
        return GatewayError(
            f"the disk of {out} is full: the backup was not written, and nothing of it was left there",
            fix="free space on that disk (delete the oldest backups), or give a folder on another disk",
        )
    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return GatewayError(
        f"cannot write the backup to {out}: {why}; nothing of it was left there",
        fix="give a new folder that the user running gateway may write (run it as estate-gateway, "
        "as README says), on a disk with room for a copy of gateway.db",
    )
