"""A fault that is met again and again (a checkpoint tried every second on a full disk, outbox marks
every 5 s, a command key read for each forged command): said once with its fix, said again only when
it changes, its repeats at DEBUG, and its end once at INFO, so a journal on the box's own SD card
is not filled with one line per try."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Any


class FaultLog:
    def __init__(self, logger: logging.Logger, level: int = logging.ERROR):
        self._log = logger
        self._level = level
        self.failing: Hashable | None = None  # what the fault last said was, while it lasts

    def failed(self, fault: Hashable, message: str, *args: Any) -> None:
        """The fault met (again): `message` at the level given, or at DEBUG when `fault` is the one
        already said."""
        level = logging.DEBUG if fault == self.failing else self._level
        self.failing = fault
        self._log.log(level, message, *args)

    def ended(self, message: str, *args: Any) -> None:
        """The thing works again: said once at INFO, if a fault was said."""
        if self.failing is not None:
            self.failing = None
            self._log.info(message, *args)
