"""Store operations the CLI runs against a site's database: import, export, plate crops."""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from gateway.config.models import SiteConfig
from gateway.config.service_user import INSTALLED_GATEWAY, SERVICE_USER
from gateway.errors import GatewayError, ImportRejected, StorageError
from gateway.ids import uuid7
from gateway.privacy import Secrets
from gateway.runtime.outbox_stream import check_outbox_stream
from gateway.store import csv_staging, csv_steps
from gateway.store.audit import audit
from gateway.store.card_forms import card_register_warnings, register_ten_digits
from gateway.store.card_lists import card_list_warnings, stored_never_read
from gateway.store.csv_export import export_all
from gateway.store.csv_import import cards_given_twice, check_references, read_files
from gateway.store.csv_rows import card_digits
from gateway.store.database import (
    DB_NAME,
    give_to_service,
    is_damaged,
    open_database,
    storage_cause,
    storage_fix,
    transaction,
)
from gateway.store.import_left import IMPORT_LOCK
from gateway.store.zone_capacity import what_to_do, zones_over_capacity
from gateway.sync.replies import room as reply_room

if TYPE_CHECKING:
    from gateway.store.plate_crops import CropExport

log = logging.getLogger(__name__)

LOCK_WAITS = (0.05, 0.1, 0.2)  # s: the import lock asked for again after each, then refused


def import_csv(
    cfg: SiteConfig,
    files: list[Path],
    actor: str = "import",
    pause: Callable[[], None] | None = None,
    encoding: str | None = None,
) -> dict[str, int]:
    """Check every file, then write them in short steps (csv_steps.py); an import an earlier run
    left unfinished is finished first. Raises ImportRejected, StorageError, GatewayError."""
    data_dir = cfg.site.data_dir
    db = open_database(data_dir / DB_NAME, sync=cfg.storage.sync)
    tz = ZoneInfo(cfg.site.timezone)
    zones = frozenset(z.id for z in cfg.zones)
    staging = data_dir / csv_staging.STAGING_NAME
    # The imported rows go up in `registry` records of at most this many bytes (csv_records.py).
    room = reply_room(cfg.mqtt.max_message_bytes, cfg.mqtt.topic_prefix, cfg.site.id, "registry")
    try:
        with _one_import_at_a_time(data_dir):
            # Its `registry` records go up in the database's stream: a copy put back (README,
            # going back after an upgrade) and imported into before the service starts gets a
            # stream of its own here, or they would take seqs the centre holds.
            _check_stream(db.conn, data_dir, datetime.now(tz), staging)
            _finish_interrupted(db.conn, staging, tz, zones, room, pause)
            if not files:
                return {}
            batch, problems = read_files(files, tz, card_digits(cfg), encoding)
            two_forms: list[str] = []
            if not problems:
                problems = check_references(db.conn, batch, set(zones))
                refused, two_forms = cards_given_twice(db.conn, batch, register_ten_digits(cfg))
                problems += refused
            if problems:
                raise ImportRejected(problems, len(problems))
            secrets = Secrets.load_or_create(data_dir)
            counts = batch.counts()
            meta = {"import_id": uuid7(), "files": batch.files, "actor": actor, "counts": counts}
            try:
                staged = csv_staging.stage(staging, batch, secrets, meta)
            except (OSError, sqlite3.Error) as exc:
                csv_staging.remove(staging)
                raise StorageError(
                    f"cannot write the staging file {staging}: {exc}; nothing was imported",
                    fix=f"{_storage_fix(exc, data_dir)}; then run it again",
                ) from exc
            _apply(db.conn, staged, tz, zones, room, pause)
            # With the summary: the installer is still at the console, and the lanes say only zone_full.
            for zone, over in zones_over_capacity(db.conn, cfg).items():
                log.warning("%s", what_to_do(zone, over["capacity"], over["fixed_slots"]))
            listed = [(c.card, batch.at("cards", c.card)) for c in batch.cards]
            unread = stored_never_read(db.conn, cfg)
            warnings = two_forms + card_register_warnings(db.conn, cfg) + card_list_warnings(cfg, listed)
            for warning in [*warnings, *([unread] if unread else [])]:
                log.warning("%s", warning)
            return counts
    finally:
        db.conn.close()


def _check_stream(conn: sqlite3.Connection, data_dir: Path, now: datetime, staging: Path) -> None:
    """check_outbox_stream, its failure (the database busy, a full disk) worded as the import's."""
    try:
        check_outbox_stream(conn, data_dir, now, bring_up=False)
    except sqlite3.Error as exc:
        left = f" (the unfinished import in {staging} is kept)" if staging.exists() else ""
        raise StorageError(
            f"the import could not be written: {exc}; nothing was imported{left}",
            fix=f"{_storage_fix(exc, data_dir)}; then run it again",
        ) from exc


