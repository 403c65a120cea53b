"""What the next start would say of the store against a site config, for `gateway check-config`.

The start's own checks (config_edits.say_of_the_store) run on the data_dir's database opened
read-only, over a scratch copy of config_seen, the one table they write: nothing is migrated or
kept, and the running gateway is not held up. Their WARNINGs and ERRORs come back as lines."""

from __future__ import annotations

import logging
import os
import pwd
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

from gateway.config.models import SiteConfig
from gateway.config.service_user import SERVICE_USER, check_config_as
from gateway.parking.tariffs import tariffs_from_config
from gateway.runtime.config_edits import say_of_the_store
from gateway.site import Site
from gateway.store.database import DB_NAME, open_read_only
from gateway.store.schema import SCHEMA_VERSION

_SAYERS = ("gateway.runtime.config_edits", "gateway.runtime.tariff_edits")


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _heard() -> Iterator[list[str]]:
    """The sayers' WARNINGs and ERRORs, kept as lines and not logged."""
    handler = _Lines()
    loggers = [logging.getLogger(name) for name in _SAYERS]
    kept = [(lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
        lg.setLevel(logging.WARNING)
    try:
        yield handler.lines
    finally:
        for lg, (propagate, level) in zip(loggers, kept, strict=True):
            lg.removeHandler(handler)
            lg.propagate, lg.level = propagate, level


def store_warnings(cfg: SiteConfig, config: Path | None = None) -> list[str]:
    """The start's warnings of the store, where data_dir has one; a note where it cannot be read,
    with the line that checks `config` (the file checked) as the database's owner."""
    path = cfg.site.data_dir / DB_NAME
    try:
        if not path.is_file():
            return []
        owner = path.stat().st_uid
    except OSError as exc:  # data_dir is the service's (0750): the installer's own user may not look
        return [_not_read(path, f"({exc})", config)]
    if os.geteuid() == 0 and owner != 0:
        # SQLite run as root hands a database's -wal and -shm files to its owner as it opens them:
        # check-config would change the box (and hide the root-owned -wal a power cut left, which
        # the start names with its chown), where it is to read only.
        return [_not_read(path, "as root, a database another user owns is not opened", config)]
    site = Site.from_config(cfg)
    try:
        with closing(open_read_only(path, 5)) as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version != SCHEMA_VERSION:
                return [
                    f"the database {path} is of schema version {version}, this gateway's is "
                    f"{SCHEMA_VERSION}: not checked against this config (the start says it, once migrated)"
                ]
            (ddl,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'config_seen'").fetchone()
            conn.execute(ddl.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
            conn.execute("INSERT INTO temp.config_seen SELECT * FROM main.config_seen")
            with _heard() as lines:
                say_of_the_store(conn, tariffs_from_config(cfg.parking), site, datetime.now(site.tz))
            return lines
    except (sqlite3.Error, OSError) as exc:
        return [_not_read(path, f"({exc})", config)]


def _not_read(path: Path, why: str, config: Path | None) -> str:
    """The note for a database this user does not read (a WAL database in a folder it may not write
    says `attempt to write a readonly database`: it cannot make the -shm file a reader needs)."""
    try:
        owner = pwd.getpwuid(path.stat().st_uid).pw_name
    except (OSError, KeyError):
        owner = SERVICE_USER
    return (
        f"the database {path} was not read {why}: not checked against this config; run it as the "
        f"service's user to check it against the store: {check_config_as(owner, config)}"
    )
