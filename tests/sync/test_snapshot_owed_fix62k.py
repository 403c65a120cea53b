"""A snapshot owed on record (given up `not_staged` before a restart) is said from the start.

Right after a restart /api/health said no snapshot was needed though one was owed: the owed
snapshot was read from the database by the directory's thread, after it had opened its staging
file, while the link could already be up and the health page asked. On a slow box (a Raspberry
Pi with a large staging file, a busy SD card) that lasted as long as the thread took to get there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from conftest import running
from sync_helpers import free_port

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.store.database import transaction
from gateway.sync.directory import Directory
from gateway.timefmt import to_db


def _owe_a_snapshot(cfg: SiteConfig) -> None:
    """A gateway that gave up a snapshot (not staged) and stopped: the wish is on record."""
    gw = Gateway(cfg)
    gw.start()
    try:

        def owe(conn: Any) -> None:
            with transaction(conn):
                conn.execute("UPDATE sync_state SET snapshot_owed_at = ?", (to_db(gw.now()),))

        gw.on_worker(owe).result(timeout=30)
    finally:
        gw.stop()


def test_a_snapshot_owed_on_record_is_said_needed_before_the_directory_thread_gets_going(
    sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = sync_cfg(free_port())  # no broker: the health page is asked as the link tries
    _owe_a_snapshot(cfg)
    go_on = threading.Event()
    opened = threading.Event()
    open_staging = Directory._open_staging

    def slow_start(self: Directory) -> Any:
        opened.set()
        assert go_on.wait(60), "the test never let the directory's thread go on"
        return open_staging(self)

    monkeypatch.setattr(Directory, "_open_staging", slow_start)
    with running(cfg) as (_, service):
        try:
            assert opened.wait(60), "the directory's thread never started"
            said_at_start = service.status()["directory"]["need_snapshot"]
        finally:
            go_on.set()
    assert said_at_start, "/api/health said no snapshot was needed while one was owed on record"