def _storage_fix(exc: BaseException, data_dir: Path) -> str:
    """What lets a command write the database of `data_dir` again, by why it did not take a write,
    as the service's journal words it (database.storage_fix): only a full disk is told to free
    space; a card gone read-only has room, and a damaged database is restored from a backup."""
    if isinstance(exc, sqlite3.IntegrityError):  # not the storage: a row clashes with the store
        return (
            "a row clashes with what is stored now (changed meanwhile by the central server or an "
            "admin), and the next run checks the rows against it again"
        )
    cause = storage_cause(exc, data_dir)
    if cause == "locked":  # it passes: exit 1 (cli.py), and the command run again once it is over
        return (
            "if the database is busy (a long write, or a `gateway` command stopped with Ctrl-Z: fg it), "
            "wait until it is over"
        )
    return storage_fix(cause, data_dir)


def _apply(
    conn: Any,
    staged: csv_staging.Staged,
    tz: ZoneInfo,
    zones: frozenset[str],
    room: int,
    pause: Callable[[], None] | None,
    resumed: bool = False,
) -> None:
    """Write a staged import; `zones`: the site config's (a slot in a zone it lacks is moved to
    the row's, csv_steps.py); `room`: the bytes a record of its rows may take upstream; `resumed`:
    one an earlier run left unfinished, so part of it may be in the store already, and its staging
    file is kept whatever fails."""
    staging = staged.path
    try:
        csv_steps.apply_steps(conn, staged, zones, room, lambda: datetime.now(tz), pause)
    except csv_steps.Stopped as exc:
        if exc.unwritable:
            # Written again, these rows would fail again (or tie a card to another household's car):
            # the import is given up, or it would stand in front of every later one for good.
            if exc.done == 0 and not resumed:
                csv_staging.remove(staging)
                raise ImportRejected(exc.unwritable, len(exc.unwritable)) from exc
            _record_given_up(conn, staged, exc, datetime.now(tz), resumed)
            csv_staging.remove(staging)
            raise _given_up(exc, staged, resumed) from exc
        fix = _storage_fix(exc.cause, staging.parent)
        if exc.done == 0 and not resumed:
            csv_staging.remove(staging)
            raise StorageError(
                f"the import could not be written: {exc.cause}; nothing was imported",
                fix=f"{fix}; then run it again",
            ) from exc
        done = _how_far(exc, staged.total, resumed)
        raise StorageError(
            f"the import stopped after {done}: {exc.cause}; the checked rows are kept in {staging} "
            "to be written",
            fix=f"{fix}; then `gateway import -c CONFIG` (with or without files) finishes this import "
            "before anything else",
        ) from exc
    except KeyboardInterrupt:
        log.warning(
            "import interrupted; `gateway import -c CONFIG` finishes it (its rows are in %s)", staging
        )
        raise
    csv_staging.remove(staging)


def _record_given_up(
    conn: Any, staged: csv_staging.Staged, exc: csv_steps.Stopped, at: datetime, resumed: bool
) -> None:
    """The rows a given-up import wrote are in the store: they go on the audit trail and upstream
    before its staging file goes. If that cannot be written, the file is kept, so that the next
    `gateway import` runs it again, is given up at the same rows and records it then."""
    try:
        csv_steps.give_up(conn, staged, exc, at, resumed)
    except sqlite3.Error as err:
        done = _how_far(exc, staged.total, resumed)
        raise StorageError(
            f"the import stopped after {done}, and these rows can never be written as checked:\n"
            f"{_listed(exc.unwritable)}\nThe rows written are not on the audit trail yet: {err}; "
            f"the checked rows are kept in {staged.path}",
            fix=f"{_storage_fix(err, staged.path.parent)}; then run `gateway import -c CONFIG` again "
            "(no files): it writes the rows after those in and records how far it got. Then correct "
            "these rows and import the files again",
        ) from err


def _how_far(exc: csv_steps.Stopped, total: int, resumed: bool) -> str:
    """How many of the import's rows are in, and, for a resumed one, how many of them the runs
    before it wrote, as they recorded it (exc.began; none: every row in is this run's). In a file
    staged by a release before schema 70 that release may have got further (_given_up)."""
    if resumed and exc.began:
        return f"{exc.done} of {total} rows ({exc.began} of them by an earlier run)"
    return f"{exc.done} of {total} rows" + (" this run" if resumed else "")


def _listed(unwritable: list[str]) -> str:
    return "\n".join(unwritable[:50]) + (
        f"\n... and {len(unwritable) - 50} more" if len(unwritable) > 50 else ""
    )


