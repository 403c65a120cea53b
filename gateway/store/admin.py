"""Store operations the CLI runs against a site's database: import, export, plate crops."""

from __future__ import annotations

import fcntl
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from gateway.config.models import SiteConfig
from gateway.errors import GatewayError, ImportRejected, StorageError
from gateway.ids import uuid7
from gateway.privacy import Secrets
from gateway.store import csv_staging, csv_steps
from gateway.store.audit import audit
from gateway.store.csv_export import export_all
from gateway.store.csv_import import check_references, read_files
from gateway.store.database import (
    DB_NAME,
    SERVICE_USER,
    give_to_service,
    open_database,
    transaction,
)

if TYPE_CHECKING:
    from gateway.store.plate_crops import CropExport

log = logging.getLogger(__name__)


def import_csv(
    cfg: SiteConfig,
    files: list[Path],
    actor: str = "import",
    pause: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Check every file, then write them in short steps (csv_steps.py); an import an earlier run
    left unfinished is finished first. Raises ImportRejected, StorageError, GatewayError."""
    data_dir = cfg.site.data_dir
    db = open_database(data_dir / DB_NAME, sync=cfg.storage.sync)
    tz = ZoneInfo(cfg.site.timezone)
    zones = frozenset(z.id for z in cfg.zones)
    staging = data_dir / csv_staging.STAGING_NAME
    try:
        with _one_import_at_a_time(data_dir):
            _finish_interrupted(db.conn, staging, tz, zones, pause)
            if not files:
                return {}
            batch, problems = read_files(files, tz)
            if not problems:
                problems = check_references(db.conn, batch, set(zones))
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
                    fix="free disk space in the data directory or check its permissions, then run it again",
                ) from exc
            _apply(db.conn, staged, tz, zones, pause)
            return counts
    finally:
        db.conn.close()


def _apply(
    conn: Any,
    staged: csv_staging.Staged,
    tz: ZoneInfo,
    zones: frozenset[str],
    pause: Callable[[], None] | None,
    resumed: bool = False,
) -> None:
    """Write a staged import; `zones`: the site config's (a slot in a zone it lacks is moved to
    the row's, csv_steps.py); `resumed`: one an earlier run left unfinished, so part of it may be
    in the store already, and its staging file is kept whatever fails."""
    staging = staged.path
    try:
        csv_steps.apply_steps(conn, staged, zones, lambda: datetime.now(tz), pause)
    except csv_steps.Stopped as exc:
        if exc.unwritable:
            # Written again, these rows would fail again (or tie a card to another household's car):
            # the import is given up, or it would stand in front of every later one for good.
            csv_staging.remove(staging)
            if exc.done == 0 and not resumed:
                raise ImportRejected(exc.unwritable, len(exc.unwritable)) from exc
            raise _given_up(exc, staged.total, resumed) from exc
        if exc.done == 0 and not resumed:
            csv_staging.remove(staging)
            raise StorageError(
                f"the import could not be written: {exc.cause}; nothing was imported",
                fix="if the database is busy (another import, a long write), run it again; "
                "otherwise free disk space in the data directory or check its permissions",
            ) from exc
        done = f"{exc.done} of {staged.total} rows" + (" this run" if resumed else "")
        raise StorageError(
            f"the import stopped after {done}: {exc.cause}; the checked rows are kept in {staging} "
            "to be written",
            fix="if the database was busy, just run it again; otherwise free disk space or fix "
            "permissions first. `gateway import -c CONFIG` (with or without files) finishes this "
            "import before anything else",
        ) from exc
    except KeyboardInterrupt:
        log.warning(
            "import interrupted; `gateway import -c CONFIG` finishes it (its rows are in %s)", staging
        )
        raise
    csv_staging.remove(staging)


def _given_up(exc: csv_steps.Stopped, total: int, resumed: bool) -> StorageError:
    rows = "\n".join(exc.unwritable[:50]) + (
        f"\n... and {len(exc.unwritable) - 50} more" if len(exc.unwritable) > 50 else ""
    )
    rest = "only as far as the run that left it unfinished wrote them" if resumed else "not"
    return StorageError(
        f"the import stopped after {exc.done} of {total} rows and is given up: the store changed "
        f"while it ran (the central server or an admin), and these rows no longer fit it:\n{rows}\n"
        f"The first {exc.done} rows are in, the rest {rest}",
        fix="correct these rows and import the files again (the check then names every row that "
        "no longer fits); the rows already in are written again as they are",
    )


def _finish_interrupted(
    conn: Any, staging: Path, tz: ZoneInfo, zones: frozenset[str], pause: Callable[[], None] | None
) -> None:
    try:
        found = csv_staging.read_staged(staging)
    except sqlite3.Error as exc:
        raise StorageError(
            f"cannot read the unfinished import in {staging}: {exc}; it is kept, and nothing new "
            "was imported",
            fix="free disk space in the data directory and check that the file belongs to the gateway user "
            "(not root, after a `sudo gateway import`) and that nothing else has it open, then run "
            "`gateway import -c CONFIG` again: it finishes that import first",
        ) from exc
    if found is None:
        csv_staging.remove(staging)  # never got as far as its first step: nothing of it is in the store
        return
    if csv_steps.finished(conn, str(found.meta["import_id"])):
        # Its last step is in, and only the file was left: written again, it would undo every
        # change made since (a card a guard blocked would open the gate again).
        csv_staging.remove(staging)
        return
    log.warning(
        "finishing the import of %s (%d rows) that an earlier run left unfinished",
        ", ".join(found.meta["files"]),
        found.total,
    )
    _apply(conn, found, tz, zones, pause, resumed=True)


@contextmanager
def _one_import_at_a_time(data_dir: Path) -> Iterator[None]:
    path = data_dir / "import.lock"
    try:
        # Kept between imports: a `sudo gateway import` (without -u) leaves it root's for good.
        lock = open(path, "a")  # noqa: SIM115 (closed by the with below, once the open is checked)
    except OSError as exc:
        raise StorageError(
            f"cannot open the import lock {path}: {exc.strerror}; nothing was imported",
            fix=f"{give_to_service([path])}, then run the import as `sudo -u {SERVICE_USER} gateway "
            "import ...`",
        ) from exc
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GatewayError(
                "another `gateway import` is running on this site",
                fix="wait until it has finished, then run this one again",
            ) from None
        yield


def export_csv(cfg: SiteConfig, out_dir: Path, actor: str) -> dict[str, int]:
    """The register written as CSV files; who took a copy of it (names, cards, masked phones) is
    audited, as a plate export is."""
    out_dir = out_dir.resolve()  # the audit says where the copy went, not `backup` from somewhere
    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    try:
        counts = export_all(db, out_dir, ZoneInfo(cfg.site.timezone))
        with transaction(db.conn) as conn:
            audit(conn, datetime.now(UTC), actor, "registry.export", str(out_dir), json.dumps(counts))
        return counts
    finally:
        db.conn.close()


def export_plates(cfg: SiteConfig, out_dir: Path, since: datetime | None, actor: str) -> CropExport:
    from gateway.store.plate_crops import export_plate_crops  # it names crops as snapshots do (cv2)

    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    try:
        out, now = out_dir.resolve(), datetime.now(UTC)  # audited as where the crops went, as above
        return export_plate_crops(db.conn, cfg.site.data_dir, out, since, actor, now)
    finally:
        db.conn.close()
