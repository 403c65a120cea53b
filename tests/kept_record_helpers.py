"""A record kept in memory while the disk is full (gateway/runtime/hand_opens.py WaitingRecords),
as the backlog tests write it back: each write takes a disk flush's time and says so in `written`."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

T0 = datetime(2024, 5, 1, 21, 0)


@dataclass
class KeptRecord:
    n: int  # its place: written at T0 + n seconds
    written: list[int]
    hold: threading.Event | None = None  # a write held up (the worker in its slice) until set
    flush_s: float = 0.001  # one record's transaction and disk flush
    at: datetime = field(init=False)
    what: str = "lane open by hand"

    def __post_init__(self) -> None:
        self.at = T0 + timedelta(seconds=self.n)

    def details(self) -> str:
        return f"n={self.n}"

    def write(self, conn: sqlite3.Connection) -> None:
        if self.hold is not None:
            assert self.hold.wait(10)
        time.sleep(self.flush_s)
        self.written.append(self.n)
