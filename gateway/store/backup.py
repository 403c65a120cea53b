"""`gateway backup -c SITE OUT`: what README's *Replacing a box* puts back on a new box, taken while
the service runs. A consistent copy of gateway.db by SQLite's online backup (one read transaction:
in WAL mode the lanes' writes go on meanwhile, and the copy is the database as of one commit), the
site key and the command key (where [mqtt] command_key_file puts it), the site config and the files
it names (TLS certificate and key, broker password, CA), and RESTORE.txt: the lines that put each
back with the owner and mode the service reads it by (`sudo sh RESTORE.txt`; a file copied back with
sudo cp is root's and 600 here, and the service could not read it). Not boot-alarms.json nor
outbox-stream.json: they describe this box's boot and seqs, which a new box must not take for its own.

OUT must be new or empty (a backup is never mixed with an older one). The files are the command's
user's alone (600, a folder it makes 700): the keys open the gates and find every stored phone
number. Audited database.backup with who took it, as an export is; no copy is left without that row.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import pwd
import shlex
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.config import SiteConfig
from gateway.config.service_user import SERVICE_USER, readable_fix
from gateway.errors import GatewayError, StorageError
from gateway.store.audit import audit
from gateway.store.database import DB_NAME, open_database, storage_cause, storage_fix, transaction

log = logging.getLogger(__name__)

BACKUP_ACTION = "database.backup"
RESTORE_NOTES = "RESTORE.txt"
SITE_KEY = "secret.key"
# What a box that was started made for itself, which the backup's database does not go with.
NEW_BOX_OWN = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", "boot-alarms.json", "outbox-stream.json")
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
        # As the config names them, links kept: a new box has /var/lib/estate-gateway, not the disk
        # a link on this one leads to (load_config makes them absolute the same way).
        placed = _write(db.conn, cfg, Path(os.path.abspath(config)), partial)
        names = [*placed, RESTORE_NOTES]
        log.debug("backed up %s to %s", ", ".join(names), out)
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


@dataclass(frozen=True, slots=True)
class Back:
    """Where a file of the backup goes back, and whose: a secret (a key, the broker password) the
    service's user's alone, 600; a certificate root's, read by the service's group, 640
    (service_user.readable_fix, the fix check-config gives); the site config as the install's sudo
    cp leaves it, root's, 644 (check-config is run by the installer's own user)."""

    path: Path
    owner: str
    mode: str

    @classmethod
    def secret(cls, path: Path) -> Back:
        return cls(path, f"{SERVICE_USER}:{SERVICE_USER}", "600")

    @classmethod
    def readable(cls, path: Path) -> Back:
        return cls(path, f"root:{SERVICE_USER}", "640")


def _write(conn: sqlite3.Connection, cfg: SiteConfig, config: Path, into: Path) -> dict[str, Back]:
    """The files, by their name in the backup, with where each goes back."""
    placed: dict[str, Back] = {}
    with closing(sqlite3.connect(into / DB_NAME)) as target:
        conn.backup(target)  # all pages in one step: one read transaction, one commit's database
        (state,) = target.execute("PRAGMA quick_check").fetchone()
        target.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
    if state != "ok":
        raise GatewayError(
            f"the copy of {DB_NAME} is damaged ({state}): the database itself is (a failing SD card)",
            fix="keep the last good backup; replace the card (README, Replacing a box)",
        )
    data_dir = cfg.site.data_dir
    placed[DB_NAME] = Back.secret(data_dir / DB_NAME)
    if (data_dir / SITE_KEY).exists():
        placed[SITE_KEY] = Back.secret(_copy(data_dir / SITE_KEY, into, SITE_KEY))
    command_key = cfg.command_key_path  # [mqtt] command_key_file, else the data dir's
    if command_key.exists():
        placed["command.key"] = Back.secret(_copy(command_key, into, "command.key"))
    else:  # check-config and the start say so already; not a mail each night
        log.debug("%s is not there: the backup holds no command key", command_key)
    placed[config.name] = Back(_copy(config, into, config.name, secret=False), "root:root", "644")
    for setting, path, secret in _named_files(cfg):
        name = path.name if path.name not in placed else f"{setting}-{path.name}"
        source = _copy(path, into, name, secret=secret)
        placed[name] = Back.secret(source) if secret else Back.readable(source)
    (into / RESTORE_NOTES).write_text(_notes(placed, data_dir), encoding="utf-8")
    return placed


def _named_files(cfg: SiteConfig) -> list[tuple[str, Path, bool]]:
    """The files the site config names that the box needs back, each with whether it is a secret:
    the broker's password and TLS files (with [mqtt] on), the guard pages' TLS certificate and key."""
    mqtt = cfg.mqtt
    named = [
        ("mqtt.password_file", mqtt.password_file if mqtt.enabled else None, True),
        ("mqtt.ca_file", mqtt.ca_file if mqtt.enabled else None, False),
        ("mqtt.cert_file", mqtt.cert_file if mqtt.enabled else None, False),
        ("mqtt.key_file", mqtt.key_file if mqtt.enabled else None, True),
        ("http.tls_cert_file", cfg.http.tls_cert_file, False),
        ("http.tls_key_file", cfg.http.tls_key_file, True),
    ]
    return [(setting, Path(path), secret) for setting, path, secret in named if path is not None]


def _copy(source: Path, into: Path, name: str, *, secret: bool = True) -> Path:
    """A small file (a key, the config, a certificate) copied; one it cannot read is named."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            fix = "a file the config names that is not on this box: put it back first"
        elif _as_service():  # the nightly line's user: the file is not given to it
            fix = f"{readable_fix(source, secret=secret)} (the service reads it too)"
        else:
            give = readable_fix(source, secret=secret)
            fix = (
                f"run the backup as the service's user (sudo -u {SERVICE_USER}), which reads every file "
                f"the gateway needs; if that user cannot read it either: {give}"
            )
        raise GatewayError(
            f"cannot read {source}: {exc.strerror or exc}; nothing of the backup was left", fix=fix
        ) from exc
    (into / name).write_bytes(data)
    return source


