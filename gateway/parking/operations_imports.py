"""The operations thread's look for an import `gateway import` left unfinished (Operations,
gateway/parking/operations.py): import_unfinished raised at the start and whenever one is found, its
words kept to how far the import got, cleared once its staging file is gone (the import finished or
given up); /api/health and the upstream health record give it as `import_unfinished`.

Cut part way by a power cut, the box came back with part of the office's list in (2,229 of 20,000
cards) and nothing said so: health ok, no alarm, not a word in the journal (Review 65B). What is
unfinished is gateway/store/import_left.py's; finishing it is the installer's `gateway import`.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from functools import partial

from gateway.alarm_texts import AlarmText
from gateway.config.service_user import INSTALLED_GATEWAY, SERVICE_USER
from gateway.parking.operations_base import OperationsBase
from gateway.store.alarms import clear_alarm, clear_open_alarms, open_alarm_text, raise_alarm, reword_alarm
from gateway.store.csv_staging import STAGING_NAME
from gateway.store.import_left import Left, import_running, unfinished_import

log = logging.getLogger("gateway.parking.operations")  # its journal lines stay operations.py's

FINISH = f"sudo -u {SERVICE_USER} {INSTALLED_GATEWAY} import -c CONFIG"


class UnfinishedImports(OperationsBase):
    # The import left unfinished as the last look found it (None: none); /api/health reads it.
    unfinished_import: Left | None = None

    def imports(self, now: datetime, at_start: bool = False) -> None:
        """A file's existence each look; its staging file and the store read only while one is
        there and no import runs (one running, perhaps finishing it, is judged once it is over)."""
        staging = self.data_dir / STAGING_NAME
        if at_start:  # the data directory moved: nothing else would clear the old one's alarm
            self._run(partial(clear_open_alarms, kinds=("import_unfinished",), at=now, keep=(str(staging),)))
        if staging.exists() and import_running(self.data_dir):
            return
        left = unfinished_import(self.data_dir, self.db_path)
        was, self.unfinished_import = self.unfinished_import, left
        if left is None:
            if (was is not None or at_start) and self._run(
                partial(clear_alarm, kind="import_unfinished", source=str(staging), at=now)
            ):
                log.info(
                    "alarm import_unfinished cleared: %s is gone (the import finished or was given up)",
                    staging,
                )
            return
        text = _text(left)
        if self._run(partial(_raise_or_reword, source=str(staging), text=text, at=now)) or at_start:
            _warn(left)


def _text(left: Left) -> AlarmText:
    if left.unreadable:
        return AlarmText("import_unfinished.unreadable", {"staging": str(left.staging)})
    files = list(left.files)
    if left.done is None:  # staged by the release before the upgrade, which kept no count of it
        return AlarmText("import_unfinished.before_upgrade", {"files": files, "total": left.total or 0})
    return AlarmText("import_unfinished", {"files": files, "done": left.done, "total": left.total or 0})


def _raise_or_reword(conn: sqlite3.Connection, source: str, text: AlarmText, at: datetime) -> bool:
    """Raise import_unfinished, or give the open one the rows in now (a later run cut short too);
    True where it says something new."""
    if open_alarm_text(conn, "import_unfinished", source) is None:
        return raise_alarm(conn, "import_unfinished", source, text, at)
    return reword_alarm(conn, "import_unfinished", source, text, at)


def _warn(left: Left) -> None:
    if left.unreadable:
        log.warning(
            "an import left unfinished in %s cannot be read (%s), and part of it may be in the store; "
            "fix=run `%s` on the box (CONFIG being the site config) and do what it says",
            left.staging,
            left.unreadable,
            FINISH,
        )
        return
    if left.done is None:
        log.warning(
            "an import of %s was left unfinished by the release before the upgrade, which staged it: how "
            "many of its %d rows are in the store is not known; fix=run `%s` on the box (CONFIG being the "
            "site config) to finish it (README, Large imports)",
            ", ".join(left.files),
            left.total,
            FINISH,
        )
        return
    log.warning(
        "an import of %s was left unfinished: %d of its %d rows are in the store, the rest not; "
        "fix=run `%s` on the box (CONFIG being the site config) to finish it (README, Large imports)",
        ", ".join(left.files),
        left.done,
        left.total,
        FINISH,
    )