def _given_up(exc: csv_steps.Stopped, staged: csv_staging.Staged, resumed: bool) -> StorageError:
    # Staged by a release before schema 70, which kept no record of how far its steps got: its rows
    # may go further than any run since the upgrade (csv_steps.give_up), however far those got.
    old = resumed and not staged.steps_kept
    rest = "only as far as the release before the upgrade wrote them" if old else "not"
    total = staged.total
    return StorageError(
        f"the import stopped after {_how_far(exc, total, resumed)} and is given up: the store changed "
        f"while it ran (the central server or an admin), and these rows no longer fit it:\n"
        f"{_listed(exc.unwritable)}\nThe first {exc.done} rows are in (audited as registry.import, "
        f"with what was left out), the rest {rest}",
        fix="correct these rows and import the files again (the check then names every row that "
        "no longer fits); the rows already in are written again as they are",
    )


def _finish_interrupted(
    conn: Any,
    staging: Path,
    tz: ZoneInfo,
    zones: frozenset[str],
    room: int,
    pause: Callable[[], None] | None,
) -> None:
    try:
        found = csv_staging.read_staged(staging)
    except sqlite3.Error as exc:
        raise _unreadable_staging(staging, exc) from exc
    if found is None:
        csv_staging.remove(staging)  # never got as far as its first step: nothing of it is in the store
        return
    if csv_steps.finished(conn, str(found.meta["import_id"])):
        # Its last step is in, and only the file was left: written again, it would undo every
        # change made since (a card a guard blocked would open the gate again). For the same
        # reason an unfinished one goes on after the steps that are in (csv_steps.py).
        csv_staging.remove(staging)
        return
    log.warning(
        "finishing the import of %s (%d rows) that an earlier run left unfinished",
        ", ".join(found.meta["files"]),
        found.total,
    )
    _apply(conn, found, tz, zones, room, pause, resumed=True)


def _unreadable_staging(staging: Path, exc: sqlite3.Error) -> StorageError:
    """The unfinished import in `staging` cannot be read: what to do, by why. Told to free disk
    space whatever the cause, an installer whose staging file the card had damaged had every later
    import refused for good."""
    what = f"cannot read the unfinished import in {staging}: {exc}; it is kept, and nothing new was imported"
    if is_damaged(exc):  # exit 78: no run again reads it
        return StorageError(
            f"{what}: the file is damaged (a failing SD card: see `dmesg`, or a power cut)",
            fix=f"move {staging.name} in {staging.parent} aside (keep it) and import the files again: "
            "the rows the unfinished import wrote stay in the store, and are written again as the "
            "files have them",
        )
    fix = _storage_fix(exc, staging.parent)
    if storage_cause(exc, staging.parent) == "unwritable":  # storage_fix's chown names gateway.db* only
        owner = f"{SERVICE_USER}:{SERVICE_USER}"
        fix += f"; {staging.name} may be root's too (a `sudo gateway import`): sudo chown {owner} {staging}"
    return StorageError(
        what, fix=f"{fix}; then run `gateway import -c CONFIG` again: it finishes that import first"
    )


@contextmanager
def _one_import_at_a_time(data_dir: Path) -> Iterator[None]:
    path = data_dir / IMPORT_LOCK
    try:
        # Kept between imports: a `sudo gateway import` (without -u) leaves it root's for good.
        lock = open(path, "a")  # noqa: SIM115 (closed by the with below, once the open is checked)
    except OSError as exc:
        raise StorageError(
            f"cannot open the import lock {path}: {exc.strerror}; nothing was imported",
            fix=f"{give_to_service([path])}, then run the import as "
            f"`sudo -u {SERVICE_USER} {INSTALLED_GATEWAY} import ...`",
        ) from exc
    with lock:
        # The running service takes it for a moment when it finds a staging file, to tell an import
        # under way from one left unfinished (import_left.py): that moment is waited out.
        for wait in (*LOCK_WAITS, None):
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if wait is None:
                    raise GatewayError(
                        "another `gateway import` is running on this site",
                        fix="wait until it has finished, then run this one again",
                    ) from None
                time.sleep(wait)
        yield


def export_csv(cfg: SiteConfig, out_dir: Path, actor: str) -> dict[str, int]:
    """The register written as CSV files; who took a copy of it (names, cards, masked phones) is
    audited, as a plate export is. No copy is left without its audit row. Raises StorageError
    (the audit row cannot be written), GatewayError (the folder cannot be written)."""
    out_dir = out_dir.resolve()  # the audit says where the copy went, not `backup` from somewhere
    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    try:
        with _aside(out_dir) as aside:
            counts = export_all(db, aside, ZoneInfo(cfg.site.timezone))
            _move_in_audited(db.conn, aside, out_dir, counts, actor, cfg.site.data_dir)
        return counts
    finally:
        db.conn.close()