def _as_service() -> bool:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name == SERVICE_USER
    except KeyError:  # a uid with no name (a container's)
        return False


def _notes(placed: dict[str, Back], data_dir: Path) -> str:
    """RESTORE.txt: a shell script of the lines that put the backup back (prose as comments)."""
    q = shlex.quote
    user = SERVICE_USER
    mine = (name for name, back in placed.items() if back.path.parent == data_dir)
    in_data = list(dict.fromkeys([*NEW_BOX_OWN, *mine]))
    elsewhere = {name: back.path for name, back in placed.items() if back.path.parent != data_dir}
    lines = [
        "# estate-gateway backup: what a new box needs back (README, Replacing a box). On the new box,",
        "# installed as README's Install says up to its last two lines, with this folder copied onto it:",
        "#     sudo sh RESTORE.txt",
        "# Each file goes back with install, its owner and mode given: a copy made with sudo cp is",
        f"# root's and 600 (as here), which the service ({user}) may not read: without the broker",
        "# password it never reaches the central server, and every nightly backup stops at that file.",
        "# Secrets (keys, the broker password, gateway.db) are the service's alone (600); certificates",
        "# root's, read by its group (640); the site config as the install left it (644).",
        "# Nothing is deleted: what the data folder holds of a started box (gateway.db, its -wal and",
        "# -shm, boot-alarms.json, outbox-stream.json, the keys) is moved aside into before-restore-",
        "# DATE-TIME in it, owner and mode kept; the other files it replaces are copied there (cp -p).",
        f"# It refuses, changing nothing, where the data folder holds this backup's {SITE_KEY}: the box",
        "# the backup was taken on, or one it was put back on already (run again after a reboot), whose",
        "# gateway.db holds what was recorded since; a new box's first start makes a key of its own.",
        "# (gateway.db itself is not looked at: that needs sqlite3, which a box may lack, and its size",
        "# says nothing in WAL mode.) To put the backup in all the same: sudo env FORCE=1 sh RESTORE.txt",
        "set -e",
        'cd "$(dirname "$0")"',
        f"data={q(str(data_dir))}",
    ]
    if SITE_KEY in placed:
        refused = (
            f"RESTORE.txt: $data already holds this backup's {SITE_KEY}: this is the box the backup "
            "was taken on, or one it was already put back on, and its gateway.db holds what was "
            "recorded since the backup. Nothing was changed. To put the backup in its place all the "
            "same (what is there is moved aside, not deleted): sudo env FORCE=1 sh RESTORE.txt"
        )
        lines += [
            f'if [ "${{FORCE:-}}" != 1 ] && [ -f "$data/{SITE_KEY}" ] \\',
            f'    && cmp -s {SITE_KEY} "$data/{SITE_KEY}"; then',
            f'  echo "{refused}" >&2',
            "  exit 1",
            "fi",
        ]
    else:
        lines.append(f"# No {SITE_KEY} in this backup to check by: what is there is moved aside.")
    lines += [
        f"systemctl stop {user} || true   # a new box already started",
        "# install -D alone would make a missing data folder root's, 755: the service could not write it.",
        f'install -d -o {user} -g {user} -m 750 "$data"',
        'aside="$data/before-restore-$(date +%Y%m%d-%H%M%S)"',
        f'install -d -o {user} -g {user} -m 700 "$aside"',
        'back=""',
        f"for name in {' '.join(q(name) for name in in_data)}; do",
        '  if [ -e "$data/$name" ]; then',
        '    mv "$data/$name" "$aside/"',
        '    back="$back',
        "  sudo mv '$aside/$name' '$data/'\"",
        "  fi",
        "done",
    ]
    for name, path in elsewhere.items():
        lines += [
            f"if [ -e {q(str(path))} ]; then",
            f'  cp -p {q(str(path))} "$aside/"{q(name)}',
            '  back="$back',
            f"  sudo cp -p '$aside/{name}' '{path}'\"",
            "fi",
        ]
    for name, back in placed.items():
        owner, group = back.owner.split(":")
        lines.append(f"install -D -o {owner} -g {group} -m {back.mode} {q(name)} {q(str(back.path))}")
    lines += [
        'if [ -n "$back" ]; then',
        '  echo "RESTORE.txt: what was there is in $aside, nothing deleted. To go back to it:"',
        f'  echo "  sudo systemctl stop {user}"',
        "  echo \"  sudo rm -f '$data/gateway.db-wal' '$data/gateway.db-shm'   # the backup's database's\"",
        '  echo "${back#?}"',
        f'  echo "  sudo systemctl start {user}"',
        "else",
        '  rmdir "$aside"',
        "fi",
        "systemctl daemon-reload",
        f"systemctl enable --now {user}",
    ]
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
