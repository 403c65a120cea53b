"""`gateway outbox -c CONFIG` on the box: the times it prints are the site's, as /api/outbox's."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store.database import open_database
from gateway.store.outbox import enqueue, quarantine
from tests.conftest import site_toml


@pytest.fixture
def box_on_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's own zone is the box's (UTC), not the site's; put back after the test."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def log_handlers_kept() -> Iterator[None]:
    """main() points the log at this test's captured stdout: put the suite's handlers back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_gateway_outbox_prints_its_times_in_the_sites_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], box_on_utc: None, log_handlers_kept: None
) -> None:
    """The installer is told by the alarms page that records were refused by the broker at
    18:00 (Beijing time) and runs `gateway outbox -c site.toml` on the box (docs/mqtt.md) to see
    them: it printed "oldest 2026-11-20T10:00:00.000000+00:00" and "set aside ...10:00:00+00:00",
    the store's UTC text, eight hours off the alarms page and /api/outbox (which give the same
    rows as 2026-11-20T18:00:00+08:00). It prints the site's time, as the API does."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    conn = open_database(tmp_path / "data" / "gateway.db").conn
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    enqueue(conn, "access", {"n": 1}, at)
    enqueue(conn, "access", {"n": 2}, at)
    quarantine(conn, 2, "refused by the broker: not authorized", at)
    conn.close()
    assert main(["outbox", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "2026-11-20T10:00" not in out, out
    assert out.count("2026-11-20T18:00:00+08:00") == 2, out
