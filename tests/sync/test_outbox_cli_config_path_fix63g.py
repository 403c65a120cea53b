"""`gateway outbox` tells the installer the next command with the config file he gave it, as the
`user` commands do: it printed `gateway outbox -c CONFIG --send-again all`, the word CONFIG typed
as it stood giving "no such file" (review 63g)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store.database import open_database
from gateway.store.outbox import enqueue, quarantine
from tests.conftest import site_toml


@pytest.fixture
def log_handlers_kept() -> Iterator[None]:
    """main() points the log at this test's captured stdout: put the suite's handlers back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def config_with_one_set_aside(tmp_path: Path) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    conn = open_database(tmp_path / "data" / "gateway.db").conn
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    enqueue(conn, "access", {"n": 1}, at)
    quarantine(conn, 1, "refused by the broker: not authorized", at)
    conn.close()
    return config


def test_the_listing_names_the_config_file_in_its_send_again_line(
    config_with_one_set_aside: Path, capsys: pytest.CaptureFixture[str], log_handlers_kept: None
) -> None:
    assert main(["outbox", "-c", str(config_with_one_set_aside)]) == 0
    out = capsys.readouterr().out
    assert f"gateway outbox -c {config_with_one_set_aside} --send-again all" in out, out
    assert "CONFIG" not in out, out


def test_a_wrong_seq_is_answered_with_the_listing_command_for_this_config(
    config_with_one_set_aside: Path, capsys: pytest.CaptureFixture[str], log_handlers_kept: None
) -> None:
    assert main(["outbox", "-c", str(config_with_one_set_aside), "--send-again", "abc"]) != 0
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert f"gateway outbox -c {config_with_one_set_aside}`" in said, said
    assert "CONFIG" not in said, said