@contextmanager
def _aside(out_dir: Path) -> Iterator[Path]:
    """A hidden folder in out_dir that the export is written to, gone afterwards whatever happens
    (with out_dir, if it was made for an export that left nothing in it)."""
    try:
        made = not out_dir.exists()  # raises inside a folder this user may not enter (a home of mode 700)
        # Made, it is the command's user's alone (the login shell's umask gave 755: anyone on the box
        # read the register's copy); one the user gave keeps the mode they chose for it.
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for left in out_dir.glob(f"{_ASIDE}*"):  # by an export killed outright (SIGKILL, power cut)
            shutil.rmtree(left, ignore_errors=True)
        aside = Path(tempfile.mkdtemp(prefix=_ASIDE, dir=out_dir))
    except OSError as exc:
        raise GatewayError(
            f"cannot write the export to {out_dir}: {exc.strerror or exc}",
            fix="give a folder (new, or one of yours) that the user running gateway may write, "
            "on a disk with free space",
        ) from exc
    try:
        with signals_end_it():
            yield aside
    finally:
        shutil.rmtree(aside, ignore_errors=True)
        if made and out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()


_ASIDE = ".gateway-export-"


@contextmanager
def signals_end_it() -> Iterator[None]:
    """A hangup or terminate while the export runs (the office's SSH session dropped, `timeout`)
    ends it as an error, so that its hidden copy of the register is removed: the signals' own
    action ended the process at once and left it in the folder, names and card numbers, with no
    audit row. Outside the main thread (signals cannot be caught there) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def end(signum: int, _frame: object) -> None:
        raise GatewayError(f"the export was stopped ({signal.Signals(signum).name}); no file was left")

    before = {sig: signal.signal(sig, end) for sig in (signal.SIGHUP, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _move_in_audited(
    conn: sqlite3.Connection, aside: Path, out_dir: Path, counts: dict[str, int], actor: str, data_dir: Path
) -> None:
    """The written files moved into out_dir in the transaction of their registry.export audit row,
    and taken out again if it does not commit. The files are written before it, not under its write
    lock: that held every lane's decision for as long as the export took (2 s for 100,000 residents
    with their cards)."""
    moved: list[Path] = []
    try:
        _private(aside, [f"{kind}.csv" for kind in counts])
        with transaction(conn):
            audit(conn, datetime.now(UTC), actor, "registry.export", str(out_dir), json.dumps(counts))
            for name in (f"{kind}.csv" for kind in counts):
                (aside / name).replace(out_dir / name)  # a rename: the lock is held for moments
                moved.append(out_dir / name)
    except BaseException as exc:  # a hangup among them (signals_end_it): no file without its row
        for path in moved:
            path.unlink(missing_ok=True)
        if not isinstance(exc, sqlite3.Error | OSError):
            raise
        if isinstance(exc, OSError):
            raise GatewayError(
                f"cannot move the export into {out_dir}: {exc.strerror or exc}; no file was left there",
                fix="give a folder (new, or one of yours) that the user running gateway may write",
            ) from exc
        raise StorageError(
            f"the export's audit row (registry.export) cannot be written: {exc}; no file was left "
            f"in {out_dir}, as no copy of the register leaves without a record of who took it",
            fix=f"{_storage_fix(exc, data_dir)}; then run the export again",
        ) from exc


def _private(aside: Path, names: list[str]) -> None:
    """The written files made the command's user's alone (mode 600): names and card numbers are not
    the world's. A disk that holds no modes (a FAT32 or exFAT USB stick, a CIFS share: their files
    the mount's uid's, and their mode the mount's) refuses the chmod to anyone else, EPERM, or has
    none: the copy is written all the same, as it was before modes were set, with a warning."""
    for name in names:
        try:
            (aside / name).chmod(0o600)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            log.warning(
                "the disk of %s keeps no file modes (a USB stick or a network share): the register's "
                "copy is readable by whoever its mount lets read it; keep it safe, and delete it "
                "when it has served",
                aside.parent,
            )
            return


def export_plates(cfg: SiteConfig, out_dir: Path, since: datetime | None, actor: str) -> CropExport:
    from gateway.store.plate_crops import export_plate_crops  # it names crops as snapshots do (cv2)

    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    try:
        out, now = out_dir.resolve(), datetime.now(UTC)  # audited as where the crops went, as above
        return export_plate_crops(db.conn, cfg.site.data_dir, out, since, actor, now)
    finally:
        db.conn.close()
