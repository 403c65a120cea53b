"""Logging to stdout for journald: one line an event, key=value fields in the message.

Each line starts with the time on the site's clock (the config's `site.timezone`) once the gateway
knows it (log_in_zone), as the pages, the API and the records give times: a Raspberry Pi left on
UTC or Europe/London would otherwise stamp its lines hours off the minute a guard reports. Lines
written before the config is read keep the box's own zone."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, tzinfo

from plates.closed_pipe import reader_left

_TIME = "%H:%M:%S"

# Libraries that log, at every retry, a fault the gateway says once itself with its fix: pymodbus
# writes ERROR "could not open port ..." each time an unplugged RS-485 adapter is retried (a line a
# second for as long as it stays away; its own filter drops only a line equal to the one before,
# and two buses alternate). The module's health and the gateway's "device offline" line carry the
# fault; at --log-level DEBUG, which adds the repeats of a fault said once, their lines show again.
_RETRY_CHATTER = ("pymodbus",)
_NO_LINE = logging.CRITICAL + 1


class _SiteClock(logging.Formatter):
    """A formatter whose time is the site's once log_in_zone named its zone; the box's until then."""

    zone: tzinfo | None = None

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if self.zone is None:
            return super().formatTime(record, datefmt)
        return datetime.fromtimestamp(record.created, self.zone).strftime(datefmt or _TIME)


class _Stdout(logging.StreamHandler):
    """Lines to stdout; once its reader has gone (`gateway user list -c site.toml | head -1`),
    none, without a "Logging error" traceback for each (plates/closed_pipe.py)."""

    def handleError(self, record: logging.LogRecord) -> None:
        if not reader_left():
            super().handleError(record)


def setup_logging(level: str = "INFO") -> None:
    handler = _Stdout(sys.stdout)
    # journald stamps each line with its own time, in the box's zone (README, Install); this one,
    # the site's, is the one to compare with the pages, and on a terminal the only one.
    handler.setFormatter(_SiteClock("%(asctime)s %(levelname)s %(name)s: %(message)s", _TIME))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    debug = root.level <= logging.DEBUG
    for chatty in _RETRY_CHATTER:
        logging.getLogger(chatty).setLevel(logging.NOTSET if debug else _NO_LINE)


def log_in_zone(tz: tzinfo) -> None:
    """From now on, the lines setup_logging's handler writes carry the time in `tz` (the site's).
    Handlers set up otherwise (a test's capture) are left as they are."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, _SiteClock):
            handler.formatter.zone = tz
